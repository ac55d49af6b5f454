export type { LoginCookieOptions } from "./login-client.js";
export { createLoginCookie } from "./login-client.js";
export * from "./store-suite.js";
