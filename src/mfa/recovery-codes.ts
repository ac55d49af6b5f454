/**
 * Recovery codes: ten single-use codes shown once when a second factor is turned on (or the codes
 * are regenerated), stored only as hashes.
 *
 * A code is 10 characters of Crockford's base32 alphabet (digits and lower-case letters without
 * i, l, o and u) in two groups, `7k3qd-x9m2a`: 50 bits from `crypto.randomBytes`. Input is
 * normalised before hashing: case, spaces and dashes ignored, and the letters people confuse with
 * digits read as those digits (o as 0; i and l as 1).
 *
 * Why SHA-256 and not argon2: a slow hash multiplies the cost of guessing something with little
 * entropy, such as a password. These codes are random with 50 bits each, so online guessing is
 * hopeless under the account's failure budget, and an offline search of a stolen table costs about
 * 2^49 hashes per code; a random 16-byte salt per code stops one search from covering every code of
 * every user at once. A code also only stands in for the second factor: the password is still
 * needed. argon2 would instead make every attempt cost ten slow hashes (one per stored code), which
 * is a denial-of-service lever with no matching gain.
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
 * Crockford's base32 alphabet, lower-case: no i, l, o or u, so no two symbols look alike.
 *
 * @example
 * ```ts
 * randomCharacters(10, RECOVERY_CODE_ALPHABET); // "7k3qdx9m2a"
 * ```
 */
export const RECOVERY_CODE_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz";
const GROUP_LENGTH = 5;
const CODE_LENGTH = 2 * GROUP_LENGTH;
const SALT_BYTES = 16;
const SCHEME = "sha256";
/** Longer than any code with separators a person could mean; refused before any other work. */
const MAX_INPUT_LENGTH = 64;
const SEPARATORS = /[\s-]/g;
const ALIASES: Readonly<Record<string, string>> = { o: "0", i: "1", l: "1" };
const NORMALISED = new RegExp(`^[${RECOVERY_CODE_ALPHABET}]{${CODE_LENGTH}}$`);
const STORED = /^sha256\$([A-Za-z0-9_-]{22})\$([A-Za-z0-9_-]{43})$/;

/**
 * Fresh recovery codes: `codes` to show the user once (`xxxxx-xxxxx`), and `hashes` in the same
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
  const codes = Array.from({ length: count }, () => {
    const characters = randomCharacters(CODE_LENGTH, RECOVERY_CODE_ALPHABET);
    return `${characters.slice(0, GROUP_LENGTH)}-${characters.slice(GROUP_LENGTH)}`;
  });
  return { codes, hashes: codes.map((code) => hashRecoveryCode(code)) };
}

/**
 * The code as typed, reduced to its 10 alphabet characters (see the module comment), or
 * `undefined` when it cannot be a recovery code. Anything not a string is `undefined`.
 *
 * @example
 * ```ts
 * normaliseRecoveryCode(" 7K3QD X9M2A "); // "7k3qdx9m2a"
 * normaliseRecoveryCode("7k3qd-x9m2");    // undefined
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
 * const stored = hashRecoveryCode("7k3qd-x9m2a");
 * ```
 */
export function hashRecoveryCode(code: string): string {
  const normalised = normaliseRecoveryCode(code);
  if (normalised === undefined) throw new ConfigurationError("not a recovery code (xxxxx-xxxxx)");
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
