/**
 * Two-step verification with an authenticator app (TOTP) and recovery codes: turning it on and off
 * and new recovery codes on the account page (fresh login required), and the second step of a login
 * (`/login/2fa`). Framework-neutral handlers; `routes.ts` says which URL and guard each one serves.
 *
 * @module
 */
import { isSafeNextUrl, safeNextUrl } from "login-manager";
import { clientAddress } from "login-manager/adapter";
import { notificationFor } from "../domain/notifier.js";
import { logSecurityEvent, type SecurityEvent } from "../domain/security-log.js";
import type { User } from "../domain/users.js";
import type { WebApp } from "./app.js";
import { accountOf } from "./confirm-password.js";
import { field, queryParam, redirect, type WebRequest, type WebResponse } from "./http.js";
import { appUser, PASSKEY_SCRIPT } from "./pages.js";
import { qrCodeDataUrl } from "./qr.js";
import { accountPage } from "./routes-account.js";

/** Longest code read from a form: longer input cannot be a code, and is cut before any work. */
const MAX_CODE_LENGTH = 64;
/** The flash on the login page when there is no second step to complete (none started, or expired). */
export const NO_PENDING_LOGIN = "Your sign-in expired or was not started. Please log in again.";
const WRONG_CODE = "That code is not right. Try the current code, or a recovery code.";
/** The flash on the login page after a session was logged out for too many wrong codes. */
export const TOO_MANY_WRONG_CODES = "Too many wrong codes: you have been logged out. Please log in again.";

/** A code field: trimmed, at most {@link MAX_CODE_LENGTH} characters. */
export function codeField(request: WebRequest, name: string): string {
  return [...field(request, name).trim()].slice(0, MAX_CODE_LENGTH).join("");
}

/**
 * Where `POST /login` sends a user whose account has a second factor: `/login/2fa`, keeping a safe `next`.
 *
 * @example
 * ```ts
 * secondStepUrl("/protected"); // "/login/2fa?next=%2Fprotected"
 * ```
 */
export function secondStepUrl(next: string): string {
  return next !== "" && isSafeNextUrl(next) ? `/login/2fa?next=${encodeURIComponent(next)}` : "/login/2fa";
}

function log(app: WebApp, { auth }: WebRequest, event: SecurityEvent): void {
  logSecurityEvent(app.logger, { ...event, ip: clientAddress(auth.request, app.config.trustProxyHops) });
}

function notify(app: WebApp, { auth }: WebRequest, kind: Parameters<typeof notificationFor>[0], user: User) {
  app.notifier.notify(notificationFor(kind, user, clientAddress(auth.request, app.config.trustProxyHops)));
}

/** The second-step page: a code form, a recovery-code form, and the passkey button when the user has one. */
async function secondStepPage(
  app: WebApp,
  { auth, url }: WebRequest,
  pending: { userId: string },
  next: string,
  status: number,
  error: string | null,
): Promise<WebResponse> {
  const enrolled = await app.mfa.factors.status(pending.userId);
  return app.render(auth, url, status, "login-2fa", {
    title: "Two-step verification",
    next: isSafeNextUrl(next) ? next : "",
    totp: enrolled.totp,
    passkeys: enrolled.passkeys > 0,
    // A passkey user may hold recovery codes too (made on the account page).
    recovery: enrolled.totp || enrolled.recoveryCodesLeft > 0,
    error,
    scripts: enrolled.passkeys > 0 ? [PASSKEY_SCRIPT] : [],
  });
}

function noPendingLogin({ auth }: WebRequest): WebResponse {
  auth.flash(NO_PENDING_LOGIN, "info");
  return redirect("/login");
}

/** `GET /login/2fa`: the second step of a login the password started; `303 /login` when there is none. */
export async function secondStepForm(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const pending = await request.auth.pendingLogin();
  if (!pending) return noPendingLogin(request);
  return secondStepPage(app, request, pending, queryParam(request.url, "next") ?? "", 200, null);
}

/**
 * `POST /login/2fa`: `code` (from the authenticator app) or `recovery_code` completes the login begun
 * by the password (new session id, remember-me as chosen then) and goes on to a safe `next`. A wrong
 * code is 401 with the form, counted in the account's failure budget (the one passwords use); the
 * failure that locks, and every attempt during the lock, is 429 with `Retry-After`. Without a pending
 * login (none, expired, used), `303 /login` with a flash.
 */
export async function secondStep(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const next = field(request, "next");
  const pending = await auth.pendingLogin();
  if (!pending) return noPendingLogin(request);
  const code = codeField(request, "code");
  const recoveryCode = codeField(request, "recovery_code");
  if (code === "" && recoveryCode === "") {
    return secondStepPage(app, request, pending, next, 400, "Enter the code from your authenticator app.");
  }
  const result = await app.mfa.factors.completeLogin(auth, code !== "" ? { code } : { recoveryCode });
  if (result === null) return noPendingLogin(request);
  const factor = code !== "" ? "totp" : "recovery-code";
  if (result.ok) {
    const user = result.user as User;
    // The security log line comes from SecondFactors' recoveryCodeUsed (domain/second-factors.ts).
    if (factor === "recovery-code") {
      const { recoveryCodesLeft } = await app.mfa.factors.status(user.getId());
      auth.flash(`You used a recovery code; ${recoveryCodesLeft} left.`, "info");
    }
    auth.flash("Logged in successfully.", "success");
    return redirect(safeNextUrl(next, "/"));
  }
  const locked = result.retryAfterSeconds !== undefined;
  log(app, request, {
    event: "mfa.failure",
    outcome: locked ? "blocked" : "failure",
    userId: pending.userId,
    factor,
    reason: locked ? "locked" : "wrong-code",
    ...(locked ? { retryAfterSeconds: result.retryAfterSeconds } : {}),
  });
  if (!locked) return secondStepPage(app, request, pending, next, 401, WRONG_CODE);
  const seconds = result.retryAfterSeconds as number;
  const response = await secondStepPage(
    app,
    request,
    pending,
    next,
    429,
    `Too many failed attempts. Please wait ${seconds} second${seconds === 1 ? "" : "s"} and try again.`,
  );
  response.headers["retry-after"] = String(seconds);
  return response;
}

/** `POST /login/2fa/cancel`: forgets the pending login (the password step), `303 /login`. */
export async function cancelSecondStep(_app: WebApp, { auth }: WebRequest): Promise<WebResponse> {
  await auth.cancelPendingLogin();
  return redirect("/login");
}

/**
 * `POST /account/2fa/totp/start` (fresh login required): a new secret for the authenticator app, shown
 * as a QR code and as its `otpauth://` URI, with the form that confirms it. Nothing is turned on yet.
 */
export async function startTotp(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth, url } = request;
  const user = appUser(auth);
  if ((await app.mfa.factors.status(user.getId())).totp) {
    auth.flash("Two-step verification is already on.", "info");
    return redirect("/account");
  }
  const { secret, uri } = await app.mfa.factors.startTotp(auth, { accountName: user.username });
  return app.render(auth, url, 200, "totp-setup", {
    title: "Set up your authenticator app",
    setup: { qr: await qrCodeDataUrl(uri), uri, secret: secret.replace(/(.{4})(?=.)/g, "$1 ") },
    error: null,
  });
}

/**
 * `POST /account/2fa/totp/confirm` (fresh login required): `code` from the app turns TOTP on and
 * shows the ten recovery codes, once. A wrong code is 400 with the form; a setup that expired, 400
 * with a way to start again.
 */
export async function confirmTotp(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth, url } = request;
  const user = appUser(auth);
  const result = await app.mfa.factors.confirmTotp(auth, codeField(request, "code"));
  if (!result.ok) {
    const expired = result.reason === "expired";
    return app.render(auth, url, 400, "totp-setup", {
      title: "Set up your authenticator app",
      setup: null,
      expired,
      error: expired
        ? "The setup expired. Please start again."
        : "That code is not right. Enter the 6-digit code your app shows now.",
    });
  }
  log(app, request, {
    event: "mfa.enabled",
    outcome: "success",
    userId: user.getId(),
    username: user.username,
  });
  notify(app, request, "mfa.enabled", user);
  return recoveryCodesPage(app, request, result.recoveryCodes, true);
}

function recoveryCodesPage(
  app: WebApp,
  { auth, url }: WebRequest,
  codes: readonly string[],
  enabled: boolean,
) {
  return app.render(auth, url, 200, "recovery-codes", {
    title: enabled ? "Two-step verification is on" : "Your new recovery codes",
    codes,
    enabled,
  });
}

/**
 * `POST /account/2fa/recovery-codes` (fresh login required, TOTP on or a passkey): ten new recovery
 * codes, shown once; the old ones stop working.
 */
export async function regenerateRecoveryCodes(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const user = appUser(auth);
  const { totp, passkeys } = await app.mfa.factors.status(user.getId());
  if (!totp && passkeys === 0) {
    auth.flash("Turn on two-step verification or add a passkey first.", "info");
    return redirect("/account");
  }
  const codes = await app.mfa.factors.regenerateRecoveryCodes(auth);
  log(app, request, {
    event: "mfa.recovery-codes",
    outcome: "success",
    userId: user.getId(),
    username: user.username,
  });
  notify(app, request, "mfa.recovery-codes", user);
  return recoveryCodesPage(app, request, codes, false);
}

/**
 * `POST /account/2fa/totp/disable` (fresh login required): `code`, a current code or a recovery code,
 * turns TOTP off (and deletes the recovery codes) and mails the user. A wrong code is 400 with the
 * account page, counted in the account's failure budget; the one that locks, or any during a lock,
 * logs this session out, as a wrong password at `/reauth` does.
 */
export async function disableTotp(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const user = appUser(auth);
  const code = codeField(request, "code");
  if (code === "") return accountPage(app, request, 400, { totp_code: "Enter a code to turn it off." });
  const result = await app.mfa.factors.disableTotp(auth, { account: accountOf(user), code });
  if (result.ok) {
    log(app, request, {
      event: "mfa.disabled",
      outcome: "success",
      userId: user.getId(),
      username: user.username,
    });
    notify(app, request, "mfa.disabled", user);
    auth.flash("Two-step verification is off. We sent you a mail about it.", "success");
    return redirect("/account");
  }
  const locked = result.reason === "locked" || result.retryAfterSeconds !== undefined;
  log(app, request, {
    event: "mfa.failure",
    outcome: locked ? "blocked" : "failure",
    userId: user.getId(),
    username: user.username,
    factor: "totp",
    reason: locked ? "locked" : "wrong-code",
  });
  if (!locked) return accountPage(app, request, 400, { totp_code: "That code is not right." });
  await auth.logoutUser();
  auth.flash(TOO_MANY_WRONG_CODES, "error");
  return redirect("/login");
}
