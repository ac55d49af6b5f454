/**
 * The flow that password reset and magic-link sign-in share: a person types an address, and if an
 * account has it, a mail with a one-time link goes to it. The request does the same work and gives
 * the same answer whether or not the account exists:
 *
 * - the same store calls: the limiter's counters, then "void the earlier tokens of the purpose" and
 *   "issue a token" (for an unknown address, both for a placeholder user, {@link NO_ACCOUNT_ID}, whose
 *   token is thrown away at once);
 * - the mail is started on a later turn of the event loop and never awaited (see `Deliveries`).
 *
 * What still differs: the time of the app's `findUserByEmail` (the app's to keep alike: one indexed
 * query either way); how many rows the "void" step deletes (an account's earlier links, against the
 * placeholder's last token); and, after the answer, the mail's own work, which competes with later
 * requests for the process. None of it is in the answer, which is written before the mail starts.
 *
 * @module
 */
import { clientAddress } from "../core/client.js";
import type { RequestView } from "../core/http.js";
import type { LoginManager } from "../core/manager.js";
import type { AuthUser } from "../core/users.js";
import { Deliveries, type DeliveryErrorHandler } from "./deliveries.js";
import { type MailRequestAnswer, RequestLimiter } from "./limiter.js";
import {
  isEmailSized,
  isTokenShaped,
  NO_ACCOUNT_ID,
  type ResolvedLimits,
  throttleKeyOfEmail,
} from "./shared.js";

/**
 * What the app's mail function gets: the user, the address as typed in the request (send to the
 * address stored on `user`, see `PasswordResetOptions.sendResetMail`), the token to put in a link
 * built from configuration, and when the token stops working.
 *
 * @example
 * ```ts
 * const send = async ({ user, token, expiresAt }: AccountLinkMessage<User>) =>
 *   mailer.send({ to: user.email, text: `${baseUrl}/password/reset?token=${token} (until ${expiresAt.toISOString()})` });
 * ```
 */
export interface AccountLinkMessage<U extends AuthUser> {
  readonly user: U;
  readonly email: string;
  readonly token: string;
  readonly expiresAt: Date;
}

/**
 * The settled options of one account-link flow.
 *
 * @example
 * ```ts
 * const settings: AccountLinkSettings<User> = { purpose: "password-reset", limiterPrefix: "reset",
 *   ttlSeconds: 1800, limits, findUserByEmail, findUserById, send, onDeliveryError };
 * ```
 */
export interface AccountLinkSettings<U extends AuthUser> {
  readonly purpose: string;
  readonly limiterPrefix: string;
  readonly ttlSeconds: number;
  readonly limits: ResolvedLimits;
  readonly findUserByEmail: (email: string) => Promise<U | null>;
  readonly findUserById: (id: string) => Promise<U | null>;
  readonly send: (message: AccountLinkMessage<U>) => Promise<void>;
  readonly onDeliveryError: DeliveryErrorHandler;
}

/**
 * One account-link flow (see the module comment): request a link by address, check a link without
 * using it, use it once.
 *
 * @example
 * ```ts
 * const links = new AccountLinks(manager, settings);
 * const answer = await links.request("ada@example.com", requestView);
 * const user = await links.consume(token);
 * ```
 */
export class AccountLinks<U extends AuthUser> {
  /** Mails started and not yet settled. */
  readonly deliveries: Deliveries;
  readonly #manager: LoginManager<U>;
  readonly #settings: AccountLinkSettings<U>;
  readonly #limiter: RequestLimiter;

  constructor(manager: LoginManager<U>, settings: AccountLinkSettings<U>) {
    const { store, clock } = manager.options;
    this.#manager = manager;
    this.#settings = settings;
    this.#limiter = new RequestLimiter(store, clock, settings.limits, settings.limiterPrefix);
    this.deliveries = new Deliveries(settings.onDeliveryError);
  }

  /**
   * Throttles, then (same work either way) voids the account's earlier tokens of the purpose, issues
   * a new one and starts its mail. An address that is not a string of 1 to 320 characters matches no
   * account and is not looked up.
   */
  async request(email: unknown, request: RequestView): Promise<MailRequestAnswer> {
    const address = clientAddress(request, this.#manager.options.network.trustProxyHops);
    const typed = isEmailSized(email) ? email : null;
    const answer = await this.#limiter.admit(typed === null ? "" : throttleKeyOfEmail(typed), address);
    if (!answer.ok) return answer;
    const user = typed === null ? null : await this.#settings.findUserByEmail(typed);
    await this.#issue(user, typed ?? "");
    return { ok: true };
  }

  /** The user a valid token is for, without using it; null for anything else. */
  async check(token: unknown): Promise<U | null> {
    if (!isTokenShaped(token)) return null;
    const grant = await this.#manager.peekOneTimeToken(this.#settings.purpose, token);
    return grant ? this.#settings.findUserById(grant.userId) : null;
  }

  /**
   * Uses a valid token (once: of concurrent uses exactly one gets the user) and voids the user's
   * other tokens of the purpose; null for anything else, or when the user no longer exists.
   */
  async consume(token: unknown): Promise<U | null> {
    if (!isTokenShaped(token)) return null;
    const { purpose, findUserById } = this.#settings;
    const grant = await this.#manager.consumeOneTimeToken(purpose, token);
    if (!grant) return null;
    await this.#manager.revokeOneTimeTokens(grant.userId, purpose);
    return findUserById(grant.userId);
  }

  async #issue(user: U | null, email: string): Promise<void> {
    const { purpose, ttlSeconds, send } = this.#settings;
    const userId = user === null ? NO_ACCOUNT_ID : user.getId();
    // Taken before issuing: the token lives at least until then, so the mail never promises more.
    const expiresAt = new Date(this.#manager.options.clock.now() + ttlSeconds * 1000);
    await this.#manager.revokeOneTimeTokens(userId, purpose);
    const token = await this.#manager.issueOneTimeToken({ purpose, userId, ttlSeconds });
    if (user !== null) this.deliveries.start(() => send({ user, email, token, expiresAt }));
  }
}
