/**
 * The options of `new LoginManager(options)` as the caller writes them (a few top-level options and
 * one group per concern), and `resolveOptions`, which checks them once and builds the frozen
 * {@link ResolvedOptions} (settings.ts) the rest of the core reads.
 *
 * @module
 */
import type { Clock } from "./clock.js";
import { ConfigurationError } from "./errors.js";
import {
  booleanOption,
  optionalFunction,
  resolveClock,
  resolveSecrets,
  resolveStore,
} from "./option-checks.js";
import {
  resolveCookies,
  resolveCsrf,
  resolveNetwork,
  resolveRememberMe,
  resolveSession,
  resolveThrottle,
  resolveUserCache,
  resolveViews,
} from "./option-group-checks.js";
import type {
  CookieOptions,
  CsrfOptions,
  NetworkOptions,
  RememberMeOptions,
  SessionOptions,
  ThrottleOptions,
  UserCacheOptions,
  ViewOptions,
} from "./option-groups.js";
import { checkTopLevelNames, optionGroups } from "./option-paths.js";
import type { RequestLoader, ResolvedOptions, UserLoader } from "./settings.js";
import type { SessionStore } from "./store.js";
import type { AnonymousUser, AuthUser } from "./users.js";
import { AnonymousUserMixin } from "./users.js";

export type {
  CookieOptions,
  CsrfOptions,
  NetworkOptions,
  RememberMeOptions,
  SessionOptions,
  ThrottleOptions,
  UserCacheOptions,
  ViewOptions,
} from "./option-groups.js";
export type { OptionGroupName, OptionPath } from "./option-paths.js";
export type { ReplyHandler, RequestLoader, ResolvedOptions, UserLoader } from "./settings.js";

/**
 * Options of {@link LoginManager}. Only `secret` and `store` are required; every default is the safe
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

/**
 * Validates options once and returns a new frozen object with defaults applied, each group frozen
 * too; the caller's object is neither changed nor kept (lists are copied). Throws a
 * {@link ConfigurationError} whose message names the option by its path and says the fix.
 *
 * @example
 * ```ts
 * const resolved = resolveOptions({ secret, store, session: { idleTimeoutSeconds: 900 } });
 * resolved.session.protection; // "basic"
 * resolveOptions({ secret, store, loginview: "/login" } as never);
 * // ConfigurationError: LoginManager: unknown option "loginview": did you mean "views.loginView"? ...
 * ```
 */
export function resolveOptions<U extends AuthUser>(options: LoginManagerOptions<U>): ResolvedOptions<U> {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ConfigurationError(
      "LoginManager needs an options object: new LoginManager({ secret, store, userLoader })",
    );
  }
  checkTopLevelNames(options);
  const groups = optionGroups(options);
  const resolved: ResolvedOptions<U> = {
    secrets: resolveSecrets(options.secret),
    store: resolveStore(options.store),
    userLoader: optionalFunction(options.userLoader, "userLoader"),
    requestLoader: optionalFunction(options.requestLoader, "requestLoader"),
    anonymousUser:
      optionalFunction(options.anonymousUser, "anonymousUser") ?? (() => new AnonymousUserMixin()),
    asyncContext: booleanOption(options.asyncContext, "asyncContext", true),
    clock: resolveClock(options.clock),
    views: resolveViews(groups.views),
    session: resolveSession(groups.session),
    rememberMe: resolveRememberMe(groups.rememberMe),
    cookies: resolveCookies(groups.cookies),
    csrf: resolveCsrf(groups.csrf),
    throttle: resolveThrottle(groups.throttle),
    userCache: resolveUserCache(groups.userCache),
    network: resolveNetwork(groups.network),
  };
  return Object.freeze(resolved);
}
