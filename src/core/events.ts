import type { CsrfFailure } from "./csrf.js";
import type { RequestView } from "./http.js";
import type { AuthUser } from "./users.js";

/**
 * Payloads of the manager's events (Flask-Login's signals, plus `loginFailed` and `rememberTheft`).
 * Every payload carries the request it happened in, except those of actions taken outside any
 * request (`sessionsRevoked` from `manager.revokeUserSessions`, `allSessionsRevoked`).
 *
 * @example
 * ```ts
 * manager.on("rememberTheft", ({ userId, request }) => log.warn({ userId, ip: request.remoteAddress }));
 * ```
 */
export interface LoginManagerEvents<U extends AuthUser> {
  loggedIn: { user: U; request: RequestView };
  loggedOut: { user: U | null; request: RequestView };
  loadedFromCookie: { user: U; request: RequestView };
  loadedFromRequest: { user: U; request: RequestView };
  loginConfirmed: { user: U; request: RequestView };
  unauthorized: { request: RequestView };
  needsRefresh: { request: RequestView };
  accessed: { request: RequestView };
  sessionProtected: { userId: string; mode: "basic" | "strong"; request: RequestView };
  loginFailed: {
    account: string;
    reason: "invalid" | "locked" | "inactive";
    retryAfterSeconds?: number;
    request: RequestView;
  };
  rememberTheft: { userId: string; request: RequestView };
  /** A right password (or other first factor) of an account with a second factor: a pending login started. */
  secondFactorRequired: { userId: string; request: RequestView };
  /** A request refused by the CSRF check (ASVS 16.3.3: log it). The token itself is never included. */
  csrfFailed: { reason: CsrfFailure; request: RequestView };
  /** `request` is absent when the app revoked sessions outside a request (`manager.revokeUserSessions`). */
  sessionsRevoked: {
    userId: string;
    reason: "password-change" | "password-reset" | "revoke-others" | "revoke-one" | "theft" | "admin";
    count: number;
    request?: RequestView;
  };
  /**
   * Every session and remember-me token of every user was ended (`manager.revokeAllSessions`,
   * outside any request): the numbers removed. Login failure counters were kept.
   */
  allSessionsRevoked: { sessions: number; rememberTokens: number };
}

/**
 * A listener of one event. Listeners run synchronously in registration order; keep them fast and
 * hand slow work (e-mails) to a queue.
 *
 * @example
 * ```ts
 * const onLogin: Listener<{ user: User }> = ({ user }) => console.log(user.getId());
 * ```
 */
export type Listener<P> = (payload: P) => void;

/**
 * A minimal typed event emitter.
 *
 * @example
 * ```ts
 * const events = new TypedEvents<{ ping: { n: number } }>();
 * events.on("ping", ({ n }) => console.log(n));
 * events.emit("ping", { n: 1 });
 * ```
 */
export class TypedEvents<E> {
  readonly #listeners = new Map<keyof E, Listener<never>[]>();

  /** Adds a listener; returns a function that removes it. */
  on<K extends keyof E>(event: K, listener: Listener<E[K]>): () => void {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener as Listener<never>);
    this.#listeners.set(event, list);
    return () => this.off(event, listener);
  }

  /** Removes a listener added with {@link TypedEvents.on}. */
  off<K extends keyof E>(event: K, listener: Listener<E[K]>): void {
    const list = this.#listeners.get(event);
    if (list)
      this.#listeners.set(
        event,
        list.filter((entry) => entry !== listener),
      );
  }

  /** True when at least one listener is registered for the event (lets hot paths skip payloads). */
  has(event: keyof E): boolean {
    return (this.#listeners.get(event)?.length ?? 0) > 0;
  }

  /** Calls every listener of the event with the payload. */
  emit<K extends keyof E>(event: K, payload: E[K]): void {
    const list = this.#listeners.get(event);
    if (!list) return;
    for (const listener of list) (listener as Listener<E[K]>)(payload);
  }
}
