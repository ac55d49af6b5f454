import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type FakeRequestOptions, fakeRequest } from "../testing/request.js";
import { clientAddress, clientFingerprint, isHttps, requestOrigin, userAgent, wantsJson } from "./client.js";
import type { RequestView } from "./http.js";

function view(
  headers: Record<string, string>,
  socket: Pick<FakeRequestOptions, "remoteAddress" | "encrypted"> = {},
): RequestView {
  return fakeRequest({ headers, remoteAddress: "10.0.0.2", ...socket });
}

describe("clientAddress [checklist I.65] (Flask-Login #101, #700)", () => {
  it("is the socket peer when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(clientAddress(view({ "x-forwarded-for": "6.6.6.6" }), 0)).toBe("10.0.0.2");
  });

  it("takes the entry the outermost trusted proxy appended", () => {
    const request = view({ "x-forwarded-for": "6.6.6.6, 198.51.100.1" });
    expect(clientAddress(request, 1)).toBe("198.51.100.1");
    const twoProxies = view({ "x-forwarded-for": "6.6.6.6, 198.51.100.1, 10.0.0.9" });
    expect(clientAddress(twoProxies, 2)).toBe("198.51.100.1");
  });

  it("is not shifted by junk entries a client prepends", () => {
    const request = view({ "x-forwarded-for": `${"x".repeat(100)}, , ,198.51.100.1` });
    expect(clientAddress(request, 1)).toBe("198.51.100.1");
  });

  it("falls back to the socket without a usable header, and to the leftmost entry with fewer hops than trusted", () => {
    expect(clientAddress(view({}), 1)).toBe("10.0.0.2");
    expect(clientAddress(view({ "x-forwarded-for": " , " }), 1)).toBe("10.0.0.2");
    expect(clientAddress(view({ "x-forwarded-for": "198.51.100.1" }), 3)).toBe("198.51.100.1");
  });

  it("is empty when the socket has no address", () => {
    expect(clientAddress(view({}, { remoteAddress: undefined }), 0)).toBe("");
  });
});

describe("isHttps", () => {
  it("is true on a TLS socket", () => {
    expect(isHttps(view({}, { encrypted: true }), 0)).toBe(true);
  });

  it("ignores X-Forwarded-Proto unless a proxy is trusted", () => {
    expect(isHttps(view({ "x-forwarded-proto": "https" }), 0)).toBe(false);
    expect(isHttps(view({ "x-forwarded-proto": "https" }), 1)).toBe(true);
    expect(isHttps(view({ "x-forwarded-proto": "HTTPS" }), 1)).toBe(true);
    expect(isHttps(view({ "x-forwarded-proto": "http" }), 1)).toBe(false);
    expect(isHttps(view({}), 1)).toBe(false);
  });
});

describe("userAgent and clientFingerprint", () => {
  it("cuts the User-Agent to 256 characters and treats a missing one as empty", () => {
    expect(userAgent(view({ "user-agent": "a".repeat(1000) }))).toHaveLength(256);
    expect(userAgent(view({}))).toBe("");
  });

  it("hashes address and User-Agent, changing when either changes", () => {
    const base = clientFingerprint("127.0.0.1", "curl/8");
    expect(base).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(base).not.toContain("curl");
    expect(clientFingerprint("127.0.0.1", "curl/8")).toBe(base);
    expect(clientFingerprint("127.0.0.2", "curl/8")).not.toBe(base);
    expect(clientFingerprint("127.0.0.1", "curl/9")).not.toBe(base);
  });

  it("is the base64url SHA-256 of `address|agent`, the value stored sessions were fingerprinted with", () => {
    const direct = createHash("sha256").update("203.0.113.7|Mozilla/5.0 (fingerprint)").digest("base64url");
    expect(clientFingerprint("203.0.113.7", "Mozilla/5.0 (fingerprint)")).toBe(direct);
    // Asked again: the memoized answer is the same.
    expect(clientFingerprint("203.0.113.7", "Mozilla/5.0 (fingerprint)")).toBe(direct);
  });

  it("answers for each client when requests of several clients alternate (the last client is remembered first)", () => {
    const expected = (address: string, agent: string) =>
      createHash("sha256").update(`${address}|${agent}`).digest("base64url");
    const clients = [
      ["10.0.0.1", "Mozilla/5.0 (X11)"],
      ["10.0.0.1", "Mozilla/5.0 (X12)"],
      ["10.0.0.2", "Mozilla/5.0 (X11)"],
      ["10.0.0.1", "Mozilla/5.0 (X11)"],
    ] as const;
    for (let round = 0; round < 3; round++) {
      for (const [address, agent] of clients) {
        // Fresh strings each time, as a server's parser makes them.
        const fresh = (text: string) => [...text].join("");
        expect(clientFingerprint(fresh(address), fresh(agent))).toBe(expected(address, agent));
        expect(clientFingerprint(address, agent)).toBe(expected(address, agent));
      }
    }
  });

  it("keeps answering correctly after its bounded memo fills up and starts over", () => {
    const expected = (address: string, agent: string) =>
      createHash("sha256").update(`${address}|${agent}`).digest("base64url");
    for (let i = 0; i < 2_500; i++) {
      const agent = `agent ${i % 700}`;
      const address = `10.0.${i % 3}.${i % 251}`;
      expect(clientFingerprint(address, agent)).toBe(expected(address, agent));
    }
  });
});

describe("wantsJson", () => {
  it.each([
    [{ accept: "application/json" }, true],
    [{ accept: "application/json, text/plain, */*" }, true],
    [{ "x-requested-with": "XMLHttpRequest" }, true],
    [{ accept: "text/html,application/xhtml+xml,application/json;q=0.9" }, false],
    [{ accept: "*/*" }, false],
    [{}, false],
  ])("%j -> %s", (headers, expected) => {
    expect(wantsJson(view(headers as Record<string, string>))).toBe(expected);
  });
});

describe("requestOrigin", () => {
  it("builds the origin from Host and the protocol, lower-cased", () => {
    expect(requestOrigin(view({ host: "Example.COM:8443" }), true)).toBe("https://example.com:8443");
    expect(requestOrigin(view({ host: "[::1]:3000" }), false)).toBe("http://[::1]:3000");
  });

  it.each([
    [{}],
    [{ host: "" }],
    [{ host: "evil.com/path" }],
    [{ host: "a b" }],
    [{ host: "user@evil.com" }],
    [{ host: "x".repeat(256) }],
  ])("is null for the Host %j", (headers) => {
    expect(requestOrigin(view(headers as Record<string, string>), false)).toBeNull();
  });
});

describe("isHttps behind proxies reads X-Forwarded-Proto like X-Forwarded-For", () => {
  const view = (proto: string): RequestView =>
    fakeRequest({ headers: { "x-forwarded-proto": proto }, remoteAddress: "10.0.0.1" });

  it("ignores an https entry the client put before the one its proxy appended", () => {
    expect(isHttps(view("https, http"), 1)).toBe(false);
  });

  it("trusts the entry written by the outermost trusted proxy", () => {
    expect(isHttps(view("https"), 1)).toBe(true);
    expect(isHttps(view("https, http"), 2)).toBe(true);
  });
});
