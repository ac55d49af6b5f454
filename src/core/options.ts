/**
 * The options of `new LoginManager(options)` as the caller writes them (a few top-level options and
 * one group per concern), and `resolveOptions`, which checks them once and builds the frozen
 * {@link ResolvedOptions} (settings.ts) the rest of the core reads.
 *
 * @module
 */
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
import type { LoginManagerOptions } from "./option-groups.js";
import { checkTopLevelNames, optionGroups } from "./option-paths.js";
import type { ResolvedOptions } from "./settings.js";
import type { AuthUser } from "./users.js";
import { AnonymousUserMixin } from "./users.js";

export type {
  CookieOptions,
  CsrfOptions,
  LoginManagerOptions,
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
