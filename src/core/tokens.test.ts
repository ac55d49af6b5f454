import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  constantTimeEqual,
  hashToken,
  parseTokenPair,
  randomToken,
  TOKEN_BYTES,
  TOKEN_LENGTH,
} from "./tokens.js";

const BASE64URL = /^[A-Za-z0-9_-]+$/;

describe("randomToken [A5 7.2.3] [A5 11.5.1]", () => {
  const tokens = Array.from({ length: 10_000 }, () => randomToken());

  it("gives 10,000 distinct tokens", () => {
    expect(new Set(tokens).size).toBe(10_000);
  });

  it("encodes 128 bits as 22 unpadded base64url characters", () => {
    expect(TOKEN_BYTES * 8).toBeGreaterThanOrEqual(128);
    const malformed = tokens.filter(
      (token) =>
        token.length !== TOKEN_LENGTH ||
        !BASE64URL.test(token) ||
        Buffer.from(token, "base64url").length !== 16 ||
        Buffer.from(token, "base64url").toString("base64url") !== token,
    );
    expect(malformed).toEqual([]);
  });

  it("varies every one of the 128 bits (no constant prefix, counter or timestamp)", () => {
    const seenOne = Buffer.alloc(16);
    const seenZero = Buffer.alloc(16);
    for (const token of tokens) {
      const bytes = Buffer.from(token, "base64url");
      for (let i = 0; i < 16; i++) {
        seenOne[i] = (seenOne[i] as number) | (bytes[i] as number);
        seenZero[i] = (seenZero[i] as number) | ~(bytes[i] as number);
      }
    }
    expect([...seenOne].every((byte) => byte === 0xff)).toBe(true);
    expect([...seenZero].every((byte) => (byte & 0xff) === 0xff)).toBe(true);
  });

  it("sets each bit about half the time (a gross bias check, not a randomness proof)", () => {
    const ones = new Array<number>(128).fill(0);
    for (const token of tokens) {
      const bytes = Buffer.from(token, "base64url");
      for (let bit = 0; bit < 128; bit++) {
        if (((bytes[bit >> 3] as number) >> (bit & 7)) & 1) ones[bit] = (ones[bit] as number) + 1;
      }
    }
    // 10,000 fair coin flips: mean 5000, sd 50; 4700..5300 is 6 sd.
    for (const count of ones) {
      expect(count).toBeGreaterThan(4700);
      expect(count).toBeLessThan(5300);
    }
  });
});

describe("hashToken", () => {
  it("is the base64url SHA-256 of the token", () => {
    const token = "q3Xv0cK1R8m2b4Yp6Zt9wA";
    expect(hashToken(token)).toBe(createHash("sha256").update(token).digest("base64url"));
    expect(hashToken(token)).toHaveLength(43);
    expect(hashToken(token)).not.toContain(token);
  });

  it("differs for different tokens", () => {
    expect(hashToken("a")).not.toBe(hashToken("b"));
  });
});

describe("constantTimeEqual", () => {
  it("compares equal, different and different-length strings without throwing", () => {
    expect(constantTimeEqual("abc", "abc")).toBe(true);
    expect(constantTimeEqual("abc", "abd")).toBe(false);
    expect(constantTimeEqual("abc", "abcd")).toBe(false);
    expect(constantTimeEqual("", "")).toBe(true);
    expect(constantTimeEqual("\u00e9", "e\u0301")).toBe(false);
  });

  it("tells apart non-ASCII strings whose characters share their low byte (no Latin-1 truncation)", () => {
    // U+0101 and U+0201 both truncate to 0x01 in Latin-1; their UTF-8 bytes differ.
    expect(constantTimeEqual("\u0101", "\u0201")).toBe(false);
    expect(constantTimeEqual("a\u0101", "a\u0101")).toBe(true);
  });

  it("compares strings with characters outside ASCII by their UTF-8 bytes, at every length around its scratch space's limit", () => {
    // Two strings of one UTF-16 length where only one is ASCII: the ASCII check must not take the
    // shorter write for a match. Past 252 characters a UTF-8 write into the 256-byte scratch space is
    // cut short, so that path is not taken there.
    for (const length of [1, 2, 43, 84, 85, 86, 126, 127, 128, 250, 251, 252, 253, 254, 255, 256, 257]) {
      const ascii = "a".repeat(length);
      const accented = `${"a".repeat(length - 1)}\u00e9`;
      const wide = "\u20ac".repeat(length);
      expect(constantTimeEqual(ascii, accented)).toBe(false);
      expect(constantTimeEqual(accented, ascii)).toBe(false);
      expect(constantTimeEqual(accented, accented)).toBe(true);
      expect(constantTimeEqual(wide, wide)).toBe(true);
      expect(constantTimeEqual(wide, `${wide.slice(1)}\u20ad`)).toBe(false);
      expect(constantTimeEqual(ascii, wide)).toBe(false);
    }
    // The UTF-8 rule as before: lone surrogates both encode as U+FFFD.
    expect(constantTimeEqual("\ud800", "\udc00")).toBe(constantTimeEqual("\ufffd", "\ufffd"));
  });

  it("gives the same answers for lengths it has seen before and for every length up to and past its scratch space", () => {
    for (const length of [1, 22, 43, 43, 251, 252, 253, 255, 256, 257, 600]) {
      const a = "x".repeat(length);
      expect(constantTimeEqual(a, a)).toBe(true);
      expect(constantTimeEqual(a, `${a.slice(1)}y`)).toBe(false);
      expect(constantTimeEqual(a, `y${a.slice(1)}`)).toBe(false);
    }
  });
});

describe("parseTokenPair [A5 7.2.3]", () => {
  const id = randomToken();
  const secret = randomToken();

  it("splits a well-formed <id>.<secret>", () => {
    expect(parseTokenPair(`${id}.${secret}`)).toEqual({ id, secret });
  });

  it("accepts every base64url character in both halves and nothing else below 128", () => {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const pair = (char: string, at: number) => {
      const half = `${"A".repeat(at)}${char}${"A".repeat(TOKEN_LENGTH - at - 1)}`;
      return [`${half}.${secret}`, `${id}.${half}`];
    };
    for (let code = 0; code < 128; code++) {
      const char = String.fromCharCode(code);
      for (const value of [...pair(char, 0), ...pair(char, 21)]) {
        expect(parseTokenPair(value) !== null, `${JSON.stringify(char)} in ${value}`).toBe(
          alphabet.includes(char),
        );
      }
    }
  });

  it.each([
    ["undefined", undefined],
    ["empty", ""],
    ["short halves", "abc.def"],
    ["no separator", `${id}${secret}`],
    ["another separator", `${id}:${secret}`],
    ["separator moved left", `${id.slice(0, 21)}.${id.slice(21)}${secret}`],
    ["three parts", `${id}.${secret}.${secret}`],
    ["one character too long", `${id}.${secret}A`],
    ["one character too short", `${id}.${secret.slice(1)}`],
    ["padding", `${id.slice(0, 20)}==.${secret}`],
    ["standard base64 + and /", `${"+".repeat(22)}.${"/".repeat(22)}`],
    ["whitespace", `${id.slice(0, 21)} .${secret}`],
    ["percent-encoded", `${id.slice(0, 19)}%2E.${secret}`],
    ["non-ASCII", `${id.slice(0, 21)}\u00e9.${secret}`],
    ["non-ASCII in the secret", `${id}.${secret.slice(0, 21)}\u00e9`],
    // Characters whose low byte is a base64url character ("A" is 0x41).
    ["a character above 127 in the id", `\u0141${id.slice(1)}.${secret}`],
    ["a character above 127 in the secret", `${id}.${secret.slice(0, 21)}\u0141`],
    ["a control character", `${id}.${secret.slice(0, 21)}\u0000`],
    ["an equals sign", `${id}.${secret.slice(0, 21)}=`],
    ["the id alone", id],
    ["a huge value", "A".repeat(100_000)],
  ])("rejects %s", (_label, value) => {
    expect(parseTokenPair(value)).toBeNull();
  });
});
