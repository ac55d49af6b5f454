import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  BCRYPT_HASHES,
  DECOMPOSED_WERKZEUG_HASH,
  type LegacyHashFixture,
  LONG_BCRYPT_HASH,
  PASSWORD,
  SINGLE_ROUND_WERKZEUG_HASH,
  WERKZEUG_HASHES,
} from "../../test/fixtures/legacy-hashes.js";
import { PasswordInputError } from "../core/errors.js";
import { createPasswordHasher, type PasswordHasherOptions } from "./index.js";
import type { HashWorkKind } from "./options.js";

const FIXTURES = [...WERKZEUG_HASHES, ...BCRYPT_HASHES];
const hasher = createPasswordHasher();

function countingHasher(options: PasswordHasherOptions = {}) {
  const work: HashWorkKind[] = [];
  return { hasher: createPasswordHasher({ ...options, onHashWork: (kind) => work.push(kind) }), work };
}

/** `stored` with the character at `index` (negative: from the end) replaced by another of its kind. */
function tamper(stored: string, index: number): string {
  const at = index < 0 ? stored.length + index : index;
  const char = stored[at] ?? "";
  const replacement = /[0-9]/.test(char) ? String((Number(char) + 1) % 10) : char === "a" ? "b" : "a";
  return stored.slice(0, at) + replacement + stored.slice(at + 1);
}

function fixture(list: readonly LegacyHashFixture[], prefix: string): LegacyHashFixture {
  const found = list.find((entry) => entry.stored.startsWith(prefix));
  if (!found) throw new Error(`no fixture starting ${prefix}`);
  return found;
}

describe("legacy hashes made by Werkzeug and bcrypt [checklist B.17]", () => {
  it.each(FIXTURES.map((entry) => [entry.name, entry] as const))(
    "%s: the right password verifies, once, and needs a rehash; a wrong one fails",
    async (_name, { password, stored }) => {
      const { hasher: counted, work } = countingHasher();
      expect(await counted.verify(stored, password)).toBe(true);
      expect(work).toEqual(["verify"]);
      expect(counted.needsRehash(stored)).toBe(true);
      expect(await counted.verify(stored, `${password}!`)).toBe(false);
      expect(await counted.verify(stored, password.toUpperCase())).toBe(false);
    },
  );

  it("names each format and says it can be verified", () => {
    expect(hasher.inspect(fixture(WERKZEUG_HASHES, "pbkdf2:").stored)).toEqual({
      format: "werkzeug-pbkdf2",
      verifiable: true,
      needsRehash: true,
      problem: undefined,
    });
    expect(hasher.inspect(fixture(WERKZEUG_HASHES, "scrypt:").stored).format).toBe("werkzeug-scrypt");
    expect(hasher.inspect(fixture(BCRYPT_HASHES, "$2y$").stored).format).toBe("bcrypt");
  });

  it("is upgraded by hashing the same password again: argon2id, no rehash needed, still verifies", async () => {
    for (const { password, stored } of [
      fixture(WERKZEUG_HASHES, "scrypt:"),
      fixture(BCRYPT_HASHES, "$2b$"),
    ]) {
      expect(await hasher.verify(stored, password)).toBe(true);
      const upgraded = await hasher.hash(password);
      expect(upgraded.startsWith("$argon2id$v=19$m=19456,t=2,p=1$")).toBe(true);
      expect(hasher.needsRehash(upgraded)).toBe(false);
      expect(await hasher.verify(upgraded, password)).toBe(true);
    }
  });
});

describe("tampered legacy hashes fail", () => {
  const pbkdf2 = fixture(WERKZEUG_HASHES, "pbkdf2:sha256:260000$");
  const scrypt = fixture(WERKZEUG_HASHES, "scrypt:16384:8:2$");
  const bcrypt = fixture(BCRYPT_HASHES, "$2b$10$4M5");

  it.each([
    ["a Werkzeug digest digit", pbkdf2.stored, tamper(pbkdf2.stored, -1)],
    ["a Werkzeug salt character", pbkdf2.stored, tamper(pbkdf2.stored, pbkdf2.stored.indexOf("$") + 1)],
    ["the iteration count", pbkdf2.stored, pbkdf2.stored.replace(":260000$", ":260001$")],
    ["the digest name", pbkdf2.stored, pbkdf2.stored.replace("sha256", "sha1")],
    ["an scrypt digest digit", scrypt.stored, tamper(scrypt.stored, -1)],
    ["scrypt's p", scrypt.stored, scrypt.stored.replace(":8:2$", ":8:1$")],
    ["a bcrypt digest character", bcrypt.stored, tamper(bcrypt.stored, 40)],
    ["a bcrypt salt character", bcrypt.stored, tamper(bcrypt.stored, 10)],
    ["the bcrypt cost", bcrypt.stored, bcrypt.stored.replace("$10$", "$11$")],
  ])("changing %s", async (_what, original, tampered) => {
    expect(tampered).not.toBe(original);
    expect(await hasher.verify(original, PASSWORD)).toBe(true);
    expect(await hasher.verify(tampered, PASSWORD)).toBe(false);
  });

  it("refuses a shortened, lengthened or upper-case digest instead of comparing fewer bytes", async () => {
    const [method, salt, digest = ""] = pbkdf2.stored.split("$");
    for (const stored of [
      `${method}$${salt}$${digest.slice(0, 2)}`,
      `${method}$${salt}$${digest.slice(0, -2)}`,
      `${method}$${salt}$${digest}00`,
      `${method}$${salt}$${digest.toUpperCase()}`,
      `${method}$${salt}$`,
      `${method}$$${digest}`,
      bcrypt.stored.slice(0, -1),
      `${bcrypt.stored}A`,
    ]) {
      const { hasher: counted, work } = countingHasher();
      expect(await counted.verify(stored, PASSWORD)).toBe(false);
      expect(work).toEqual(["verify"]); // the dummy argon2 run, as for any hash that cannot be read
      expect(counted.inspect(stored).verifiable).toBe(false);
    }
    expect(hasher.inspect(`${method}$${salt}$${digest.slice(0, 2)}`).problem).toContain(
      "64-digit lowercase hex digest",
    );
  });
});

describe("absurd legacy parameters are refused before any of their work", () => {
  it.each([
    [
      "bcrypt cost 15",
      "$2b$15$4M5SWJ9qMYXa9IFxrh5IDeYOWZr4ePHmmHdRafPqjNxqarJ/flFaW",
      "above the limit of 14",
    ],
    [
      "bcrypt cost 31",
      "$2b$31$4M5SWJ9qMYXa9IFxrh5IDeYOWZr4ePHmmHdRafPqjNxqarJ/flFaW",
      "above the limit of 14",
    ],
    [
      "pbkdf2 2,000,001 iterations",
      `pbkdf2:sha256:2000001$salt$${"0".repeat(64)}`,
      "above the limit of 2000000",
    ],
    [
      "pbkdf2 10^10 iterations",
      `pbkdf2:sha512:10000000000$salt$${"0".repeat(128)}`,
      "above the limit of 2000000",
    ],
    ["scrypt 256 MiB", `scrypt:262144:8:1$salt$${"0".repeat(128)}`, "above the limit of 134217728"],
    ["scrypt N·r·p 3·2^20", `scrypt:131072:8:3$salt$${"0".repeat(128)}`, "above the limit of 2097152"],
    ["scrypt N 2^40", `scrypt:1099511627776:1:1$salt$${"0".repeat(128)}`, "above the limit of"],
  ])(
    "%s: false at once, after the same dummy argon2 run as a malformed hash, and inspect says why",
    async (_name, stored, limit) => {
      const { hasher: counted, work } = countingHasher();
      const started = performance.now();
      expect(await counted.verify(stored, PASSWORD)).toBe(false);
      expect(performance.now() - started).toBeLessThan(5_000); // the refused work would take minutes to days
      expect(work).toEqual(["verify"]);
      const info = counted.inspect(stored);
      expect(info).toMatchObject({ verifiable: false, needsRehash: true });
      expect(info.problem).toContain(limit);
      expect(info.problem).toContain("burn CPU");
    },
  );

  it("accepts the limits themselves: bcrypt 14, 2,000,000 iterations, scrypt N=2^17 r=8 p=1 (128 MiB, N·r·p 2^20)", () => {
    for (const stored of [
      "$2b$14$4M5SWJ9qMYXa9IFxrh5IDeYOWZr4ePHmmHdRafPqjNxqarJ/flFaW",
      `pbkdf2:sha512:2000000$salt$${"0".repeat(128)}`,
      `scrypt:131072:8:1$salt$${"0".repeat(128)}`,
      `scrypt:65536:8:4$salt$${"0".repeat(128)}`,
    ]) {
      expect(hasher.inspect(stored)).toMatchObject({ verifiable: true, problem: undefined });
    }
  });

  it("refuses parameters that are not what Werkzeug or bcrypt write, saying which", () => {
    const zeros = "0".repeat(64);
    const cases: Array<[string, string]> = [
      [`pbkdf2:sha256$salt$${zeros}`, "write the count your hashes were made with"],
      [`pbkdf2$salt$${zeros}`, "lacks its digest or iteration count"],
      [`pbkdf2:md5:1000$salt$${"0".repeat(32)}`, 'digest "md5"'],
      [`pbkdf2:sha256:0$salt$${zeros}`, "not a positive integer"],
      [`pbkdf2:sha256:-5$salt$${zeros}`, "not a positive integer"],
      [`scrypt$salt$${"0".repeat(128)}`, "lacks N, r and p"],
      [`scrypt:1000:8:1$salt$${"0".repeat(128)}`, "not a power of two"],
      ["$2x$10$4M5SWJ9qMYXa9IFxrh5IDeYOWZr4ePHmmHdRafPqjNxqarJ/flFaW", "$2x$"],
      ["$2b$03$4M5SWJ9qMYXa9IFxrh5IDeYOWZr4ePHmmHdRafPqjNxqarJ/flFaW", "04 to 31"],
    ];
    for (const [stored, problem] of cases) {
      const info = hasher.inspect(stored);
      expect(info.verifiable).toBe(false);
      expect(info.problem).toContain(problem);
    }
  });

  it("never quotes the salt or the digest in a problem", () => {
    const salt = "s3cretSaltValue9";
    const digest = "ab".repeat(31);
    const problem = hasher.inspect(`pbkdf2:sha256:1000$${salt}$${digest}`).problem ?? "";
    expect(problem).toContain("64-digit");
    expect(problem).not.toContain(salt);
    expect(problem).not.toContain(digest.slice(0, 8));
  });
});

describe("input rules for legacy hashes: the same as argon2id's", () => {
  const scrypt = fixture(WERKZEUG_HASHES, "scrypt:32768:8:1$8J");
  const bcrypt = fixture(BCRYPT_HASHES, "$2b$10$4M5");

  it("refuses an over-long or non-text password before any hashing, whatever the stored format", async () => {
    const { hasher: counted, work } = countingHasher({ maxPasswordBytes: 256 });
    for (const stored of [scrypt.stored, bcrypt.stored]) {
      for (const [password, code] of [
        ["x".repeat(257), "ERR_PASSWORD_TOO_LONG"],
        ["\uFDFA".repeat(8), "ERR_PASSWORD_TOO_LONG"], // 24 bytes as typed, 264 after NFKC
        ["a\uD800b", "ERR_PASSWORD_INVALID"],
        [42, "ERR_PASSWORD_INVALID"],
      ] as const) {
        const error = await counted.verify(stored, password as string).catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(PasswordInputError);
        expect((error as PasswordInputError).code).toBe(code);
      }
    }
    expect(work).toEqual([]);
  });

  it("checks the exact UTF-8 bytes the tool hashed (no NFKC); the argon2id hash that replaces it accepts either form", async () => {
    const { password, stored } = DECOMPOSED_WERKZEUG_HASH;
    const composed = password.normalize("NFKC");
    expect(composed).not.toBe(password);
    expect(await hasher.verify(stored, password)).toBe(true);
    expect(await hasher.verify(stored, composed)).toBe(false);
    const upgraded = await hasher.hash(password);
    expect(await hasher.verify(upgraded, composed)).toBe(true);
    expect(await hasher.verify(upgraded, password)).toBe(true);
  });

  it("checks bcrypt's first 72 bytes, as bcrypt did; after the upgrade every byte counts", async () => {
    const { password, stored } = LONG_BCRYPT_HASH;
    expect(Buffer.byteLength(password)).toBeGreaterThan(72);
    const sameFirst72 = `${password.slice(0, 72)}, and something else`;
    expect(await hasher.verify(stored, password)).toBe(true);
    expect(await hasher.verify(stored, sameFirst72)).toBe(true); // what the stored hash always accepted
    expect(await hasher.verify(stored, `${password.slice(0, 71)}!`)).toBe(false);
    const upgraded = await hasher.hash(password);
    expect(await hasher.verify(upgraded, password)).toBe(true);
    expect(await hasher.verify(upgraded, sameFirst72)).toBe(false);
  });
});

describe("legacyFormats", () => {
  const werkzeug = fixture(WERKZEUG_HASHES, "pbkdf2:sha1:1000$");
  const bcrypt = fixture(BCRYPT_HASHES, "$2y$");

  it("[] verifies argon2 only: a legacy hash is false after one dummy argon2 run, and inspect says why", async () => {
    const { hasher: counted, work } = countingHasher({ legacyFormats: [] });
    expect(await counted.verify(werkzeug.stored, werkzeug.password)).toBe(false);
    expect(await counted.verify(bcrypt.stored, bcrypt.password)).toBe(false);
    expect(work).toEqual(["verify", "verify"]);
    expect(counted.inspect(bcrypt.stored)).toMatchObject({
      format: "bcrypt",
      verifiable: false,
      problem: 'The stored hash is a bcrypt hash, and legacyFormats does not include "bcrypt".',
    });
  });

  it("turns each family on alone", async () => {
    const onlyWerkzeug = createPasswordHasher({ legacyFormats: ["werkzeug"] });
    expect(await onlyWerkzeug.verify(werkzeug.stored, werkzeug.password)).toBe(true);
    expect(await onlyWerkzeug.verify(bcrypt.stored, bcrypt.password)).toBe(false);
    const onlyBcrypt = createPasswordHasher({ legacyFormats: ["bcrypt"] });
    expect(await onlyBcrypt.verify(bcrypt.stored, bcrypt.password)).toBe(true);
    expect(await onlyBcrypt.verify(werkzeug.stored, werkzeug.password)).toBe(false);
  });

  it("is off by default with a pepper (a legacy hash could be forged without it) and on when listed", async () => {
    const pepper = randomBytes(32);
    const peppered = createPasswordHasher({ pepper });
    expect(await peppered.verify(werkzeug.stored, werkzeug.password)).toBe(false);
    expect(peppered.inspect(werkzeug.stored).problem).toContain('legacyFormats does not include "werkzeug"');
    const migrating = createPasswordHasher({ pepper, legacyFormats: ["werkzeug", "bcrypt"] });
    expect(await migrating.verify(werkzeug.stored, werkzeug.password)).toBe(true);
    expect(await migrating.verify(await migrating.hash(PASSWORD), PASSWORD)).toBe(true);
  });

  it("leaves formats no tool of these writes unverified: Werkzeug's single-round and plain methods", async () => {
    for (const stored of [
      SINGLE_ROUND_WERKZEUG_HASH.stored,
      "sha256$salt$1f24c9ba3e3b6cc7f4a5f1c8e6d2a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3",
      "md5$salt$0123456789abcdef0123456789abcdef",
      `plain$$${PASSWORD}`,
    ]) {
      expect(await hasher.verify(stored, PASSWORD)).toBe(false);
      expect(hasher.inspect(stored)).toMatchObject({
        format: "unknown",
        verifiable: false,
        needsRehash: true,
      });
    }
  });
});
