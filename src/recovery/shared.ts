/**
 * What the account-recovery helpers share: the input limits (an e-mail address, a token's shape,
 * both checked before any store call) and the checks of their options, run once at construction.
 *
 * @module
 */
import { ConfigurationError } from "../core/errors.js";
import { rejectUnknownKeys, showValue } from "../core/option-names.js";
import { parseTokenPair } from "../core/tokens.js";

/**
 * The longest e-mail address accepted (RFC 5321's 64-character local part, `@` and 255-character domain).
 *
 * @example
 * ```ts
 * if (email.length > MAX_EMAIL_LENGTH) return res.status(400).render("register", { error: "Address too long" });
 * ```
 */
export const MAX_EMAIL_LENGTH = 320;

/**
 * The user id that a request for an unknown address issues its token to, so that the store sees the
 * same calls whether or not the account exists. Never a real user's id in practice; its tokens are
 * thrown away at once and replace each other, so at most a few exist at any time.
 *
 * @example
 * ```ts
 * const userId = user === null ? NO_ACCOUNT_ID : user.getId();
 * ```
 */
export const NO_ACCOUNT_ID = "login-manager:no-such-account";

/**
 * Whether `token` has the shape of a one-time token (`<22 base64url>.<22 base64url>`), checked
 * before anything reaches the store: anything else is simply "no token".
 *
 * @example
 * ```ts
 * if (!isTokenShaped(req.query.token)) return res.status(400).send("This link is not valid.");
 * ```
 */
export function isTokenShaped(token: unknown): token is string {
  return typeof token === "string" && parseTokenPair(token) !== null;
}

/**
 * Whether `email` is a string of 1 to {@link MAX_EMAIL_LENGTH} characters.
 *
 * @example
 * ```ts
 * isEmailSized("ada@example.com"); // true
 * isEmailSized("a".repeat(400)); // false
 * ```
 */
export function isEmailSized(email: unknown): email is string {
  return typeof email === "string" && email.length > 0 && email.length <= MAX_EMAIL_LENGTH;
}

/**
 * The key an address is throttled under: trimmed, NFKC-normalised and lower-cased, so `Ada@X.org`
 * and `ada@x.org ` share one budget whatever the app's own canonical form is.
 *
 * @example
 * ```ts
 * throttleKeyOfEmail(" Ada@Example.COM"); // "ada@example.com"
 * ```
 */
export function throttleKeyOfEmail(email: string): string {
  return email.trim().normalize("NFKC").toLowerCase();
}

/**
 * How many requests may be made, and over what window, per account and per client address.
 *
 * @example
 * ```ts
 * const limits: RecoveryLimits = { perAccount: 3, perAddress: 10, windowSeconds: 3600 };
 * ```
 */
export interface RecoveryLimits {
  /** Requests per account (the address typed, or the user) in a window. @default 3 */
  readonly perAccount?: number;
  /** Requests per client address (IPv6: per /64) in a window. @default 10 */
  readonly perAddress?: number;
  /** The window: a counter is forgotten this long after the last request it let through. @default 3600 */
  readonly windowSeconds?: number;
}

/**
 * {@link RecoveryLimits} with every value set.
 *
 * @example
 * ```ts
 * const limits: ResolvedLimits = { perAccount: 3, perAddress: 10, windowSeconds: 3600 };
 * ```
 */
export type ResolvedLimits = Required<RecoveryLimits>;

const DEFAULT_LIMITS: ResolvedLimits = Object.freeze({ perAccount: 3, perAddress: 10, windowSeconds: 3600 });
const LIMIT_NAMES = ["perAccount", "perAddress", "windowSeconds"] as const;
/** A window longer than 30 days would keep counters of people who long gave up. */
const MAX_WINDOW_SECONDS = 30 * 86_400;
const MAX_LIMIT = 1_000_000;

/**
 * Refuses `options` unless it is an object whose names are all in `known`, with a did-you-mean
 * (`hints` map likely names, like `sendMail`, to the right one).
 *
 * @example
 * ```ts
 * checkOptionNames(options, ["sendVerificationMail", "ttlSeconds"], "EmailVerification");
 * ```
 */
export function checkOptionNames(
  options: unknown,
  known: readonly string[],
  context: string,
  hints: Readonly<Record<string, string>> = {},
): void {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ConfigurationError(`${context}: options must be an object, got ${showValue(options)}`);
  }
  rejectUnknownKeys(options, known, context, { hints });
}

/**
 * The function option `name`, or a setup error naming it.
 *
 * @example
 * ```ts
 * const send = requireFunction(options.sendResetMail, "sendResetMail", "PasswordReset");
 * ```
 */
export function requireFunction<F>(value: F | undefined, name: string, context: string): F {
  if (typeof value !== "function") {
    throw new ConfigurationError(`${context}: ${name} must be a function, got ${showValue(value)}`);
  }
  return value;
}

/**
 * A whole number between 1 and `max` (seconds, or a count), `fallback` when absent, or a setup error naming it.
 *
 * @example
 * ```ts
 * const ttlSeconds = wholeNumber(options.ttlSeconds, "ttlSeconds", "PasswordReset", 1800, 86_400);
 * ```
 */
export function wholeNumber(
  value: unknown,
  name: string,
  context: string,
  fallback: number,
  max: number,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigurationError(
      `${context}: ${name} must be a whole number from 1 to ${max}, got ${showValue(value)}`,
    );
  }
  return value;
}

/**
 * The limits with defaults filled in; unknown names, and values that are not whole numbers in
 * range, are refused.
 *
 * @example
 * ```ts
 * resolveLimits({ perAccount: 5 }, "PasswordReset"); // { perAccount: 5, perAddress: 10, windowSeconds: 3600 }
 * ```
 */
export function resolveLimits(given: unknown, context: string): ResolvedLimits {
  if (given === undefined) return DEFAULT_LIMITS;
  if (typeof given !== "object" || given === null || Array.isArray(given)) {
    throw new ConfigurationError(`${context}: limits must be an object, got ${showValue(given)}`);
  }
  rejectUnknownKeys(given, LIMIT_NAMES, context, { path: "limits" });
  const limits = given as RecoveryLimits;
  return Object.freeze({
    perAccount: wholeNumber(
      limits.perAccount,
      "limits.perAccount",
      context,
      DEFAULT_LIMITS.perAccount,
      MAX_LIMIT,
    ),
    perAddress: wholeNumber(
      limits.perAddress,
      "limits.perAddress",
      context,
      DEFAULT_LIMITS.perAddress,
      MAX_LIMIT,
    ),
    windowSeconds: wholeNumber(
      limits.windowSeconds,
      "limits.windowSeconds",
      context,
      DEFAULT_LIMITS.windowSeconds,
      MAX_WINDOW_SECONDS,
    ),
  });
}
