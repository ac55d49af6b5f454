import { describe, expect, it } from "vitest";
import { isSafeNextUrl, loginUrl, makeNextParam, safeNextUrl } from "./redirects.js";

// Flask-Login never validates `next` (#211, #737); the docs leave it to the app. These cases come from
// the security checklist item 71 [A5 3.7.2], Django's test_security_check and Flask-Security
// CVE-2021-32618 (open redirect through `\\\github.com`, which browsers read as `//github.com`).
const REJECTED: ReadonlyArray<[string, string]> = [
  ["http://evil", "absolute http URL"],
  ["https://evil", "absolute https URL"],
  ["ftp://evil", "absolute ftp URL"],
  ["HTTPS://evil", "absolute URL with an upper-case scheme"],
  ["//evil", "scheme-relative URL"],
  ["///evil", "three slashes"],
  ["////evil", "four slashes"],
  ["http:///evil", "scheme with an empty authority"],
  ["https:evil", "scheme without slashes"],
  ["\\\\evil", "two backslashes (browsers read \\ as /)"],
  ["\\\\\\evil", "three backslashes, CVE-2021-32618"],
  ["/\\evil", "slash then backslash"],
  ["\\/evil", "backslash then slash"],
  ["/\\\\evil", "slash then two backslashes"],
  ["/a\\b", "a backslash anywhere"],
  ["javascript:alert(1)", "javascript: URL"],
  ["JavaScript:alert(1)", "javascript: URL in mixed case"],
  ["data:text/html,<script>alert(1)</script>", "data: URL"],
  ["/\t/evil", "a tab that browsers strip, leaving //evil"],
  ["/\n/evil", "a newline that browsers strip, leaving //evil"],
  ["/\r\n/evil", "CR LF (also header splitting)"],
  ["/\u0000evil", "a NUL byte"],
  ["/\u001fevil", "a C0 control character"],
  ["/\u007fevil", "DEL"],
  ["/\u0085evil", "a C1 control character"],
  ["/ /evil", "a space"],
  [" /evil", "leading whitespace"],
  ["\t//evil", "a leading tab before //"],
  ["evil", "a bare word (relative path, not rooted)"],
  ["evil.example/path", "a host-looking relative path"],
  ["", "the empty string"],
  ["?next=//evil", "a query only"],
  ["#frag", "a fragment only"],
];

const ACCEPTED: readonly string[] = [
  "/",
  "/view/?param=http://x",
  "/view/?param=https://evil.example//x",
  "/a?b=c#d",
  "/account/settings",
  "/search?q=a%20b&page=2",
  "/%2F%2Fevil",
  "/caf%C3%A9",
];

// Targets beyond ASCII are followed, percent-encoded as UTF-8 the way the URL parser serialises them:
// a raw `/cafą` in `Location` made Node throw ERR_INVALID_CHAR after the login had succeeded (issue 16.2).
const ENCODED: ReadonlyArray<[string, string]> = [
  ["/caf\u00e9", "/caf%C3%A9"],
  ["/caf\u0105", "/caf%C4%85"],
  ["/\u65e5\u672c?q=\u00fc#\u00e0", "/%E6%97%A5%E6%9C%AC?q=%C3%BC#%C3%A0"],
  ["/emoji/\u{1f600}", "/emoji/%F0%9F%98%80"],
  ["/x/../protected", "/protected"],
  ["/a?b='c'", "/a?b=%27c%27"],
];

describe("isSafeNextUrl / safeNextUrl [A5 3.7.2] [Flask-Security CVE-2021-32618]", () => {
  it.each(REJECTED)("rejects %j (%s)", (next) => {
    expect(isSafeNextUrl(next)).toBe(false);
    expect(safeNextUrl(next)).toBe("/");
  });

  it.each(ACCEPTED)("accepts the same-origin path %j unchanged", (next) => {
    expect(isSafeNextUrl(next)).toBe(true);
    expect(safeNextUrl(next, "/home")).toBe(next);
  });

  it.each(ENCODED)("accepts %j as %j, encoded for a Location header", (next, expected) => {
    expect(isSafeNextUrl(next)).toBe(true);
    expect(safeNextUrl(next)).toBe(expected);
    expect(safeNextUrl(expected)).toBe(expected);
  });

  it("rejects every C0 and C1 control character anywhere in the path", () => {
    const controls = [
      ...Array.from({ length: 0x20 }, (_, code) => code),
      ...Array.from({ length: 0x21 }, (_, index) => 0x7f + index),
    ];
    for (const code of controls) {
      const next = `/a${String.fromCharCode(code)}b`;
      expect(isSafeNextUrl(next), `U+${code.toString(16).padStart(4, "0")}`).toBe(false);
    }
  });

  it("rejects values over 2 KiB and accepts one of exactly 2048 characters", () => {
    const limit = `/${"a".repeat(2047)}`;
    expect(limit).toHaveLength(2048);
    expect(isSafeNextUrl(limit)).toBe(true);
    expect(isSafeNextUrl(`${limit}a`)).toBe(false);
    expect(isSafeNextUrl(`/${"a".repeat(100_000)}`)).toBe(false);
  });

  it.each([
    [undefined],
    [null],
    [42],
    [true],
    [["/a"]],
    [{ toString: () => "/a" }],
    [new String("/a")],
    [Symbol("x")],
  ])("rejects the non-string %s and falls back", (next) => {
    expect(isSafeNextUrl(next)).toBe(false);
    expect(safeNextUrl(next)).toBe("/");
    expect(safeNextUrl(next, "/dashboard")).toBe("/dashboard");
  });

  it("refuses a path whose dot segments leave it starting with // (found by the property test: /..//)", () => {
    for (const next of ["/..//", "/../..//evil.example", "/./..//x", "/%2e%2e//evil.example"]) {
      expect(isSafeNextUrl(next)).toBe(false);
      expect(safeNextUrl(next, "/home")).toBe("/home");
    }
    expect(safeNextUrl("/a/..//b", "/home")).toBe("/home");
    expect(safeNextUrl("/a/../b", "/home")).toBe("/b");
  });

  it("uses the fallback given for an unsafe value", () => {
    expect(safeNextUrl("https://evil", "/home")).toBe("/home");
  });

  it("never throws, whatever the input", () => {
    const odd = ["/%", "/%zz", "/\ud800", "/[", "/a:b@c", "/\u2028", `/${"%".repeat(3000)}`];
    for (const next of odd) expect(() => safeNextUrl(next)).not.toThrow();
  });
});

describe("makeNextParam (Flask-Login test_make_next_param, inventory item 62)", () => {
  it("strips scheme and host when the login view is relative", () => {
    expect(makeNextParam("/login", "http://localhost/profile")).toBe("/profile");
  });

  it("keeps the full URL when the login view uses another scheme", () => {
    expect(makeNextParam("https://localhost/login", "http://localhost/profile")).toBe(
      "http://localhost/profile",
    );
  });

  it("keeps the full URL when the login view is on another host", () => {
    expect(makeNextParam("http://accounts.localhost/login", "http://localhost/profile")).toBe(
      "http://localhost/profile",
    );
  });

  it("strips scheme and host when the login view is on the same scheme and host", () => {
    expect(makeNextParam("http://localhost/login", "http://localhost/profile?a=1")).toBe("/profile?a=1");
  });

  it("keeps the query and drops the fragment", () => {
    expect(makeNextParam("/login", "http://localhost/a/b?x=1&y=2#section")).toBe("/a/b?x=1&y=2");
  });

  it("passes a path-and-query request URL (what adapters give) through", () => {
    expect(makeNextParam("/login", "/secret?tab=2")).toBe("/secret?tab=2");
  });
});

describe("loginUrl (Flask-Login test_login_url_generation*, inventory item 63)", () => {
  const PROTECTED = "http://localhost/protected";

  it("uses a custom next field", () => {
    expect(loginUrl("/login", makeNextParam("/login", PROTECTED), "n")).toBe("/login?n=%2Fprotected");
  });

  it("encodes a relative next with / as %2F", () => {
    expect(loginUrl("/login", makeNextParam("/login", PROTECTED))).toBe("/login?next=%2Fprotected");
  });

  it("carries the full URL to an absolute login view on another host", () => {
    const view = "https://auth.localhost/login";
    expect(loginUrl(view, makeNextParam(view, PROTECTED))).toBe(
      "https://auth.localhost/login?next=http%3A%2F%2Flocalhost%2Fprotected",
    );
  });

  it("keeps an existing query on the login view", () => {
    expect(loginUrl("/login?affil=cgnu", makeNextParam("/login?affil=cgnu", PROTECTED))).toBe(
      "/login?affil=cgnu&next=%2Fprotected",
    );
  });

  it("keeps blank query values and a trailing ? or &", () => {
    expect(loginUrl("/login?a=", "/x")).toBe("/login?a=&next=%2Fx");
    expect(loginUrl("/login?", "/x")).toBe("/login?next=%2Fx");
    expect(loginUrl("/login?a=1&", "/x")).toBe("/login?a=1&next=%2Fx");
  });

  it("encodes a space as + and keeps a fragment of the view at the end", () => {
    expect(loginUrl("/login#form", "/a b")).toBe("/login?next=%2Fa+b#form");
  });

  it("returns the bare view when there is no next", () => {
    expect(loginUrl("/foo")).toBe("/foo");
    expect(loginUrl("/foo", null)).toBe("/foo");
  });

  it("encodes characters that would otherwise add parameters", () => {
    expect(loginUrl("/login", "/a?b=1&next=//evil")).toBe("/login?next=%2Fa%3Fb%3D1%26next%3D%2F%2Fevil");
  });
});
