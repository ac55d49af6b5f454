/**
 * The account page: the e-mail address and its status, active sessions with revoke buttons, "log
 * out other sessions" and the change-password form. The password change and every revocation need a fresh login (`/reauth`), as
 * login-manager's `revokeSession` and `revokeOtherSessions` themselves require: a session restored
 * from a stolen remember-me cookie cannot log the owner out, all at once or one session at a time.
 * Framework-neutral handlers; `routes.ts` says which URL and guard each one serves.
 *
 * @module
 */
import { clientAddress } from "login-manager/adapter";
import { type FieldErrors, setNewPassword } from "../domain/accounts.js";
import { notificationFor } from "../domain/notifier.js";
import { logSecurityEvent } from "../domain/security-log.js";
import { passkeyRows, sessionRows } from "../domain/session-view.js";
import type { WebApp } from "./app.js";
import { confirmPassword } from "./confirm-password.js";
import { field, redirect, type WebRequest, type WebResponse } from "./http.js";
import { appUser, PASSKEY_SCRIPT } from "./pages.js";

const HANDLE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Messages on the account page: a form's fields, `verify` for the "send again" button and
 * `totp_code` for the form that turns two-step verification off.
 */
export type AccountErrors = FieldErrors & { verify?: string; totp_code?: string };

/**
 * The account page with `status`: the address and its status, the sessions, two-step verification
 * and passkeys, the forms, and `errors` next to what they are about.
 *
 * @example
 * ```ts
 * return accountPage(app, request, 400, { email: "Enter an e-mail address like name@example.com." });
 * ```
 */
export async function accountPage(
  app: WebApp,
  { auth, url }: WebRequest,
  status: number,
  errors: AccountErrors,
): Promise<WebResponse> {
  const user = appUser(auth);
  const [sessions, mfa, passkeys] = await Promise.all([
    auth.listSessions(),
    app.mfa.factors.status(user.getId()),
    app.mfa.passkeys().list(user.getId()),
  ]);
  return app.render(auth, url, status, "account", {
    title: "Your account",
    account: { email: user.email, verified: user.emailVerified },
    sessions: sessionRows(sessions),
    mfa: { totp: mfa.totp, recoveryCodesLeft: mfa.recoveryCodesLeft },
    passkeys: passkeyRows(passkeys),
    fresh: auth.loginFresh(),
    errors,
    scripts: [PASSKEY_SCRIPT],
  });
}

/** `GET /account` (login required): the sessions and the change-password form. */
export function account(app: WebApp, request: WebRequest): Promise<WebResponse> {
  return accountPage(app, request, 200, {});
}

/**
 * `GET /account/password`, `GET /account/sessions/revoke-others`, `GET /account/sessions/revoke` and
 * `GET /account/sessions/:handle/revoke` (login required): where `/reauth` sends the user back to
 * after a POST was refused for a stale login; `303 /account`.
 */
export function backToAccount(): WebResponse {
  return redirect("/account");
}

/**
 * `POST /account/password` (fresh login required): checks the current password (counted in the
 * session store like `/reauth`, see {@link confirmPassword}; once locked, the session is logged out)
 * and the policy, then keeps this session (new id), ends every other one and notifies the user; 400
 * with the form otherwise.
 */
export async function changePassword(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const user = appUser(auth);
  const ip = clientAddress(auth.request, app.config.trustProxyHops);
  const failed = (reason: string) =>
    logSecurityEvent(app.logger, {
      event: "password.change",
      outcome: "failure",
      userId: user.getId(),
      username: user.username,
      reason,
      ip,
    });
  const current = await confirmPassword(app.services, request, user, field(request, "current_password"));
  if (current !== "confirmed") {
    failed(current === "locked" ? "locked" : "wrong-current-password");
    if (current === "locked") return redirect("/login");
    return accountPage(app, request, 400, { current_password: "Your current password is not correct." });
  }
  const result = await setNewPassword(app.services, user, {
    next: field(request, "new_password"),
    host: auth.request.header("host"),
  });
  if (!result.ok) {
    failed("policy");
    return accountPage(app, request, result.status, result.errors);
  }
  const ended = await auth.afterPasswordChange();
  logSecurityEvent(app.logger, {
    event: "password.change",
    outcome: "success",
    userId: user.getId(),
    username: user.username,
    count: ended,
    ip,
  });
  app.notifier.notify(notificationFor("password.changed", user, ip));
  auth.flash(`Password changed. ${sessionsEnded(ended)}`, "success");
  return redirect("/account");
}

/**
 * `POST /account/sessions/revoke-others` (fresh login required): ends every other session and
 * notifies the user.
 */
export async function revokeOthers(app: WebApp, { auth }: WebRequest): Promise<WebResponse> {
  const ended = await auth.revokeOtherSessions();
  const ip = clientAddress(auth.request, app.config.trustProxyHops);
  app.notifier.notify(notificationFor("sessions.revoked-others", appUser(auth), ip));
  auth.flash(sessionsEnded(ended), "success");
  return redirect("/account");
}

/** `POST /account/sessions/revoke` (fresh login required): ends the session whose handle is in the form. */
export function revokeFromForm(_app: WebApp, request: WebRequest): Promise<WebResponse> {
  return revoke(request, field(request, "handle"));
}

/** `POST /account/sessions/:handle/revoke` (fresh login required): ends the session named in the URL. */
export function revokeFromPath(_app: WebApp, request: WebRequest): Promise<WebResponse> {
  return revoke(request, request.params.handle ?? "");
}

async function revoke({ auth }: WebRequest, handle: string): Promise<WebResponse> {
  if (!HANDLE.test(handle) || !(await auth.revokeSession(handle))) {
    auth.flash("That session had already ended.", "info");
    return redirect("/account");
  }
  if (!auth.isAuthenticated) {
    auth.flash("You ended the session on this device.", "success");
    return redirect("/login");
  }
  auth.flash("Session ended. That device is logged out.", "success");
  return redirect("/account");
}

function sessionsEnded(count: number): string {
  if (count === 0) return "No other sessions were active.";
  return count === 1 ? "1 other session was logged out." : `${count} other sessions were logged out.`;
}
