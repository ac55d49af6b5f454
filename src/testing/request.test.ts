import { describe, expect, it } from "vitest";
import { fakeRequest } from "./request.js";

describe("fakeRequest", () => {
  it("is a GET of / from loopback over HTTP, with no headers and no form fields, by default", () => {
    const request = fakeRequest();
    expect(request.method).toBe("GET");
    expect(request.url).toBe("/");
    expect(request.remoteAddress).toBe("::ffff:127.0.0.1");
    expect(request.encrypted).toBe(false);
    expect(request.header("cookie")).toBeUndefined();
    expect(request.formField("_csrf")).toBeUndefined();
  });

  it("matches header names case-insensitively and treats an undefined value as no header", () => {
    const request = fakeRequest({ headers: { "User-Agent": "curl/8", cookie: undefined } });
    expect(request.header("user-agent")).toBe("curl/8");
    expect(request.header("USER-AGENT")).toBe("curl/8");
    expect(request.header("cookie")).toBeUndefined();
  });

  it("keeps an explicitly undefined remote address (an unknown socket address)", () => {
    expect(fakeRequest({ remoteAddress: undefined }).remoteAddress).toBeUndefined();
    expect(fakeRequest({ remoteAddress: "192.0.2.1" }).remoteAddress).toBe("192.0.2.1");
  });

  it("answers form fields from the body's own properties only", () => {
    const request = fakeRequest({ method: "POST", form: { _csrf: "token" } });
    expect(request.formField("_csrf")).toBe("token");
    expect(request.formField("toString")).toBeUndefined();
    expect(request.formField("__proto__")).toBeUndefined();
  });

  it("is a plain object whose members can be replaced by spreading it", () => {
    const request = { ...fakeRequest({ url: "/a" }), url: "/b" };
    expect(request.url).toBe("/b");
    expect(request.header("host")).toBeUndefined();
  });
});
