/**
 * `login-manager/mfa`: second factors with no extra dependency. {@link SecondFactors} keeps TOTP
 * (RFC 6238: 6 digits, 30 s, one step of drift, each step used once, secrets sealed with AES-256-GCM
 * under the app secrets) and recovery codes (120-bit look-up secrets, stored as hashes, each used
 * once) in the manager's store, and plugs into the login's second step, re-authentication and the
 * account's failure budget. The primitives under it (TOTP, base32, `SecretBox`, recovery codes) are
 * exported for apps that keep factors themselves. Passkeys live in `login-manager/passkeys`.
 *
 * @example
 * ```ts
 * import { SecondFactors } from "login-manager/mfa";
 *
 * const mfa = new SecondFactors(manager, { totp: { issuer: "Example" } });
 * app.post("/account/2fa/totp/start", freshLoginRequired, async (req, res) => {
 *   const { secret, uri } = await mfa.startTotp(req.auth, { accountName: req.auth.requireUser().email });
 *   res.render("totp-start", { secret, uri });
 * });
 * ```
 *
 * @module
 */

export type { AuthMethodProof, SecondStep } from "../core/auth-context.js";
export { decodeBase32, encodeBase32 } from "./base32.js";
export type { ResolvedSecondFactorsOptions, SecondFactorsOptions } from "./options.js";
export {
  generateRecoveryCode,
  generateRecoveryCodes,
  hashRecoveryCode,
  matchRecoveryCode,
  normaliseRecoveryCode,
  RECOVERY_CODE_ALPHABET,
  RECOVERY_CODE_BITS,
  RECOVERY_CODE_COUNT,
  randomCharacters,
  recoveryCodeId,
} from "./recovery-codes.js";
export {
  type SecondFactorEvents,
  type SecondFactorInput,
  type SecondFactorStatus,
  SecondFactors,
  type TotpEnrolment,
} from "./second-factors.js";
export { SecretBox, SecretBoxError, type SecretBoxOptions } from "./secret-box.js";
export {
  AUTH_METHODS,
  FACTOR_KINDS,
  MAX_LABEL_LENGTH,
  type PasskeyAuth,
  type PendingLogin,
  type SecondFactorAuth,
  type SecretCheckResult,
} from "./shared.js";
export {
  generateTotpSecret,
  hotpCode,
  normaliseTotpCode,
  TOTP_DIGITS,
  TOTP_PERIOD_SECONDS,
  TOTP_SECRET_BYTES,
  type TotpAlgorithm,
  type TotpCodeOptions,
  type TotpSecret,
  type TotpUriOptions,
  type TotpVerification,
  type TotpVerifyOptions,
  totpCode,
  totpStep,
  totpUri,
  verifyTotp,
} from "./totp.js";
export { TOTP_ENROLMENT_PURPOSE } from "./totp-factor.js";
