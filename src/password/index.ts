/**
 * Password hashing for login-manager: argon2id via `@node-rs/argon2` (runs off the main thread),
 * NFKC normalisation, a byte-length cap enforced before hashing, rehash detection, a dummy
 * verify for unknown users, and verification of bcrypt and Werkzeug hashes for users moved from
 * Passport or Flask (`legacy.ts`).
 *
 * @module
 */
import { type Algorithm, hash as argon2Hash, verify as argon2Verify, parseOptions } from "@node-rs/argon2";
import { passwordBytes } from "./input.js";
import { type LegacyHashFormat, readLegacyHash } from "./legacy.js";
import {
  type HashWorkKind,
  type PasswordHasherOptions,
  type PasswordHashParameters,
  type ResolvedPasswordOptions,
  resolvePasswordOptions,
} from "./options.js";
import { dummyPhc, phcNeedsRehash } from "./phc.js";

export type { LegacyHashFormat } from "./legacy.js";
export type { HashWorkKind, LegacyFormat, PasswordHasherOptions, PasswordHashParameters } from "./options.js";

/**
 * What {@link PasswordHasher.inspect} tells about a stored hash, without hashing anything.
 *
 * @example
 * ```ts
 * const info = hasher.inspect("$2b$15$…");
 * // { format: "bcrypt", verifiable: false, needsRehash: true,
 * //   problem: "The stored hash has cost 15, above the limit of 14 (…)" }
 * ```
 */
export interface StoredHashInfo {
  /** `"argon2"` (a PHC string), a legacy format, or `"unknown"`. */
  readonly format: "argon2" | LegacyHashFormat | "unknown";
  /** Whether `verify` checks passwords against it; when false, `verify` always resolves false. */
  readonly verifiable: boolean;
  /** The same answer as {@link PasswordHasher.needsRehash}. */
  readonly needsRehash: boolean;
  /** Why it cannot be verified, as a sentence for an operator; undefined when it can be. */
  readonly problem: string | undefined;
}

// `Algorithm` is a const enum: it has no runtime object under esbuild/tsx, so use its value.
const ARGON2ID = 2 as Algorithm.Argon2id;

/**
 * Hashes and verifies passwords with fixed, validated argon2id parameters. Frozen; its methods do
 * not depend on `this`, so they can be destructured.
 *
 * @example
 * ```ts
 * const hasher = createPasswordHasher();
 * const phc = await hasher.hash("correct horse battery staple");
 * if (await hasher.verify(phc, attempt) && hasher.needsRehash(phc)) {
 *   await saveHash(userId, await hasher.hash(attempt));
 * }
 * ```
 */
export interface PasswordHasher {
  /** The resolved parameters (frozen; without the pepper). */
  readonly parameters: PasswordHashParameters;
  /**
   * Hashes `password` (NFKC-normalised) and resolves to a PHC string such as
   * `$argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>`, with a fresh random salt every time.
   * Rejects with PasswordInputError (`ERR_PASSWORD_INVALID` for a non-string or unpaired surrogate,
   * `ERR_PASSWORD_TOO_LONG` above `maxPasswordBytes`) before any hashing.
   */
  hash(password: string): Promise<string>;
  /**
   * Resolves true when `password` (NFKC-normalised) matches the stored PHC string, or, for a bcrypt
   * or Werkzeug hash (see {@link PasswordHasherOptions.legacyFormats}), when its exact UTF-8 bytes
   * do, as the tool that made the hash read them. A malformed, missing or refused stored hash
   * (unknown format, legacy format turned off, parameters above the limits) resolves false after one
   * dummy argon2 run, so it costs the same time; {@link PasswordHasher.inspect} says why. Invalid or
   * too-long input rejects with PasswordInputError before any hashing (same as
   * {@link PasswordHasher.hash}, for every format); map it to your generic "wrong credentials" answer.
   */
  verify(phc: string, password: string): Promise<boolean>;
  /**
   * One full argon2 verify against a fixed dummy hash with the current parameters, always resolving
   * false. Call it when the user does not exist so that costs the same as a wrong password. Input
   * checks are the same as {@link PasswordHasher.verify}.
   */
  verifyDummy(password: string): Promise<false>;
  /**
   * True when `phc` was made with another algorithm, version, memory, time or parallelism than the
   * current parameters, or is not a parseable argon2 PHC string (so for every bcrypt and Werkzeug
   * hash). Cannot detect a pepper change.
   */
  needsRehash(phc: string): boolean;
  /**
   * Says, without hashing anything, what `verify` will do with a stored hash: its format, whether it
   * can be verified and, if not, why (never quoting the hash). Use it to audit a users table during
   * a migration, or to log why a user's right password fails.
   */
  inspect(stored: string): StoredHashInfo;
}

/**
 * Creates a {@link PasswordHasher}. Options are validated once; weak or unknown options throw
 * ConfigurationError with a message that says how to fix them.
 *
 * @example
 * ```ts
 * import { createPasswordHasher } from "login-manager/password";
 *
 * const hasher = createPasswordHasher({ pepper: process.env.PASSWORD_PEPPER });
 * const phc = await hasher.hash("correct horse battery staple");
 * await hasher.verify(phc, "correct horse battery staple"); // true
 * ```
 */
export function createPasswordHasher(options?: PasswordHasherOptions): PasswordHasher {
  const resolved = resolvePasswordOptions(options);
  const { parameters } = resolved;
  const argon2Options = {
    algorithm: ARGON2ID,
    memoryCost: parameters.memoryCostKiB,
    timeCost: parameters.timeCost,
    parallelism: parameters.parallelism,
    ...(resolved.pepper ? { secret: resolved.pepper } : {}),
  };
  let dummy: string | undefined;

  const runVerify = (phc: string, bytes: Uint8Array): Promise<boolean> => {
    reportWork(resolved, "verify");
    return argon2Verify(phc, bytes, argon2Options);
  };
  const verifyAgainstDummy = async (bytes: Uint8Array): Promise<false> => {
    dummy ??= dummyPhc(parameters);
    await runVerify(dummy, bytes);
    return false;
  };

  return Object.freeze({
    parameters,
    async hash(password: string): Promise<string> {
      const bytes = passwordBytes(password, parameters.maxPasswordBytes);
      reportWork(resolved, "hash");
      return argon2Hash(bytes, argon2Options);
    },
    async verify(phc: string, password: string): Promise<boolean> {
      // The same input rules for every format, so a refusal never depends on the user's hash.
      const bytes = passwordBytes(password, parameters.maxPasswordBytes);
      const legacy = readLegacyHash(phc, resolved.legacyFormats);
      if (legacy?.verify) return verifyLegacy(resolved, legacy.verify, password);
      if (legacy || !isDecodable(phc)) return verifyAgainstDummy(bytes);
      try {
        return await runVerify(phc, bytes);
      } catch {
        return false;
      }
    },
    async verifyDummy(password: string): Promise<false> {
      return verifyAgainstDummy(passwordBytes(password, parameters.maxPasswordBytes));
    },
    needsRehash(phc: string): boolean {
      return phcNeedsRehash(phc, parameters);
    },
    inspect(stored: string): StoredHashInfo {
      return inspectStoredHash(stored, resolved);
    },
  });
}

async function verifyLegacy(
  resolved: ResolvedPasswordOptions,
  verify: (password: string) => Promise<boolean>,
  password: string,
): Promise<boolean> {
  reportWork(resolved, "verify");
  try {
    return await verify(password);
  } catch {
    return false;
  }
}

function inspectStoredHash(stored: unknown, resolved: ResolvedPasswordOptions): StoredHashInfo {
  const needsRehash = phcNeedsRehash(stored, resolved.parameters);
  const legacy = readLegacyHash(stored, resolved.legacyFormats);
  if (legacy) {
    const problem = legacy.problem === undefined ? undefined : `The stored hash ${legacy.problem}.`;
    return Object.freeze({ format: legacy.format, verifiable: !problem, needsRehash, problem });
  }
  if (isDecodable(stored))
    return Object.freeze({ format: "argon2", verifiable: true, needsRehash, problem: undefined });
  return Object.freeze({
    format: "unknown",
    verifiable: false,
    needsRehash,
    problem:
      "The stored hash is in no format login-manager verifies: an argon2 PHC string ($argon2id$…), " +
      "bcrypt ($2a$, $2b$, $2y$) or Werkzeug (pbkdf2:…, scrypt:…).",
  });
}

function reportWork(resolved: ResolvedPasswordOptions, kind: HashWorkKind): void {
  resolved.onHashWork?.(kind);
}

/** Whether argon2 can decode `phc`; the library fails such input before doing any hash work. */
function isDecodable(phc: unknown): phc is string {
  if (typeof phc !== "string") return false;
  try {
    parseOptions(phc);
    return true;
  } catch {
    return false;
  }
}

let defaultHasher: PasswordHasher | undefined;

function getDefaultHasher(): PasswordHasher {
  defaultHasher ??= createPasswordHasher();
  return defaultHasher;
}

/**
 * Hashes a password with the default hasher (argon2id, m=19456 KiB, t=2, p=1, no pepper).
 * See {@link PasswordHasher.hash}.
 *
 * @example
 * ```ts
 * const phc = await hashPassword("correct horse battery staple");
 * // "$argon2id$v=19$m=19456,t=2,p=1$..."
 * ```
 */
export function hashPassword(password: string): Promise<string> {
  return getDefaultHasher().hash(password);
}

/**
 * Verifies a password against a stored PHC string with the default hasher.
 * See {@link PasswordHasher.verify}.
 *
 * @example
 * ```ts
 * if (await verifyPassword(user.passwordHash, submittedPassword)) { ... }
 * ```
 */
export function verifyPassword(phc: string, password: string): Promise<boolean> {
  return getDefaultHasher().verify(phc, password);
}

/**
 * Whether a stored PHC string should be re-hashed with the default hasher's parameters.
 * See {@link PasswordHasher.needsRehash}.
 *
 * @example
 * ```ts
 * if (needsRehash(user.passwordHash)) user.passwordHash = await hashPassword(submittedPassword);
 * ```
 */
export function needsRehash(phc: string): boolean {
  return getDefaultHasher().needsRehash(phc);
}
