/**
 * "Forgot your password?": asking for a reset link by address, and the page the link opens.
 * login-manager's `PasswordReset` carries the rules (the same answer and work whether or not the
 * account exists, limits, links that expire and work once); these handlers are the pages around it.
 * Framework-neutral; `routes.ts` says which URL and guard each one serves.
 *
 * @module
 */
import { clientAddress } from "login-manager/adapter";
import { checkPasswordChoice } from "../domain/accounts.js";
import { checkEmail, emailKey } from "../domain/email.js";
import { notificationFor } from "../domain/notifier.js";
import { logSecurityEvent } from "../domain/security-log.js";
import type { User } from "../domain/users.js";
import type { WebApp } from "./app.js";
import { field, queryParam, redirect, type WebRequest, type WebResponse } from "./http.js";

/** Sent with every page reached by a link that carries a token, so no `Referer` ever repeats it. */
export const NO_REFERRER = { "referrer-policy": "no-referrer" } as const;

/**
 * The 400 page for a reset or verification link that does not work (expired, used, voided by a
 * password change, or mangled), with the way to a new one.
 *
 * @example
 * ```ts
 * return expiredLink(app, request, "reset");
 * ```
 */
export function expiredLink(app: WebApp, { auth, url }: WebRequest, kind: "reset" | "verify"): WebResponse {
  const reset = kind === "reset";
  const response = app.render(auth, url, 400, "link-expired", {
    title: "This link no longer works",
    message: reset
      ? "Password reset links work once, for a limited time, and stop working when the password changes. Ask for a new one."
      : "Confirmation links work once, for a limited time, and only the newest one works. Log in and ask for a new one on your account page.",
    action: reset
      ? { href: "/password/forgot", label: "Send me a new link" }
      : { href: "/account#email", label: "Go to your account" },
  });
  Object.assign(response.headers, NO_REFERRER);
  return response;
}

function forgotPage(
  app: WebApp,
  { auth, url }: WebRequest,
  status: number,
  data: { email: string; error: string | null; sent: boolean },
): WebResponse {
  return app.render(auth, url, status, "forgot", {
    title: "Forgot your password?",
    lifetime: describeSeconds(app.config.mail.resetTokenTtlSeconds),
    ...data,
  });
}

/** `GET /password/forgot`: the form that asks for the account's address. */
export function forgotForm(app: WebApp, request: WebRequest): WebResponse {
  return forgotPage(app, request, 200, { email: "", error: null, sent: false });
}

/**
 * `POST /password/forgot`: asks login-manager for a reset link. The same 200 page ("if an account
 * has the address, a link is on its way") whether or not an account has it; 400 for something that
 * is no address; 429 with `Retry-After` past the limits per address typed or per client address.
 */
export async function forgot(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const typed = field(request, "email");
  const checked = checkEmail(typed);
  if (!checked.ok)
    return forgotPage(app, request, 400, { email: typed, error: checked.message, sent: false });
  const email = checked.value.email;
  const answer = await app.recovery.reset.request({ email, request: auth.request });
  const ip = clientAddress(auth.request, app.config.trustProxyHops);
  if (!answer.ok) {
    logSecurityEvent(app.logger, {
      event: "password.reset-request",
      outcome: "blocked",
      reason: "rate-limited",
      retryAfterSeconds: answer.retryAfterSeconds,
      ip,
    });
    const wait = describeSeconds(answer.retryAfterSeconds);
    const error = `Too many reset requests. Please wait ${wait} and try again.`;
    const response = forgotPage(app, request, 429, { email, error, sent: false });
    response.headers["retry-after"] = String(answer.retryAfterSeconds);
    return response;
  }
  // Logged alike whether or not an account has the address: the log tells no more than the page.
  logSecurityEvent(app.logger, { event: "password.reset-request", outcome: "success", ip });
  return forgotPage(app, request, 200, { email, error: null, sent: true });
}

function resetPage(
  app: WebApp,
  { auth, url }: WebRequest,
  status: number,
  data: { token: string; user: User; error: string | null },
): WebResponse {
  const response = app.render(auth, url, status, "reset", {
    title: "Choose a new password",
    token: data.token,
    username: data.user.username,
    error: data.error,
  });
  Object.assign(response.headers, NO_REFERRER);
  return response;
}

/**
 * `GET /password/reset?token=...`: the new-password form (the token in a hidden field) while the
 * link works, else the 400 page with a way to a new link. Never uses the link (mail scanners
 * fetch links), and sends `Referrer-Policy: no-referrer`.
 */
export async function resetForm(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const token = queryParam(request.url, "token") ?? "";
  const user = await app.recovery.reset.check(token);
  if (!user) return expiredLink(app, request, "reset");
  return resetPage(app, request, 200, { token, user, error: null });
}

/**
 * `POST /password/reset` (`token`, `password`): checks the password policy (400 with the form, the
 * link still unused), then uses the link once: the password is changed, every session and
 * remember-me token of the user ends, the address counts as verified, a "your password was
 * changed" mail goes out; `303 /login` with a flash. A link that does not work: the 400 page.
 */
export async function resetPassword(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const token = field(request, "token");
  const user = await app.recovery.reset.check(token);
  if (!user) return expiredLink(app, request, "reset");
  const ip = clientAddress(auth.request, app.config.trustProxyHops);
  const choice = await checkPasswordChoice(app.services, user, {
    next: field(request, "password"),
    host: auth.request.header("host"),
  });
  if (!choice.ok) {
    const error = choice.errors.new_password ?? "Choose another password.";
    return resetPage(app, request, choice.status, { token, user, error });
  }
  const passwordHash = await app.services.hasher.hash(choice.password);
  const { users } = app.services;
  const done = await app.recovery.reset.complete({
    token,
    request: auth.request,
    setPassword: async (owner) => {
      await users.updatePasswordHash(owner.id, passwordHash);
      // The link reached this address: it is the user's.
      const key = owner.email === null ? undefined : emailKey(owner.email);
      if (owner.email !== null && key !== undefined)
        await users.setVerifiedEmail(owner.id, { email: owner.email, key });
    },
  });
  if (!done.ok) return expiredLink(app, request, "reset");
  const owner = done.user;
  logSecurityEvent(app.logger, {
    event: "password.reset",
    outcome: "success",
    userId: owner.getId(),
    username: owner.username,
    ip,
  });
  const verified = {
    username: owner.username,
    getId: () => owner.getId(),
    email: owner.email,
    emailVerified: true,
  };
  app.notifier.notify(notificationFor("password.reset", verified, ip));
  auth.flash(
    "Your password was changed, and every session was logged out. Log in with the new password.",
    "success",
  );
  return redirect("/login");
}

/** "30 minutes", "2 hours", "45 seconds". */
function describeSeconds(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 120) return `${minutes} minutes`;
  return `${Math.round(minutes / 60)} hours`;
}
