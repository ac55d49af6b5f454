/**
 * How a session was authenticated: the methods proven (RFC 8176 "amr" values) and when each was last
 * proven, kept in the session record as `"pwd:1733450000000 otp:1733450004000"`.
 *
 * @module
 */
import { ConfigurationError } from "./errors.js";

/**
 * One method proven in a session, and when (milliseconds since the epoch, the manager's clock).
 *
 * @example
 * ```ts
 * const proof: AuthMethodProof = { method: "otp", provenAt: Date.now() };
 * ```
 */
export interface AuthMethodProof {
  /**
   * An RFC 8176 value: `"pwd"` (password), `"otp"` (TOTP code), `"hwk"` / `"swk"` (a passkey kept in
   * hardware / synced), `"mfa"` (a passkey with user verification: both factors in one); or one of
   * login-manager's own: `"rc"` (a recovery code), `"email"` (an e-mailed link).
   */
  readonly method: string;
  readonly provenAt: number;
}

/**
 * The methods that prove a second factor (anything but a password or an e-mailed link).
 *
 * @example
 * ```ts
 * const stepped = proofs.some((proof) => SECOND_FACTOR_METHODS.includes(proof.method));
 * ```
 */
export const SECOND_FACTOR_METHODS: readonly string[] = Object.freeze(["otp", "rc", "hwk", "swk", "mfa"]);

/**
 * The factor kinds (see `FactorStorage`) that give a user a second factor: with one of them, a login
 * that proved only a password waits for the second step.
 *
 * @example
 * ```ts
 * const enrolled = factors.some((factor) => SECOND_FACTOR_KINDS.includes(factor.kind));
 * ```
 */
export const SECOND_FACTOR_KINDS: readonly string[] = Object.freeze(["totp", "passkey"]);

const METHOD_PATTERN = /^[a-z][a-z0-9_-]{0,15}$/;
/** The most methods a session records (each at most 30 characters encoded: 16 + ":" + 13 digits). */
const MAX_METHODS = 12;

/**
 * The method names `methods` lists, checked: 1 to 12 distinct lower-case names of up to 16
 * characters. Throws a `ConfigurationError` naming the fix otherwise (a bug in the calling code).
 *
 * @example
 * ```ts
 * checkMethodNames(["pwd", "otp"]); // ["pwd", "otp"]
 * ```
 */
export function checkMethodNames(methods: readonly string[]): readonly string[] {
  if (!Array.isArray(methods) || methods.length === 0 || methods.length > MAX_METHODS) {
    throw new ConfigurationError(
      `methods must list 1 to ${MAX_METHODS} RFC 8176 method names such as ["pwd"] or ["pwd", "otp"], got ${JSON.stringify(methods)}`,
    );
  }
  for (const method of methods) {
    if (typeof method !== "string" || !METHOD_PATTERN.test(method)) {
      throw new ConfigurationError(
        `${JSON.stringify(method)} is not a method name: use lower-case RFC 8176 values such as "pwd", "otp", "hwk"`,
      );
    }
  }
  return methods;
}

/**
 * `earlier` with every method of `methods` (re)proven at `now`, encoded for the session record.
 *
 * @example
 * ```ts
 * recordMethods("pwd:1000", ["otp"], 2000); // "pwd:1000 otp:2000"
 * ```
 */
export function recordMethods(earlier: string, methods: readonly string[], now: number): string {
  const proofs = parseAuthMethods(earlier).filter((proof) => !methods.includes(proof.method));
  for (const method of methods) proofs.push({ method, provenAt: now });
  return proofs
    .slice(-MAX_METHODS)
    .map((proof) => `${proof.method}:${proof.provenAt}`)
    .join(" ");
}

/**
 * The proofs a session record's `authMethods` holds; a malformed entry is skipped (never trusted).
 *
 * @example
 * ```ts
 * parseAuthMethods("pwd:1000 otp:2000"); // [{ method: "pwd", provenAt: 1000 }, { method: "otp", provenAt: 2000 }]
 * ```
 */
export function parseAuthMethods(encoded: string): AuthMethodProof[] {
  const proofs: AuthMethodProof[] = [];
  if (typeof encoded !== "string" || encoded === "") return proofs;
  for (const entry of encoded.split(" ")) {
    const colon = entry.indexOf(":");
    const method = entry.slice(0, colon);
    const provenAt = Number(entry.slice(colon + 1));
    if (colon > 0 && METHOD_PATTERN.test(method) && Number.isSafeInteger(provenAt) && provenAt >= 0)
      proofs.push({ method, provenAt });
  }
  return proofs;
}

/**
 * Whether `methods` name a second factor.
 *
 * @example
 * ```ts
 * namesSecondFactor(["pwd"]); // false
 * namesSecondFactor(["pwd", "otp"]); // true
 * ```
 */
export function namesSecondFactor(methods: readonly string[]): boolean {
  return methods.some((method) => SECOND_FACTOR_METHODS.includes(method));
}

/**
 * Whether `proofs` hold a second factor proven at or after `since` (any time when null).
 *
 * @example
 * ```ts
 * provesSecondFactor(parseAuthMethods(session.authMethods), now - 300_000);
 * ```
 */
export function provesSecondFactor(proofs: readonly AuthMethodProof[], since: number | null): boolean {
  return proofs.some(
    (proof) => SECOND_FACTOR_METHODS.includes(proof.method) && (since === null || proof.provenAt >= since),
  );
}
