/**
 * The options of `SecondFactors`, checked once at construction and frozen.
 *
 * @module
 */
import { ConfigurationError } from "../core/errors.js";
import { RECOVERY_CODE_COUNT } from "./recovery-codes.js";
import { checkNames, requireText, wholeNumberOption } from "./shared.js";

const CONTEXT = "SecondFactors";
const OPTION_NAMES = ["totp", "recoveryCodes"] as const;
const TOTP_NAMES = ["issuer"] as const;
const RECOVERY_NAMES = ["count"] as const;
/** An issuer is shown in authenticator apps next to the account; longer names get cut there anyway. */
const MAX_ISSUER_LENGTH = 64;
const MAX_RECOVERY_CODES = 50;

/**
 * Options of `SecondFactors`.
 *
 * @example
 * ```ts
 * const options: SecondFactorsOptions = { totp: { issuer: "Example" }, recoveryCodes: { count: 10 } };
 * ```
 */
export interface SecondFactorsOptions {
  readonly totp: {
    /** The app's name as authenticator apps show it (1 to 64 characters, no colon). */
    readonly issuer: string;
  };
  readonly recoveryCodes?: {
    /** How many codes a set has (1 to 50). @default 10 */
    readonly count?: number;
  };
}

/**
 * {@link SecondFactorsOptions} with every default applied, frozen.
 *
 * @example
 * ```ts
 * mfa.options.recoveryCodes.count; // 10
 * ```
 */
export interface ResolvedSecondFactorsOptions {
  readonly totp: { readonly issuer: string };
  readonly recoveryCodes: { readonly count: number };
}

/**
 * Checks `options` (unknown names refused with a did-you-mean, values in range) and returns them
 * frozen with defaults applied; throws a `ConfigurationError` that says the fix.
 *
 * @example
 * ```ts
 * resolveSecondFactorsOptions({ totp: { issuer: "Example" } }); // { totp: { issuer: "Example" }, recoveryCodes: { count: 10 } }
 * ```
 */
export function resolveSecondFactorsOptions(options: unknown): ResolvedSecondFactorsOptions {
  checkNames(options, OPTION_NAMES, CONTEXT);
  const given = options as Partial<SecondFactorsOptions>;
  if (given.totp === undefined) {
    throw new ConfigurationError(`${CONTEXT}: totp.issuer is required, e.g. { totp: { issuer: "Example" } }`);
  }
  checkNames(given.totp, TOTP_NAMES, CONTEXT, "totp");
  const issuer = requireText(given.totp.issuer, "totp.issuer", CONTEXT, MAX_ISSUER_LENGTH);
  if (issuer.includes(":")) {
    throw new ConfigurationError(
      `${CONTEXT}: totp.issuer must not contain ":" (it separates issuer and account in the otpauth label)`,
    );
  }
  const recovery = given.recoveryCodes ?? {};
  checkNames(recovery, RECOVERY_NAMES, CONTEXT, "recoveryCodes");
  const count = wholeNumberOption(
    recovery.count,
    "recoveryCodes.count",
    CONTEXT,
    RECOVERY_CODE_COUNT,
    1,
    MAX_RECOVERY_CODES,
  );
  return Object.freeze({
    totp: Object.freeze({ issuer }),
    recoveryCodes: Object.freeze({ count }),
  });
}
