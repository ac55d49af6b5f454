/**
 * Magic-link sign-in ("e-mail me a link") on the manager's one-time tokens, with the same rules as a
 * password reset request: the same answer and work whether or not the account exists, limits per
 * address typed and per client address, links that expire within the hour, work once and die with
 * any password change. The app logs the user in with `auth.loginUser(user, { methods: ["email"] })`:
 * for a user with a second factor that starts a pending login, as a password does (a mailbox is one
 * factor, never two).
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

const CONTEXT = "MagicLink";
/**
 * The one-time token purpose of sign-in links.
 *
 * @example
 * ```ts
 * await manager.revokeOneTimeTokens(user.getId(), MAGIC_LINK_PURPOSE); // void pending links
 * ```
 */
export const MAGIC_LINK_PURPOSE = "magic-link";
const DEFAULT_TTL_SECONDS = 900;
const MAX_TTL_SECONDS = 3600;
const OPTION_NAMES = [
  "findUserByEmail",
  "findUserById",
  "sendMagicLinkMail",
  "ttlSeconds",
  "limits",
  "onDeliveryError",
] as const;
const MAIL_HINTS = { sendMail: "sendMagicLinkMail", sendEmail: "sendMagicLinkMail" };

/**
 * Options of {@link MagicLink}; as `PasswordResetOptions`, with `sendMagicLinkMail` for the mail.
 *
 * @example
 * ```ts
 * const options: MagicLinkOptions<User> = {
 *   findUserByEmail: (email) => users.findByEmail(email),
 *   findUserById: (id) => users.findById(id),
 *   sendMagicLinkMail: ({ user, token }) => mail.sendSignIn(user.email, `${config.baseUrl}/login/link?token=${token}`),
 * };
 * ```
 */
export interface MagicLinkOptions<U extends AuthUser> {
  /** The account with this address, or null (null too for one that may not log in). */
  findUserByEmail(email: string): Promise<U | null>;
  /** The user with this id, or null. */
  findUserById(id: string): Promise<U | null>;
  /** Sends the link to the address stored on `message.user` (not `message.email`, the one typed). */
  sendMagicLinkMail(message: AccountLinkMessage<U>): Promise<void>;
  /** How long a link works, in seconds (1 to 3600). @default 900 */
  ttlSeconds?: number;
  /** @default { perAccount: 3, perAddress: 10, windowSeconds: 3600 } */
  limits?: RecoveryLimits;
  /** Receives a failed delivery's error. @default logs it with console.error */
  onDeliveryError?(error: unknown): void;
}

/**
 * Magic-link sign-in on a {@link LoginManager}: {@link MagicLink.request} mails a link,
 * {@link MagicLink.check} reads it without using it (a GET showing a "sign in" button: mail scanners
 * fetch links), {@link MagicLink.consume} uses it once and returns the user to log in.
 *
 * @example
 * ```ts
 * const magic = new MagicLink(manager, { findUserByEmail, findUserById, sendMagicLinkMail });
 * app.post("/login/link", async (req, res) => {
 *   const user = await magic.consume(String(req.body.token ?? ""));
 *   if (!user) return res.status(400).render("link-expired");
 *   if (await req.auth.loginUser(user, { methods: ["email"] })) return res.redirect(303, "/");
 *   res.redirect(303, req.auth.secondFactorPending ? "/login/2fa" : "/login");
 * });
 * ```
 */
export class MagicLink<U extends AuthUser> {
  readonly #links: AccountLinks<U>;

  constructor(manager: LoginManager<U>, options: MagicLinkOptions<U>) {
    checkOptionNames(options, OPTION_NAMES, CONTEXT, MAIL_HINTS);
    const onDeliveryError = options.onDeliveryError ?? defaultDeliveryErrorHandler;
    this.#links = new AccountLinks(manager, {
      purpose: MAGIC_LINK_PURPOSE,
      limiterPrefix: "magic",
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
      send: requireFunction(options.sendMagicLinkMail, "sendMagicLinkMail", CONTEXT),
      onDeliveryError: requireFunction<DeliveryErrorHandler>(onDeliveryError, "onDeliveryError", CONTEXT),
    });
  }

  /**
   * Asks for a sign-in link: `{ ok: true }` whether or not an account has the address, after the same
   * work; `{ ok: false, retryAfterSeconds }` past the limits.
   *
   * @example
   * ```ts
   * const answer = await magic.request({ email: form.email, request: req.auth.request });
   * ```
   */
  request(input: { email: string; request: RequestView }): Promise<MailRequestAnswer> {
    return this.#links.request(input.email, input.request);
  }

  /**
   * The user a valid link is for, without using it; null otherwise.
   *
   * @example
   * ```ts
   * const user = await magic.check(String(req.query.token ?? ""));
   * ```
   */
  check(token: string): Promise<U | null> {
    return this.#links.check(token);
  }

  /**
   * Uses a valid link once and returns its user, to log in; null otherwise.
   *
   * @example
   * ```ts
   * const user = await magic.consume(token);
   * if (user) await req.auth.loginUser(user, { methods: ["email"] });
   * ```
   */
  consume(token: string): Promise<U | null> {
    return this.#links.consume(token);
  }

  /**
   * Resolves once every sign-in mail started so far has settled.
   *
   * @example
   * ```ts
   * await magic.deliveriesSettled();
   * ```
   */
  deliveriesSettled(): Promise<void> {
    return this.#links.deliveries.settled();
  }
}
