/**
 * Werkzeug's password hashes (Flask's usual), read and verified with `node:crypto` the way
 * `werkzeug.security.check_password_hash` does: `pbkdf2:<digest>:<iterations>$<salt>$<hex>` and
 * `scrypt:<N>:<r>:<p>$<salt>$<hex>`, the salt used as its text, the password as its UTF-8 bytes.
 * Reached from `verify` and `inspect` through `legacy.ts`; nothing here is exported to users.
 *
 * @module
 */
import { pbkdf2, scrypt, timingSafeEqual } from "node:crypto";
import type { LegacyHashReading } from "./legacy-types.js";

/** Werkzeug 3.1's default is 1,000,000; twice that is about 0.3 s of SHA-256, 0.7 s of SHA-512 here. */
export const PBKDF2_MAX_ITERATIONS = 2_000_000;
/** Work bound N·r·p: twice the OWASP/ASVS scrypt row (N=2^17, r=8, p=1); Werkzeug's default is 2^18. */
export const SCRYPT_MAX_COST = 2 ** 21;
/** Memory bound 128·N·r: the OWASP/ASVS row's 128 MiB; Werkzeug's default needs 32 MiB. */
export const SCRYPT_MAX_MEMORY_BYTES = 128 * 1024 * 1024;

// The digest sizes: Werkzeug keeps hashlib's default key length, one digest.
const PBKDF2_KEY_BYTES: ReadonlyMap<string, number> = new Map([
  ["sha1", 20],
  ["sha224", 28],
  ["sha256", 32],
  ["sha384", 48],
  ["sha512", 64],
]);
// hashlib.scrypt's default dklen, which Werkzeug keeps.
const SCRYPT_KEY_BYTES = 64;
const WERKZEUG_SHAPE = /^(pbkdf2|scrypt)((?::[^:$]*)*)\$([^$]*)\$([^$]*)$/;
// Werkzeug's gen_salt uses letters and digits; any printable ASCII but `$` is accepted.
const SALT = /^[\x21-\x23\x25-\x7e]{1,128}$/;
const DECIMAL = /^\d{1,16}$/;

/**
 * Whether `stored` is meant as a Werkzeug hash (it may still be refused).
 *
 * @example
 * ```ts
 * looksLikeWerkzeug("scrypt:32768:8:1$salt$ab12…"); // true
 * ```
 */
export function looksLikeWerkzeug(stored: string): boolean {
  return /^(pbkdf2|scrypt)[:$]/.test(stored);
}

/**
 * Reads a Werkzeug hash: ready to verify, or refused with the reason (which never quotes the salt
 * or the digest). Call only when {@link looksLikeWerkzeug} is true.
 *
 * @example
 * ```ts
 * const reading = readWerkzeugHash(user.passwordHash);
 * if (reading.verify) await reading.verify(password);
 * ```
 */
export function readWerkzeugHash(stored: string): LegacyHashReading {
  const format = stored.startsWith("scrypt") ? "werkzeug-scrypt" : "werkzeug-pbkdf2";
  const match = WERKZEUG_SHAPE.exec(stored);
  if (!match) return { format, problem: "is not Werkzeug's method$salt$hash" };
  const [, method, args = "", salt = "", hex = ""] = match;
  if (!SALT.test(salt))
    return { format, problem: "has a salt that is not 1 to 128 printable ASCII characters" };
  const parameters = args.split(":").slice(1);
  return method === "pbkdf2" ? readPbkdf2(parameters, salt, hex) : readScrypt(parameters, salt, hex);
}

function readPbkdf2(parameters: string[], salt: string, hex: string): LegacyHashReading {
  const format = "werkzeug-pbkdf2";
  const [digest = "", count = ""] = parameters;
  if (parameters.length !== 2) {
    return {
      format,
      problem:
        "lacks its digest or iteration count. Werkzeug always stores both (pbkdf2:sha256:600000) and reads a " +
        "missing count as its own default, which changed between versions (150000, 260000, 600000, 1000000): " +
        "write the count your hashes were made with into the stored string",
    };
  }
  const keyBytes = PBKDF2_KEY_BYTES.get(digest);
  if (keyBytes === undefined) {
    return {
      format,
      problem: `uses the digest "${digest}"; supported: ${[...PBKDF2_KEY_BYTES.keys()].join(", ")}`,
    };
  }
  const iterations = positiveInteger(count);
  if (iterations === undefined)
    return { format, problem: "has an iteration count that is not a positive integer" };
  if (iterations > PBKDF2_MAX_ITERATIONS) {
    return {
      format,
      problem: `has ${iterations} iterations, above the limit of ${PBKDF2_MAX_ITERATIONS} (refused so that a stored hash cannot be used to burn CPU)`,
    };
  }
  const expected = lowercaseHex(hex, keyBytes);
  if (!expected)
    return { format, problem: `needs a ${keyBytes * 2}-digit lowercase hex digest for ${digest}` };
  return {
    format,
    verify: (password) =>
      new Promise((resolve, reject) => {
        pbkdf2(password, salt, iterations, keyBytes, digest, (error, key) => {
          if (error) reject(error);
          else resolve(timingSafeEqual(key, expected));
        });
      }),
  };
}

function readScrypt(parameters: string[], salt: string, hex: string): LegacyHashReading {
  const format = "werkzeug-scrypt";
  if (parameters.length !== 3) {
    return { format, problem: "lacks N, r and p, which Werkzeug always stores (scrypt:32768:8:1)" };
  }
  const [n, r, p] = parameters.map(positiveInteger);
  if (n === undefined || r === undefined || p === undefined) {
    return { format, problem: "has an N, r or p that is not a positive integer" };
  }
  const limit = scryptLimitProblem(n, r, p);
  if (limit) return { format, problem: limit };
  const expected = lowercaseHex(hex, SCRYPT_KEY_BYTES);
  if (!expected) return { format, problem: `needs a ${SCRYPT_KEY_BYTES * 2}-digit lowercase hex digest` };
  // OpenSSL needs 128·r·(N + p + 2) bytes; Werkzeug's own maxmem (132·N·r·p) is a looser form of it.
  const options = { N: n, r, p, maxmem: 128 * r * (n + p + 2) };
  return {
    format,
    verify: (password) =>
      new Promise((resolve, reject) => {
        scrypt(password, salt, SCRYPT_KEY_BYTES, options, (error, key) => {
          if (error) reject(error);
          else resolve(timingSafeEqual(key, expected));
        });
      }),
  };
}

function scryptLimitProblem(n: number, r: number, p: number): string | undefined {
  const refused = "(refused so that a stored hash cannot be used to burn CPU or memory)";
  if (128 * n * r > SCRYPT_MAX_MEMORY_BYTES) {
    return `needs ${128 * n * r} bytes of memory (128·N·r), above the limit of ${SCRYPT_MAX_MEMORY_BYTES} ${refused}`;
  }
  if (n * r * p > SCRYPT_MAX_COST) {
    return `costs N·r·p = ${n * r * p}, above the limit of ${SCRYPT_MAX_COST} ${refused}`;
  }
  // Both bounds keep N below 2^31, where bit operations are exact.
  if (n < 2 || (n & (n - 1)) !== 0) return `has N = ${n}, which is not a power of two above 1`;
  return undefined;
}

function positiveInteger(text: string | undefined): number | undefined {
  if (text === undefined || !DECIMAL.test(text)) return undefined;
  const value = Number(text);
  return value >= 1 ? value : undefined;
}

/** The bytes of exactly `bytes` bytes of lowercase hex (what Werkzeug writes), else undefined. */
function lowercaseHex(hex: string, bytes: number): Uint8Array | undefined {
  if (hex.length !== bytes * 2 || !/^[0-9a-f]+$/.test(hex)) return undefined;
  return Buffer.from(hex, "hex");
}
