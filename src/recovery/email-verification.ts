/**
 * E-mail address verification on the manager's one-time tokens: a link to prove that a user reads
 * an address (at registration, or before an address change takes effect). Links expire, work once,
 * are kept hashed, carry the address they verify, and are limited per user and per client address.
 *
 * @module
 */
import { clientAddress } from "../core/client.js";
import { ConfigurationError } from "../core/errors.js";
import type { RequestView } from "../core/http.js";
import type { LoginManager } from "../core/manager.js";
import type { AuthUser } from "../core/users.js";
import { Deliveries, type DeliveryErrorHandler, defaultDeliveryErrorHandler } from "./deliveries.js";
import { type MailRequestAnswer, RequestLimiter } from "./limiter.js";
import {
  checkOptionNames,
  isEmailSized,
  isTokenShaped,
  MAX_EMAIL_LENGTH,
  type RecoveryLimits,
  requireFunction,
  resolveLimits,
  wholeNumber,
} from "./shared.js";

const CONTEXT = "EmailVerification";
/**
 * The one-time token purpose of verification links.
 *
 * @example
 * ```ts
 * await manager.revokeOneTimeTokens(user.getId(), EMAIL_VERIFICATION_PURPOSE); // void pending links
 * ```
 */
export const EMAIL_VERIFICATION_PURPOSE = "email-verify";
const DEFAULT_TTL_SECONDS = 86_400;
const MAX_TTL_SECONDS = 7 * 86_400;
const OPTION_NAMES = ["sendVerificationMail", "ttlSeconds", "limits", "onDeliveryError"] as const;
const MAIL_HINTS = { sendMail: "sendVerificationMail", sendEmail: "sendVerificationMail" };

/**
 * What the verification mail function gets: the user, the address to verify (send the mail there),
 * the token to put in a link built from configuration, and when it stops working.
 *
 * @example
 * ```ts
 * const message: VerificationMessage<User> = { user, email: "new@example.com", token, expiresAt };
 * ```
 */
export interface VerificationMessage<U extends AuthUser> {
  readonly user: U;
  readonly email: string;
  readonly token: string;
  readonly expiresAt: Date;
}

/**
 * What a valid verification link proves: that user `userId` reads `email`.
 *
 * @example
 * ```ts
 * const verified: VerifiedEmail = { userId: "42", email: "ada@example.com" };
 * ```
 */
export interface VerifiedEmail {
  readonly userId: string;
  readonly email: string;
}

/**
 * Options of {@link EmailVerification}.
 *
 * @example
 * ```ts
 * const options: EmailVerificationOptions<User> = {
 *   sendVerificationMail: ({ email, token }) =>
 *     mailer.send({ to: email, text: `${config.baseUrl}/email/verify?token=${token}` }),
 * };
 * ```
 */
export interface EmailVerificationOptions<U extends AuthUser> {
  /**
   * Sends the verification mail to `message.email`, with a link built from configuration, never from
   * the request's Host. Started after `send` has answered, never awaited by it; a rejection goes to
   * `onDeliveryError`.
   */
  sendVerificationMail(message: VerificationMessage<U>): Promise<void>;
  /** How long a link works, in seconds (1 to 604800). @default 86400 */
  ttlSeconds?: number;
  /** Mails per user and per client address in a window. @default { perAccount: 3, perAddress: 10, windowSeconds: 3600 } */
  limits?: RecoveryLimits;
  /** Receives a failed delivery's error. @default logs it with console.error */
  onDeliveryError?(error: unknown): void;
}

/**
 * E-mail verification on a {@link LoginManager}. {@link EmailVerification.send} mails a link for an
 * address of a user (a new link voids the user's earlier ones, so only the last address asked for can
 * be verified); {@link EmailVerification.check} reads a link without using it (the GET that shows a
 * confirm button); {@link EmailVerification.confirm} uses it once. The app then applies the result:
 * marks the address verified, or makes a pending address change take effect, after checking that
 * `email` is still the address it expects for `userId`.
 *
 * Links are bound to the user's credentials like every one-time token: a password change or reset,
 * or any other revocation of the user's sessions, voids them (send a new one).
 *
 * @example
 * ```ts
 * const verification = new EmailVerification(manager, {
 *   sendVerificationMail: ({ email, token }) => mail.sendVerify(email, `${config.baseUrl}/email/verify?token=${token}`),
 * });
 * await verification.send({ user, email: user.email, request: req.auth.request });
 *
 * app.post("/email/verify", async (req, res) => {
 *   const verified = await verification.confirm(String(req.body.token ?? ""));
 *   if (!verified) return res.status(400).render("verify-expired");
 *   await users.markVerified(verified.userId, verified.email);
 *   res.redirect(303, "/account");
 * });
 * ```
 */
export class EmailVerification<U extends AuthUser> {
  readonly #manager: LoginManager<U>;
  readonly #send: (message: VerificationMessage<U>) => Promise<void>;
  readonly #ttlSeconds: number;
  readonly #limiter: RequestLimiter;
  readonly #deliveries: Deliveries;

  constructor(manager: LoginManager<U>, options: EmailVerificationOptions<U>) {
    checkOptionNames(options, OPTION_NAMES, CONTEXT, MAIL_HINTS);
    const { store, clock } = manager.options;
    this.#manager = manager;
    this.#send = requireFunction(options.sendVerificationMail, "sendVerificationMail", CONTEXT);
    this.#ttlSeconds = wholeNumber(
      options.ttlSeconds,
      "ttlSeconds",
      CONTEXT,
      DEFAULT_TTL_SECONDS,
      MAX_TTL_SECONDS,
    );
    this.#limiter = new RequestLimiter(store, clock, resolveLimits(options.limits, CONTEXT), "verify");
    const onError = options.onDeliveryError ?? defaultDeliveryErrorHandler;
    this.#deliveries = new Deliveries(
      requireFunction<DeliveryErrorHandler>(onError, "onDeliveryError", CONTEXT),
    );
  }

  /**
   * Mails a link that verifies `email` for `user`, voiding the user's earlier verification links;
   * `{ ok: false, retryAfterSeconds }` (nothing sent) past the limits per user or per client address.
   * Throws a `ConfigurationError` for an address that is not a string of 1 to 320 characters (validate
   * it first).
   *
   * @example
   * ```ts
   * const answer = await verification.send({ user, email: user.email, request: req.auth.request });
   * if (!answer.ok) flash(`Please wait ${answer.retryAfterSeconds} seconds before asking again.`);
   * ```
   */
  async send(input: { user: U; email: string; request: RequestView }): Promise<MailRequestAnswer> {
    const { user, email, request } = input;
    if (!isEmailSized(email)) {
      throw new ConfigurationError(
        `${CONTEXT}.send: email must be a string of 1 to ${MAX_EMAIL_LENGTH} characters`,
      );
    }
    const userId = user.getId();
    const address = clientAddress(request, this.#manager.options.network.trustProxyHops);
    const answer = await this.#limiter.admit(userId, address);
    if (!answer.ok) return answer;
    const ttlSeconds = this.#ttlSeconds;
    const expiresAt = new Date(this.#manager.options.clock.now() + ttlSeconds * 1000);
    await this.#manager.revokeOneTimeTokens(userId, EMAIL_VERIFICATION_PURPOSE);
    const token = await this.#manager.issueOneTimeToken({
      purpose: EMAIL_VERIFICATION_PURPOSE,
      userId,
      ttlSeconds,
      data: email,
    });
    this.#deliveries.start(() => this.#send({ user, email, token, expiresAt }));
    return { ok: true };
  }

  /**
   * The user and address a valid link verifies, without using it; null for an unknown, malformed,
   * expired, used or voided one.
   *
   * @example
   * ```ts
   * const pending = await verification.check(String(req.query.token ?? ""));
   * res.render(pending ? "verify-confirm" : "verify-expired", { token: req.query.token });
   * ```
   */
  async check(token: string): Promise<VerifiedEmail | null> {
    if (!isTokenShaped(token)) return null;
    const grant = await this.#manager.peekOneTimeToken(EMAIL_VERIFICATION_PURPOSE, token);
    return grant ? { userId: grant.userId, email: grant.data } : null;
  }

  /**
   * Uses a valid link, once (of concurrent uses exactly one succeeds), and voids the user's other
   * verification links; the user and address it verifies, or null like {@link EmailVerification.check}.
   *
   * @example
   * ```ts
   * const verified = await verification.confirm(String(req.body.token ?? ""));
   * if (verified) await users.markVerified(verified.userId, verified.email);
   * ```
   */
  async confirm(token: string): Promise<VerifiedEmail | null> {
    if (!isTokenShaped(token)) return null;
    const grant = await this.#manager.consumeOneTimeToken(EMAIL_VERIFICATION_PURPOSE, token);
    if (!grant) return null;
    await this.#manager.revokeOneTimeTokens(grant.userId, EMAIL_VERIFICATION_PURPOSE);
    return { userId: grant.userId, email: grant.data };
  }

  /**
   * Resolves once every verification mail started so far has settled (failures went to
   * `onDeliveryError`). For a graceful shutdown, and for tests.
   *
   * @example
   * ```ts
   * await verification.deliveriesSettled();
   * ```
   */
  deliveriesSettled(): Promise<void> {
    return this.#deliveries.settled();
  }
}
