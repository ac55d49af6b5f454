import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PasswordInputError } from "../core/errors.js";
import { createPasswordHasher, hashPassword, needsRehash, verifyPassword } from "./index.js";
import type { HashWorkKind } from "./options.js";
import { parsePhc } from "./phc.js";

const PEPPER = randomBytes(32);

function countingHasher(options: Parameters<typeof createPasswordHasher>[0] = {}) {
  const work: HashWorkKind[] = [];
  const hasher = createPasswordHasher({ ...options, onHashWork: (kind) => work.push(kind) });
  return { hasher, work };
}

async function rejection(promise: Promise<unknown>): Promise<PasswordInputError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(PasswordInputError);
  return error as PasswordInputError;
}

describe("hash [A5 11.4.2]", () => {
  it("produces an argon2id v=19 PHC string with m=19456 t=2 p=1 by default", async () => {
    const phc = await createPasswordHasher().hash("correct horse battery staple");
    expect(parsePhc(phc)).toEqual({
      algorithm: "argon2id",
      version: 19,
      memoryCostKiB: 19456,
      timeCost: 2,
      parallelism: 1,
    });
    const [, , , , salt, digest] = phc.split("$");
    expect(Buffer.from(salt ?? "", "base64")).toHaveLength(16);
    expect(Buffer.from(digest ?? "", "base64")).toHaveLength(32);
  });

  it("uses a unique salt, so two hashes of the same password differ", async () => {
    const hasher = createPasswordHasher();
    const [first, second] = await Promise.all([hasher.hash("same password"), hasher.hash("same password")]);
    expect(first).not.toBe(second);
    expect(first?.split("$")[4]).not.toBe(second?.split("$")[4]);
  });

  it("reports exactly one hash-work call per hash", async () => {
    const { hasher, work } = countingHasher();
    await hasher.hash("pw");
    expect(work).toEqual(["hash"]);
  });
});

describe("verify", () => {
  const hasher = createPasswordHasher();

  it("returns true for the right password and false for a wrong one", async () => {
    const phc = await hasher.hash("Tr0ub4dor&3");
    expect(await hasher.verify(phc, "Tr0ub4dor&3")).toBe(true);
    expect(await hasher.verify(phc, "Tr0ub4dor&4")).toBe(false);
  });

  it("treats case and a trailing space as significant: no trimming, no case folding [A5 6.2.8]", async () => {
    const phc = await hasher.hash("Secret");
    const results = await Promise.all([
      hasher.verify(phc, "secret"),
      hasher.verify(phc, "SECRET"),
      hasher.verify(phc, "Secret "),
      hasher.verify(phc, " Secret"),
    ]);
    expect(results).toEqual([false, false, false, false]);
    expect(await hasher.verify(phc, "Secret")).toBe(true);
  });

  it("verifies composed and decomposed é alike (NFKC, NIST 800-63B 3.1.1.2)", async () => {
    const composed = "caf\u00e9-p\u00e4ss";
    const decomposed = "cafe\u0301-pa\u0308ss";
    expect(composed).not.toBe(decomposed);
    const phc = await hasher.hash(composed);
    expect(await hasher.verify(phc, decomposed)).toBe(true);
    expect(await hasher.verify(await hasher.hash(decomposed), composed)).toBe(true);
  });

  it("accepts a 64+ character multibyte password and rejects it when only its last character changes [A5 6.2.9]", async () => {
    const password = `${"пароль🔑密码".repeat(8)}Ω`;
    expect([...password].length).toBeGreaterThanOrEqual(64);
    const phc = await hasher.hash(password);
    expect(await hasher.verify(phc, password)).toBe(true);
    expect(await hasher.verify(phc, `${password.slice(0, -1)}Ж`)).toBe(false);
  });

  it("accepts NUL bytes and does not truncate at them [A5 6.2.5]", async () => {
    const phc = await hasher.hash("before\u0000after");
    expect(await hasher.verify(phc, "before\u0000after")).toBe(true);
    expect(await hasher.verify(phc, "before")).toBe(false);
    expect(await hasher.verify(phc, "before\u0000")).toBe(false);
  });

  it("returns false, without throwing, for malformed or missing stored hashes, after one dummy verify [A5 6.3.8]", async () => {
    const malformed = [
      "",
      "not-a-hash",
      "$argon2id$v=19$m=19456,t=2,p=1$abc$def",
      "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
      null,
      undefined,
    ];
    for (const stored of malformed) {
      const { hasher: counted, work } = countingHasher();
      expect(await counted.verify(stored as string, "password")).toBe(false);
      expect(work).toEqual(["verify"]);
    }
  });

  it("reports exactly one hash-work call per verify", async () => {
    const { hasher: counted, work } = countingHasher();
    const phc = await counted.hash("pw");
    work.length = 0;
    await counted.verify(phc, "wrong");
    expect(work).toEqual(["verify"]);
  });

  it("verifies hashes made by another hasher with different cost parameters", async () => {
    const stronger = createPasswordHasher({ memoryCostKiB: 12288, timeCost: 3 });
    const phc = await stronger.hash("migrate me");
    expect(await hasher.verify(phc, "migrate me")).toBe(true);
  });
});

describe("input limits (rejected before any hashing)", () => {
  it("rejects a 1 MB password with ERR_PASSWORD_TOO_LONG and zero hash work, without echoing it", async () => {
    const { hasher, work } = countingHasher();
    const password = `secret-marker-${"x".repeat(1024 * 1024)}`;
    for (const attempt of [
      hasher.hash(password),
      hasher.verify("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaA", password),
      hasher.verifyDummy(password),
    ]) {
      const error = await rejection(attempt);
      expect(error.code).toBe("ERR_PASSWORD_TOO_LONG");
      expect(error.message).toMatch(/1024/);
      expect(error.message).not.toContain("secret-marker");
      expect(error.message).not.toContain("xxxx");
    }
    expect(work).toEqual([]);
  });

  it("counts UTF-8 bytes after NFKC, not characters", async () => {
    const { hasher, work } = countingHasher({ maxPasswordBytes: 256 });
    // 64 four-byte emoji are exactly 256 bytes: allowed. One more ASCII byte is too many.
    const atLimit = "🔑".repeat(64);
    expect(await hasher.verify(await hasher.hash(atLimit), atLimit)).toBe(true);
    work.length = 0;
    const error = await rejection(hasher.hash(`${atLimit}a`));
    expect(error.code).toBe("ERR_PASSWORD_TOO_LONG");
    // U+FDFA expands to 18 characters (33 bytes) under NFKC: 8 of them exceed 256 bytes.
    expect((await rejection(hasher.hash("\uFDFA".repeat(8)))).code).toBe("ERR_PASSWORD_TOO_LONG");
    expect(work).toEqual([]);
  });

  it("rejects non-string passwords with ERR_PASSWORD_INVALID and zero hash work", async () => {
    const { hasher, work } = countingHasher();
    for (const bad of [undefined, null, 42, Buffer.from("pw"), { toString: () => "pw" }]) {
      const error = await rejection(hasher.hash(bad as string));
      expect(error.code).toBe("ERR_PASSWORD_INVALID");
      expect((await rejection(hasher.verifyDummy(bad as string))).code).toBe("ERR_PASSWORD_INVALID");
    }
    expect(work).toEqual([]);
  });

  it("rejects unpaired surrogates, which UTF-8 would silently turn into U+FFFD", async () => {
    const { hasher, work } = countingHasher();
    for (const bad of ["a\uD800b", "\uDC00", "end\uD83D"]) {
      expect((await rejection(hasher.hash(bad))).code).toBe("ERR_PASSWORD_INVALID");
    }
    expect(work).toEqual([]);
  });

  it("never echoes any too-long password in the error message (property)", async () => {
    const { hasher, work } = countingHasher({ maxPasswordBytes: 256 });
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: "grapheme", minLength: 257, maxLength: 600 }), async (password) => {
        fc.pre(Buffer.byteLength(password.normalize("NFKC")) > 256);
        const error = await rejection(hasher.hash(password));
        expect(error.code).toBe("ERR_PASSWORD_TOO_LONG");
        expect(error.message).not.toContain(password.slice(0, 16));
      }),
      { numRuns: 50 },
    );
    expect(work).toEqual([]);
  });
});

describe("verifyDummy [A5 6.3.8]", () => {
  it("performs exactly one hash-work call per call and always resolves false", async () => {
    const { hasher, work } = countingHasher();
    expect(await hasher.verifyDummy("anything")).toBe(false);
    expect(work).toEqual(["verify"]);
    expect(await hasher.verifyDummy("")).toBe(false);
    expect(work).toEqual(["verify", "verify"]);
  });

  it("costs the same hash work as a wrong password for a real user", async () => {
    const { hasher, work } = countingHasher();
    const phc = await hasher.hash("real password");
    work.length = 0;
    await hasher.verify(phc, "wrong password");
    const knownUserWork = [...work];
    work.length = 0;
    await hasher.verifyDummy("wrong password");
    expect(work).toEqual(knownUserWork);
  });
});

describe("needsRehash", () => {
  it("is false for a hash made with the same parameters and true after timeCost changes", async () => {
    const current = createPasswordHasher();
    const phc = await current.hash("pw");
    expect(current.needsRehash(phc)).toBe(false);
    expect(createPasswordHasher().needsRehash(phc)).toBe(false);
    expect(createPasswordHasher({ timeCost: 3 }).needsRehash(phc)).toBe(true);
    expect(createPasswordHasher({ memoryCostKiB: 65536 }).needsRehash(phc)).toBe(true);
    expect(createPasswordHasher({ parallelism: 2 }).needsRehash(phc)).toBe(true);
  });

  it("is true for other algorithms, versions and malformed strings", () => {
    const hasher = createPasswordHasher();
    const tail = "c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA";
    expect(hasher.needsRehash(`$argon2id$v=19$m=19456,t=2,p=1$${tail}`)).toBe(false);
    expect(hasher.needsRehash(`$argon2i$v=19$m=19456,t=2,p=1$${tail}`)).toBe(true);
    expect(hasher.needsRehash(`$argon2id$v=16$m=19456,t=2,p=1$${tail}`)).toBe(true);
    for (const bad of ["", "garbage", "$argon2id$v=19$m=19456,t=2,p=1$", null, undefined, 7]) {
      expect(hasher.needsRehash(bad as string)).toBe(true);
    }
  });
});

describe("pepper", () => {
  it("changes the hash: verifying without the pepper, or with another one, fails", async () => {
    const peppered = createPasswordHasher({ pepper: PEPPER });
    const phc = await peppered.hash("pw");
    expect(await peppered.verify(phc, "pw")).toBe(true);
    expect(await createPasswordHasher().verify(phc, "pw")).toBe(false);
    expect(await createPasswordHasher({ pepper: randomBytes(32) }).verify(phc, "pw")).toBe(false);
    expect(await peppered.verify(await createPasswordHasher().hash("pw"), "pw")).toBe(false);
  });

  it("accepts a string pepper and copies a Buffer pepper so later mutation has no effect", async () => {
    const buffer = Buffer.from(PEPPER);
    const hasher = createPasswordHasher({ pepper: buffer });
    const phc = await hasher.hash("pw");
    buffer.fill(0);
    expect(await hasher.verify(phc, "pw")).toBe(true);
    const fromString = createPasswordHasher({ pepper: "a-string-pepper-of-32-characters" });
    expect(await fromString.verify(await fromString.hash("pw"), "pw")).toBe(true);
  });

  it("is never exposed on parameters", () => {
    const hasher = createPasswordHasher({ pepper: PEPPER });
    expect(Object.keys(hasher.parameters)).not.toContain("pepper");
    expect(JSON.stringify(hasher)).not.toContain(PEPPER.toString("base64"));
  });
});

describe("hasher object", () => {
  it("is frozen, with frozen parameters, and methods that work when destructured", async () => {
    const hasher = createPasswordHasher();
    expect(Object.isFrozen(hasher)).toBe(true);
    expect(Object.isFrozen(hasher.parameters)).toBe(true);
    expect(hasher.parameters).toEqual({
      algorithm: "argon2id",
      version: 19,
      memoryCostKiB: 19456,
      timeCost: 2,
      parallelism: 1,
      maxPasswordBytes: 1024,
    });
    const { hash, verify } = hasher;
    expect(await verify(await hash("pw"), "pw")).toBe(true);
  });

  it("does not mutate the caller's options object", () => {
    const options = { timeCost: 3, memoryCostKiB: 12288 };
    createPasswordHasher(options);
    expect(options).toEqual({ timeCost: 3, memoryCostKiB: 12288 });
    expect(Object.isFrozen(options)).toBe(false);
  });
});

describe("default-hasher conveniences", () => {
  it("hashPassword / verifyPassword / needsRehash use argon2id m=19456 t=2 p=1", async () => {
    const phc = await hashPassword("correct horse battery staple");
    expect(phc.startsWith("$argon2id$v=19$m=19456,t=2,p=1$")).toBe(true);
    expect(await verifyPassword(phc, "correct horse battery staple")).toBe(true);
    expect(await verifyPassword(phc, "Correct horse battery staple")).toBe(false);
    expect(needsRehash(phc)).toBe(false);
    expect(needsRehash("$argon2id$v=19$m=19456,t=3,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA")).toBe(true);
  });
});
