/**
 * `SecondFactors`: TOTP and recovery codes on a `LoginManager`'s store, tied to the request's
 * `AuthContext` (fresh login to change them, the browser binding for enrolment, the pending login
 * for the second step of a login, the account's single failure budget for every code checked).
 *
 * @module
 */
import { LoginManagerError } from "../core/errors.js";
import { TypedEvents } from "../core/events.js";
import type { RequestView } from "../core/http.js";
import type { LoginManager } from "../core/manager.js";
import type { LoginAttemptResult } from "../core/secret-checks.js";
import type { SessionStore } from "../core/store.js";
import type { AuthUser } from "../core/users.js";
import {
  type ResolvedSecondFactorsOptions,
  resolveSecondFactorsOptions,
  type SecondFactorsOptions,
} from "./options.js";
import { RecoveryCodeFactors } from "./recovery-factor.js";
import {
  AUTH_METHODS,
  dropOrphanRecoveryCodes,
  FACTOR_KINDS,
  freshUser,
  isSizedString,
  MAX_LABEL_LENGTH,
  type SecondFactorAuth,
  type SecretCheckResult,
} from "./shared.js";
import { totpUri } from "./totp.js";
import { TotpFactor } from "./totp-factor.js";

/** The longest account name put in an otpauth URI (an e-mail address's maximum). */
const MAX_ACCOUNT_NAME_LENGTH = 320;

/**
 * Payloads of `SecondFactors.events`. Codes and secrets are never part of them.
 *
 * @example
 * ```ts
 * mfa.events.on("recoveryCodeUsed", ({ userId, remaining }) => remaining < 3 && mailLowCodes(userId));
 * ```
 */
export interface SecondFactorEvents {
  totpEnabled: { userId: string; request: RequestView };
  totpDisabled: { userId: string; request: RequestView };
  recoveryCodesRegenerated: { userId: string; count: number; request: RequestView };
  /** `request` is absent for a code checked by {@link SecondFactors.verifyCode}. */
  recoveryCodeUsed: { userId: string; remaining: number; request?: RequestView };
}

/**
 * What a user has on: TOTP, how many recovery codes are left, how many passkeys.
 *
 * @example
 * ```ts
 * const status: SecondFactorStatus = { totp: true, recoveryCodesLeft: 9, passkeys: 1 };
 * ```
 */
export interface SecondFactorStatus {
  readonly totp: boolean;
  readonly recoveryCodesLeft: number;
  readonly passkeys: number;
}

/**
 * A new TOTP secret to show: as base32 text to type and as the `otpauth://` URI for a QR code.
 *
 * @example
 * ```ts
 * const { secret, uri } = await mfa.startTotp(req.auth, { accountName: user.email });
 * ```
 */
export interface TotpEnrolment {
  readonly secret: string;
  readonly uri: string;
}

/**
 * The second step of a login: a TOTP code, or one of the recovery codes.
 *
 * @example
 * ```ts
 * const input: SecondFactorInput = req.body.recovery_code ? { recoveryCode: req.body.recovery_code } : { code: req.body.code };
 * ```
 */
export type SecondFactorInput = { readonly code: unknown } | { readonly recoveryCode: unknown };

/**
 * TOTP (RFC 6238) and recovery codes for the users of a {@link LoginManager}. Secrets are sealed with
 * AES-256-GCM under keys derived from the manager's `secret` list (the first seals, all open, so a
 * rotated app secret keeps TOTP working; a secret sealed under an older key is sealed again when next
 * used). A code's time step is used once (the store's atomic counter), recovery codes once each (an
 * atomic delete), and every code checked in a login or to turn TOTP off counts in the account's
 * failure budget.
 *
 * @example
 * ```ts
 * const mfa = new SecondFactors(manager, { totp: { issuer: "Example" } });
 * app.post("/login/2fa", async (req, res) => {
 *   const result = await mfa.completeLogin(req.auth, { code: req.body.code });
 *   if (result === null) return res.redirect(303, "/login");
 *   if (!result.ok) return res.status(400).render("login-2fa", { error: "Wrong code" });
 *   res.redirect(303, "/");
 * });
 * ```
 */
export class SecondFactors<U extends AuthUser = AuthUser> {
  /** The checked, frozen options. */
  readonly options: ResolvedSecondFactorsOptions;
  /** Events of each step (see {@link SecondFactorEvents}). */
  readonly events = new TypedEvents<SecondFactorEvents>();
  readonly #store: SessionStore;
  readonly #totp: TotpFactor;
  readonly #codes: RecoveryCodeFactors;

  constructor(manager: LoginManager<U>, options: SecondFactorsOptions) {
    this.options = resolveSecondFactorsOptions(options);
    const { store, clock, secrets } = manager.options;
    this.#store = store;
    this.#totp = new TotpFactor(store, clock, secrets);
    this.#codes = new RecoveryCodeFactors(store, clock);
  }

  /**
   * What the user has on (one store call).
   *
   * @example
   * ```ts
   * const { totp, recoveryCodesLeft } = await mfa.status(user.getId());
   * ```
   */
  async status(userId: string): Promise<SecondFactorStatus> {
    const factors = await this.#store.listUserFactors(userId, null);
    const count = (kind: string) => factors.filter((factor) => factor.kind === kind).length;
    return {
      totp: count(FACTOR_KINDS.totp) > 0,
      recoveryCodesLeft: count(FACTOR_KINDS.recoveryCode),
      passkeys: count(FACTOR_KINDS.passkey),
    };
  }

  /**
   * Starts turning TOTP on: a new secret, waiting sealed for ten minutes in a one-time token bound to
   * this browser until {@link SecondFactors.confirmTotp} gets a right code. Needs a fresh login;
   * throws when TOTP is on already (turn it off first) or `accountName` is not 1 to 320 characters
   * without a colon.
   *
   * @example
   * ```ts
   * const { secret, uri } = await mfa.startTotp(req.auth, { accountName: user.email });
   * res.render("totp-start", { secret, qr: await QRCode.toDataURL(uri) });
   * ```
   */
  async startTotp(auth: SecondFactorAuth<U>, input: { accountName: string }): Promise<TotpEnrolment> {
    const userId = freshUser(auth, "startTotp").getId();
    const accountName = input?.accountName;
    if (!isSizedString(accountName, MAX_ACCOUNT_NAME_LENGTH, 1) || accountName.includes(":")) {
      throw new LoginManagerError(
        "ERR_CONFIGURATION",
        `startTotp: accountName must be 1 to ${MAX_ACCOUNT_NAME_LENGTH} characters without ":" (use the user's e-mail address or username)`,
      );
    }
    if (await this.#totp.isOn(userId)) {
      throw new LoginManagerError(
        "ERR_CONFIGURATION",
        "startTotp: TOTP is on already for this user; check status() before offering it, or disableTotp() first",
      );
    }
    const secret = await this.#totp.start(userId, auth.browserBinding());
    return { secret, uri: totpUri({ issuer: this.options.totp.issuer, account: accountName, secret }) };
  }

  /**
   * Finishes turning TOTP on with the first code from the app. Right: TOTP is on (the code's step
   * counts as used) and a new set of recovery codes replaces any earlier one; show them once.
   * `invalid`: wrong code (try again); `expired`: no enrolment in this browser within ten minutes.
   *
   * @example
   * ```ts
   * const result = await mfa.confirmTotp(req.auth, req.body.code);
   * if (result.ok) res.render("recovery-codes", { codes: result.recoveryCodes });
   * ```
   */
  async confirmTotp(
    auth: SecondFactorAuth<U>,
    code: unknown,
  ): Promise<{ ok: true; recoveryCodes: string[] } | { ok: false; reason: "invalid" | "expired" }> {
    const userId = freshUser(auth, "confirmTotp").getId();
    const confirmation = await this.#totp.confirm(userId, auth.browserBinding(), code);
    if (!confirmation.ok) return confirmation;
    if (!(await this.#totp.enable(userId, confirmation.sealed, confirmation.step))) {
      return { ok: false, reason: "expired" };
    }
    const recoveryCodes = await this.#codes.replace(userId, this.options.recoveryCodes.count);
    this.events.emit("totpEnabled", { userId, request: auth.request });
    return { ok: true, recoveryCodes };
  }

  /**
   * Turns TOTP off after checking a current TOTP code or a recovery code (which is used up) against
   * the account's failure budget (`account` as given to `attemptLogin`). The recovery codes go too,
   * unless a passkey remains. A code longer than 64 characters is refused without any store call.
   *
   * @example
   * ```ts
   * const result = await mfa.disableTotp(req.auth, { account: user.username, code: req.body.code });
   * if (!result.ok) return res.status(400).render("account", { error: "Wrong code" });
   * ```
   */
  async disableTotp(
    auth: SecondFactorAuth<U>,
    input: { account: string; code: unknown },
  ): Promise<SecretCheckResult> {
    const userId = auth.requireUser().getId();
    const code = input?.code;
    if (!isSizedString(code, MAX_LABEL_LENGTH)) return { ok: false, reason: "invalid" };
    const result = await auth.verifySecret({
      account: input.account,
      verify: () => this.#checkCode(userId, code, auth.request),
    });
    if (!result.ok) return result;
    await this.#totp.disable(userId);
    await dropOrphanRecoveryCodes(this.#store, userId);
    this.events.emit("totpDisabled", { userId, request: auth.request });
    return { ok: true };
  }

  /**
   * A new set of recovery codes replacing the old one; show them once. Needs a fresh login and a
   * second factor (TOTP or a passkey) on; throws otherwise.
   *
   * @example
   * ```ts
   * res.render("recovery-codes", { codes: await mfa.regenerateRecoveryCodes(req.auth) });
   * ```
   */
  async regenerateRecoveryCodes(auth: SecondFactorAuth<U>): Promise<string[]> {
    const userId = freshUser(auth, "regenerateRecoveryCodes").getId();
    const { totp, passkeys } = await this.status(userId);
    if (!totp && passkeys === 0) {
      throw new LoginManagerError(
        "ERR_CONFIGURATION",
        "regenerateRecoveryCodes: the user has no second factor on; recovery codes come with TOTP or a passkey",
      );
    }
    const codes = await this.#codes.replace(userId, this.options.recoveryCodes.count);
    this.events.emit("recoveryCodesRegenerated", { userId, count: codes.length, request: auth.request });
    return codes;
  }

  /**
   * The second step of a login waiting for it: a TOTP code (method `otp`) or a recovery code (`rc`),
   * checked under the account's failure budget by `auth.completeLogin`. Null when no login is
   * pending (send the user back to the login page).
   *
   * @example
   * ```ts
   * const result = await mfa.completeLogin(req.auth, { code: req.body.code });
   * ```
   */
  completeLogin(auth: SecondFactorAuth<U>, input: SecondFactorInput): Promise<LoginAttemptResult<U> | null> {
    const recovery = typeof input === "object" && input !== null && "recoveryCode" in input;
    const value = recovery ? input.recoveryCode : (input as { code?: unknown } | null)?.code;
    const sized = isSizedString(value, MAX_LABEL_LENGTH);
    return auth.completeLogin({
      methods: [recovery ? AUTH_METHODS.rc : AUTH_METHODS.otp],
      verify: async (pending) => {
        if (!sized) return false;
        if (!recovery) return this.#totp.verify(pending.userId, value);
        return this.#useRecoveryCode(pending.userId, value, auth.request);
      },
    });
  }

  /**
   * Whether `code` is the user's current TOTP code or one of their recovery codes, using it up (the
   * time step, or the code). For re-authentication under the failure budget:
   * `auth.attemptReauth({ account, verify: () => mfa.verifyCode(user.getId(), code) })`.
   *
   * @example
   * ```ts
   * const ok = await mfa.verifyCode(user.getId(), req.body.code);
   * ```
   */
  async verifyCode(userId: string, code: unknown): Promise<boolean> {
    return (await this.codeMethod(userId, code)) !== null;
  }

  /**
   * As {@link SecondFactors.verifyCode}, saying which kind of code it was: `"otp"` (a TOTP code) or
   * `"rc"` (a recovery code), the method to record (`auth.confirmLogin(["pwd", method])`); null when
   * it was neither.
   *
   * @example
   * ```ts
   * const method = await mfa.codeMethod(user.getId(), req.body.code);
   * if (method) await req.auth.confirmLogin(["pwd", method]);
   * ```
   */
  codeMethod(userId: string, code: unknown): Promise<"otp" | "rc" | null> {
    return this.#codeMethod(userId, code, undefined);
  }

  async #checkCode(userId: string, code: unknown, request: RequestView | undefined): Promise<boolean> {
    return (await this.#codeMethod(userId, code, request)) !== null;
  }

  async #codeMethod(
    userId: string,
    code: unknown,
    request: RequestView | undefined,
  ): Promise<"otp" | "rc" | null> {
    if (!isSizedString(code, MAX_LABEL_LENGTH)) return null;
    if (await this.#totp.verify(userId, code)) return AUTH_METHODS.otp;
    return (await this.#useRecoveryCode(userId, code, request)) ? AUTH_METHODS.rc : null;
  }

  async #useRecoveryCode(userId: string, code: unknown, request: RequestView | undefined): Promise<boolean> {
    if (!(await this.#codes.use(userId, code))) return false;
    const remaining = await this.#codes.count(userId);
    this.events.emit("recoveryCodeUsed", { userId, remaining, ...(request ? { request } : {}) });
    return true;
  }
}
