import { describe, expect, it } from "vitest";
import { cookieValues, readCookies, replaceSetCookie, serializeCookie } from "./cookies.js";

const NAMES = ["session", "remember_token"];

describe("readCookies", () => {
  it("reads the named cookies and skips the others", () => {
    const found = readCookies("theme=dark; session=abc; remember_token=def; other=1", NAMES);
    expect([...found]).toEqual([
      ["session", "abc"],
      ["remember_token", "def"],
    ]);
  });

  it("returns nothing for a missing or empty header", () => {
    expect(readCookies(undefined, NAMES).size).toBe(0);
    expect(readCookies("", NAMES).size).toBe(0);
  });

  it.each([
    ";;;",
    "=",
    "==;=;",
    "session",
    "session;",
    "=session=abc",
    "noequals; alsonone",
    "\u0000\u0001\u0002",
    "session\u0000=x",
  ])("ignores the garbage header %j without throwing", (header) => {
    expect(() => readCookies(header, NAMES)).not.toThrow();
    expect(readCookies(header, NAMES).has("remember_token")).toBe(false);
    const session = readCookies(header, NAMES).get("session");
    expect(session === undefined || session === "").toBe(true);
  });

  it("does not take a value from the next pair when a pair has no =", () => {
    expect(readCookies("session; remember_token=abc", NAMES).get("session")).toBeUndefined();
    expect(readCookies("session; remember_token=abc", NAMES).get("remember_token")).toBe("abc");
  });

  it("keeps a well-formed cookie that follows garbage", () => {
    expect(readCookies("garbage;; =x; session=abc", NAMES).get("session")).toBe("abc");
  });

  it("ignores an oversized Cookie header entirely", () => {
    const header = `session=abc; padding=${"x".repeat(9000)}`;
    expect(readCookies(header, NAMES).size).toBe(0);
  });

  it("ignores a single value over 4096 characters", () => {
    const header = `session=${"a".repeat(4097)}; remember_token=ok`;
    const found = readCookies(header, NAMES);
    expect(found.has("session")).toBe(false);
    expect(found.get("remember_token")).toBe("ok");
  });

  it("keeps the first of two cookies with the same name (the most specific path, RFC 6265 5.4)", () => {
    expect(readCookies("session=first; session=second", NAMES).get("session")).toBe("first");
  });

  it("strips the double quotes of a quoted value", () => {
    expect(readCookies('session="abc.def"', NAMES).get("session")).toBe("abc.def");
  });

  it("keeps a lone quote character as part of the value", () => {
    expect(readCookies('session="abc', NAMES).get("session")).toBe('"abc');
  });

  it("trims whitespace around names and values", () => {
    expect(readCookies("  session =  abc  ;remember_token=def", NAMES).get("session")).toBe("abc");
  });

  it("keeps = signs inside a value", () => {
    expect(readCookies("session=a=b==", NAMES).get("session")).toBe("a=b==");
  });

  it("does not decode percent escapes", () => {
    expect(readCookies("session=%ZZ%41", NAMES).get("session")).toBe("%ZZ%41");
  });

  it("matches names exactly (case and prefix)", () => {
    const found = readCookies("Session=a; session2=b; __Host-session=c", NAMES);
    expect(found.size).toBe(0);
  });
});

describe("cookieValues (issue 16.8: a name sent more than once)", () => {
  const all = (header: string | undefined, name = "session") => [...cookieValues(header, name)];

  it("yields every value of the name, in header order, and nothing of other names", () => {
    expect(all("session=junk; theme=dark; session=id.secret; remember_token=r; session=third")).toEqual([
      "junk",
      "id.secret",
      "third",
    ]);
    expect(all("theme=dark; other=1")).toEqual([]);
    expect(all(undefined)).toEqual([]);
    expect(all("")).toEqual([]);
  });

  it("starts with the value readCookies returns, under the same rules", () => {
    const headers = [
      "session=first; session=second",
      `session=${"a".repeat(4097)}; session=small; session=last`,
      '  session = "quoted" ;session=two',
      "garbage;; =x; session=abc; session=def",
      "session; session=later",
      "Session=a; __Host-session=b; session2=c; session=d",
    ];
    for (const header of headers) {
      expect(all(header)[0]).toBe(readCookies(header, NAMES).get("session"));
    }
  });

  it("skips values over 4096 characters and reads nothing from an oversized header", () => {
    expect(all(`session=${"a".repeat(4097)}; session=ok`)).toEqual(["ok"]);
    expect(all(`session=a; session=b; padding=${"x".repeat(9000)}`)).toEqual([]);
  });

  it("keeps duplicates and empty values (the caller decides what to try)", () => {
    expect(all("session=x; session=x; session=; session=y")).toEqual(["x", "x", "", "y"]);
  });

  it("hands the values out one at a time, so a caller can stop early", () => {
    const header = `session=one; ${"pad=1; ".repeat(500)}session=two`;
    const values = cookieValues(header, "session");
    expect(values.next()).toEqual({ value: "one", done: false });
    expect(values.next()).toEqual({ value: "two", done: false });
    expect(values.next().done).toBe(true);
  });

  it.each([";;;", "=", "session", "=session=abc", "\u0000session=\u0001", "session\u0000=x"])(
    "never throws on the garbage header %j",
    (header) => {
      expect(() => all(header)).not.toThrow();
    },
  );
});

describe("serializeCookie [A5 3.3.1] [A5 3.3.4]", () => {
  it("sets Path=/ and HttpOnly, SameSite, and never a Domain", () => {
    const cookie = serializeCookie("session", "abc", { secure: false, sameSite: "Lax" });
    expect(cookie).toBe("session=abc; Path=/; HttpOnly; SameSite=Lax");
    expect(cookie).not.toMatch(/domain/i);
  });

  it("adds Secure when asked, for __Host- names", () => {
    expect(serializeCookie("__Host-session", "abc", { secure: true, sameSite: "Strict" })).toBe(
      "__Host-session=abc; Path=/; HttpOnly; Secure; SameSite=Strict",
    );
  });

  it("makes a browser-session cookie (no Max-Age, no Expires) without maxAgeSeconds", () => {
    const cookie = serializeCookie("session", "abc", { secure: true, sameSite: "Lax" });
    expect(cookie).not.toMatch(/max-age|expires/i);
  });

  it("sets Max-Age in whole seconds", () => {
    expect(serializeCookie("r", "v", { secure: false, sameSite: "Lax", maxAgeSeconds: 2_592_000 })).toContain(
      "; Max-Age=2592000",
    );
    expect(serializeCookie("r", "v", { secure: false, sameSite: "Lax", maxAgeSeconds: 10.9 })).toContain(
      "; Max-Age=10",
    );
  });

  it("deletes with Max-Age=0 and an Expires in the past", () => {
    for (const maxAgeSeconds of [0, -5]) {
      const cookie = serializeCookie("session", "", { secure: false, sameSite: "Lax", maxAgeSeconds });
      expect(cookie).toBe(
        "session=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT",
      );
    }
  });

  it.each(["a;b", "a b", 'a"b', "a,b", "a\\b", "a\r\nSet-Cookie: x=y", "caf\u00e9"])(
    "refuses the value %j instead of emitting a broken header",
    (value) => {
      expect(() => serializeCookie("session", value, { secure: false, sameSite: "Lax" })).toThrow(TypeError);
    },
  );

  it("accepts token and base64url characters", () => {
    const value = "AZaz09-_.~!#$%&'()*+/:<=>?@[]^`{|}";
    expect(serializeCookie("s", value, { secure: false, sameSite: "Lax" })).toContain(`s=${value};`);
  });
});

describe("replaceSetCookie", () => {
  it("adds to an absent, string or array header", () => {
    expect(replaceSetCookie(undefined, "a", "a=1")).toEqual(["a=1"]);
    expect(replaceSetCookie("b=2", "a", "a=1")).toEqual(["b=2", "a=1"]);
    expect(replaceSetCookie(["b=2", "c=3"], "a", "a=1")).toEqual(["b=2", "c=3", "a=1"]);
  });

  it("replaces an earlier Set-Cookie of the same name only", () => {
    expect(
      replaceSetCookie(["session=old; Path=/", "session2=x", "csrf=y"], "session", "session=new"),
    ).toEqual(["session2=x", "csrf=y", "session=new"]);
  });

  it("treats __Host- names as different cookies", () => {
    expect(replaceSetCookie(["__Host-session=a"], "session", "session=b")).toEqual([
      "__Host-session=a",
      "session=b",
    ]);
  });
});
