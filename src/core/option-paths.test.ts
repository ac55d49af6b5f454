import { describe, expect, it } from "vitest";
import { MemoryStore } from "../stores/memory/index.js";
import { ConfigurationError } from "./errors.js";
import { FORMER_OPTION_PATHS, OPTION_GROUPS, TOP_LEVEL_NAMES } from "./option-paths.js";
import type { LoginManagerOptions } from "./options.js";
import { resolveOptions } from "./options.js";
import type { AuthUser } from "./users.js";

const SECRET = "0123456789abcdef0123456789abcdef";

function base(): LoginManagerOptions<AuthUser> {
  return { secret: SECRET, store: new MemoryStore(), userLoader: () => null };
}

function message(options: unknown): string {
  try {
    resolveOptions(options as LoginManagerOptions<AuthUser>);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).message;
  }
  throw new Error("expected resolveOptions to throw a ConfigurationError");
}

/** The flat options of the releases before issue 15, each with the place it has now (written out here, not read from the code). */
const FORMER: ReadonlyArray<[former: string, path: string]> = [
  ["secret", "secret"],
  ["store", "store"],
  ["userLoader", "userLoader"],
  ["requestLoader", "requestLoader"],
  ["anonymousUser", "anonymousUser"],
  ["asyncContext", "asyncContext"],
  ["clock", "clock"],
  ["loginView", "views.loginView"],
  ["loginMessage", "views.loginMessage"],
  ["loginMessageCategory", "views.loginMessageCategory"],
  ["refreshView", "views.refreshView"],
  ["needsRefreshMessage", "views.needsRefreshMessage"],
  ["needsRefreshMessageCategory", "views.needsRefreshMessageCategory"],
  ["nextField", "views.nextField"],
  ["unauthorizedHandler", "views.unauthorizedHandler"],
  ["needsRefreshHandler", "views.needsRefreshHandler"],
  ["sessionProtection", "session.protection"],
  ["idleTimeoutSeconds", "session.idleTimeoutSeconds"],
  ["absoluteTimeoutSeconds", "session.absoluteTimeoutSeconds"],
  ["touchIntervalSeconds", "session.touchIntervalSeconds"],
  ["rememberDurationSeconds", "rememberMe.durationSeconds"],
  ["rememberRaceGraceSeconds", "rememberMe.raceGraceSeconds"],
  ["sessionCookieName", "cookies.sessionName"],
  ["rememberCookieName", "cookies.rememberName"],
  ["csrfCookieName", "cookies.csrfName"],
  ["flashCookieName", "cookies.flashName"],
  ["cookieSecure", "cookies.secure"],
  ["cookieSameSite", "cookies.sameSite"],
  ["trustProxyHops", "network.trustProxyHops"],
  ["allowedHosts", "network.allowedHosts"],
  ["csrfProtection", "csrf.enabled"],
  ["csrfFieldName", "csrf.fieldName"],
  ["csrfHeaderName", "csrf.headerName"],
  ["csrfFailureHandler", "csrf.onFailure"],
  ["csrfSkip", "csrf.skip"],
  ["trustedOrigins", "csrf.trustedOrigins"],
  ["userCacheSeconds", "userCache.ttlSeconds"],
  ["userCacheMaxEntries", "userCache.maxEntries"],
  ["maxAccountFailures", "throttle.maxAccountFailures"],
  ["maxAddressFailures", "throttle.maxAddressFailures"],
  ["lockBaseSeconds", "throttle.lockBaseSeconds"],
  ["lockMaxSeconds", "throttle.lockMaxSeconds"],
  ["failureWindowSeconds", "throttle.failureWindowSeconds"],
];
const MOVED = FORMER.filter(([former, path]) => former !== path);

describe("names of the former flat options", () => {
  it("are all in the table, each pointing at an option that exists", () => {
    expect(FORMER_OPTION_PATHS).toEqual(Object.fromEntries(FORMER));
    for (const [, path] of FORMER) {
      const [group, name] = path.split(".") as [keyof typeof OPTION_GROUPS, string | undefined];
      if (name === undefined) expect(TOP_LEVEL_NAMES).toContain(path);
      else expect(OPTION_GROUPS[group]).toContain(name);
    }
  });

  it.each(MOVED)("%s at the top level is refused with its new path %s", (former, path) => {
    expect(message({ ...base(), [former]: 1 })).toContain(
      `LoginManager: unknown option "${former}": did you mean "${path}"?`,
    );
  });

  it("are refused even when set to undefined", () => {
    expect(message({ ...base(), loginView: undefined })).toContain('did you mean "views.loginView"?');
  });

  it("point at their new place from inside a group too", () => {
    expect(message({ ...base(), session: { sessionProtection: "strong" } })).toContain(
      'unknown option "session.sessionProtection": did you mean "session.protection"?',
    );
    expect(message({ ...base(), cookies: { sessionCookieName: "sid" } })).toContain(
      'did you mean "cookies.sessionName"?',
    );
    expect(message({ ...base(), csrf: { csrfFailureHandler: () => undefined } })).toContain(
      'did you mean "csrf.onFailure"?',
    );
  });
});

describe("unknown option names", () => {
  it("are refused at the top level with the closest path, in any group", () => {
    expect(message({ ...base(), loginview: "/login" })).toContain(
      'unknown option "loginview": did you mean "views.loginView"?',
    );
    expect(message({ ...base(), idleTimeout: 600 })).toContain('did you mean "session.idleTimeoutSeconds"?');
    expect(message({ ...base(), sameSite: "Strict" })).toContain('did you mean "cookies.sameSite"?');
    expect(message({ ...base(), secrets: [SECRET] })).toContain('did you mean "secret"?');
    expect(message({ ...base(), userloader: () => null })).toContain('did you mean "userLoader"?');
    expect(message({ ...base(), view: {} })).toContain('did you mean "views"?');
  });

  it("are refused in each group with the closest path", () => {
    const cases: ReadonlyArray<[options: object, shown: string, hint: string]> = [
      [{ views: { loginview: "/login" } }, "views.loginview", "views.loginView"],
      [{ session: { idleTimeout: 600 } }, "session.idleTimeout", "session.idleTimeoutSeconds"],
      [{ rememberMe: { duration: 60 } }, "rememberMe.duration", "rememberMe.durationSeconds"],
      [{ cookies: { samesite: "Lax" } }, "cookies.samesite", "cookies.sameSite"],
      [{ csrf: { enable: false } }, "csrf.enable", "csrf.enabled"],
      [{ throttle: { lockMax: 60 } }, "throttle.lockMax", "throttle.lockMaxSeconds"],
      [{ userCache: { ttl: 60 } }, "userCache.ttl", "userCache.ttlSeconds"],
      [{ network: { allowedhost: ["a.example"] } }, "network.allowedhost", "network.allowedHosts"],
    ];
    for (const [options, shown, hint] of cases) {
      expect(message({ ...base(), ...options })).toContain(
        `unknown option "${shown}": did you mean "${hint}"?`,
      );
    }
  });

  it("point from one group to the option's own group, or to the top level", () => {
    expect(message({ ...base(), cookies: { idleTimeoutSeconds: 60 } })).toContain(
      'unknown option "cookies.idleTimeoutSeconds": did you mean "session.idleTimeoutSeconds"?',
    );
    expect(message({ ...base(), session: { secure: true } })).toContain('did you mean "cookies.secure"?');
    expect(message({ ...base(), views: { userLoader: () => null } })).toContain('did you mean "userLoader"?');
  });

  it("list the known names when nothing is close", () => {
    const top = message({ ...base(), colour: "blue" });
    expect(top).toContain('unknown option "colour". Known options: secret, store,');
    expect(top).not.toContain("did you mean");
    expect(message({ ...base(), userCache: { colour: "blue" } })).toContain(
      'unknown option "userCache.colour". Known options in userCache: ttlSeconds, maxEntries.',
    );
  });

  it("are reported before any bad value", () => {
    expect(message({ ...base(), secret: "short", views: { loginview: "/x" } })).toContain(
      'unknown option "views.loginview"',
    );
    expect(message({ ...base(), session: { idleTimeoutSeconds: "1800" }, network: { hops: 1 } })).toContain(
      'unknown option "network.hops"',
    );
  });

  it("do not include inherited names", () => {
    const options = Object.assign(Object.create({ loginview: "/login" }) as object, base());
    expect(() => resolveOptions(options as LoginManagerOptions<AuthUser>)).not.toThrow();
  });
});

describe("option groups", () => {
  it.each([
    ["views", "/login", '"/login"'],
    ["session", 1800, "1800"],
    ["rememberMe", true, "true"],
    ["cookies", null, "null"],
    ["csrf", false, "false"],
    ["throttle", [5], "[5]"],
    ["userCache", "30", '"30"'],
    ["network", () => 1, "a function"],
  ])("%s given as %j is refused", (group, value, shown) => {
    const text = message({ ...base(), [group]: value });
    expect(text).toContain(`${group} must be an object of options`);
    expect(text).toContain(`got ${shown}`);
  });

  it("each accept every name they list", () => {
    for (const [group, names] of Object.entries(OPTION_GROUPS)) {
      const given = Object.fromEntries(names.map((name) => [name, undefined]));
      expect(() => resolveOptions({ ...base(), [group]: given }), group).not.toThrow();
    }
  });
});
