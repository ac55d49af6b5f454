/**
 * Password hashing for login-manager: argon2id via `@node-rs/argon2` (runs off the main thread),
 * NFKC normalisation, a byte-length cap enforced before hashing, rehash detection and a dummy
 * verify for unknown users.
 *
 * @module
 */
import { type Algorithm, hash as argon2Hash, verify as argon2Verify, parseOptions } from "@node-rs/argon2";
import { passwordBytes } from "./input.js";
import {
  type HashWorkKind,
  type PasswordHasherOptions,
  type PasswordHashParameters,
  type ResolvedPasswordOptions,
  resolvePasswordOptions,
} from "./options.js";
import { dummyPhc, phcNeedsRehash } from "./phc.js";

export type { HashWorkKind, PasswordHasherOptions, PasswordHashParameters } from "./options.js";

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
   * Resolves true when `password` (NFKC-normalised) matches the stored PHC string. A malformed or
   * missing stored hash resolves false after one dummy argon2 run, so it costs the same time.
   * Invalid or too-long input rejects with PasswordInputError before any hashing (same as
   * {@link PasswordHasher.hash}); map it to your generic "wrong credentials" answer.
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
   * current parameters, or is not a parseable argon2 PHC string. Cannot detect a pepper change.
   */
  needsRehash(phc: string): boolean;
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

  const runVerify = (phc: string, bytes: Buffer): Promise<boolean> => {
    reportWork(resolved, "verify");
    return argon2Verify(phc, bytes, argon2Options);
  };
  const verifyAgainstDummy = async (bytes: Buffer): Promise<false> => {
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
      const bytes = passwordBytes(password, parameters.maxPasswordBytes);
      if (!isDecodable(phc)) return verifyAgainstDummy(bytes);
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
