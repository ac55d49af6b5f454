/**
 * What identifying a request produces: who is logged in and how, and the cookies to change.
 *
 * @module
 */
import type { SessionRecord } from "./store.js";
import type { AuthUser } from "./users.js";

/**
 * How the current user was authenticated on this request.
 *
 * @example
 * ```ts
 * if (auth.source === "remember") console.log("restored from remember-me");
 * ```
 */
export type AuthSource = "session" | "remember" | "request" | "login" | null;

/**
 * Cookies the loader decided to set or clear: a dead session or remember cookie to clear, a session
 * restored from remember-me and the rotated remember token to send.
 *
 * @example
 * ```ts
 * const changes: CookieChanges = { clearSession: true, clearRemember: false };
 * ```
 */
export interface CookieChanges {
  readonly clearSession: boolean;
  readonly clearRemember: boolean;
  readonly session?: string;
  readonly remember?: { readonly value: string; readonly maxAgeSeconds: number };
}

/**
 * What the loader found for a request, and the cookies it wants changed (null: none).
 *
 * @example
 * ```ts
 * const anonymous: LoadedState<User> = { user: null, session: null, source: null, fresh: false, rememberSelector: null, cookies: null };
 * ```
 */
export interface LoadedState<U extends AuthUser> {
  readonly user: U | null;
  readonly session: SessionRecord | null;
  readonly source: AuthSource;
  readonly fresh: boolean;
  readonly rememberSelector: string | null;
  readonly cookies: CookieChanges | null;
}

/**
 * Nobody: the state of an anonymous request.
 *
 * @example
 * ```ts
 * if (loaded === ANONYMOUS_STATE) console.log("anonymous");
 * ```
 */
export const ANONYMOUS_STATE: LoadedState<never> = Object.freeze({
  user: null,
  session: null,
  source: null,
  fresh: false,
  rememberSelector: null,
  cookies: null,
});

/**
 * What a request's context holds about the login: the loader's state, minus its cookie changes.
 *
 * @example
 * ```ts
 * const state: LoginState<User> = ANONYMOUS_STATE;
 * ```
 */
export type LoginState<U extends AuthUser> = Omit<LoadedState<U>, "cookies">;
