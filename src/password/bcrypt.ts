/**
 * bcrypt hashes (passport-local's usual: `$2a$`, `$2b$`, `$2y$`), verified with `bcryptjs`, which is
 * loaded on the first bcrypt hash only. Reached from `verify` and `inspect` through `legacy.ts`.
 *
 * @module
 */
import { timingSafeEqual } from "node:crypto";
import type { LegacyHashReading } from "./legacy-types.js";

/**
 * 2^14 rounds: about 1.2 s of bcryptjs on the test machine (cost 10, the usual default, is 70 ms).
 * bcryptjs runs on the main thread, in slices of at most 100 ms.
 */
export const BCRYPT_MAX_COST = 14;

// $2b$10$ + 22 characters of salt + 31 of digest, in bcrypt's base64 alphabet.
const BCRYPT_SHAPE = /^\$2([aby])\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const SALT_PREFIX_LENGTH = 29;

type Bcryptjs = typeof import("bcryptjs");
let bcryptjs: Promise<Bcryptjs> | undefined;

function loadBcryptjs(): Promise<Bcryptjs> {
  bcryptjs ??= import("bcryptjs");
  return bcryptjs;
}

/**
 * Whether `stored` is meant as a bcrypt hash (it may still be refused).
 *
 * @example
 * ```ts
 * looksLikeBcrypt("$2b$10$…"); // true
 * ```
 */
export function looksLikeBcrypt(stored: string): boolean {
  return stored.startsWith("$2");
}

/**
 * Reads a bcrypt hash: ready to verify, or refused with the reason. bcrypt reads at most 72 bytes of
 * a password, so the stored hash accepts any password whose first 72 UTF-8 bytes match, as it did
 * where it was made: the argon2id hash that replaces it covers every byte.
 *
 * @example
 * ```ts
 * const reading = readBcryptHash(user.passwordHash);
 * if (reading.verify) await reading.verify(password);
 * ```
 */
export function readBcryptHash(stored: string): LegacyHashReading {
  const format = "bcrypt";
  const match = BCRYPT_SHAPE.exec(stored);
  if (!match) {
    return {
      format,
      problem: /^\$2[x$]/.test(stored)
        ? "uses $2x$ or $2$, old bcrypt variants that are not supported (only $2a$, $2b$ and $2y$)"
        : "is not a 60-character $2a$, $2b$ or $2y$ bcrypt hash",
    };
  }
  const cost = Number(match[2]);
  if (cost < 4 || cost > 31) return { format, problem: `has cost ${cost}; bcrypt costs are 04 to 31` };
  if (cost > BCRYPT_MAX_COST) {
    return {
      format,
      problem: `has cost ${cost}, above the limit of ${BCRYPT_MAX_COST} (refused so that a stored hash cannot be used to burn CPU)`,
    };
  }
  return { format, verify: (password) => verifyBcrypt(stored, password) };
}

async function verifyBcrypt(stored: string, password: string): Promise<boolean> {
  const { hash } = await loadBcryptjs();
  // Hash with the stored salt and compare ourselves, in constant time, over all 60 characters.
  const computed = Buffer.from(await hash(password, stored.slice(0, SALT_PREFIX_LENGTH)), "latin1");
  const expected = Buffer.from(stored, "latin1");
  return computed.length === expected.length && timingSafeEqual(computed, expected);
}
