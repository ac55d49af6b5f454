/**
 * The account's e-mail address: confirming it from the mailed link, asking for the link again,
 * changing it (the change takes effect once the new address is confirmed), and, in development, the
 * outbox page listing the mails the app wrote instead of sending. login-manager's
 * `EmailVerification` carries the link rules. Framework-neutral; `routes.ts` says which URL and
 * guard each one serves.
 *
 * @module
 */
import { clientAddress } from "login-manager/adapter";
import { checkEmail, emailKey } from "../domain/email.js";
import { emailChangeNotice } from "../domain/mails.js";
import { logMail } from "../domain/notifier.js";
import { logSecurityEvent } from "../domain/security-log.js";
import { DuplicateEmailError } from "../domain/users.js";
import { notFound, type WebApp } from "./app.js";
import { field, queryParam, redirect, type WebRequest, type WebResponse } from "./http.js";
import { appUser } from "./pages.js";
import { accountPage } from "./routes-account.js";
import { expiredLink, NO_REFERRER } from "./routes-recovery.js";

/**
 * `GET /email/verify?token=...`: a "Confirm" button for the address the link verifies, while it
 * works (else the 400 page). Never uses the link: mail scanners fetch links before people click.
 */
export async function verifyForm(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth, url } = request;
  const token = queryParam(url, "token") ?? "";
  const pending = await app.recovery.verification.check(token);
  const user = pending ? await app.services.users.findById(pending.userId) : null;
  if (!pending || !user) return expiredLink(app, request, "verify");
  const response = app.render(auth, url, 200, "verify", {
    title: "Confirm your e-mail address",
    token,
    email: pending.email,
    username: user.username,
  });
  Object.assign(response.headers, NO_REFERRER);
  return response;
}

/**
 * `POST /email/verify` (`token`): uses the link once and makes its address the account's, verified
 * (a change takes effect only now); `303` to the account page (or the login page) with a flash. 400
 * for a link that does not work, 409 when another account took the address meanwhile.
 */
export async function verifyEmail(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth, url } = request;
  const verified = await app.recovery.verification.confirm(field(request, "token"));
  const user = verified ? await app.services.users.findById(verified.userId) : null;
  const key = verified ? emailKey(verified.email) : undefined;
  if (!verified || !user || key === undefined) return expiredLink(app, request, "verify");
  const change = user.email === null || emailKey(user.email) !== key;
  try {
    await app.services.users.setVerifiedEmail(user.id, { email: verified.email, key });
  } catch (error) {
    if (!(error instanceof DuplicateEmailError)) throw error;
    return app.render(auth, url, 409, "link-expired", {
      title: "That address is taken",
      message: "Another account has confirmed this address in the meantime. Choose another one.",
      action: { href: "/account#email", label: "Go to your account" },
    });
  }
  // A reset link mailed to the former address must not outlive the change (checklist L.73).
  if (change) await app.manager.revokeOneTimeTokens(user.getId(), "password-reset");
  logSecurityEvent(app.logger, {
    event: "email.verify",
    outcome: "success",
    userId: user.getId(),
    username: user.username,
    reason: change ? "change" : "confirm",
    ip: clientAddress(auth.request, app.config.trustProxyHops),
  });
  const sameUser = auth.isAuthenticated && appUser(auth).id === user.id;
  auth.flash(
    change ? `Your e-mail address is now ${verified.email}.` : "Your e-mail address is confirmed.",
    "success",
  );
  return redirect(sameUser ? "/account" : "/login");
}

/**
 * `POST /account/email/resend` (login required): mails a new link for the account's unconfirmed
 * address (voiding the earlier ones); 429 with `Retry-After` and the account page past the limits
 * per user or client address.
 */
export async function resendVerification(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const user = appUser(auth);
  if (!user.email || user.emailVerified) {
    auth.flash(
      user.email ? "Your e-mail address is already confirmed." : "Add an e-mail address first.",
      "info",
    );
    return redirect("/account");
  }
  const answer = await app.recovery.verification.send({ user, email: user.email, request: auth.request });
  if (!answer.ok) return tooManyMails(app, request, answer.retryAfterSeconds);
  auth.flash(`We sent a new link to ${user.email}.`, "success");
  return redirect("/account");
}

/**
 * `POST /account/email` (`email`; fresh login required): mails a link to the new address and a
 * notice to the current one (when confirmed); the address changes once the link is followed. 400
 * for something that is no address or is the current one, 429 with `Retry-After` past the limits.
 */
export async function changeEmail(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const user = appUser(auth);
  const checked = checkEmail(field(request, "email"));
  if (!checked.ok) return accountPage(app, request, 400, { email: checked.message });
  const { email, key } = checked.value;
  if (user.email !== null && emailKey(user.email) === key && user.emailVerified) {
    return accountPage(app, request, 400, { email: "That is already your address." });
  }
  // Whether another account has the address is not said here (the page would tell anyone logged in
  // who is registered): its owner gets the link, and confirming it then answers 409.
  const answer = await app.recovery.verification.send({ user, email, request: auth.request });
  if (!answer.ok) return tooManyMails(app, request, answer.retryAfterSeconds);
  if (user.email && user.emailVerified && emailKey(user.email) !== key) {
    const notice = emailChangeNotice({
      to: user.email,
      username: user.username,
      newEmail: email,
      resetLink: `${app.config.baseUrl}/password/forgot`,
    });
    app.mailer.send(notice).then(
      () => logMail(app.logger, "email.change-notice", user.getId()),
      (error: unknown) => logMail(app.logger, "email.change-notice", user.getId(), error),
    );
  }
  logSecurityEvent(app.logger, {
    event: "email.change",
    outcome: "success",
    userId: user.getId(),
    username: user.username,
    ip: clientAddress(auth.request, app.config.trustProxyHops),
  });
  auth.flash(`We sent a link to ${email}. Your address changes once you open it.`, "success");
  return redirect("/account");
}

/**
 * `GET /dev/outbox` (development only): the mails written to `DATA_DIR/outbox/`, newest first, with
 * their links; 404 when mail goes out over SMTP, and in production.
 */
export async function outboxPage(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth, url } = request;
  if (!app.outbox || app.config.production)
    return notFound(app, { method: "GET", url, accept: undefined, auth });
  const mails = (await app.outbox.list()).map((mail) => ({
    ...mail,
    date: mail.date?.toISOString(),
    links: mail.text.match(/https?:\/\/[^\s<>"]+/g) ?? [],
  }));
  return app.render(auth, url, 200, "outbox", { title: "Outbox", dir: app.outbox.dir, mails });
}

function tooManyMails(app: WebApp, request: WebRequest, retryAfterSeconds: number): Promise<WebResponse> {
  const minutes = Math.max(1, Math.ceil(retryAfterSeconds / 60));
  const message = `Too many mails asked for. Please wait ${minutes} minute${minutes === 1 ? "" : "s"} and try again.`;
  return accountPage(app, request, 429, { verify: message }).then((response) => {
    response.headers["retry-after"] = String(retryAfterSeconds);
    return response;
  });
}
