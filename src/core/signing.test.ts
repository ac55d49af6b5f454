// ASVS 11.4.3: the MACs that protect CSRF tokens and flash cookies are HMAC-SHA256 with the whole
// 256-bit tag. Each test decodes a real value and recomputes its tag with node:crypto directly, so
// a weaker hash, a truncated tag or a changed message layout fails here.
import { createHmac } from "node:crypto";
import { describe, expect, it } from "vitest";
import { MemoryStore } from "../stores/memory/index.js";
import { fakeRequest } from "../testing/request.js";
import { csrfTokenFor } from "./csrf.js";
import { encodeFlashes } from "./flash.js";
import type { ResponseView } from "./http.js";
import { LoginManager } from "./manager.js";
import { KeyRing } from "./signing.js";
import { UserMixin } from "./users.js";

const SECRET = "signing-test-secret-0123456789abcdef0123";

/** HMAC-SHA256 of `purpose`, a NUL byte and `value`, computed without the library. */
function independentTag(key: string, purpose: string, value: string): Buffer {
  return createHmac("sha256", key).update(`${purpose}\0${value}`, "utf8").digest();
}

/** Decodes a base64url tag, insisting on the canonical unpadded encoding of its bytes. */
function decodeTag(tag: string): Buffer {
  expect(tag).toMatch(/^[A-Za-z0-9_-]+$/);
  const bytes = Buffer.from(tag, "base64url");
  expect(bytes.toString("base64url")).toBe(tag);
  return bytes;
}

class User extends UserMixin {
  readonly id = "1";
}

/** A real CSRF token and the cookie value it signs, as a manager hands them to a browser. */
async function issuedCsrfToken(): Promise<{ token: string; cookieValue: string }> {
  const manager = new LoginManager<User>({
    secret: SECRET,
    store: new MemoryStore(),
    userLoader: () => null,
  });
  const request = fakeRequest({ url: "/form", remoteAddress: "127.0.0.1" });
  let cookieValue = "";
  const response: ResponseView = {
    setCookie: (name, serialized) => {
      if (name === manager.options.cookies.csrfName)
        cookieValue = serialized.slice(serialized.indexOf("=") + 1).split(";")[0] ?? "";
    },
    setHeader: () => undefined,
  };
  const token = (await manager.authenticate(request, response)).csrfToken();
  expect(cookieValue).not.toBe("");
  return { token, cookieValue };
}

describe("integrity tags are full-length HMAC-SHA256 [A5 11.4.3]", () => {
  it("[A5 11.4.3] a CSRF token issued by the manager is the untruncated 256-bit HMAC-SHA256 of its cookie under the secret", async () => {
    const { token, cookieValue } = await issuedCsrfToken();
    const tag = decodeTag(token);
    expect(tag.length * 8).toBe(256);
    expect(tag.equals(independentTag(SECRET, "csrf", cookieValue))).toBe(true);
  });

  it("[A5 11.4.3] the flash cookie's signature is the untruncated 256-bit HMAC-SHA256 of its payload", () => {
    const value = encodeFlashes(new KeyRing([SECRET]), [{ category: "message", message: "Saved." }]);
    const dot = value.lastIndexOf(".");
    const tag = decodeTag(value.slice(dot + 1));
    expect(tag.length * 8).toBe(256);
    expect(tag.equals(independentTag(SECRET, "flash", value.slice(0, dot)))).toBe(true);
  });

  it("[A5 11.4.3] KeyRing signs with the first key and verifies only the whole tag: a 128-bit prefix or one changed bit is refused", () => {
    const keys = new KeyRing([SECRET, "an-older-secret-0123456789abcdef0123"]);
    const token = csrfTokenFor(keys, "cookie-value");
    expect(decodeTag(token).equals(independentTag(SECRET, "csrf", "cookie-value"))).toBe(true);
    expect(keys.verify("csrf", "cookie-value", token)).toBe(true);
    const tag = decodeTag(token);
    expect(keys.verify("csrf", "cookie-value", tag.subarray(0, 16).toString("base64url"))).toBe(false);
    const flipped = Buffer.from(tag);
    flipped[31] = (flipped[31] as number) ^ 1;
    expect(keys.verify("csrf", "cookie-value", flipped.toString("base64url"))).toBe(false);
  });

  it("separates purposes: a CSRF tag does not verify as a flash tag for the same value", () => {
    const keys = new KeyRing([SECRET]);
    expect(keys.verify("flash", "value", keys.sign("csrf", "value"))).toBe(false);
  });
});
