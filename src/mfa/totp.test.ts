import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../core/errors.js";
import { decodeBase32, encodeBase32 } from "./base32.js";
import {
  generateTotpSecret,
  hotpCode,
  normaliseTotpCode,
  type TotpAlgorithm,
  totpCode,
  totpStep,
  totpUri,
  verifyTotp,
} from "./totp.js";

// RFC 6238 Appendix B: the seed of each algorithm is "1234567890" repeated to the hash's length.
const SEEDS: Record<TotpAlgorithm, Buffer> = {
  SHA1: Buffer.from("12345678901234567890"),
  SHA256: Buffer.from("12345678901234567890123456789012"),
  SHA512: Buffer.from("1234567890123456789012345678901234567890123456789012345678901234"),
};

const RFC_6238_VECTORS: ReadonlyArray<readonly [number, string, TotpAlgorithm]> = [
  [59, "94287082", "SHA1"],
  [59, "46119246", "SHA256"],
  [59, "90693936", "SHA512"],
  [1111111109, "07081804", "SHA1"],
  [1111111109, "68084774", "SHA256"],
  [1111111109, "25091201", "SHA512"],
  [1111111111, "14050471", "SHA1"],
  [1111111111, "67062674", "SHA256"],
  [1111111111, "99943326", "SHA512"],
  [1234567890, "89005924", "SHA1"],
  [1234567890, "91819424", "SHA256"],
  [1234567890, "93441116", "SHA512"],
  [2000000000, "69279037", "SHA1"],
  [2000000000, "90698825", "SHA256"],
  [2000000000, "38618901", "SHA512"],
  [20000000000, "65353130", "SHA1"],
  [20000000000, "77737706", "SHA256"],
  [20000000000, "47863826", "SHA512"],
];

// RFC 4226 Appendix D: HOTP of the SHA-1 seed at counters 0 to 9.
const RFC_4226_VALUES = [
  "755224",
  "287082",
  "359152",
  "969429",
  "338314",
  "254676",
  "287922",
  "162583",
  "399871",
  "520489",
];

const SECRET = SEEDS.SHA1;
const STEP = 50_000_000;
const AT_STEP = (step: number, offsetSeconds = 0) => (step * 30 + offsetSeconds) * 1000;
const codeAt = (step: number) => hotpCode(SECRET, step);

describe("TOTP codes", () => {
  it.each(RFC_6238_VECTORS)("at %i s gives %s with %s (RFC 6238 Appendix B)", (seconds, code, algorithm) => {
    expect(totpCode(SEEDS[algorithm], seconds * 1000, { algorithm, digits: 8 })).toBe(code);
  });

  it("gives RFC 4226's HOTP values, 6 digits by default", () => {
    expect(RFC_4226_VALUES.map((_, counter) => hotpCode(SECRET, counter))).toEqual(RFC_4226_VALUES);
  });

  it("accepts the secret as base32 in either case", () => {
    const base32 = encodeBase32(SECRET);
    expect(totpCode(base32, 59_000, { digits: 8 })).toBe("94287082");
    expect(totpCode(base32.toLowerCase(), 59_000, { digits: 8 })).toBe("94287082");
  });

  it("counts 30-second steps from the epoch", () => {
    expect([0, 29_999, 30_000, 59_999, 60_000].map(totpStep)).toEqual([0, 0, 1, 1, 2]);
    expect(() => totpStep(-1)).toThrow(ConfigurationError);
    expect(() => totpStep(Number.NaN)).toThrow(ConfigurationError);
  });

  it("refuses secrets under 128 bits, bad digits and unknown algorithms", () => {
    expect(() => hotpCode(Buffer.alloc(15), 0)).toThrow(ConfigurationError);
    expect(() => hotpCode("", 0)).toThrow(ConfigurationError);
    expect(() => hotpCode(SECRET, 0, { digits: 5 as 6 })).toThrow(ConfigurationError);
    expect(() => hotpCode(SECRET, 0, { algorithm: "MD5" as TotpAlgorithm })).toThrow(ConfigurationError);
    expect(() => hotpCode(SECRET, -1)).toThrow(ConfigurationError);
  });
});

describe("verifyTotp", () => {
  it("accepts the current step's code anywhere in the step and returns the step", () => {
    for (const offset of [0, 15, 29.999]) {
      expect(verifyTotp(SECRET, codeAt(STEP), { now: AT_STEP(STEP, offset) })).toEqual({
        ok: true,
        step: STEP,
      });
    }
  });

  it("accepts one step of drift either side", () => {
    const now = AT_STEP(STEP, 10);
    expect(verifyTotp(SECRET, codeAt(STEP - 1), { now })).toEqual({ ok: true, step: STEP - 1 });
    expect(verifyTotp(SECRET, codeAt(STEP + 1), { now })).toEqual({ ok: true, step: STEP + 1 });
  });

  it("refuses two steps of drift either side", () => {
    const now = AT_STEP(STEP, 10);
    expect(verifyTotp(SECRET, codeAt(STEP - 2), { now })).toEqual({ ok: false, reason: "mismatch" });
    expect(verifyTotp(SECRET, codeAt(STEP + 2), { now })).toEqual({ ok: false, reason: "mismatch" });
  });

  it("refuses a code of a step at or before lastUsedStep, and accepts a later one", () => {
    const now = AT_STEP(STEP);
    const first = verifyTotp(SECRET, codeAt(STEP), { now });
    expect(first).toEqual({ ok: true, step: STEP });
    const lastUsedStep = first.ok ? first.step : -1;
    expect(verifyTotp(SECRET, codeAt(STEP), { now, lastUsedStep })).toEqual({
      ok: false,
      reason: "replayed",
    });
    expect(verifyTotp(SECRET, codeAt(STEP - 1), { now, lastUsedStep })).toEqual({
      ok: false,
      reason: "replayed",
    });
    expect(verifyTotp(SECRET, codeAt(STEP + 1), { now, lastUsedStep })).toEqual({ ok: true, step: STEP + 1 });
    expect(verifyTotp(SECRET, codeAt(STEP), { now: AT_STEP(STEP + 1), lastUsedStep })).toEqual({
      ok: false,
      reason: "replayed",
    });
  });

  it("treats a null lastUsedStep as nothing used", () => {
    expect(verifyTotp(SECRET, codeAt(STEP), { now: AT_STEP(STEP), lastUsedStep: null })).toEqual({
      ok: true,
      step: STEP,
    });
  });

  it("refuses a wrong code", () => {
    const wrong = String((Number(codeAt(STEP)) + 1) % 1_000_000).padStart(6, "0");
    const inWindow = [STEP - 1, STEP, STEP + 1].map(codeAt);
    expect(inWindow).not.toContain(wrong);
    expect(verifyTotp(SECRET, wrong, { now: AT_STEP(STEP) })).toEqual({ ok: false, reason: "mismatch" });
  });

  it("accepts spaces inside the code", () => {
    const code = codeAt(STEP);
    const spaced = ` ${code.slice(0, 3)} ${code.slice(3)} `;
    expect(verifyTotp(SECRET, spaced, { now: AT_STEP(STEP) })).toEqual({ ok: true, step: STEP });
  });

  it("does not look before step 0", () => {
    expect(verifyTotp(SECRET, codeAt(0), { now: 1000 })).toEqual({ ok: true, step: 0 });
    expect(verifyTotp(SECRET, codeAt(1), { now: 1000 })).toEqual({ ok: true, step: 1 });
  });

  it("verifies with SHA-256 and SHA-512 when asked", () => {
    for (const algorithm of ["SHA256", "SHA512"] as const) {
      const code = hotpCode(SEEDS[algorithm], STEP, { algorithm });
      expect(verifyTotp(SEEDS[algorithm], code, { now: AT_STEP(STEP), algorithm })).toEqual({
        ok: true,
        step: STEP,
      });
    }
  });

  it.each([
    ["five digits", "12345"],
    ["seven digits", "1234567"],
    ["eight digits", "12345678"],
    ["a letter", "12345a"],
    ["a dash", "123-456"],
    ["a tab", "123\t456"],
    ["non-ASCII digits", "١٢٣٤٥٦"],
    ["full-width digits", "１２３４５６"],
    ["a sign", "+12345"],
    ["an empty string", ""],
    ["spaces only", "      "],
    ["a very long string of spaces around a code", `${" ".repeat(40)}123456`],
  ])("refuses %s as malformed", (_, input) => {
    expect(verifyTotp(SECRET, input, { now: AT_STEP(STEP) })).toEqual({ ok: false, reason: "malformed" });
  });

  it.each([
    ["a number", 123456],
    ["an array", ["123456"]],
    ["undefined", undefined],
    ["null", null],
  ])("refuses %s as malformed", (_, input) => {
    expect(verifyTotp(SECRET, input, { now: AT_STEP(STEP) })).toEqual({ ok: false, reason: "malformed" });
  });

  it("refuses malformed input before touching the secret", () => {
    expect(verifyTotp(Buffer.alloc(0), "abc", { now: 0 })).toEqual({ ok: false, reason: "malformed" });
    expect(() => verifyTotp(Buffer.alloc(0), "123456", { now: 0 })).toThrow(ConfigurationError);
  });

  it("normalises by removing spaces only", () => {
    expect(normaliseTotpCode("12 34 56")).toBe("123456");
    expect(normaliseTotpCode("123456")).toBe("123456");
    expect(normaliseTotpCode("123 45")).toBeUndefined();
  });
});

describe("generateTotpSecret", () => {
  it("returns 20 random bytes as 32 base32 characters", () => {
    const secrets = new Set(Array.from({ length: 20 }, generateTotpSecret));
    expect(secrets.size).toBe(20);
    for (const secret of secrets) {
      expect(secret).toMatch(/^[A-Z2-7]{32}$/);
      expect(decodeBase32(secret)).toHaveLength(20);
    }
  });
});

describe("totpUri", () => {
  it("builds the otpauth URI with every part percent-encoded", () => {
    const uri = totpUri({
      issuer: "Example Co & Sons",
      account: "ada+mfa@example.com",
      secret: "jbswy3dpehpk3pxpjbswy3dpehpk3pxp",
    });
    expect(uri).toBe(
      "otpauth://totp/Example%20Co%20%26%20Sons:ada%2Bmfa%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example%20Co%20%26%20Sons&algorithm=SHA1&digits=6&period=30",
    );
    const parsed = new URL(uri);
    expect(parsed.protocol).toBe("otpauth:");
    expect(decodeURIComponent(parsed.pathname)).toBe("/Example Co & Sons:ada+mfa@example.com");
    expect(Object.fromEntries(parsed.searchParams)).toEqual({
      secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
      issuer: "Example Co & Sons",
      algorithm: "SHA1",
      digits: "6",
      period: "30",
    });
  });

  it("encodes non-ASCII names and the chosen algorithm", () => {
    const secret = generateTotpSecret();
    const uri = totpUri({ issuer: "Café", account: "zoë", secret, algorithm: "SHA256" });
    expect(uri).toBe(
      `otpauth://totp/Caf%C3%A9:zo%C3%AB?secret=${secret}&issuer=Caf%C3%A9&algorithm=SHA256&digits=6&period=30`,
    );
  });

  it.each([
    ["an empty issuer", { issuer: "", account: "ada" }],
    ["an empty account", { issuer: "Example", account: "" }],
    ["a colon in the issuer", { issuer: "Ex:ample", account: "ada" }],
    ["a colon in the account", { issuer: "Example", account: "ada:1" }],
  ])("refuses %s", (_, names) => {
    expect(() => totpUri({ ...names, secret: generateTotpSecret() })).toThrow(ConfigurationError);
  });

  it("refuses a secret shorter than 16 bytes", () => {
    expect(() => totpUri({ issuer: "Example", account: "ada", secret: "JBSWY3DPEHPK3PXP" })).toThrow(
      ConfigurationError,
    );
  });

  it("refuses a secret that is not base32", () => {
    expect(() => totpUri({ issuer: "Example", account: "ada", secret: "not base32!" })).toThrow(
      ConfigurationError,
    );
  });
});
