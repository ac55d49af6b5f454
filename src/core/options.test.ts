import { describe, expect, it } from "vitest";
import { MemoryStore } from "../stores/memory/index.js";
import { systemClock } from "./clock.js";
import { ConfigurationError } from "./errors.js";
import type { LoginManagerOptions } from "./options.js";
import { resolveOptions } from "./options.js";
import { SESSION_STORE_METHODS } from "./store.js";
import type { AuthUser } from "./users.js";
import { AnonymousUserMixin } from "./users.js";

const SECRET = "0123456789abcdef0123456789abcdef";

function base(): LoginManagerOptions<AuthUser> {
  return { secret: SECRET, store: new MemoryStore(), userLoader: () => null };
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

function deepFreeze<T>(value: T): T {
  if (value && typeof value === "object" && !Object.isFrozen(value)) {
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
    Object.freeze(value);
  }
  return value;
}

describe("resolveOptions defaults", () => {
  it("applies the documented safe defaults, group by group", () => {
    const resolved = resolveOptions(base());
    expect(resolved.secrets).toEqual([SECRET]);
    expect(resolved.views).toEqual({
      loginView: null,
      loginMessage: "Please log in to access this page.",
      loginMessageCategory: "message",
      refreshView: null,
      needsRefreshMessage: "Please reauthenticate to access this page.",
      needsRefreshMessageCategory: "message",
      nextField: "next",
      unauthorizedHandler: undefined,
      needsRefreshHandler: undefined,
    });
    expect(resolved.session).toEqual({
      protection: "basic",
      idleTimeoutSeconds: 1800,
      absoluteTimeoutSeconds: 43_200,
      touchIntervalSeconds: 60,
    });
    expect(resolved.rememberMe).toEqual({ durationSeconds: 30 * 86_400, raceGraceSeconds: 10 });
    expect(resolved.cookies).toEqual({
      sessionName: "session",
      rememberName: "remember_token",
      csrfName: "csrf",
      flashName: "flash",
      secure: "auto",
      sameSite: "Lax",
    });
    expect(resolved.csrf).toEqual({
      enabled: true,
      fieldName: "_csrf",
      headerName: "x-csrf-token",
      trustedOrigins: [],
      skip: undefined,
      onFailure: undefined,
    });
    expect(resolved.throttle).toEqual({
      maxAccountFailures: 5,
      maxAddressFailures: 50,
      lockBaseSeconds: 30,
      lockMaxSeconds: 3600,
      failureWindowSeconds: 86_400,
    });
    expect(resolved.userCache).toEqual({ ttlSeconds: 0, maxEntries: 10_000 });
    expect(resolved.network).toEqual({
      trustProxyHops: 0,
      allowedHosts: [".localhost", "127.0.0.1", "[::1]"],
    });
    expect(resolved.asyncContext).toBe(true);
    expect(resolved.clock).toBe(systemClock);
    expect(resolved.requestLoader).toBeUndefined();
    expect(resolved.anonymousUser()).toBeInstanceOf(AnonymousUserMixin);
  });

  it("keeps a remember-me lifetime of at most 30 days, not Flask-Login's 365 (checklist I.62)", () => {
    expect(resolveOptions(base()).rememberMe.durationSeconds).toBeLessThanOrEqual(30 * 86_400);
  });

  it("keeps a deliberate 0 instead of replacing it with the default", () => {
    const resolved = resolveOptions({
      ...base(),
      session: { touchIntervalSeconds: 0 },
      rememberMe: { raceGraceSeconds: 0 },
    });
    expect(resolved.session.touchIntervalSeconds).toBe(0);
    expect(resolved.rememberMe.raceGraceSeconds).toBe(0);
  });

  it("lower-cases the CSRF header name (adapters look headers up in lower case)", () => {
    expect(resolveOptions({ ...base(), csrf: { headerName: "X-My-Token" } }).csrf.headerName).toBe(
      "x-my-token",
    );
  });

  it("accepts a list of secrets in order (the first signs)", () => {
    const other = "fedcba9876543210fedcba9876543210";
    expect(resolveOptions({ ...base(), secret: [other, SECRET] }).secrets).toEqual([other, SECRET]);
  });

  it("only requires a requestLoader when there is no userLoader", () => {
    const { userLoader: _unused, ...rest } = base();
    const resolved = resolveOptions({ ...rest, requestLoader: () => null });
    expect(resolved.userLoader).toBeUndefined();
    expect(resolved.requestLoader).toBeTypeOf("function");
  });

  it("accepts empty groups as all defaults", () => {
    const empty = resolveOptions({
      ...base(),
      views: {},
      session: {},
      rememberMe: {},
      cookies: {},
      csrf: {},
      throttle: {},
      userCache: {},
      network: {},
    });
    const { store: _store, anonymousUser: _anonymous, userLoader: _loader, ...groups } = empty;
    const { store: _s, anonymousUser: _a, userLoader: _l, ...defaults } = resolveOptions(base());
    expect(groups).toEqual(defaults);
  });
});

describe("resolveOptions puts every option in its place", () => {
  it("carries each given value to the same name in the resolved group", () => {
    const onFailure = () => undefined;
    const skip = () => false;
    const handler = () => undefined;
    const clock = { now: () => 0 };
    const resolved = resolveOptions({
      ...base(),
      asyncContext: false,
      clock,
      views: {
        loginView: "/login",
        loginMessage: null,
        loginMessageCategory: "info",
        refreshView: "https://id.example/refresh",
        needsRefreshMessage: "Again, please.",
        needsRefreshMessageCategory: "warning",
        nextField: "back",
        unauthorizedHandler: handler,
        needsRefreshHandler: handler,
      },
      session: {
        protection: "strong",
        idleTimeoutSeconds: 600,
        absoluteTimeoutSeconds: 3600,
        touchIntervalSeconds: 30,
      },
      rememberMe: { durationSeconds: 86_400, raceGraceSeconds: 5 },
      cookies: {
        sessionName: "s",
        rememberName: "r",
        csrfName: "c",
        flashName: "f",
        secure: true,
        sameSite: "Strict",
      },
      csrf: {
        enabled: false,
        fieldName: "token",
        headerName: "x-t",
        trustedOrigins: ["https://a.example"],
        skip,
        onFailure,
      },
      throttle: {
        maxAccountFailures: 10,
        maxAddressFailures: 20,
        lockBaseSeconds: 1,
        lockMaxSeconds: 2,
        failureWindowSeconds: 3,
      },
      userCache: { ttlSeconds: 30, maxEntries: 7 },
      network: { trustProxyHops: 2, allowedHosts: ["App.Example.com"] },
    });
    expect(resolved.asyncContext).toBe(false);
    expect(resolved.clock).toBe(clock);
    expect(resolved.views).toEqual({
      loginView: "/login",
      loginMessage: null,
      loginMessageCategory: "info",
      refreshView: "https://id.example/refresh",
      needsRefreshMessage: "Again, please.",
      needsRefreshMessageCategory: "warning",
      nextField: "back",
      unauthorizedHandler: handler,
      needsRefreshHandler: handler,
    });
    expect(resolved.session).toEqual({
      protection: "strong",
      idleTimeoutSeconds: 600,
      absoluteTimeoutSeconds: 3600,
      touchIntervalSeconds: 30,
    });
    expect(resolved.rememberMe).toEqual({ durationSeconds: 86_400, raceGraceSeconds: 5 });
    expect(resolved.cookies).toEqual({
      sessionName: "s",
      rememberName: "r",
      csrfName: "c",
      flashName: "f",
      secure: true,
      sameSite: "Strict",
    });
    expect(resolved.csrf).toEqual({
      enabled: false,
      fieldName: "token",
      headerName: "x-t",
      trustedOrigins: ["https://a.example"],
      skip,
      onFailure,
    });
    expect(resolved.throttle).toEqual({
      maxAccountFailures: 10,
      maxAddressFailures: 20,
      lockBaseSeconds: 1,
      lockMaxSeconds: 2,
      failureWindowSeconds: 3,
    });
    expect(resolved.userCache).toEqual({ ttlSeconds: 30, maxEntries: 7 });
    expect(resolved.network).toEqual({ trustProxyHops: 2, allowedHosts: ["app.example.com"] });
  });
});

describe("resolveOptions result", () => {
  it("is frozen, and so are every group and every list", () => {
    const resolved = resolveOptions({
      ...base(),
      secret: [SECRET],
      csrf: { trustedOrigins: ["https://a.example"] },
      network: { allowedHosts: ["app.example.com"] },
    });
    expect(Object.isFrozen(resolved)).toBe(true);
    for (const group of [
      "views",
      "session",
      "rememberMe",
      "cookies",
      "csrf",
      "throttle",
      "userCache",
      "network",
    ]) {
      expect(Object.isFrozen(resolved[group as keyof typeof resolved]), group).toBe(true);
    }
    expect(Object.isFrozen(resolved.secrets)).toBe(true);
    expect(Object.isFrozen(resolved.csrf.trustedOrigins)).toBe(true);
    expect(Object.isFrozen(resolved.network.allowedHosts)).toBe(true);
    expect(() => {
      (resolved.session as { idleTimeoutSeconds: number }).idleTimeoutSeconds = 5;
    }).toThrow(TypeError);
    expect(() => {
      (resolved as { session: unknown }).session = {};
    }).toThrow(TypeError);
  });

  it("does not mutate the caller's object or its groups (which may themselves be frozen)", () => {
    const options = deepFreeze({
      ...base(),
      secret: [SECRET],
      session: { idleTimeoutSeconds: 600 },
      csrf: { trustedOrigins: ["https://a.example"] },
      network: { allowedHosts: ["app.example.com"] },
    });
    const before = structuredClone({ ...options, store: undefined, userLoader: undefined });
    const resolved = resolveOptions(options);
    expect({ ...options, store: undefined, userLoader: undefined }).toEqual(before);
    expect(Object.keys(options.session)).toEqual(["idleTimeoutSeconds"]);
    expect(resolved).not.toBe(options);
    expect(resolved.session).not.toBe(options.session);
    expect(resolved.csrf).not.toBe(options.csrf);
    expect(resolved.secrets).not.toBe(options.secret);
    expect(resolved.csrf.trustedOrigins).not.toBe(options.csrf.trustedOrigins);
    expect(resolved.network.allowedHosts).not.toBe(options.network.allowedHosts);
  });

  it("keeps nothing of the caller's: later changes to its groups and lists change nothing", () => {
    const secrets = [SECRET];
    const session = { idleTimeoutSeconds: 600 };
    const csrf = { trustedOrigins: ["https://a.example"] };
    const network = { allowedHosts: ["app.example.com"] };
    const resolved = resolveOptions({ ...base(), secret: secrets, session, csrf, network });
    secrets.push("x".repeat(40));
    session.idleTimeoutSeconds = 5;
    csrf.trustedOrigins.push("https://evil.example");
    network.allowedHosts.push("evil.example");
    expect(resolved.secrets).toEqual([SECRET]);
    expect(resolved.session.idleTimeoutSeconds).toBe(600);
    expect(resolved.csrf.trustedOrigins).toEqual(["https://a.example"]);
    expect(resolved.network.allowedHosts).toEqual(["app.example.com"]);
  });
});

describe("resolveOptions rejects bad options with a ConfigurationError naming them", () => {
  it("rejects a missing or non-object options argument", () => {
    expect(configurationError(undefined).message).toMatch(/options/);
    expect(configurationError(null).message).toMatch(/options/);
    expect(configurationError("secret").message).toMatch(/options/);
    expect(configurationError([base()]).message).toMatch(/options/);
  });

  it.each([
    ["missing", undefined],
    ["empty", ""],
    ["31 characters", "x".repeat(31)],
    ["an empty list", []],
    ["a list with a short key", [SECRET, "short"]],
    ["a list with a non-string", [SECRET, 42]],
    ["a number", 1e40],
    ["a Buffer", Buffer.alloc(64)],
  ])("secret: %s", (_label, secret) => {
    expect(configurationError({ ...base(), secret }).message).toMatch(/secret/);
  });

  it("never shows a secret in its message", () => {
    const short = "short-but-secret-value";
    expect(configurationError({ ...base(), secret: [SECRET, short] }).message).not.toContain(short);
  });

  it.each([
    ["missing", undefined],
    ["a string", "memory"],
    ["an object missing methods", { createSession() {}, getSession() {} }],
  ])("store: %s", (_label, store) => {
    const message = configurationError({ ...base(), store }).message;
    expect(message).toMatch(/store/);
  });

  it.each(SESSION_STORE_METHODS)("store: refuses at setup a store without %s, and names it", (method) => {
    const memory = new MemoryStore();
    const store: Record<string, unknown> = {};
    for (const name of SESSION_STORE_METHODS) {
      if (name !== method) store[name] = memory[name].bind(memory);
    }
    const message = configurationError({ ...base(), store }).message;
    expect(message).toContain(`missing ${method})`);
  });

  it("store: accepts an object with every SessionStore method", () => {
    const memory = new MemoryStore();
    const store = Object.fromEntries(SESSION_STORE_METHODS.map((name) => [name, memory[name].bind(memory)]));
    expect(() => resolveOptions({ ...base(), store: store as unknown as MemoryStore })).not.toThrow();
  });

  it("store: names the missing methods", () => {
    const message = configurationError({ ...base(), store: { createSession() {}, getSession() {} } }).message;
    expect(message).toContain("updateSession");
    expect(message).toContain("swapRememberValidator");
  });
});
