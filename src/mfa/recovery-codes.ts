/**
 * Recovery codes (look-up secrets): ten single-use codes shown once when a second factor is turned
 * on (or the codes are regenerated), stored only as hashes.
 *
 * A code is 24 characters of Crockford's base32 alphabet (digits and lower-case letters without
 * i, l, o and u) in four groups, `7k3qdx-9m2ab4-hj5n8p-rt0vwz`: 120 bits from `crypto.randomBytes`
 * (ASVS 5.0 6.5.3). Input is normalised before hashing: case, spaces and dashes ignored, and the
 * letters people confuse with digits read as those digits (o as 0; i and l as 1).
 *
 * Why 120 bits and a plain SHA-256: ASVS 5.0 6.5.2 lets a look-up secret be stored under a standard
 * hash only when it has at least 112 bits of entropy (below that, a password hash with a random
 * salt); NIST SP 800-63B-4 4.2.1 asks at least 64 bits of saved recovery codes, and ASVS 6.5.4 at
 * least 20. At 120 bits an offline search of a stolen table is out of reach whatever the hash's
 * speed, so the stored form can be a deterministic hash bound to the user
 * ({@link recoveryCodeId}): one indexed lookup and one atomic delete use a code, no slow hash per
 * stored code, and two users holding the same code (never in practice) would not collide.
 * {@link hashRecoveryCode} and {@link matchRecoveryCode} keep a salted form for apps that store a
 * user's codes as a list themselves.
 *
 * @module
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ConfigurationError } from "../core/errors.js";

/**
 * How many codes {@link generateRecoveryCodes} makes by default.
 *
 * @example
 * ```ts
 * const left = `${user.recoveryCodeHashes.length} of ${RECOVERY_CODE_COUNT} recovery codes left`;
 * ```
 */
export const RECOVERY_CODE_COUNT = 10;
/**
 * Bits of entropy in one code: 24 symbols of a 32-symbol alphabet.
 *
 * @example
 * ```ts
 * RECOVERY_CODE_BITS >= 112; // true: ASVS 5.0 6.5.2 allows a standard hash from 112 bits
 * ```
 */
export const RECOVERY_CODE_BITS = 120;
/**
 * Crockford's base32 alphabet, lower-case: no i, l, o or u, so no two symbols look alike.
 *
 * @example
 * ```ts
 * randomCharacters(24, RECOVERY_CODE_ALPHABET); // "7k3qdx9m2ab4hj5n8prt0vwz"
 * ```
 */
export const RECOVERY_CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const GROUP_LENGTH = 6;
const GROUP_COUNT = 4;
const CODE_LENGTH = GROUP_COUNT * GROUP_LENGTH;
/** Context of {@link recoveryCodeId}'s hash, so it never equals a hash made for another purpose. */
const ID_CONTEXT = "login-manager recovery-code v1";
const SALT_BYTES = 16;
const SCHEME = "sha256";
/** Longer than any code with separators a person could mean; refused before any other work. */
const MAX_INPUT_LENGTH = 64;
const SEPARATORS = /[\s-]/g;
const ALIASES: Readonly<Record<string, string>> = { o: "0", i: "1", l: "1" };
const NORMALISED = new RegExp(`^[${RECOVERY_CODE_ALPHABET}]{${CODE_LENGTH}}$`);
const STORED = /^sha256\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/;

/**
 * Fresh recovery codes: `codes` to show the user once (`xxxxxx-xxxxxx-xxxxxx-xxxxxx`), and `hashes` in the same
 * order to store (each `sha256$<salt>$<digest>`, base64url). Storing new hashes replaces the old
 * set, which is how codes are regenerated.
 *
 * @example
 * ```ts
 * const { codes, hashes } = generateRecoveryCodes();
 * await users.setRecoveryCodeHashes(user.id, hashes);
 * res.render("recovery-codes", { codes });
 * ```
 */
export function generateRecoveryCodes(count = RECOVERY_CODE_COUNT): {
  readonly codes: readonly string[];
  readonly hashes: readonly string[];
} {
  if (!Number.isSafeInteger(count) || count < 1 || count > 100) {
    throw new ConfigurationError(`count must be an integer from 1 to 100, got ${count}`);
  }
  const codes = Array.from({ length: count }, () => generateRecoveryCode());
  return { codes, hashes: codes.map((code) => hashRecoveryCode(code)) };
}

/**
 * One fresh code, `xxxxxx-xxxxxx-xxxxxx-xxxxxx` ({@link RECOVERY_CODE_BITS} random bits).
 *
 * @example
 * ```ts
 * const code = generateRecoveryCode(); // "7k3qdx-9m2ab4-hj5n8p-rt0vwz"
 * ```
 */
export function generateRecoveryCode(): string {
  const characters = randomCharacters(CODE_LENGTH, RECOVERY_CODE_ALPHABET);
  const groups = Array.from({ length: GROUP_COUNT }, (_, index) =>
    characters.slice(index * GROUP_LENGTH, (index + 1) * GROUP_LENGTH),
  );
  return groups.join("-");
}

/**
 * The stored id of `code` for the user `userId`: base64url SHA-256 of a context string, the user id
 * and the normalised code (43 characters), or `undefined` when `code` cannot be a recovery code (so
 * nothing reaches the store). The same code of two users gives two ids; a code is found with one
 * lookup by this id and used with one atomic delete.
 *
 * @example
 * ```ts
 * const id = recoveryCodeId(user.getId(), req.body.recovery_code);
 * if (id !== undefined && (await store.deleteFactor("recovery-code", id))) { ... }
 * ```
 */
export function recoveryCodeId(userId: string, code: unknown): string | undefined {
  const normalised = normaliseRecoveryCode(code);
  if (normalised === undefined || typeof userId !== "string") return undefined;
  // Length-prefixed user id: no (user, code) pair can produce another pair's input.
  return createHash("sha256")
    .update(`${ID_CONTEXT}\n${userId.length}:${userId}\n${normalised}`, "utf8")
    .digest("base64url");
}

/**
 * The code as typed, reduced to its 24 alphabet characters (see the module comment), or
 * `undefined` when it cannot be a recovery code. Anything not a string is `undefined`.
 *
 * @example
 * ```ts
 * normaliseRecoveryCode(" 7K3QDX 9M2AB4 HJ5N8P RT0VWZ "); // "7k3qdx9m2ab4hj5n8prt0vwz"
 * normaliseRecoveryCode("7k3qdx-9m2ab4");                 // undefined
 * ```
 */
export function normaliseRecoveryCode(input: unknown): string | undefined {
  if (typeof input !== "string" || input.length > MAX_INPUT_LENGTH) return undefined;
  const compact = input.replace(SEPARATORS, "").toLowerCase();
  const normalised = compact.replace(/[oil]/g, (letter) => ALIASES[letter] ?? letter);
  return NORMALISED.test(normalised) ? normalised : undefined;
}

/**
 * The stored form of one code, `sha256$<salt>$<digest>`, with a fresh random salt. Throws a
 * {@link ConfigurationError} for a string that is not a recovery code.
 *
 * @example
 * ```ts
 * const stored = hashRecoveryCode("7k3qdx-9m2ab4-hj5n8p-rt0vwz");
 * ```
 */
export function hashRecoveryCode(code: string): string {
  const normalised = normaliseRecoveryCode(code);
  if (normalised === undefined) {
    throw new ConfigurationError("not a recovery code (xxxxxx-xxxxxx-xxxxxx-xxxxxx)");
  }
  const salt = randomBytes(SALT_BYTES);
  return `${SCHEME}$${salt.toString("base64url")}$${digest(salt, normalised).toString("base64url")}`;
}

/**
 * The index in `hashes` of the stored code that `input` matches, or `undefined`. Every stored hash
 * is computed and compared in constant time, whichever matches; malformed input is refused before
 * any hashing, and a stored entry not in the `sha256$<salt>$<digest>` form never matches. The caller
 * removes the matched hash in the same write that accepts it, so each code works once.
 *
 * @example
 * ```ts
 * const index = matchRecoveryCode(req.body.recovery_code, user.recoveryCodeHashes);
 * if (index !== undefined) await users.removeRecoveryCodeHash(user.id, user.recoveryCodeHashes[index]);
 * ```
 */
export function matchRecoveryCode(input: unknown, hashes: readonly string[]): number | undefined {
  const normalised = normaliseRecoveryCode(input);
  if (normalised === undefined) return undefined;
  let found: number | undefined;
  hashes.forEach((stored, index) => {
    if (storedMatches(stored, normalised) && found === undefined) found = index;
  });
  return found;
}

/**
 * `length` characters drawn uniformly from `alphabet` (2 to 256 symbols) by rejection sampling:
 * random bytes at or above the largest multiple of the alphabet's size are thrown away, so no
 * symbol is likelier than another. `random` is for tests.
 *
 * @example
 * ```ts
 * randomCharacters(10, RECOVERY_CODE_ALPHABET); // "7k3qdx9m2a"
 * ```
 */
export function randomCharacters(
  length: number,
  alphabet: string,
  random: (size: number) => Uint8Array = randomBytes,
): string {
  if (alphabet.length < 2 || alphabet.length > 256) {
    throw new ConfigurationError("the alphabet must have 2 to 256 symbols");
  }
  const limit = 256 - (256 % alphabet.length);
  let output = "";
  while (output.length < length) {
    for (const byte of random(length - output.length)) {
      if (byte < limit && output.length < length) output += alphabet[byte % alphabet.length];
    }
  }
  return output;
}

function storedMatches(stored: string, normalised: string): boolean {
  const parts = typeof stored === "string" ? STORED.exec(stored) : null;
  if (!parts?.[1] || !parts[2]) return false;
  const expected = Buffer.from(parts[2], "base64url");
  return timingSafeEqual(digest(Buffer.from(parts[1], "base64url"), normalised), expected);
}

function digest(salt: Uint8Array, normalised: string): Buffer {
  return createHash("sha256").update(salt).update(normalised, "ascii").digest();
}
