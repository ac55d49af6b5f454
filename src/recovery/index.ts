/**
 * `login-manager/recovery`: account recovery on the manager's one-time tokens. Password reset,
 * e-mail verification and magic-link sign-in, with the rules built in (same answer whether or not an
 * account exists, limits per account and per client address, links that expire, work once, are kept
 * hashed and die with any password change) and users, templates and mail transport left to the app.
 * Needs a store with one-time tokens (the memory, SQLite, PostgreSQL and Redis stores).
 *
 * @example
 * ```ts
 * import { EmailVerification, PasswordReset } from "login-manager/recovery";
 *
 * const reset = new PasswordReset(manager, { findUserByEmail, findUserById, sendResetMail });
 * const verification = new EmailVerification(manager, { sendVerificationMail });
 * ```
 *
 * @module
 */
export type { AccountLinkMessage } from "./account-links.js";
export { type DeliveryErrorHandler, defaultDeliveryErrorHandler } from "./deliveries.js";
export {
  EMAIL_VERIFICATION_PURPOSE,
  EmailVerification,
  type EmailVerificationOptions,
  type VerificationMessage,
  type VerifiedEmail,
} from "./email-verification.js";
export type { MailRequestAnswer } from "./limiter.js";
export { MAGIC_LINK_PURPOSE, MagicLink, type MagicLinkOptions } from "./magic-link.js";
export { PASSWORD_RESET_PURPOSE, PasswordReset, type PasswordResetOptions } from "./password-reset.js";
export { MAX_EMAIL_LENGTH, type RecoveryLimits } from "./shared.js";
