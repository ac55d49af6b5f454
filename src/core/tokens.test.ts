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

  it("gives the same answers for lengths it has seen before and for every length up to and past its scratch space", () => {
    for (const length of [1, 22, 43, 43, 255, 256, 257, 600]) {
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
    ["the id alone", id],
    ["a huge value", "A".repeat(100_000)],
  ])("rejects %s", (_label, value) => {
    expect(parseTokenPair(value)).toBeNull();
  });
});
