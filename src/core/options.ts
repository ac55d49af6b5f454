import type { Clock } from "./clock.js";
import type { CsrfFailure } from "./csrf.js";
import { ConfigurationError } from "./errors.js";
import { resolveAllowedHosts } from "./hosts.js";
import type { AuthReply, RequestView } from "./http.js";
import {
  booleanOption,
  cookieName,
  nullableString,
  optionalFunction,
  optionalPath,
  resolveClock,
  resolveCookieSecure,
  resolveOrigins,
  resolveProtection,
  resolveSameSite,
  resolveSecrets,
  resolveStore,
  stringOption,
  wholeNumber,
} from "./option-checks.js";
import type { SessionStore } from "./store.js";
import type { AnonymousUser, AuthUser } from "./users.js";
import { AnonymousUserMixin } from "./users.js";

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
 * Options of {@link LoginManager}. Only `secret` and `store` are required; every default is the safe
 * choice. Durations are whole seconds.
 *
 * @example
 * ```ts
 * const manager = new LoginManager<User>({
 *   secret: process.env.SECRET_KEY!,
 *   store: new SqliteStore({ database: "data/app.db" }),
 *   userLoader: (id) => users.findById(id),
 *   loginView: "/login",
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
  /**
   * What a change of client address or User-Agent does: "basic" marks the session not fresh,
   * "strong" ends it, false ignores it. @default "basic"
   */
  sessionProtection?: "basic" | "strong" | false;
  /** Session ends after this long without a request. @default 1800 (30 minutes) */
  idleTimeoutSeconds?: number;
  /** Session ends this long after login, whatever the activity. @default 43200 (12 hours) */
  absoluteTimeoutSeconds?: number;
  /** The store is written at most once per this interval to record activity. @default 60 */
  touchIntervalSeconds?: number;
  /** Lifetime of a remember-me token (not extended by use). @default 2592000 (30 days) */
  rememberDurationSeconds?: number;
  /**
   * A parallel request that presents the remember token a sibling request just rotated is
   * accepted (without rotating again) for this long instead of being treated as theft. @default 10
   */
  rememberRaceGraceSeconds?: number;
  /** @default "session" (`__Host-session` over HTTPS) */
  sessionCookieName?: string;
  /** @default "remember_token" (`__Host-remember_token` over HTTPS) */
  rememberCookieName?: string;
  /** @default "csrf" (`__Host-csrf` over HTTPS) */
  csrfCookieName?: string;
  /** @default "flash" (`__Host-flash` over HTTPS) */
  flashCookieName?: string;
  /** "auto": Secure and `__Host-` when the request came over HTTPS. @default "auto" */
  cookieSecure?: "auto" | boolean;
  /** @default "Lax" */
  cookieSameSite?: "Lax" | "Strict";
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
  /**
   * Run each request inside an AsyncLocalStorage context, so the free helpers (`currentUser()`,
   * `loginUser()`, …) work anywhere in its handlers. Set false when the app only uses the request's
   * own `auth` (`req.auth`, `request.auth`, `c.var.auth`): on Node 20 AsyncLocalStorage installs a
   * promise hook that every promise of the process pays, routes without login-manager included. The
   * free helpers then throw `NoRequestContextError`. @default true
   */
  asyncContext?: boolean;
  /** Check a CSRF token and the Origin on POST/PUT/PATCH/DELETE. @default true */
  csrfProtection?: boolean;
  /** Form field that carries the CSRF token. @default "_csrf" */
  csrfFieldName?: string;
  /** Header that carries the CSRF token (for fetch/XHR). @default "x-csrf-token" */
  csrfHeaderName?: string;
  /**
   * Custom reply for a request refused by the CSRF check (e.g. an HTML page: set a `content-type`
   * header and a string body). Return undefined for the default 403 text or JSON reply.
   */
  csrfFailureHandler?: (request: RequestView, reason: CsrfFailure) => AuthReply | undefined;
  /** Requests for which the CSRF check is skipped (e.g. an API authenticated by bearer tokens). */
  csrfSkip?: (request: RequestView) => boolean;
  /** Extra origins (`https://admin.example.com`) allowed to post besides the request's own. @default [] */
  trustedOrigins?: readonly string[];
  /**
   * Keep loaded users in this process for this long, so a steady stream of requests costs one store
   * round trip (the session) and no user-loader call. Sessions are still checked on every request,
   * so logout and revocation stay immediate; only user attributes may be this stale on other
   * instances. `manager.forgetUser(id)` evicts one user here. 0 turns the cache off. @default 0
   */
  userCacheSeconds?: number;
  /** Most users kept by the user cache (least recently loaded are dropped first). @default 10000 */
  userCacheMaxEntries?: number;
  /** Failed logins per account before it is locked. @default 5 */
  maxAccountFailures?: number;
  /** Failed logins per client address before it is locked. @default 50 */
  maxAddressFailures?: number;
  /** First lock duration; each further failure doubles it. @default 30 */
  lockBaseSeconds?: number;
  /** Longest lock. @default 3600 */
  lockMaxSeconds?: number;
  /** Failure counters are forgotten after this long without a failure. @default 86400 */
  failureWindowSeconds?: number;
  /** Time source; inject a fake in tests. @default systemClock */
  clock?: Clock;
}

/**
 * The validated options with every default applied, frozen.
 *
 * @example
 * ```ts
 * manager.options.idleTimeoutSeconds; // 1800
 * ```
 */
export interface ResolvedOptions<U extends AuthUser>
  extends Readonly<
    Required<
      Omit<
        LoginManagerOptions<U>,
        | "userLoader"
        | "requestLoader"
        | "unauthorizedHandler"
        | "needsRefreshHandler"
        | "csrfSkip"
        | "csrfFailureHandler"
        | "secret"
      >
    >
  > {
  readonly secrets: readonly string[];
  readonly userLoader: UserLoader<U> | undefined;
  readonly requestLoader: RequestLoader<U> | undefined;
  readonly unauthorizedHandler: ReplyHandler | undefined;
  readonly needsRefreshHandler: ReplyHandler | undefined;
  readonly csrfSkip: ((request: RequestView) => boolean) | undefined;
  readonly csrfFailureHandler:
    | ((request: RequestView, reason: CsrfFailure) => AuthReply | undefined)
    | undefined;
}

/**
 * Validates options once and returns a new frozen object with defaults applied. Throws a
 * {@link ConfigurationError} whose message names the option and the fix.
 *
 * @example
 * ```ts
 * const resolved = resolveOptions({ secret, store }); // resolved.sessionProtection === "basic"
 * ```
 */
export function resolveOptions<U extends AuthUser>(options: LoginManagerOptions<U>): ResolvedOptions<U> {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError(
      "LoginManager needs an options object: new LoginManager({ secret, store, userLoader })",
    );
  }
  const resolved: ResolvedOptions<U> = {
    secrets: resolveSecrets(options.secret),
    store: resolveStore(options.store),
    userLoader: optionalFunction(options.userLoader, "userLoader"),
    requestLoader: optionalFunction(options.requestLoader, "requestLoader"),
    anonymousUser:
      optionalFunction(options.anonymousUser, "anonymousUser") ?? (() => new AnonymousUserMixin()),
    loginView: optionalPath(options.loginView, "loginView"),
    loginMessage: nullableString(options.loginMessage, "loginMessage", "Please log in to access this page."),
    loginMessageCategory: stringOption(options.loginMessageCategory, "loginMessageCategory", "message"),
    refreshView: optionalPath(options.refreshView, "refreshView"),
    needsRefreshMessage: nullableString(
      options.needsRefreshMessage,
      "needsRefreshMessage",
      "Please reauthenticate to access this page.",
    ),
    needsRefreshMessageCategory: stringOption(
      options.needsRefreshMessageCategory,
      "needsRefreshMessageCategory",
      "message",
    ),
    nextField: stringOption(options.nextField, "nextField", "next"),
    unauthorizedHandler: optionalFunction(options.unauthorizedHandler, "unauthorizedHandler"),
    needsRefreshHandler: optionalFunction(options.needsRefreshHandler, "needsRefreshHandler"),
    sessionProtection: resolveProtection(options.sessionProtection),
    idleTimeoutSeconds: wholeNumber(options.idleTimeoutSeconds, "idleTimeoutSeconds", 1800, 1),
    absoluteTimeoutSeconds: wholeNumber(options.absoluteTimeoutSeconds, "absoluteTimeoutSeconds", 43_200, 1),
    touchIntervalSeconds: wholeNumber(options.touchIntervalSeconds, "touchIntervalSeconds", 60, 0),
    rememberDurationSeconds: wholeNumber(
      options.rememberDurationSeconds,
      "rememberDurationSeconds",
      2_592_000,
      1,
    ),
    rememberRaceGraceSeconds: wholeNumber(
      options.rememberRaceGraceSeconds,
      "rememberRaceGraceSeconds",
      10,
      0,
    ),
    sessionCookieName: cookieName(options.sessionCookieName, "sessionCookieName", "session"),
    rememberCookieName: cookieName(options.rememberCookieName, "rememberCookieName", "remember_token"),
    csrfCookieName: cookieName(options.csrfCookieName, "csrfCookieName", "csrf"),
    flashCookieName: cookieName(options.flashCookieName, "flashCookieName", "flash"),
    cookieSecure: resolveCookieSecure(options.cookieSecure),
    cookieSameSite: resolveSameSite(options.cookieSameSite),
    trustProxyHops: wholeNumber(options.trustProxyHops, "trustProxyHops", 0, 0),
    allowedHosts: resolveAllowedHosts(options.allowedHosts),
    asyncContext: booleanOption(options.asyncContext, "asyncContext", true),
    csrfProtection: booleanOption(options.csrfProtection, "csrfProtection", true),
    csrfFieldName: stringOption(options.csrfFieldName, "csrfFieldName", "_csrf"),
    csrfHeaderName: stringOption(options.csrfHeaderName, "csrfHeaderName", "x-csrf-token").toLowerCase(),
    csrfSkip: optionalFunction(options.csrfSkip, "csrfSkip"),
    csrfFailureHandler: optionalFunction(options.csrfFailureHandler, "csrfFailureHandler"),
    trustedOrigins: resolveOrigins(options.trustedOrigins),
    userCacheSeconds: wholeNumber(options.userCacheSeconds, "userCacheSeconds", 0, 0),
    userCacheMaxEntries: wholeNumber(options.userCacheMaxEntries, "userCacheMaxEntries", 10_000, 1),
    maxAccountFailures: wholeNumber(options.maxAccountFailures, "maxAccountFailures", 5, 1),
    maxAddressFailures: wholeNumber(options.maxAddressFailures, "maxAddressFailures", 50, 1),
    lockBaseSeconds: wholeNumber(options.lockBaseSeconds, "lockBaseSeconds", 30, 1),
    lockMaxSeconds: wholeNumber(options.lockMaxSeconds, "lockMaxSeconds", 3600, 1),
    failureWindowSeconds: wholeNumber(options.failureWindowSeconds, "failureWindowSeconds", 86_400, 1),
    clock: resolveClock(options.clock),
  };
  checkRelations(resolved);
  return Object.freeze(resolved);
}

function checkRelations<U extends AuthUser>(resolved: ResolvedOptions<U>): void {
  if (resolved.idleTimeoutSeconds > resolved.absoluteTimeoutSeconds) {
    throw new ConfigurationError("idleTimeoutSeconds must not exceed absoluteTimeoutSeconds");
  }
  if (resolved.touchIntervalSeconds >= resolved.idleTimeoutSeconds) {
    throw new ConfigurationError(
      "touchIntervalSeconds must be shorter than idleTimeoutSeconds (try a tenth of it)",
    );
  }
  if (resolved.lockBaseSeconds > resolved.lockMaxSeconds) {
    throw new ConfigurationError("lockBaseSeconds must not exceed lockMaxSeconds");
  }
  if (resolved.maxAccountFailures > 100) {
    throw new ConfigurationError("maxAccountFailures must be at most 100 (NIST SP 800-63B 3.2.2)");
  }
  const names = [
    resolved.sessionCookieName,
    resolved.rememberCookieName,
    resolved.csrfCookieName,
    resolved.flashCookieName,
  ];
  if (new Set(names).size !== names.length) {
    throw new ConfigurationError(
      "sessionCookieName, rememberCookieName, csrfCookieName and flashCookieName must differ",
    );
  }
}
