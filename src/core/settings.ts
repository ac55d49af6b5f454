/**
 * The validated options, one group per concern, each handed only to the collaborator that reads it
 * (`resolveOptions` in options.ts builds them). Every group is frozen; durations are whole seconds.
 *
 * @module
 */
import type { Clock } from "./clock.js";
import type { CsrfFailure } from "./csrf.js";
import type { AuthReply, RequestView } from "./http.js";
import type { SessionStore } from "./store.js";
import type { AnonymousUser, AuthUser } from "./users.js";

/**
 * Loads a user by the id stored in the session. Return null when the user no longer exists.
 *
 * @example
 * ```ts
 * const userLoader: UserLoader<User> = async (id) => users.findById(Number(id));
 * ```
 */
export type UserLoader<U extends AuthUser> = (
  id: string,
) => Promise<U | null | undefined> | U | null | undefined;

/**
 * Authenticates a request without a session (API keys, bearer tokens). Runs when the request has no
 * valid session or remember-me cookie. Return null for "not authenticated by this request".
 *
 * @example
 * ```ts
 * const requestLoader: RequestLoader<User> = async (request) => {
 *   const key = request.header("authorization")?.replace(/^Bearer /, "");
 *   return key ? users.findByApiKey(key) : null;
 * };
 * ```
 */
export type RequestLoader<U extends AuthUser> = (
  request: RequestView,
) => Promise<U | null | undefined> | U | null | undefined;

/**
 * Builds the response for an anonymous visitor on a protected route (or a stale login on a fresh-only
 * route). Return undefined to fall back to the default (redirect or 401 JSON).
 *
 * @example
 * ```ts
 * const unauthorizedHandler: ReplyHandler = () => ({ status: 401, headers: {}, body: { error: "login please" } });
 * ```
 */
export type ReplyHandler = (request: RequestView) => AuthReply | undefined;

/**
 * `views`: where anonymous visitors and stale logins are sent (Flask-Login's names).
 *
 * @example
 * ```ts
 * manager.options.views.loginView; // "/login"
 * ```
 */
export interface ViewSettings {
  readonly loginView: string | null;
  readonly loginMessage: string | null;
  readonly loginMessageCategory: string;
  readonly refreshView: string | null;
  readonly needsRefreshMessage: string | null;
  readonly needsRefreshMessageCategory: string;
  readonly nextField: string;
  readonly unauthorizedHandler: ReplyHandler | undefined;
  readonly needsRefreshHandler: ReplyHandler | undefined;
}

/**
 * `session`: lifetime and protection of server-side sessions.
 *
 * @example
 * ```ts
 * manager.options.session.idleTimeoutSeconds; // 1800
 * ```
 */
export interface SessionSettings {
  readonly protection: "basic" | "strong" | false;
  readonly idleTimeoutSeconds: number;
  readonly absoluteTimeoutSeconds: number;
  readonly touchIntervalSeconds: number;
}

/**
 * `rememberMe`: remember-me tokens.
 *
 * @example
 * ```ts
 * manager.options.rememberMe.durationSeconds; // 2592000
 * ```
 */
export interface RememberMeSettings {
  readonly durationSeconds: number;
  readonly raceGraceSeconds: number;
}

/**
 * `cookies`: names (without the `__Host-` prefix added over HTTPS) and attributes.
 *
 * @example
 * ```ts
 * manager.options.cookies.sessionName; // "session"
 * ```
 */
export interface CookieSettings {
  readonly sessionName: string;
  readonly rememberName: string;
  readonly csrfName: string;
  readonly flashName: string;
  readonly secure: "auto" | boolean;
  readonly sameSite: "Lax" | "Strict";
}

/**
 * `csrf`: the token and Origin check on unsafe methods.
 *
 * @example
 * ```ts
 * manager.options.csrf.fieldName; // "_csrf"
 * ```
 */
export interface CsrfSettings {
  readonly enabled: boolean;
  readonly fieldName: string;
  /** Lower-cased. */
  readonly headerName: string;
  readonly trustedOrigins: readonly string[];
  readonly skip: ((request: RequestView) => boolean) | undefined;
  readonly onFailure: ((request: RequestView, reason: CsrfFailure) => AuthReply | undefined) | undefined;
}

/**
 * `throttle`: the failure budgets of secret checks.
 *
 * @example
 * ```ts
 * manager.options.throttle.maxAccountFailures; // 5
 * ```
 */
export interface ThrottleSettings {
  readonly maxAccountFailures: number;
  readonly maxAddressFailures: number;
  readonly lockBaseSeconds: number;
  readonly lockMaxSeconds: number;
  readonly failureWindowSeconds: number;
}

/**
 * `userCache`: the per-process cache of loaded users.
 *
 * @example
 * ```ts
 * manager.options.userCache.ttlSeconds; // 0 (off)
 * ```
 */
export interface UserCacheSettings {
  readonly ttlSeconds: number;
  readonly maxEntries: number;
}

/**
 * `network`: which proxies to believe and which host names the app answers for.
 *
 * @example
 * ```ts
 * manager.options.network.trustProxyHops; // 0
 * ```
 */
export interface NetworkSettings {
  readonly trustProxyHops: number;
  readonly allowedHosts: readonly string[];
}

/**
 * The validated options with every default applied, frozen, grouped by concern.
 *
 * @example
 * ```ts
 * manager.options.session.idleTimeoutSeconds; // 1800
 * ```
 */
export interface ResolvedOptions<U extends AuthUser> {
  readonly secrets: readonly string[];
  readonly store: SessionStore;
  readonly userLoader: UserLoader<U> | undefined;
  readonly requestLoader: RequestLoader<U> | undefined;
  readonly anonymousUser: () => AnonymousUser;
  readonly asyncContext: boolean;
  readonly clock: Clock;
  readonly views: ViewSettings;
  readonly session: SessionSettings;
  readonly rememberMe: RememberMeSettings;
  readonly cookies: CookieSettings;
  readonly csrf: CsrfSettings;
  readonly throttle: ThrottleSettings;
  readonly userCache: UserCacheSettings;
  readonly network: NetworkSettings;
}
