/**
 * Password reset ("forgot your password?") on the manager's one-time tokens, with the rules built in
 * (OWASP Forgot Password Cheat Sheet, ASVS V6.4): the same answer and the same work whether or not
 * the account exists, limits per account and per client address, links that expire, work once, are
 * kept hashed and die with any password change; a completed reset ends every session and remember-me
 * token of the user. Users, templates and mail transport stay the app's.
 *
 * @module
 */
import type { RequestView } from "../core/http.js";
import type { LoginManager } from "../core/manager.js";
import type { AuthUser } from "../core/users.js";
import { type AccountLinkMessage, AccountLinks } from "./account-links.js";
import { type DeliveryErrorHandler, defaultDeliveryErrorHandler } from "./deliveries.js";
import type { MailRequestAnswer } from "./limiter.js";
import {
  checkOptionNames,
  type RecoveryLimits,
  requireFunction,
  resolveLimits,
  wholeNumber,
} from "./shared.js";

const CONTEXT = "PasswordReset";
/**
 * The one-time token purpose of reset links.
 *
 * @example
 * ```ts
 * await manager.revokeOneTimeTokens(user.getId(), PASSWORD_RESET_PURPOSE); // void pending links
 * ```
 */
export const PASSWORD_RESET_PURPOSE = "password-reset";
const DEFAULT_TTL_SECONDS = 1800;
/** A reset link valid for more than a day is a standing key to the account. */
const MAX_TTL_SECONDS = 86_400;
const OPTION_NAMES = [
  "findUserByEmail",
  "findUserById",
  "sendResetMail",
  "ttlSeconds",
  "limits",
  "onDeliveryError",
] as const;
const MAIL_HINTS = { sendMail: "sendResetMail", sendEmail: "sendResetMail" };

/**
 * Options of {@link PasswordReset}.
 *
 * @example
 * ```ts
 * const options: PasswordResetOptions<User> = {
 *   findUserByEmail: (email) => users.findByEmail(email.trim().toLowerCase()),
 *   findUserById: (id) => users.findById(id),
 *   sendResetMail: ({ user, token }) =>
 *     mailer.send({ to: user.email, text: `${config.baseUrl}/password/reset?token=${token}` }),
 * };
 * ```
 */
export interface PasswordResetOptions<U extends AuthUser> {
  /**
   * The account with this address, or null. Canonicalise the address the way registration does. Return
   * null for an account that may not reset its password (a disabled one). Keep its time alike for a
   * found and a missing account (one indexed query either way): it is the one part of the request's
   * work the library cannot make alike.
   */
  findUserByEmail(email: string): Promise<U | null>;
  /** The user with this id, or null (the id is the one `user.getId()` gave when the link was issued). */
  findUserById(id: string): Promise<U | null>;
  /**
   * Sends the reset mail. `message.email` is the address as typed in the request: send the mail to the
   * address stored on `message.user`, which is the one your lookup matched (a typed address that only
   * folds to the stored one, like GitHub's 2019 dotless-i case, must never receive the link). Build
   * the link from configuration (`APP_BASE_URL`), never from the request's Host. Started after the
   * request has been answered and never awaited by it; a rejection goes to `onDeliveryError`.
   */
  sendResetMail(message: AccountLinkMessage<U>): Promise<void>;
  /** How long a link works, in seconds (1 to 86400). @default 1800 */
  ttlSeconds?: number;
  /** Requests per account (the address typed) and per client address in a window. @default { perAccount: 3, perAddress: 10, windowSeconds: 3600 } */
  limits?: RecoveryLimits;
  /** Receives a failed delivery's error. @default logs it with console.error */
  onDeliveryError?(error: unknown): void;
}

/**
 * Password reset on a {@link LoginManager}: {@link PasswordReset.request} mails a link,
 * {@link PasswordReset.check} tells the form's GET whether the link works (without using it), and
 * {@link PasswordReset.complete} uses it once, sets the password through the app and ends every
 * session and remember-me token of the user (`sessionsRevoked` with reason `"password-reset"`).
 *
 * A link is voided by a newer request, by the completion of another link, by its expiry, and by any
 * revocation of the user's sessions since it was issued: a password change by any path
 * (`auth.afterPasswordChange()`), "log out other sessions", `manager.revokeUserSessions`. A completed
 * reset voids the user's other one-time tokens too (an e-mail verification link sent earlier).
 *
 * @example
 * ```ts
 * const reset = new PasswordReset(manager, {
 *   findUserByEmail: (email) => users.findByEmail(email),
 *   findUserById: (id) => users.findById(id),
 *   sendResetMail: ({ user, token }) => mail.sendReset(user.email, `${config.baseUrl}/password/reset?token=${token}`),
 * });
 *
 * app.post("/password/forgot", async (req, res) => {
 *   const answer = await reset.request({ email: String(req.body.email ?? ""), request: req.auth.request });
 *   if (!answer.ok) return res.status(429).set("retry-after", String(answer.retryAfterSeconds)).render("slow-down");
 *   res.render("forgot-sent"); // "if an account exists, a link is on its way"
 * });
 * app.post("/password/reset", async (req, res) => {
 *   const done = await reset.complete({
 *     token: String(req.body.token ?? ""),
 *     setPassword: async (user) => users.setPasswordHash(user.id, await hasher.hash(req.body.password)),
 *   });
 *   if (!done.ok) return res.status(400).render("reset-expired");
 *   res.redirect(303, "/login");
 * });
 * ```
 */
export class PasswordReset<U extends AuthUser> {
  readonly #manager: LoginManager<U>;
  readonly #links: AccountLinks<U>;

  constructor(manager: LoginManager<U>, options: PasswordResetOptions<U>) {
    checkOptionNames(options, OPTION_NAMES, CONTEXT, MAIL_HINTS);
    const onDeliveryError = options.onDeliveryError ?? defaultDeliveryErrorHandler;
    this.#manager = manager;
    this.#links = new AccountLinks(manager, {
      purpose: PASSWORD_RESET_PURPOSE,
      limiterPrefix: "reset",
      ttlSeconds: wholeNumber(
        options.ttlSeconds,
        "ttlSeconds",
        CONTEXT,
        DEFAULT_TTL_SECONDS,
        MAX_TTL_SECONDS,
      ),
      limits: resolveLimits(options.limits, CONTEXT),
      findUserByEmail: requireFunction(options.findUserByEmail, "findUserByEmail", CONTEXT),
      findUserById: requireFunction(options.findUserById, "findUserById", CONTEXT),
      send: requireFunction(options.sendResetMail, "sendResetMail", CONTEXT),
      onDeliveryError: requireFunction<DeliveryErrorHandler>(onDeliveryError, "onDeliveryError", CONTEXT),
    });
  }

  /**
   * Asks for a reset link for `email`. Answers `{ ok: true }` whether or not an account has that
   * address, after the same store work either way, and before any mail is sent; answers
   * `{ ok: false, retryAfterSeconds }` (refused, nothing done) past the limits per address typed or per
   * client address. For an account, voids its earlier reset links and starts the mail.
   *
   * @example
   * ```ts
   * const answer = await reset.request({ email: form.email, request: req.auth.request });
   * ```
   */
  request(input: { email: string; request: RequestView }): Promise<MailRequestAnswer> {
    return this.#links.request(input.email, input.request);
  }

  /**
   * The user a reset link is for, while it works; null for an unknown, malformed, expired, used or
   * voided one. Never uses the link: mail scanners fetch links before people click them.
   *
   * @example
   * ```ts
   * const user = await reset.check(String(req.query.token ?? ""));
   * if (!user) return res.status(400).render("reset-expired");
   * res.set("referrer-policy", "no-referrer").render("reset-form", { token: req.query.token });
   * ```
   */
  check(token: string): Promise<U | null> {
    return this.#links.check(token);
  }

  /**
   * Uses a reset link, once: calls `setPassword` with its user, then ends every session and remember-me
   * token of the user and voids the user's other one-time tokens. `{ ok: false }` for a link that does
   * not work (or whose user is gone). The link is used up before `setPassword` runs, so a
   * `setPassword` that throws (a password the policy refuses: check it before calling) costs the
   * person a new link; its error is passed on and no session is ended.
   *
   * @example
   * ```ts
   * const done = await reset.complete({ token, setPassword: (user) => users.setPassword(user, password) });
   * ```
   */
  async complete(input: {
    token: string;
    setPassword: (user: U) => Promise<void>;
    /** Accepted for symmetry with the other calls; not used yet. */
    request?: RequestView;
  }): Promise<{ ok: true; user: U } | { ok: false }> {
    const setPassword = requireFunction(input.setPassword, "setPassword", "PasswordReset.complete");
    const user = await this.#links.consume(input.token);
    if (user === null) return { ok: false };
    await setPassword(user);
    // Advances the user's credential epoch first, which also voids every other one-time token.
    await this.#manager.revokeUserSessions(user.getId(), { reason: "password-reset" });
    return { ok: true, user };
  }

  /**
   * Resolves once every reset mail started so far has been handed to `sendResetMail` and settled
   * (failures went to `onDeliveryError`). For a graceful shutdown, and for tests.
   *
   * @example
   * ```ts
   * process.on("SIGTERM", async () => { await reset.deliveriesSettled(); process.exit(0); });
   * ```
   */
  deliveriesSettled(): Promise<void> {
    return this.#links.deliveries.settled();
  }
}
