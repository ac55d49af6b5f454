import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../core/errors.js";
import {
  generateRecoveryCodes,
  hashRecoveryCode,
  matchRecoveryCode,
  normaliseRecoveryCode,
  RECOVERY_CODE_ALPHABET,
  RECOVERY_CODE_BITS,
  randomCharacters,
  recoveryCodeId,
} from "./recovery-codes.js";

const GROUP = "[0-9a-hjkmnp-tv-z]{6}";
const CODE_SHAPE = new RegExp(`^${GROUP}-${GROUP}-${GROUP}-${GROUP}$`);
const HASH_SHAPE = /^sha256\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/;

/** A random source that hands out `bytes` in order. */
function scripted(bytes: number[]): (size: number) => Uint8Array {
  let next = 0;
  return (size) => {
    const chunk = Uint8Array.from(bytes.slice(next, next + size));
    next += size;
    return chunk;
  };
}

describe("generateRecoveryCodes", () => {
  it("makes ten distinct xxxxxx-xxxxxx-xxxxxx-xxxxxx codes of at least 112 bits, with hashes in the same order", () => {
    const { codes, hashes } = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    expect(RECOVERY_CODE_ALPHABET).toHaveLength(32);
    // ASVS 5.0 6.5.2: a standard hash may store a look-up secret of 112 bits or more.
    const bits = 24 * Math.log2(RECOVERY_CODE_ALPHABET.length);
    expect(bits).toBe(RECOVERY_CODE_BITS);
    expect(bits).toBeGreaterThanOrEqual(112);
    for (const [index, code] of codes.entries()) {
      expect(code).toMatch(CODE_SHAPE);
      expect(hashes[index]).toMatch(HASH_SHAPE);
      expect(hashes[index]).not.toContain(code.replaceAll("-", ""));
      expect(matchRecoveryCode(code, hashes)).toBe(index);
    }
  });

  it("uses no i, l, o or u", () => {
    const text = Array.from({ length: 20 }, () => generateRecoveryCodes().codes.join("")).join("");
    expect(text).not.toMatch(/[ilou]/);
  });

  it("hashes each code with its own salt", () => {
    const first = hashRecoveryCode("7k3qdx-9m2ab4-hj5n8p-rt0vwz");
    const second = hashRecoveryCode("7k3qdx-9m2ab4-hj5n8p-rt0vwz");
    expect(first).not.toBe(second);
    expect(matchRecoveryCode("7k3qdx-9m2ab4-hj5n8p-rt0vwz", [first])).toBe(0);
    expect(matchRecoveryCode("7k3qdx-9m2ab4-hj5n8p-rt0vwz", [second])).toBe(0);
  });

  it("takes another count, within bounds", () => {
    expect(generateRecoveryCodes(3).codes).toHaveLength(3);
    expect(() => generateRecoveryCodes(0)).toThrow(ConfigurationError);
    expect(() => generateRecoveryCodes(1.5)).toThrow(ConfigurationError);
  });
});

describe("matchRecoveryCode", () => {
  const { codes, hashes } = generateRecoveryCodes();
  const code = codes[4] ?? "";

  it("finds a code typed with other case, spaces and no dash", () => {
    expect(matchRecoveryCode(code.toUpperCase(), hashes)).toBe(4);
    expect(matchRecoveryCode(` ${code.replaceAll("-", " ")} `, hashes)).toBe(4);
    expect(matchRecoveryCode(code.replaceAll("-", ""), hashes)).toBe(4);
  });

  it("reads o as 0 and i or l as 1", () => {
    const stored = [hashRecoveryCode("10a01b-1c0d10-a01b1c-0d10a0")];
    expect(matchRecoveryCode("lOaOIb-iCodlO-aolbic-Odloao", stored)).toBe(0);
  });

  it("is single-use once the caller removes the matched hash", () => {
    const remaining = hashes.filter((_, index) => index !== matchRecoveryCode(code, hashes));
    expect(remaining).toHaveLength(9);
    expect(matchRecoveryCode(code, remaining)).toBeUndefined();
  });

  it("refuses a code of another set and an empty set", () => {
    const other = generateRecoveryCodes().codes[0];
    expect(matchRecoveryCode(other, hashes)).toBeUndefined();
    expect(matchRecoveryCode(code, [])).toBeUndefined();
  });

  it("skips stored entries that are not hashes of this form", () => {
    const plain = code.replaceAll("-", "");
    const broken = ["", plain, code, `sha256$${plain}`, "argon2id$v=19$...", hashes[4]?.slice(0, -1) ?? ""];
    expect(matchRecoveryCode(code, broken)).toBeUndefined();
    expect(matchRecoveryCode(code, [...broken, hashes[4] ?? ""])).toBe(broken.length);
  });

  it.each([
    ["too short", "7k3qdx-9m2ab4-hj5n8p-rt0vw"],
    ["too long", "7k3qdx-9m2ab4-hj5n8p-rt0vwzz"],
    ["the old 10-character shape", "7k3qd-x9m2a"],
    ["a u", "7k3qdx-9m2ab4-hj5n8p-rt0vwu"],
    ["a symbol", "7k3qdx_9m2ab4-hj5n8p-rt0vwz"],
    ["non-ASCII", "7k3qdx-9m2ab4-hj5n8p-rt0vwé"],
    ["empty", ""],
    ["a very long string", `${" ".repeat(100)}7k3qd-x9m2a`],
    ["not a string", 1234567890],
    ["an array", ["7k3qdx-9m2ab4-hj5n8p-rt0vwz"]],
    ["undefined", undefined],
  ])("refuses input that is %s", (_, input) => {
    expect(matchRecoveryCode(input, [hashRecoveryCode("7k3qdx-9m2ab4-hj5n8p-rt0vwz")])).toBeUndefined();
  });
});

describe("normaliseRecoveryCode and hashRecoveryCode", () => {
  it("normalises case, whitespace, dashes and look-alike letters", () => {
    expect(normaliseRecoveryCode(" 7K3QDX 9M2AB4 HJ5N8P RT0VWZ ")).toBe("7k3qdx9m2ab4hj5n8prt0vwz");
    expect(normaliseRecoveryCode("7k-3q-dx-9m-2a-b4-hj-5n-8p-rt-0v-wz")).toBe("7k3qdx9m2ab4hj5n8prt0vwz");
    expect(normaliseRecoveryCode("OIL000-111111-000000-111111")).toBe("011000111111000000111111");
    expect(normaliseRecoveryCode("7k3qdx-9m2ab4-hj5n8p")).toBeUndefined();
  });

  it("refuses to hash something that is not a code", () => {
    expect(() => hashRecoveryCode("password")).toThrow(ConfigurationError);
  });
});

describe("recoveryCodeId", () => {
  it("is the same for the code however it is typed, and differs per user and per code", () => {
    const id = recoveryCodeId("42", "7k3qdx-9m2ab4-hj5n8p-rt0vwz");
    expect(id).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(recoveryCodeId("42", " 7K3QDX 9M2AB4 HJ5N8P RT0VWZ ")).toBe(id);
    expect(recoveryCodeId("43", "7k3qdx-9m2ab4-hj5n8p-rt0vwz")).not.toBe(id);
    expect(recoveryCodeId("42", "7k3qdx-9m2ab4-hj5n8p-rt0vwy")).not.toBe(id);
  });

  it("is undefined, computing nothing, for input that cannot be a code", () => {
    expect(recoveryCodeId("42", "7k3qd-x9m2a")).toBeUndefined();
    expect(recoveryCodeId("42", "x".repeat(100))).toBeUndefined();
    expect(recoveryCodeId("42", 123)).toBeUndefined();
  });
});

describe("randomCharacters", () => {
  it("rejects bytes at or above the largest multiple of the alphabet size (no modulo bias)", () => {
    // 3 symbols: 255 = 3 * 85 is the limit, so byte 255 is dropped and the next byte used.
    expect(randomCharacters(4, "abc", scripted([255, 0, 1, 255, 254, 2]))).toBe("abcc");
    // 31 symbols: 248 = 31 * 8 is the limit.
    expect(randomCharacters(2, "0123456789abcdefghjkmnpqrstvwxy", scripted([248, 250, 247, 30]))).toBe("yy");
  });

  it("never rejects for a 32-symbol alphabet, and asks for more bytes only when it must", () => {
    const sizes: number[] = [];
    const bytes = [255, 224, 0, 31, 128, 100, 7, 64, 32, 200];
    const source = (size: number) => {
      sizes.push(size);
      return Uint8Array.from(bytes.splice(0, size));
    };
    expect(randomCharacters(10, RECOVERY_CODE_ALPHABET, source)).toBe("z00z047008");
    expect(sizes).toEqual([10]);
  });

  it("is close to uniform over many draws", () => {
    const counts = new Map<string, number>();
    for (const character of randomCharacters(32_000, RECOVERY_CODE_ALPHABET)) {
      counts.set(character, (counts.get(character) ?? 0) + 1);
    }
    expect(counts.size).toBe(32);
    for (const count of counts.values()) expect(Math.abs(count - 1000)).toBeLessThan(200);
  });

  it("refuses an alphabet too small or too large", () => {
    expect(() => randomCharacters(1, "a")).toThrow(ConfigurationError);
    expect(() => randomCharacters(1, "x".repeat(257))).toThrow(ConfigurationError);
  });
});
