import { ConfigurationError } from "../core/errors.js";
import { findUnknownKey } from "../core/option-names.js";

/**
 * What one hash invocation did, as reported to {@link PasswordHasherOptions.onHashWork}: an argon2
 * hash, or a verification (argon2, the dummy one, or a legacy bcrypt or Werkzeug hash).
 *
 * @example
 * ```ts
 * const work: HashWorkKind[] = [];
 * const hasher = createPasswordHasher({ onHashWork: (kind) => work.push(kind) });
 * ```
 */
export type HashWorkKind = "hash" | "verify";

/**
 * A family of other tools' password hashes that {@link PasswordHasher.verify} can check, so users
 * moved from another stack keep their passwords until their next login upgrades them to argon2id:
 * - `"bcrypt"`: `$2a$`, `$2b$` and `$2y$` (passport-local's usual, through `bcrypt` or `bcryptjs`),
 *   cost 4 to 14;
 * - `"werkzeug"`: Werkzeug's `generate_password_hash` (Flask's usual), `pbkdf2:<sha1|sha224|sha256|
 *   sha384|sha512>:<iterations>$salt$hex` up to 2,000,000 iterations, and
 *   `scrypt:<N>:<r>:<p>$salt$hex` up to N·r·p = 2^21 and 128 MiB (128·N·r).
 *
 * @example
 * ```ts
 * const formats: LegacyFormat[] = ["werkzeug"]; // a Flask app's users, no bcrypt
 * ```
 */
export type LegacyFormat = "bcrypt" | "werkzeug";

/**
 * Options for {@link createPasswordHasher}. Every field is optional; the defaults are the
 * OWASP Password Storage Cheat Sheet / ASVS 5.0 Appendix C argon2id minimum (m=19456 KiB, t=2, p=1).
 *
 * @example
 * ```ts
 * const options: PasswordHasherOptions = {
 *   memoryCostKiB: 47104,
 *   timeCost: 1,
 *   pepper: process.env.PASSWORD_PEPPER, // kept outside the database
 * };
 * ```
 */
export interface PasswordHasherOptions {
  /** Argon2 memory per lane, in KiB (`m=`). Default 19456 (19 MiB). */
  memoryCostKiB?: number;
  /** Argon2 passes over memory (`t=`). Default 2. */
  timeCost?: number;
  /** Argon2 lanes (`p=`), 1 to 255. Default 1. */
  parallelism?: number;
  /**
   * Longest accepted password in UTF-8 bytes after NFKC normalisation, 256 to 1024. Default 1024.
   * Longer input is refused before any hashing so it cannot be used to burn CPU.
   */
  maxPasswordBytes?: number;
  /**
   * Optional secret mixed into every hash as the argon2 `secret` (a "pepper"), at least 16 bytes,
   * e.g. `randomBytes(32)`. Store it OUTSIDE the database that holds the hashes (environment, secret
   * manager, HSM), so a stolen user table alone cannot be cracked. Losing or changing it makes every
   * existing hash unverifiable, and {@link PasswordHasher.needsRehash} cannot detect a pepper change.
   * Legacy hashes (see `legacyFormats`) were made without it and are verified without it.
   */
  pepper?: string | Uint8Array;
  /**
   * Testing / metrics hook, called synchronously once per argon2 invocation (including the dummy
   * verify), before the work starts. Lets tests prove that an unknown user costs the same hash work
   * as a wrong password. It must not throw.
   */
  onHashWork?: (kind: HashWorkKind) => void;
  /**
   * Other tools' hash formats that `verify` also checks (see {@link LegacyFormat}); `needsRehash` is
   * true for all of them, so the next successful login can store argon2id instead. Pass `[]` to
   * verify argon2 only.
   *
   * Default: `["bcrypt", "werkzeug"]` without a pepper, `[]` with one. Verifying a legacy hash widens
   * what `verify` accepts from your own password column, never what `hash` writes. Without a pepper
   * that gives nothing to anyone: whoever can write a bcrypt hash into the column could as well
   * write an argon2id hash of a password they know, and an app that has only ever stored argon2id
   * never meets one; turned off, a migrated user's right password would fail in silence. With a
   * pepper, an argon2id hash cannot be forged without it, but a legacy hash (which never uses the
   * pepper) can: so a peppered hasher accepts legacy hashes only when you list them here, for the
   * migration. Once `inspect` finds no legacy hash left, pass `[]`.
   */
  legacyFormats?: readonly LegacyFormat[];
}

/**
 * The resolved, frozen parameters of a {@link PasswordHasher} (never includes the pepper).
 *
 * @example
 * ```ts
 * createPasswordHasher().parameters;
 * // { algorithm: "argon2id", version: 19, memoryCostKiB: 19456, timeCost: 2, parallelism: 1, maxPasswordBytes: 1024 }
 * ```
 */
export interface PasswordHashParameters {
  readonly algorithm: "argon2id";
  readonly version: 19;
  readonly memoryCostKiB: number;
  readonly timeCost: number;
  readonly parallelism: number;
  readonly maxPasswordBytes: number;
}

/** Parameters plus the secret parts that must not be exposed on `hasher.parameters`. */
export interface ResolvedPasswordOptions {
  readonly parameters: PasswordHashParameters;
  readonly pepper: Uint8Array | undefined;
  readonly onHashWork: ((kind: HashWorkKind) => void) | undefined;
  /** The legacy formats `verify` checks (frozen). */
  readonly legacyFormats: readonly LegacyFormat[];
}

/** OWASP argon2id rows (memory KiB, passes): each is an equally acceptable minimum. */
const OWASP_ARGON2ID_MINIMUMS: ReadonlyArray<readonly [memoryCostKiB: number, timeCost: number]> = [
  [47104, 1],
  [19456, 2],
  [12288, 3],
  [9216, 4],
  [7168, 5],
];
const MAX_U32 = 2 ** 32 - 1;
const MAX_PASSWORD_BYTES_CAP = 1024;
// 64 characters (NIST 800-63B minimum maximum) of up to 4 UTF-8 bytes each.
const MIN_MAX_PASSWORD_BYTES = 256;
const MIN_PEPPER_BYTES = 16;
const KNOWN_KEYS = new Set([
  "memoryCostKiB",
  "timeCost",
  "parallelism",
  "maxPasswordBytes",
  "pepper",
  "onHashWork",
  "legacyFormats",
]);
const LEGACY_FORMATS: readonly LegacyFormat[] = ["bcrypt", "werkzeug"];
const KEY_HINTS: Readonly<Record<string, string>> = {
  memoryCost: "memoryCostKiB",
  memory: "memoryCostKiB",
  iterations: "timeCost",
  secret: "pepper",
  legacy: "legacyFormats",
  formats: "legacyFormats",
};

/**
 * Validates {@link PasswordHasherOptions} once and returns frozen parameters.
 * Throws ConfigurationError with a message that names the option and says how to fix it.
 */
export function resolvePasswordOptions(options: PasswordHasherOptions = {}): ResolvedPasswordOptions {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError("createPasswordHasher(options): options must be an object or omitted.");
  }
  rejectUnknownKeys(options);
  const memoryCostKiB = integerOption("memoryCostKiB", options.memoryCostKiB, 19456, 1, MAX_U32);
  const timeCost = integerOption("timeCost", options.timeCost, 2, 1, MAX_U32);
  const parallelism = integerOption("parallelism", options.parallelism, 1, 1, 255);
  const maxPasswordBytes = integerOption(
    "maxPasswordBytes",
    options.maxPasswordBytes,
    MAX_PASSWORD_BYTES_CAP,
    MIN_MAX_PASSWORD_BYTES,
    MAX_PASSWORD_BYTES_CAP,
  );
  assertOwaspStrength(memoryCostKiB, timeCost);
  const parameters: PasswordHashParameters = Object.freeze({
    algorithm: "argon2id",
    version: 19,
    memoryCostKiB,
    timeCost,
    parallelism,
    maxPasswordBytes,
  });
  const pepper = resolvePepper(options.pepper);
  return Object.freeze({
    parameters,
    pepper,
    onHashWork: resolveHook(options.onHashWork),
    legacyFormats: resolveLegacyFormats(options.legacyFormats, pepper !== undefined),
  });
}

function rejectUnknownKeys(options: object): void {
  const unknown = findUnknownKey(options, KNOWN_KEYS, { hints: KEY_HINTS });
  if (unknown === undefined) return;
  throw new ConfigurationError(
    `createPasswordHasher: unknown option "${unknown.key}".${unknown.hint ? ` Did you mean "${unknown.hint}"?` : ""} ` +
      `Known options: ${[...KNOWN_KEYS].join(", ")}.`,
  );
}

function integerOption(name: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      `createPasswordHasher: ${name} must be an integer from ${min} to ${max} (got ${String(value)}). ` +
        `Omit it to use the default ${fallback}.`,
    );
  }
  return value;
}

function assertOwaspStrength(memoryCostKiB: number, timeCost: number): void {
  const meetsARow = OWASP_ARGON2ID_MINIMUMS.some(([m, t]) => memoryCostKiB >= m && timeCost >= t);
  if (meetsARow) return;
  const needed = OWASP_ARGON2ID_MINIMUMS.find(([, t]) => t <= timeCost)?.[0] ?? 47104;
  const rows = OWASP_ARGON2ID_MINIMUMS.map(([m, t]) => `(memoryCostKiB ${m}, timeCost ${t})`).join(", ");
  throw new ConfigurationError(
    `createPasswordHasher: memoryCostKiB ${memoryCostKiB} with timeCost ${timeCost} is weaker than the OWASP argon2id minimum. ` +
      `Raise memoryCostKiB to at least ${needed} for timeCost ${timeCost}, or use one of ${rows}.`,
  );
}

function resolvePepper(pepper: unknown): Uint8Array | undefined {
  if (pepper === undefined) return undefined;
  if (typeof pepper !== "string" && !(pepper instanceof Uint8Array)) {
    throw new ConfigurationError("createPasswordHasher: pepper must be a string or a Buffer/Uint8Array.");
  }
  // Copy so that later mutation of the caller's buffer cannot change the hasher.
  const bytes = typeof pepper === "string" ? Buffer.from(pepper, "utf8") : Buffer.from(pepper);
  if (bytes.length < MIN_PEPPER_BYTES) {
    throw new ConfigurationError(
      `createPasswordHasher: pepper must be at least ${MIN_PEPPER_BYTES} bytes. ` +
        `Generate one with crypto.randomBytes(32) and keep it outside the database.`,
    );
  }
  return bytes;
}

function resolveHook(hook: unknown): ((kind: HashWorkKind) => void) | undefined {
  if (hook === undefined) return undefined;
  if (typeof hook !== "function") {
    throw new ConfigurationError("createPasswordHasher: onHashWork must be a function or omitted.");
  }
  return hook as (kind: HashWorkKind) => void;
}

function resolveLegacyFormats(formats: unknown, peppered: boolean): readonly LegacyFormat[] {
  if (formats === undefined) return Object.freeze(peppered ? [] : [...LEGACY_FORMATS]);
  const known = LEGACY_FORMATS.map((format) => `"${format}"`).join(", ");
  if (!Array.isArray(formats)) {
    throw new ConfigurationError(
      `createPasswordHasher: legacyFormats must be an array of ${known} (or [] for argon2 only).`,
    );
  }
  for (const format of formats) {
    if (!LEGACY_FORMATS.includes(format)) {
      throw new ConfigurationError(
        `createPasswordHasher: legacyFormats has ${JSON.stringify(format) ?? String(format)}, which is not a legacy format. ` +
          `Known formats: ${known} (Werkzeug's pbkdf2 and scrypt hashes are both "werkzeug").`,
      );
    }
  }
  return Object.freeze(LEGACY_FORMATS.filter((format) => formats.includes(format)));
}
