/**
 * What `login-manager/mfa` and `login-manager/passkeys` share: the factor kinds and authentication
 * method names of issue 18, the members of the request's `AuthContext` they use (a narrow type, so an
 * `AuthContext` fits it and tests can pass a fake), the fresh-login rule, input limits and option checks.
 *
 * @module
 */

import { SECOND_FACTOR_KINDS } from "../core/auth-methods.js";
import type { LoginOptions, PendingLogin } from "../core/auth-types.js";
import { ConfigurationError, LoginManagerError } from "../core/errors.js";
import type { RequestView } from "../core/http.js";
import { rejectUnknownKeys, showValue } from "../core/option-names.js";
import type { LoginAttemptResult, SecretCheckResult } from "../core/secret-checks.js";
import type { SessionStore } from "../core/store.js";
import type { AuthUser } from "../core/users.js";

/** The core's types of a pending login and of a budgeted secret check, re-exported for the second-factor modules. */
export type { PendingLogin, SecretCheckResult };

/**
 * Factor kinds in the store: `totp` (id = user id, data = sealed secret), `recovery-code` (id = a
 * hash bound to the user), `passkey` (id = credential id) and `passkey-user` (id = the user's random
 * WebAuthn user handle).
 *
 * @example
 * ```ts
 * await store.listUserFactors(user.getId(), FACTOR_KINDS.passkey);
 * ```
 */
export const FACTOR_KINDS = Object.freeze({
  totp: "totp",
  recoveryCode: "recovery-code",
  passkey: "passkey",
  passkeyUser: "passkey-user",
} as const);

/**
 * Authentication method names recorded in the session (RFC 8176, plus `rc` for a recovery code).
 *
 * @example
 * ```ts
 * await auth.completeLogin({ methods: [AUTH_METHODS.otp], verify });
 * ```
 */
export const AUTH_METHODS = Object.freeze({
  otp: "otp",
  rc: "rc",
  hwk: "hwk",
  swk: "swk",
  mfa: "mfa",
} as const);

/**
 * The longest text a user gives that is shown back to them (a passkey's name), and the longest code
 * accepted; longer input is refused before any store call.
 *
 * @example
 * ```ts
 * if (label.length > MAX_LABEL_LENGTH) return res.status(400).render("passkeys", { error: "Name too long" });
 * ```
 */
export const MAX_LABEL_LENGTH = 64;

/**
 * The members of the request's `AuthContext` that `SecondFactors` uses (`req.auth`, `request.auth`,
 * `c.var.auth` fit it).
 *
 * @example
 * ```ts
 * const auth: SecondFactorAuth<User> = req.auth;
 * ```
 */
export interface SecondFactorAuth<U extends AuthUser> {
  readonly request: RequestView;
  requireUser(): U;
  loginFresh(): boolean;
  browserBinding(): string;
  verifySecret(check: { account: string; verify: () => Promise<boolean> }): Promise<SecretCheckResult>;
  completeLogin(step: {
    methods: readonly string[];
    verify: (pending: PendingLogin) => Promise<boolean>;
  }): Promise<LoginAttemptResult<U> | null>;
}

/**
 * The members of the request's `AuthContext` that `Passkeys` uses.
 *
 * @example
 * ```ts
 * const auth: PasskeyAuth<User> = req.auth;
 * ```
 */
export interface PasskeyAuth<U extends AuthUser> extends SecondFactorAuth<U> {
  readonly isAuthenticated: boolean;
  pendingLogin(): Promise<PendingLogin | null>;
  loginUser(user: U, options: LoginOptions): Promise<boolean>;
  confirmLogin(methods?: readonly string[]): Promise<boolean>;
}

/**
 * The logged-in user, after checking that the login is fresh (the password was checked in this
 * session): changing second factors needs one (ASVS 5.0 7.5.1). Throws otherwise, as `requireUser`
 * does on an unguarded route: `freshLoginRequired` on the route prevents it.
 *
 * @example
 * ```ts
 * const user = freshUser(auth, "startTotp");
 * ```
 */
export function freshUser<U extends AuthUser>(auth: SecondFactorAuth<U>, action: string): U {
  const user = auth.requireUser();
  if (auth.loginFresh()) return user;
  throw new LoginManagerError(
    "ERR_NOT_AUTHENTICATED",
    `${action}() changes the user's second factors, which needs a fresh login: guard the route with freshLoginRequired, which sends a session restored from remember-me (or made stale by session protection) to refreshView first`,
  );
}

/**
 * Whether `value` is a string of at most `max` characters (and at least `min`).
 *
 * @example
 * ```ts
 * isSizedString(req.body.code, 64); // false for a 1 MB body field
 * ```
 */
export function isSizedString(value: unknown, max: number, min = 0): value is string {
  return typeof value === "string" && value.length >= min && value.length <= max;
}

/**
 * Refuses `options` unless it is a plain object whose names are all in `known`, with a did-you-mean.
 *
 * @example
 * ```ts
 * checkNames(options, ["totp", "recoveryCodes"], "SecondFactors");
 * ```
 */
export function checkNames(options: unknown, known: readonly string[], context: string, path?: string): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    const name = path ? `${path} ` : "options ";
    throw new ConfigurationError(`${context}: ${name}must be an object, got ${showValue(options)}`);
  }
  rejectUnknownKeys(options, known, context, path ? { path } : {});
}

/**
 * A string option of 1 to `max` characters, or a setup error that names it and says the fix.
 *
 * @example
 * ```ts
 * const issuer = requireText(options.totp.issuer, "totp.issuer", "SecondFactors", 64);
 * ```
 */
export function requireText(value: unknown, name: string, context: string, max: number): string {
  if (!isSizedString(value, max, 1) || value.trim() !== value) {
    throw new ConfigurationError(
      `${context}: ${name} must be a string of 1 to ${max} characters without surrounding spaces, got ${showValue(value)}`,
    );
  }
  return value;
}

/**
 * A whole-number option from `min` to `max`, `fallback` when absent, or a setup error naming it.
 *
 * @example
 * ```ts
 * const count = wholeNumberOption(options.recoveryCodes?.count, "recoveryCodes.count", "SecondFactors", 10, 1, 50);
 * ```
 */
export function wholeNumberOption(
  value: unknown,
  name: string,
  context: string,
  fallback: number,
  min: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
    throw new ConfigurationError(
      `${context}: ${name} must be a whole number from ${min} to ${max}, got ${showValue(value)}`,
    );
  }
  return value;
}

/**
 * Deletes the user's recovery codes once no second factor (TOTP or a passkey: the core's
 * `SECOND_FACTOR_KINDS`, the same list that decides whether a login waits for one) is left: they are
 * a fallback for a factor, not a factor of their own.
 *
 * @example
 * ```ts
 * await store.deleteFactor("totp", userId);
 * await dropOrphanRecoveryCodes(store, userId);
 * ```
 */
export async function dropOrphanRecoveryCodes(store: SessionStore, userId: string): Promise<void> {
  const left = await store.listUserFactors(userId, null);
  if (!left.some((factor) => SECOND_FACTOR_KINDS.includes(factor.kind))) {
    await store.deleteUserFactors(userId, FACTOR_KINDS.recoveryCode);
  }
}
