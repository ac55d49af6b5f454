/**
 * One resolver per option group: each takes the group as the caller wrote it (names already checked
 * by `optionGroup`, option-paths.ts), checks every value and the relations between them, and returns
 * a new frozen group of the resolved shape (settings.ts) with the defaults applied.
 *
 * @module
 */
import { ConfigurationError } from "./errors.js";
import { resolveAllowedHosts } from "./hosts.js";
import {
  booleanOption,
  cookieName,
  nullableString,
  optionalFunction,
  optionalPath,
  resolveCookieSecure,
  resolveOrigins,
  resolveProtection,
  resolveSameSite,
  stringOption,
  wholeNumber,
} from "./option-checks.js";
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
import type {
  CookieSettings,
  CsrfSettings,
  NetworkSettings,
  RememberMeSettings,
  SessionSettings,
  ThrottleSettings,
  UserCacheSettings,
  ViewSettings,
} from "./settings.js";

/** NIST SP 800-63B 3.2.2: at most 100 consecutive failed attempts on one account. */
const MAX_ACCOUNT_FAILURES_CAP = 100;

/**
 * `views`: paths, messages and handlers for anonymous visitors and stale logins.
 *
 * @example
 * ```ts
 * resolveViews({ loginView: "/login" }).loginMessage; // "Please log in to access this page."
 * ```
 */
export function resolveViews(views: ViewOptions): ViewSettings {
  return Object.freeze({
    loginView: optionalPath(views.loginView, "views.loginView"),
    loginMessage: nullableString(
      views.loginMessage,
      "views.loginMessage",
      "Please log in to access this page.",
    ),
    loginMessageCategory: stringOption(views.loginMessageCategory, "views.loginMessageCategory", "message"),
    refreshView: optionalPath(views.refreshView, "views.refreshView"),
    needsRefreshMessage: nullableString(
      views.needsRefreshMessage,
      "views.needsRefreshMessage",
      "Please reauthenticate to access this page.",
    ),
    needsRefreshMessageCategory: stringOption(
      views.needsRefreshMessageCategory,
      "views.needsRefreshMessageCategory",
      "message",
    ),
    nextField: stringOption(views.nextField, "views.nextField", "next"),
    unauthorizedHandler: optionalFunction(views.unauthorizedHandler, "views.unauthorizedHandler"),
    needsRefreshHandler: optionalFunction(views.needsRefreshHandler, "views.needsRefreshHandler"),
  });
}

/**
 * `session`: protection and timeouts; the idle timeout may not exceed the absolute one, and the
 * touch interval must be shorter than the idle timeout.
 *
 * @example
 * ```ts
 * resolveSession({ idleTimeoutSeconds: 600 }).touchIntervalSeconds; // 60
 * ```
 */
export function resolveSession(session: SessionOptions): SessionSettings {
  const resolved: SessionSettings = {
    protection: resolveProtection(session.protection),
    idleTimeoutSeconds: wholeNumber(session.idleTimeoutSeconds, "session.idleTimeoutSeconds", 1800, 1),
    absoluteTimeoutSeconds: wholeNumber(
      session.absoluteTimeoutSeconds,
      "session.absoluteTimeoutSeconds",
      43_200,
      1,
    ),
    touchIntervalSeconds: wholeNumber(session.touchIntervalSeconds, "session.touchIntervalSeconds", 60, 0),
  };
  if (resolved.idleTimeoutSeconds > resolved.absoluteTimeoutSeconds) {
    throw new ConfigurationError(
      `session.idleTimeoutSeconds (${resolved.idleTimeoutSeconds}) must not exceed session.absoluteTimeoutSeconds (${resolved.absoluteTimeoutSeconds})`,
    );
  }
  if (resolved.touchIntervalSeconds >= resolved.idleTimeoutSeconds) {
    throw new ConfigurationError(
      `session.touchIntervalSeconds (${resolved.touchIntervalSeconds}) must be shorter than session.idleTimeoutSeconds (${resolved.idleTimeoutSeconds}); try a tenth of it`,
    );
  }
  return Object.freeze(resolved);
}

/**
 * `rememberMe`: token lifetime and the grace for parallel requests.
 *
 * @example
 * ```ts
 * resolveRememberMe({}).durationSeconds; // 2592000
 * ```
 */
export function resolveRememberMe(rememberMe: RememberMeOptions): RememberMeSettings {
  return Object.freeze({
    durationSeconds: wholeNumber(rememberMe.durationSeconds, "rememberMe.durationSeconds", 2_592_000, 1),
    raceGraceSeconds: wholeNumber(rememberMe.raceGraceSeconds, "rememberMe.raceGraceSeconds", 10, 0),
  });
}

/**
 * `cookies`: four different names and the Secure and SameSite attributes.
 *
 * @example
 * ```ts
 * resolveCookies({ sessionName: "sid" }).rememberName; // "remember_token"
 * ```
 */
export function resolveCookies(cookies: CookieOptions): CookieSettings {
  const resolved: CookieSettings = {
    sessionName: cookieName(cookies.sessionName, "cookies.sessionName", "session"),
    rememberName: cookieName(cookies.rememberName, "cookies.rememberName", "remember_token"),
    csrfName: cookieName(cookies.csrfName, "cookies.csrfName", "csrf"),
    flashName: cookieName(cookies.flashName, "cookies.flashName", "flash"),
    secure: resolveCookieSecure(cookies.secure),
    sameSite: resolveSameSite(cookies.sameSite),
  };
  const names = [resolved.sessionName, resolved.rememberName, resolved.csrfName, resolved.flashName];
  if (new Set(names).size !== names.length) {
    throw new ConfigurationError(
      `cookies.sessionName, cookies.rememberName, cookies.csrfName and cookies.flashName must differ, got ${names.map((name) => JSON.stringify(name)).join(", ")}`,
    );
  }
  return Object.freeze(resolved);
}

/**
 * `csrf`: the check's switch, token field and header (lower-cased), extra origins and hooks.
 *
 * @example
 * ```ts
 * resolveCsrf({ headerName: "X-My-Token" }).headerName; // "x-my-token"
 * ```
 */
export function resolveCsrf(csrf: CsrfOptions): CsrfSettings {
  return Object.freeze({
    enabled: booleanOption(csrf.enabled, "csrf.enabled", true),
    fieldName: stringOption(csrf.fieldName, "csrf.fieldName", "_csrf"),
    headerName: stringOption(csrf.headerName, "csrf.headerName", "x-csrf-token").toLowerCase(),
    trustedOrigins: resolveOrigins(csrf.trustedOrigins),
    skip: optionalFunction(csrf.skip, "csrf.skip"),
    onFailure: optionalFunction(csrf.onFailure, "csrf.onFailure"),
  });
}

/**
 * `throttle`: failure budgets and lock durations; the first lock may not exceed the longest, and an
 * account may have at most 100 failures before its lock.
 *
 * @example
 * ```ts
 * resolveThrottle({ maxAccountFailures: 10 }).lockMaxSeconds; // 3600
 * ```
 */
export function resolveThrottle(throttle: ThrottleOptions): ThrottleSettings {
  const resolved: ThrottleSettings = {
    maxAccountFailures: wholeNumber(throttle.maxAccountFailures, "throttle.maxAccountFailures", 5, 1),
    maxAddressFailures: wholeNumber(throttle.maxAddressFailures, "throttle.maxAddressFailures", 50, 1),
    lockBaseSeconds: wholeNumber(throttle.lockBaseSeconds, "throttle.lockBaseSeconds", 30, 1),
    lockMaxSeconds: wholeNumber(throttle.lockMaxSeconds, "throttle.lockMaxSeconds", 3600, 1),
    failureWindowSeconds: wholeNumber(
      throttle.failureWindowSeconds,
      "throttle.failureWindowSeconds",
      86_400,
      1,
    ),
  };
  if (resolved.lockBaseSeconds > resolved.lockMaxSeconds) {
    throw new ConfigurationError(
      `throttle.lockBaseSeconds (${resolved.lockBaseSeconds}) must not exceed throttle.lockMaxSeconds (${resolved.lockMaxSeconds})`,
    );
  }
  if (resolved.maxAccountFailures > MAX_ACCOUNT_FAILURES_CAP) {
    throw new ConfigurationError(
      `throttle.maxAccountFailures must be at most ${MAX_ACCOUNT_FAILURES_CAP} (NIST SP 800-63B 3.2.2), got ${resolved.maxAccountFailures}`,
    );
  }
  return Object.freeze(resolved);
}

/**
 * `userCache`: lifetime (0: off) and size of the per-process user cache.
 *
 * @example
 * ```ts
 * resolveUserCache({ ttlSeconds: 30 }).maxEntries; // 10000
 * ```
 */
export function resolveUserCache(userCache: UserCacheOptions): UserCacheSettings {
  return Object.freeze({
    ttlSeconds: wholeNumber(userCache.ttlSeconds, "userCache.ttlSeconds", 0, 0),
    maxEntries: wholeNumber(userCache.maxEntries, "userCache.maxEntries", 10_000, 1),
  });
}

/**
 * `network`: trusted proxy hops and the allowed host names (normalised by `resolveAllowedHosts`).
 *
 * @example
 * ```ts
 * resolveNetwork({ allowedHosts: ["App.Example.com"] }).allowedHosts; // ["app.example.com"]
 * ```
 */
export function resolveNetwork(network: NetworkOptions): NetworkSettings {
  return Object.freeze({
    trustProxyHops: wholeNumber(network.trustProxyHops, "network.trustProxyHops", 0, 0),
    allowedHosts: allowedHosts(network.allowedHosts),
  });
}

/** hosts.ts names the option `allowedHosts`; its messages get the group's path here. */
function allowedHosts(value: readonly string[] | undefined): readonly string[] {
  try {
    return resolveAllowedHosts(value);
  } catch (error) {
    if (error instanceof ConfigurationError && error.message.startsWith("allowedHosts")) {
      throw new ConfigurationError(`network.${error.message}`);
    }
    throw error;
  }
}
