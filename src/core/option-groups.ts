/**
 * The groups of {@link LoginManagerOptions} as the caller writes them, one interface per concern.
 * Every field is optional; `resolveOptions` (options.ts) checks them and applies the defaults.
 *
 * @module
 */

import type { Clock } from "./clock.js";
import type { CsrfFailure } from "./csrf.js";
import type { AuthReply, RequestView } from "./http.js";
import type { ReplyHandler, RequestLoader, UserLoader } from "./settings.js";
import type { SessionStore } from "./store.js";
import type { AnonymousUser, AuthUser } from "./users.js";

/**
 * `views`: where anonymous visitors and stale logins are sent, and what they are told (Flask-Login's
 * names).
 *
 * @example
 * ```ts
 * const views: ViewOptions = { loginView: "/login", loginMessage: null, refreshView: "/reauthenticate" };
 * ```
 */
export interface ViewOptions {
  /**
   * Path of the login page, or an absolute http(s) URL (a login service on another origin; `next`
   * then carries the request's full URL, built from its Host header, so a proxy must pass the public
   * Host). Without it, unauthorized requests get 401. @default null
   */
  loginView?: string | null;
  /** Flashed when redirecting to the login view; null to flash nothing. @default "Please log in to access this page." */
  loginMessage?: string | null;
  /** @default "message" */
  loginMessageCategory?: string;
  /**
   * Path (or absolute http(s) URL, as for `loginView`) of the re-authentication page for
   * fresh-login-only routes. @default null
   */
  refreshView?: string | null;
  /** @default "Please reauthenticate to access this page." */
  needsRefreshMessage?: string | null;
  /** @default "message" */
  needsRefreshMessageCategory?: string;
  /** Query field that carries the page to come back to. @default "next" */
  nextField?: string;
  /** Custom response for anonymous visitors on protected routes. */
  unauthorizedHandler?: ReplyHandler;
  /** Custom response for stale logins on fresh-only routes. */
  needsRefreshHandler?: ReplyHandler;
}

/**
 * `session`: how long server-side sessions live and what a change of client does to them.
 *
 * @example
 * ```ts
 * const session: SessionOptions = { protection: "strong", idleTimeoutSeconds: 900 };
 * ```
 */
export interface SessionOptions {
  /**
   * What a change of client address or User-Agent does: "basic" marks the session not fresh,
   * "strong" ends it, false ignores it. @default "basic"
   */
  protection?: "basic" | "strong" | false;
  /** Session ends after this long without a request; at most `absoluteTimeoutSeconds`. @default 1800 (30 minutes) */
  idleTimeoutSeconds?: number;
  /** Session ends this long after login, whatever the activity. @default 43200 (12 hours) */
  absoluteTimeoutSeconds?: number;
  /**
   * The store is written at most once per this interval to record activity; shorter than
   * `idleTimeoutSeconds`. @default 60
   */
  touchIntervalSeconds?: number;
}

/**
 * `rememberMe`: remember-me tokens (`loginUser(user, { remember: true })`).
 *
 * @example
 * ```ts
 * const rememberMe: RememberMeOptions = { durationSeconds: 14 * 86_400 };
 * ```
 */
export interface RememberMeOptions {
  /** Lifetime of a remember-me token (not extended by use). @default 2592000 (30 days) */
  durationSeconds?: number;
  /**
   * A parallel request that presents the remember token a sibling request just rotated is
   * accepted (without rotating again) for this long instead of being treated as theft. @default 10
   */
  raceGraceSeconds?: number;
}

/**
 * `cookies`: the cookies' names (1-64 letters, digits, `_` or `-`, all different; the `__Host-`
 * prefix is added over HTTPS) and attributes.
 *
 * @example
 * ```ts
 * const cookies: CookieOptions = { sessionName: "app_session", sameSite: "Strict" };
 * ```
 */
export interface CookieOptions {
  /** @default "session" (`__Host-session` over HTTPS) */
  sessionName?: string;
  /** @default "remember_token" (`__Host-remember_token` over HTTPS) */
  rememberName?: string;
  /** @default "csrf" (`__Host-csrf` over HTTPS) */
  csrfName?: string;
  /** @default "flash" (`__Host-flash` over HTTPS) */
  flashName?: string;
  /** "auto": Secure and `__Host-` when the request came over HTTPS. @default "auto" */
  secure?: "auto" | boolean;
  /** "None" is refused: it would send the cookies on cross-site requests. @default "Lax" */
  sameSite?: "Lax" | "Strict";
}

/**
 * `csrf`: the token and Origin check on POST, PUT, PATCH and DELETE.
 *
 * @example
 * ```ts
 * const csrf: CsrfOptions = {
 *   trustedOrigins: ["https://admin.example.com"],
 *   skip: (request) => request.path.startsWith("/api/"), // bearer-token API
 * };
 * ```
 */
export interface CsrfOptions {
  /** Check a CSRF token and the Origin on POST/PUT/PATCH/DELETE. @default true */
  enabled?: boolean;
  /** Form field that carries the CSRF token. @default "_csrf" */
  fieldName?: string;
  /** Header that carries the CSRF token (for fetch/XHR); matched in any case. @default "x-csrf-token" */
  headerName?: string;
  /** Extra origins (`https://admin.example.com`) allowed to post besides the request's own. @default [] */
  trustedOrigins?: readonly string[];
  /** Requests for which the CSRF check is skipped (e.g. an API authenticated by bearer tokens). */
  skip?: (request: RequestView) => boolean;
  /**
   * Custom reply for a request refused by the CSRF check (e.g. an HTML page: set a `content-type`
   * header and a string body). Return undefined for the default 403 text or JSON reply.
   */
  onFailure?: (request: RequestView, reason: CsrfFailure) => AuthReply | undefined;
}

/**
 * `throttle`: how many failed secret checks (logins, re-authentications) an account or a client
 * address may have before it is locked, and for how long.
 *
 * @example
 * ```ts
 * const throttle: ThrottleOptions = { maxAccountFailures: 10, lockMaxSeconds: 900 };
 * ```
 */
export interface ThrottleOptions {
  /** Failed logins per account before it is locked; at most 100 (NIST SP 800-63B 3.2.2). @default 5 */
  maxAccountFailures?: number;
  /** Failed logins per client address before it is locked. @default 50 */
  maxAddressFailures?: number;
  /** First lock duration; each further failure doubles it. At most `lockMaxSeconds`. @default 30 */
  lockBaseSeconds?: number;
  /** Longest lock. @default 3600 */
  lockMaxSeconds?: number;
  /** Failure counters are forgotten after this long without a failure. @default 86400 */
  failureWindowSeconds?: number;
}

/**
 * `userCache`: keeping loaded users in this process, so a steady stream of requests costs one store
 * round trip (the session) and no user-loader call.
 *
 * @example
 * ```ts
 * const userCache: UserCacheOptions = { ttlSeconds: 30, maxEntries: 5000 };
 * ```
 */
export interface UserCacheOptions {
  /**
   * How long a loaded user is kept. Sessions are still checked on every request, so logout and
   * revocation stay immediate; only user attributes may be this stale on other instances.
   * `manager.forgetUser(id)` evicts one user here. 0 turns the cache off. @default 0
   */
  ttlSeconds?: number;
  /** Most users kept (least recently loaded are dropped first). @default 10000 */
  maxEntries?: number;
}

/**
 * `network`: which reverse proxies to believe and which host names the app answers for.
 *
 * @example
 * ```ts
 * const network: NetworkOptions = { trustProxyHops: 1, allowedHosts: ["app.example.com"] };
 * ```
 */
export interface NetworkOptions {
  /**
   * How many reverse proxies in front of the app to trust for X-Forwarded-For, X-Forwarded-Proto and
   * X-Forwarded-Host (each read at the entry the outermost trusted proxy wrote, so such a proxy must
   * set or append them, never pass the client's on alone). 0 trusts none: the client is the socket
   * peer and the host is the Host header. @default 0
   */
  trustProxyHops?: number;
  /**
   * The host names the app answers for, as Django's `ALLOWED_HOSTS`: a request for any other name
   * (Host header, or X-Forwarded-Host behind `trustProxyHops`) gets 400 from the adapter before its
   * session is read, and the CSRF check expects an Origin on an allowed host only. This is what stops
   * a DNS-rebinding page, whose browser sends the attacker's name as Host and Origin, from using the
   * forms of an app it reaches by address.
   *
   * Entries: `"app.example.com"` (any port), `"app.example.com:8443"` (that port only),
   * `".example.com"` (the name and every subdomain), IP addresses (`"10.0.0.5"`, `"[2001:db8::1]"`),
   * and `"*"`, which turns the check off: use it only when a proxy in front refuses other Host values.
   * A missing or malformed Host is refused unless `"*"` is listed.
   *
   * The default serves the loopback names only, so development on `localhost` works as is while a
   * deployed app must list its names: it answers 400 to everything else, and the first such refusal
   * emits a `LOGIN_MANAGER_HOST_NOT_ALLOWED` process warning that says what to set. Routes mounted
   * before the adapter (a health check probed by address) are not checked.
   * @default [".localhost", "127.0.0.1", "[::1]"]
   */
  allowedHosts?: readonly string[];
}

/**
 * Options of `LoginManager`. Only `secret` and `store` are required; every default is the safe
 * choice. Durations are whole seconds. Unknown names, at the top level or in a group, are refused
 * with the closest known one (`loginview` -> `views.loginView`), and so are the names of the former
 * flat shape, each with its new place (`sessionCookieName` -> `cookies.sessionName`).
 *
 * @example
 * ```ts
 * const manager = new LoginManager<User>({
 *   secret: process.env.SECRET_KEY!,
 *   store: new SqliteStore({ database: "data/app.db" }),
 *   userLoader: (id) => users.findById(id),
 *   views: { loginView: "/login" },
 *   session: { idleTimeoutSeconds: 900 },
 *   network: { trustProxyHops: 1, allowedHosts: ["app.example.com"] },
 * });
 * ```
 */
export interface LoginManagerOptions<U extends AuthUser> {
  /**
   * Key(s) for HMACs (CSRF tokens, flash cookies, session handles): at least 32 characters each.
   * An array rotates keys: the first signs, all verify.
   */
  secret: string | readonly string[];
  /** Where sessions, remember tokens and failure counters live. */
  store: SessionStore;
  /** Loads the user whose id a session carries. Required unless `requestLoader` is given. */
  userLoader?: UserLoader<U>;
  /** Authenticates requests without a session (API keys). */
  requestLoader?: RequestLoader<U>;
  /** Builds the anonymous user. @default () => new AnonymousUserMixin() */
  anonymousUser?: () => AnonymousUser;
  /**
   * Run each request inside an AsyncLocalStorage context, so the free helpers (`currentUser()`,
   * `loginUser()`, …) work anywhere in its handlers. Set false when the app only uses the request's
   * own `auth` (`req.auth`, `request.auth`, `c.var.auth`): on Node 20 AsyncLocalStorage installs a
   * promise hook that every promise of the process pays, routes without login-manager included. The
   * free helpers then throw `NoRequestContextError`. @default true
   */
  asyncContext?: boolean;
  /** Time source; inject a fake in tests. @default systemClock */
  clock?: Clock;
  /** Login and re-authentication pages, their flashed messages, and custom replies. */
  views?: ViewOptions;
  /** Session protection and timeouts. */
  session?: SessionOptions;
  /** Remember-me token lifetime. */
  rememberMe?: RememberMeOptions;
  /** Cookie names and attributes. */
  cookies?: CookieOptions;
  /** The CSRF check. */
  csrf?: CsrfOptions;
  /** Failure budgets and locks of logins and re-authentications. */
  throttle?: ThrottleOptions;
  /** The per-process cache of loaded users (off by default). */
  userCache?: UserCacheOptions;
  /** Trusted proxies and allowed host names. */
  network?: NetworkOptions;
}
