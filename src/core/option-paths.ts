/**
 * The names `new LoginManager(options)` accepts, at the top level and in each group, and where each
 * option of the former flat shape lives now; unknown names are refused with the closest known path
 * (`loginview` -> `views.loginView`, `sessionCookieName` -> `cookies.sessionName`).
 *
 * @module
 */
import { ConfigurationError } from "./errors.js";
import type { LoginManagerOptions } from "./option-groups.js";
import { rejectUnknownKeys, showValue } from "./option-names.js";
import type { AuthUser } from "./users.js";

type Options = Required<LoginManagerOptions<AuthUser>>;

/**
 * A name of {@link LoginManagerOptions} whose value is a group of options.
 *
 * @example
 * ```ts
 * const group: OptionGroupName = "session";
 * ```
 */
export type OptionGroupName =
  | "views"
  | "session"
  | "rememberMe"
  | "cookies"
  | "csrf"
  | "throttle"
  | "userCache"
  | "network";

/**
 * Where an option lives: a top-level name (`"secret"`) or `group.name` (`"session.idleTimeoutSeconds"`).
 *
 * @example
 * ```ts
 * const path: OptionPath = "cookies.sessionName";
 * ```
 */
export type OptionPath =
  | Exclude<keyof Options, OptionGroupName>
  | { [G in OptionGroupName]: `${G}.${keyof Options[G] & string}` }[OptionGroupName];

/** Every key of `T`, once: the record type makes the compiler refuse a missing or extra name. */
function namesOf<T>(record: Record<keyof T & string, true>): readonly (keyof T & string)[] {
  return Object.freeze(Object.keys(record) as (keyof T & string)[]);
}

/**
 * The names accepted in each group.
 *
 * @example
 * ```ts
 * OPTION_GROUPS.rememberMe; // ["durationSeconds", "raceGraceSeconds"]
 * ```
 */
export const OPTION_GROUPS: { readonly [G in OptionGroupName]: readonly (keyof Options[G] & string)[] } =
  Object.freeze({
    views: namesOf<Options["views"]>({
      loginView: true,
      loginMessage: true,
      loginMessageCategory: true,
      refreshView: true,
      needsRefreshMessage: true,
      needsRefreshMessageCategory: true,
      nextField: true,
      unauthorizedHandler: true,
      needsRefreshHandler: true,
    }),
    session: namesOf<Options["session"]>({
      protection: true,
      idleTimeoutSeconds: true,
      absoluteTimeoutSeconds: true,
      touchIntervalSeconds: true,
    }),
    rememberMe: namesOf<Options["rememberMe"]>({ durationSeconds: true, raceGraceSeconds: true }),
    cookies: namesOf<Options["cookies"]>({
      sessionName: true,
      rememberName: true,
      csrfName: true,
      flashName: true,
      secure: true,
      sameSite: true,
    }),
    csrf: namesOf<Options["csrf"]>({
      enabled: true,
      fieldName: true,
      headerName: true,
      trustedOrigins: true,
      skip: true,
      onFailure: true,
    }),
    throttle: namesOf<Options["throttle"]>({
      maxAccountFailures: true,
      maxAddressFailures: true,
      lockBaseSeconds: true,
      lockMaxSeconds: true,
      failureWindowSeconds: true,
    }),
    userCache: namesOf<Options["userCache"]>({ ttlSeconds: true, maxEntries: true }),
    network: namesOf<Options["network"]>({ trustProxyHops: true, allowedHosts: true }),
  });

/**
 * The names accepted at the top level: the single options, then the groups.
 *
 * @example
 * ```ts
 * TOP_LEVEL_NAMES.includes("views"); // true
 * ```
 */
export const TOP_LEVEL_NAMES: readonly (keyof Options)[] = namesOf<Options>({
  secret: true,
  store: true,
  userLoader: true,
  requestLoader: true,
  anonymousUser: true,
  asyncContext: true,
  clock: true,
  views: true,
  session: true,
  rememberMe: true,
  cookies: true,
  csrf: true,
  throttle: true,
  userCache: true,
  network: true,
});

/**
 * Every option of the flat shape `new LoginManager` took before the groups (issue 15), and where it
 * lives now, so an upgrade that keeps an old name is told exactly where to move it.
 *
 * @example
 * ```ts
 * FORMER_OPTION_PATHS.sessionCookieName; // "cookies.sessionName"
 * ```
 */
export const FORMER_OPTION_PATHS: Readonly<Record<string, OptionPath>> = Object.freeze({
  secret: "secret",
  store: "store",
  userLoader: "userLoader",
  requestLoader: "requestLoader",
  anonymousUser: "anonymousUser",
  asyncContext: "asyncContext",
  clock: "clock",
  loginView: "views.loginView",
  loginMessage: "views.loginMessage",
  loginMessageCategory: "views.loginMessageCategory",
  refreshView: "views.refreshView",
  needsRefreshMessage: "views.needsRefreshMessage",
  needsRefreshMessageCategory: "views.needsRefreshMessageCategory",
  nextField: "views.nextField",
  unauthorizedHandler: "views.unauthorizedHandler",
  needsRefreshHandler: "views.needsRefreshHandler",
  sessionProtection: "session.protection",
  idleTimeoutSeconds: "session.idleTimeoutSeconds",
  absoluteTimeoutSeconds: "session.absoluteTimeoutSeconds",
  touchIntervalSeconds: "session.touchIntervalSeconds",
  rememberDurationSeconds: "rememberMe.durationSeconds",
  rememberRaceGraceSeconds: "rememberMe.raceGraceSeconds",
  sessionCookieName: "cookies.sessionName",
  rememberCookieName: "cookies.rememberName",
  csrfCookieName: "cookies.csrfName",
  flashCookieName: "cookies.flashName",
  cookieSecure: "cookies.secure",
  cookieSameSite: "cookies.sameSite",
  csrfProtection: "csrf.enabled",
  csrfFieldName: "csrf.fieldName",
  csrfHeaderName: "csrf.headerName",
  trustedOrigins: "csrf.trustedOrigins",
  csrfSkip: "csrf.skip",
  csrfFailureHandler: "csrf.onFailure",
  maxAccountFailures: "throttle.maxAccountFailures",
  maxAddressFailures: "throttle.maxAddressFailures",
  lockBaseSeconds: "throttle.lockBaseSeconds",
  lockMaxSeconds: "throttle.lockMaxSeconds",
  failureWindowSeconds: "throttle.failureWindowSeconds",
  userCacheSeconds: "userCache.ttlSeconds",
  userCacheMaxEntries: "userCache.maxEntries",
  trustProxyHops: "network.trustProxyHops",
  allowedHosts: "network.allowedHosts",
} satisfies Record<string, OptionPath>);

const GROUP_NAMES = Object.keys(OPTION_GROUPS) as OptionGroupName[];
const CONTEXT = "LoginManager";

/** Names that are not accepted at some level, each pointing at the path to use instead. */
function pathHints(except: OptionGroupName | undefined): Record<string, string> {
  const hints: Record<string, string> = {};
  for (const [former, path] of Object.entries(FORMER_OPTION_PATHS)) {
    if (former !== path) hints[former] = path;
  }
  for (const group of GROUP_NAMES) {
    if (group === except) continue;
    for (const name of OPTION_GROUPS[group]) hints[name] = `${group}.${name}`;
  }
  if (except !== undefined) {
    for (const name of TOP_LEVEL_NAMES) hints[name] = name;
  }
  return hints;
}

const TOP_LEVEL_HINTS = Object.freeze(pathHints(undefined));
const GROUP_HINTS: Readonly<Record<OptionGroupName, Readonly<Record<string, string>>>> = Object.freeze(
  Object.fromEntries(GROUP_NAMES.map((group) => [group, Object.freeze(pathHints(group))])) as Record<
    OptionGroupName,
    Record<string, string>
  >,
);

/**
 * Refuses a top-level name `new LoginManager` does not know, pointing at the closest known path.
 *
 * @example
 * ```ts
 * checkTopLevelNames({ secret, store, loginview: "/login" });
 * // ConfigurationError: LoginManager: unknown option "loginview": did you mean "views.loginView"? ...
 * ```
 */
export function checkTopLevelNames(options: object): void {
  rejectUnknownKeys(options, TOP_LEVEL_NAMES, CONTEXT, { hints: TOP_LEVEL_HINTS });
}

/**
 * The groups of `options` as given (an empty object for a group left out), after checking their
 * names: refuses a group that is not an object and a name its group does not know. Run before any
 * value is checked, so a misspelt name is reported first.
 *
 * @example
 * ```ts
 * optionGroups({ secret, store, session: { idleTimeout: 600 } });
 * // ConfigurationError: LoginManager: unknown option "session.idleTimeout": did you mean "session.idleTimeoutSeconds"? ...
 * ```
 */
export function optionGroups(options: object): { readonly [G in OptionGroupName]: Partial<Options[G]> } {
  return {
    views: optionGroup(options, "views"),
    session: optionGroup(options, "session"),
    rememberMe: optionGroup(options, "rememberMe"),
    cookies: optionGroup(options, "cookies"),
    csrf: optionGroup(options, "csrf"),
    throttle: optionGroup(options, "throttle"),
    userCache: optionGroup(options, "userCache"),
    network: optionGroup(options, "network"),
  };
}

/** One group of `options`, its value and names checked. */
function optionGroup<G extends OptionGroupName>(options: object, name: G): Partial<Options[G]> {
  const value: unknown = (options as Partial<Options>)[name];
  if (value === undefined) return {};
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ConfigurationError(
      `${CONTEXT}: ${name} must be an object of options (${OPTION_GROUPS[name].join(", ")}), got ${showValue(value)}`,
    );
  }
  rejectUnknownKeys(value, OPTION_GROUPS[name], CONTEXT, { path: name, hints: GROUP_HINTS[name] });
  return value as Partial<Options[G]>;
}
