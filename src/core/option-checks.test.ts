import { describe, expect, it } from "vitest";
import { MemoryStore } from "../stores/memory/index.js";
import { ConfigurationError } from "./errors.js";
import type { LoginManagerOptions } from "./options.js";
import { resolveOptions } from "./options.js";
import type { AuthUser } from "./users.js";
import { AnonymousUserMixin } from "./users.js";

const SECRET = "0123456789abcdef0123456789abcdef";

function base(): LoginManagerOptions<AuthUser> {
  return { secret: SECRET, store: new MemoryStore(), userLoader: () => null };
}

/** base() with one option set: `"userLoader"` at the top level, `"session.idleTimeoutSeconds"` in its group. */
function withOption(path: string, value: unknown): LoginManagerOptions<AuthUser> {
  const [group, name] = path.split(".");
  if (name === undefined) return { ...base(), [path]: value };
  return { ...base(), [group as string]: { [name]: value } };
}

function configurationError(options: unknown): ConfigurationError {
  try {
    resolveOptions(options as LoginManagerOptions<AuthUser>);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as ConfigurationError).code).toBe("ERR_CONFIGURATION");
    return error as ConfigurationError;
  }
  throw new Error("expected resolveOptions to throw a ConfigurationError");
}

describe("resolveOptions refuses a bad value and names the option by its path", () => {
  const bad: ReadonlyArray<[path: string, value: unknown]> = [
    ["userLoader", "findUser"],
    ["requestLoader", {}],
    ["anonymousUser", new AnonymousUserMixin()],
    ["asyncContext", "yes"],
    ["views.unauthorizedHandler", 401],
    ["views.needsRefreshHandler", true],
    ["views.loginView", "login"],
    ["views.loginView", "javascript:alert(1)"],
    ["views.loginView", 42],
    ["views.refreshView", "refresh"],
    ["views.loginMessage", 42],
    ["views.needsRefreshMessage", {}],
    ["views.loginMessageCategory", ""],
    ["views.needsRefreshMessageCategory", 1],
    ["views.nextField", ""],
    ["session.protection", "paranoid"],
    ["session.protection", true],
    ["session.protection", null],
    ["session.idleTimeoutSeconds", 0],
    ["session.idleTimeoutSeconds", 1.5],
    ["session.idleTimeoutSeconds", "1800"],
    ["session.idleTimeoutSeconds", Number.NaN],
    ["session.idleTimeoutSeconds", Number.POSITIVE_INFINITY],
    ["session.absoluteTimeoutSeconds", -1],
    ["session.touchIntervalSeconds", -1],
    ["rememberMe.durationSeconds", 0],
    ["rememberMe.durationSeconds", "30d"],
    ["rememberMe.raceGraceSeconds", -1],
    ["cookies.sessionName", "__Host-session"],
    ["cookies.sessionName", "my session"],
    ["cookies.sessionName", "a;b"],
    ["cookies.sessionName", ""],
    ["cookies.rememberName", "x".repeat(65)],
    ["cookies.csrfName", "__Secure-csrf"],
    ["cookies.flashName", "fl=ash"],
    ["cookies.secure", "yes"],
    ["cookies.sameSite", "None"],
    ["cookies.sameSite", "lax"],
    ["csrf.enabled", "false"],
    ["csrf.fieldName", ""],
    ["csrf.headerName", 5],
    ["csrf.skip", "/api"],
    ["csrf.onFailure", 403],
    ["csrf.trustedOrigins", "https://a.example"],
    ["csrf.trustedOrigins", ["a.example"]],
    ["csrf.trustedOrigins", ["https://a.example/"]],
    ["csrf.trustedOrigins", ["https://a.example/path"]],
    ["throttle.maxAccountFailures", 0],
    ["throttle.maxAddressFailures", 0],
    ["throttle.lockBaseSeconds", 0],
    ["throttle.lockMaxSeconds", 0],
    ["throttle.failureWindowSeconds", 0],
    ["userCache.ttlSeconds", -1],
    ["userCache.maxEntries", 0],
    ["network.trustProxyHops", -1],
    ["network.trustProxyHops", 0.5],
    ["network.allowedHosts", []],
    ["network.allowedHosts", ["https://app.example.com/"]],
    ["clock", {}],
    ["clock", "system"],
    ["clock", { now: 5 }],
  ];

  it.each(bad)("%s = %j", (path, value) => {
    expect(configurationError(withOption(path, value)).message).toContain(path);
  });
});

describe("resolveOptions shows a refused value as it was given", () => {
  it.each([
    ["session.idleTimeoutSeconds", "1800", 'got "1800"'],
    ["session.idleTimeoutSeconds", 1.5, "got 1.5"],
    ["session.idleTimeoutSeconds", Number.NaN, "got NaN"],
    ["rememberMe.durationSeconds", "30d", 'got "30d"'],
    ["network.trustProxyHops", "1", 'got "1"'],
    ["csrf.enabled", "false", 'got "false"'],
    ["session.protection", "paranoid", 'got "paranoid"'],
    ["session.protection", null, "got null"],
    ["cookies.secure", "yes", 'got "yes"'],
    ["cookies.sameSite", "None", 'got "None"'],
    ["cookies.sessionName", "my session", 'got "my session"'],
    ["views.loginView", "login", 'got "login"'],
    ["views.loginView", 42, "got 42"],
    ["views.nextField", "", 'got ""'],
    ["views.loginMessage", 42, "got 42"],
    ["userLoader", "findUser", 'got "findUser"'],
    ["csrf.trustedOrigins", "https://a.example", 'got "https://a.example"'],
    ["csrf.trustedOrigins", ["a.example"], 'entry "a.example"'],
    ["clock", "system", 'got "system"'],
  ])("%s = %j shows %s", (path, value, shown) => {
    expect(configurationError(withOption(path, value)).message).toContain(shown);
  });

  it("tells a number given as text from the number it reads as", () => {
    const asText = configurationError(withOption("session.idleTimeoutSeconds", "0")).message;
    const asNumber = configurationError(withOption("session.idleTimeoutSeconds", 0)).message;
    expect(asText).toContain('got "0"');
    expect(asNumber).toContain("got 0");
    expect(asNumber).not.toContain('"0"');
  });
});

describe("resolveOptions checks the relations between options", () => {
  it("rejects an idle timeout longer than the absolute timeout", () => {
    const message = configurationError({
      ...base(),
      session: { idleTimeoutSeconds: 7200, absoluteTimeoutSeconds: 3600 },
    }).message;
    expect(message).toContain("session.idleTimeoutSeconds (7200)");
    expect(message).toContain("session.absoluteTimeoutSeconds (3600)");
  });

  it("accepts an idle timeout equal to the absolute timeout", () => {
    const resolved = resolveOptions({
      ...base(),
      session: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 3600 },
    });
    expect(resolved.session.idleTimeoutSeconds).toBe(3600);
  });

  it("compares a given idle timeout with the default absolute timeout", () => {
    expect(configurationError(withOption("session.idleTimeoutSeconds", 43_201)).message).toContain(
      "session.absoluteTimeoutSeconds (43200)",
    );
  });

  it("rejects a touch interval not shorter than the idle timeout", () => {
    const message = configurationError({
      ...base(),
      session: { idleTimeoutSeconds: 60, touchIntervalSeconds: 60 },
    }).message;
    expect(message).toContain("session.touchIntervalSeconds");
  });

  it("rejects a base lock longer than the longest lock", () => {
    const message = configurationError({
      ...base(),
      throttle: { lockBaseSeconds: 600, lockMaxSeconds: 300 },
    }).message;
    expect(message).toContain("throttle.lockBaseSeconds");
  });

  it("rejects more than 100 account failures before locking (NIST SP 800-63B 3.2.2, checklist C.21)", () => {
    const hundred = resolveOptions({ ...base(), throttle: { maxAccountFailures: 100 } });
    expect(hundred.throttle.maxAccountFailures).toBe(100);
    expect(configurationError(withOption("throttle.maxAccountFailures", 101)).message).toContain(
      "throttle.maxAccountFailures",
    );
  });

  it("rejects two cookies with the same name, the default ones included", () => {
    const message = configurationError(withOption("cookies.csrfName", "session")).message;
    expect(message).toContain("cookies.csrfName");
    expect(message).toContain('"session", "remember_token", "session", "flash"');
    expect(
      configurationError({ ...base(), cookies: { flashName: "x", rememberName: "x" } }).message,
    ).toContain("must differ");
  });
});

describe("loginView and refreshView refuse scheme-relative URLs", () => {
  it("throws for //host/login, which a browser would treat as another site", () => {
    expect(() => resolveOptions({ ...base(), views: { loginView: "//evil.example/login" } })).toThrow(
      /views\.loginView must be a path/,
    );
    expect(() => resolveOptions({ ...base(), views: { refreshView: "//evil.example/again" } })).toThrow(
      /views\.refreshView must be a path/,
    );
  });
});
