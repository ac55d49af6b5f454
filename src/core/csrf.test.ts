import { describe, expect, it } from "vitest";
import { type CsrfFailure, checkCsrf, csrfTokenFor, describeCsrfFailure, isSafeMethod } from "./csrf.js";
import type { RequestView } from "./http.js";
import { KeyRing } from "./signing.js";

const KEY = "0123456789abcdef0123456789abcdef";
const OLD_KEY = "fedcba9876543210fedcba9876543210";
const ORIGIN = "https://app.example";
const COOKIE = "q3Xv0cK1R8m2b4Yp6Zt9wA";

function view(
  headers: Record<string, string>,
  form: Record<string, unknown> = {},
  method = "POST",
): RequestView {
  return {
    method,
    url: "/form",
    header: (name) => headers[name],
    remoteAddress: "127.0.0.1",
    encrypted: true,
    formField: (name) => form[name],
  };
}

function check(
  request: RequestView,
  overrides: Partial<Parameters<typeof checkCsrf>[1]> = {},
): ReturnType<typeof checkCsrf> {
  return checkCsrf(request, {
    keys: new KeyRing([KEY]),
    cookieValue: COOKIE,
    expectedOrigin: ORIGIN,
    trustedOrigins: [],
    fieldName: "_csrf",
    headerName: "x-csrf-token",
    ...overrides,
  });
}

const token = csrfTokenFor(new KeyRing([KEY]), COOKIE);

describe("isSafeMethod", () => {
  it("treats GET, HEAD, OPTIONS and TRACE as safe and every other method as unsafe", () => {
    for (const method of ["GET", "HEAD", "OPTIONS", "TRACE"]) expect(isSafeMethod(method)).toBe(true);
    for (const method of ["POST", "PUT", "PATCH", "DELETE", "CONNECT", "PROPFIND", "get"])
      expect(isSafeMethod(method)).toBe(false);
  });
});

describe("csrfTokenFor [checklist J.67]", () => {
  it("is an HMAC of the cookie value: not the cookie itself, different per cookie and per key", () => {
    expect(token).not.toBe(COOKIE);
    expect(token).not.toContain(COOKIE);
    expect(csrfTokenFor(new KeyRing([KEY]), "another-cookie-value")).not.toBe(token);
    expect(csrfTokenFor(new KeyRing([OLD_KEY]), COOKIE)).not.toBe(token);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });
});

describe("checkCsrf origin checks [A5 3.5.1] [checklist J.69]", () => {
  it("passes Sec-Fetch-Site: same-origin with a valid token", () => {
    expect(check(view({ "sec-fetch-site": "same-origin" }, { _csrf: token }))).toBeNull();
  });

  it("rejects Sec-Fetch-Site: cross-site even with a valid token and a matching Origin spoof attempt", () => {
    expect(check(view({ "sec-fetch-site": "cross-site" }, { _csrf: token }))).toBe("cross-site");
    expect(
      check(view({ "sec-fetch-site": "cross-site", origin: "https://evil.example" }, { _csrf: token })),
    ).toBe("cross-site");
  });

  it("rejects Sec-Fetch-Site: same-site (a sibling subdomain) unless its Origin is trusted", () => {
    const sibling = { "sec-fetch-site": "same-site", origin: "https://blog.app.example" };
    expect(check(view(sibling, { _csrf: token }))).toBe("cross-site");
    expect(
      check(view(sibling, { _csrf: token }), { trustedOrigins: ["https://blog.app.example"] }),
    ).toBeNull();
  });

  it("without Sec-Fetch-Site, passes an exactly matching Origin", () => {
    expect(check(view({ origin: ORIGIN }, { _csrf: token }))).toBeNull();
  });

  it.each([
    "https://app.example.attacker.com",
    "https://evil.example",
    "http://app.example",
    "https://app.example:444",
    "https://APP.example.evil",
    "null",
    "",
  ])("without Sec-Fetch-Site, rejects the Origin %j", (origin) => {
    expect(check(view({ origin }, { _csrf: token }))).toBe("origin-mismatch");
  });

  it("blocks when both Sec-Fetch-Site and Origin are missing", () => {
    expect(check(view({}, { _csrf: token }))).toBe("no-origin");
  });

  it("rejects when the request's own origin is unknown (no Host) unless the Origin is trusted", () => {
    expect(check(view({ origin: ORIGIN }, { _csrf: token }), { expectedOrigin: null })).toBe(
      "origin-mismatch",
    );
    expect(
      check(view({ origin: ORIGIN }, { _csrf: token }), { expectedOrigin: null, trustedOrigins: [ORIGIN] }),
    ).toBeNull();
  });

  it("checks the origin before the token", () => {
    expect(check(view({ "sec-fetch-site": "cross-site" }))).toBe("cross-site");
  });
});

describe("checkCsrf token checks [A5 3.5.1] [checklist J.66-J.67]", () => {
  const sameOrigin = { "sec-fetch-site": "same-origin" };

  it("accepts the token from the header", () => {
    expect(check(view({ ...sameOrigin, "x-csrf-token": token }))).toBeNull();
  });

  it("prefers the header to the form field", () => {
    expect(check(view({ ...sameOrigin, "x-csrf-token": "wrong" }, { _csrf: token }))).toBe("invalid-token");
  });

  it("rejects a missing token, or a missing CSRF cookie", () => {
    expect(check(view(sameOrigin))).toBe("missing-token");
    expect(check(view(sameOrigin, { _csrf: token }), { cookieValue: undefined })).toBe("missing-token");
  });

  it.each([
    ["an empty string", ""],
    ["an array (repeated field)", [token, token]],
    ["an object", { toString: () => token }],
    ["a number", 42],
    ["over 128 characters", token.repeat(4)],
  ])("treats a token that is %s as missing", (_label, value) => {
    expect(check(view(sameOrigin, { _csrf: value }))).toBe("missing-token");
  });

  it("rejects the token of another CSRF cookie (another browser's token)", () => {
    const other = csrfTokenFor(new KeyRing([KEY]), "another-browsers-cookie");
    expect(check(view(sameOrigin, { _csrf: other }))).toBe("invalid-token");
  });

  it("rejects the raw cookie value presented as the token (plain double submit is not enough)", () => {
    expect(check(view(sameOrigin, { _csrf: COOKIE }))).toBe("invalid-token");
  });

  it("rejects a token signed with an unknown key", () => {
    const forged = csrfTokenFor(new KeyRing([OLD_KEY]), COOKIE);
    expect(check(view(sameOrigin, { _csrf: forged }))).toBe("invalid-token");
  });

  it("accepts a token signed with an older key still in the key list (rotation)", () => {
    const old = csrfTokenFor(new KeyRing([OLD_KEY]), COOKIE);
    expect(check(view(sameOrigin, { _csrf: old }), { keys: new KeyRing([KEY, OLD_KEY]) })).toBeNull();
  });

  it("rejects a token with one character changed", () => {
    const last = token.at(-1) === "A" ? "B" : "A";
    expect(check(view(sameOrigin, { _csrf: `${token.slice(0, -1)}${last}` }))).toBe("invalid-token");
  });

  it("uses the configured field and header names", () => {
    const settings = { fieldName: "authenticity_token", headerName: "x-xsrf" };
    expect(check(view(sameOrigin, { authenticity_token: token }), settings)).toBeNull();
    expect(check(view({ ...sameOrigin, "x-xsrf": token }), settings)).toBeNull();
    expect(check(view(sameOrigin, { _csrf: token }), settings)).toBe("missing-token");
  });
});

describe("describeCsrfFailure", () => {
  const names = { fieldName: "authenticity_token", headerName: "x-xsrf" };
  const FAILURES: CsrfFailure[] = [
    "no-origin",
    "cross-site",
    "origin-mismatch",
    "missing-token",
    "invalid-token",
  ];

  it.each([
    ["no-origin", /neither an Origin nor a Sec-Fetch-Site header/],
    ["cross-site", /sent by another site \(Sec-Fetch-Site\)/],
    ["origin-mismatch", /Origin header names another site/],
    ["missing-token", /no CSRF token/],
    ["invalid-token", /does not match/],
  ] as const)("%s names the check that failed", (failure, text) => {
    expect(describeCsrfFailure(failure, names)).toMatch(text);
  });

  it("gives each failure its own sentence", () => {
    const texts = FAILURES.map((failure) => describeCsrfFailure(failure, names));
    expect(new Set(texts).size).toBe(FAILURES.length);
  });

  it("tells a client without a token where to put it, with the configured names", () => {
    expect(describeCsrfFailure("missing-token", names)).toContain(
      '"authenticity_token" form field or the "x-xsrf" header',
    );
  });
});
