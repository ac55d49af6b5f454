export * from "./conformance/index.js";
export type { LoginCookieOptions } from "./login-client.js";
export { createLoginCookie } from "./login-client.js";
export type { FakeRequestOptions } from "./request.js";
export { fakeRequest } from "./request.js";
