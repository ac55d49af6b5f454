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
  it("applies the documented safe defaults", () => {
    const resolved = resolveOptions(base());
    expect(resolved).toMatchObject({
      secrets: [SECRET],
      loginView: null,
      loginMessage: "Please log in to access this page.",
      loginMessageCategory: "message",
      refreshView: null,
      needsRefreshMessage: "Please reauthenticate to access this page.",
      needsRefreshMessageCategory: "message",
      nextField: "next",
      sessionProtection: "basic",
      idleTimeoutSeconds: 1800,
      absoluteTimeoutSeconds: 43_200,
      touchIntervalSeconds: 60,
      rememberDurationSeconds: 30 * 86_400,
      rememberRaceGraceSeconds: 10,
      sessionCookieName: "session",
      rememberCookieName: "remember_token",
      csrfCookieName: "csrf",
      flashCookieName: "flash",
      cookieSecure: "auto",
      cookieSameSite: "Lax",
      trustProxyHops: 0,
      csrfProtection: true,
      csrfFieldName: "_csrf",
      csrfHeaderName: "x-csrf-token",
      trustedOrigins: [],
      userCacheSeconds: 0,
      maxAccountFailures: 5,
      maxAddressFailures: 50,
      lockBaseSeconds: 30,
      lockMaxSeconds: 3600,
      failureWindowSeconds: 86_400,
    });
    expect(resolved.clock).toBe(systemClock);
    expect(resolved.requestLoader).toBeUndefined();
    expect(resolved.unauthorizedHandler).toBeUndefined();
    expect(resolved.needsRefreshHandler).toBeUndefined();
    expect(resolved.csrfSkip).toBeUndefined();
    expect(resolved.anonymousUser()).toBeInstanceOf(AnonymousUserMixin);
  });

  it("keeps a remember-me lifetime of at most 30 days, not Flask-Login's 365 (checklist I.62)", () => {
    expect(resolveOptions(base()).rememberDurationSeconds).toBeLessThanOrEqual(30 * 86_400);
  });

  it("keeps a deliberate 0 instead of replacing it with the default", () => {
    const resolved = resolveOptions({ ...base(), touchIntervalSeconds: 0, rememberRaceGraceSeconds: 0 });
    expect(resolved.touchIntervalSeconds).toBe(0);
    expect(resolved.rememberRaceGraceSeconds).toBe(0);
  });

  it("lower-cases the CSRF header name (adapters look headers up in lower case)", () => {
    expect(resolveOptions({ ...base(), csrfHeaderName: "X-My-Token" }).csrfHeaderName).toBe("x-my-token");
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
});

describe("resolveOptions result", () => {
  it("is frozen, and so are its lists", () => {
    const resolved = resolveOptions({ ...base(), secret: [SECRET], trustedOrigins: ["https://a.example"] });
    expect(Object.isFrozen(resolved)).toBe(true);
    expect(Object.isFrozen(resolved.secrets)).toBe(true);
    expect(Object.isFrozen(resolved.trustedOrigins)).toBe(true);
    expect(() => {
      (resolved as { idleTimeoutSeconds: number }).idleTimeoutSeconds = 5;
    }).toThrow(TypeError);
  });

  it("does not mutate the caller's object (which may itself be frozen)", () => {
    const secrets = [SECRET];
    const origins = ["https://a.example"];
    const options = { ...base(), secret: secrets, trustedOrigins: origins, idleTimeoutSeconds: 600 };
    const before = { ...options };
    deepFreeze(secrets);
    deepFreeze(origins);
    Object.freeze(options);
    const resolved = resolveOptions(options);
    expect(options).toEqual(before);
    expect(Object.keys(options).sort()).toEqual(Object.keys(before).sort());
    expect(resolved).not.toBe(options);
    expect(resolved.secrets).not.toBe(secrets);
    expect(resolved.trustedOrigins).not.toBe(origins);
  });

  it("copies lists, so later changes to the caller's arrays change nothing", () => {
    const secrets = [SECRET];
    const origins = ["https://a.example"];
    const resolved = resolveOptions({ ...base(), secret: secrets, trustedOrigins: origins });
    secrets.push("x".repeat(40));
    origins.push("https://evil.example");
    expect(resolved.secrets).toEqual([SECRET]);
    expect(resolved.trustedOrigins).toEqual(["https://a.example"]);
  });
});

describe("resolveOptions rejects bad options with a ConfigurationError naming them", () => {
  it("rejects a missing or non-object options argument", () => {
    expect(configurationError(undefined).message).toMatch(/options/);
    expect(configurationError(null).message).toMatch(/options/);
    expect(configurationError("secret").message).toMatch(/options/);
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
    expect(message).toContain("rotateRememberToken");
  });

  const bad: ReadonlyArray<[keyof LoginManagerOptions<AuthUser>, unknown]> = [
    ["userLoader", "findUser"],
    ["requestLoader", {}],
    ["anonymousUser", new AnonymousUserMixin()],
    ["unauthorizedHandler", 401],
    ["needsRefreshHandler", true],
    ["csrfSkip", "/api"],
    ["loginView", "login"],
    ["loginView", "javascript:alert(1)"],
    ["loginView", 42],
    ["refreshView", "refresh"],
    ["loginMessage", 42],
    ["needsRefreshMessage", {}],
    ["loginMessageCategory", ""],
    ["needsRefreshMessageCategory", 1],
    ["nextField", ""],
    ["csrfFieldName", ""],
    ["csrfHeaderName", 5],
    ["sessionProtection", "paranoid"],
    ["sessionProtection", true],
    ["sessionProtection", null],
    ["idleTimeoutSeconds", 0],
    ["idleTimeoutSeconds", 1.5],
    ["idleTimeoutSeconds", "1800"],
    ["idleTimeoutSeconds", Number.NaN],
    ["idleTimeoutSeconds", Number.POSITIVE_INFINITY],
    ["absoluteTimeoutSeconds", -1],
    ["touchIntervalSeconds", -1],
    ["rememberDurationSeconds", 0],
    ["rememberDurationSeconds", "30d"],
    ["rememberRaceGraceSeconds", -1],
    ["sessionCookieName", "__Host-session"],
    ["sessionCookieName", "my session"],
    ["sessionCookieName", "a;b"],
    ["sessionCookieName", ""],
    ["rememberCookieName", "x".repeat(65)],
    ["csrfCookieName", "__Secure-csrf"],
    ["flashCookieName", "fl=ash"],
    ["cookieSecure", "yes"],
    ["cookieSameSite", "None"],
    ["cookieSameSite", "lax"],
    ["trustProxyHops", -1],
    ["trustProxyHops", 0.5],
    ["csrfProtection", "false"],
    ["trustedOrigins", "https://a.example"],
    ["trustedOrigins", ["a.example"]],
    ["trustedOrigins", ["https://a.example/"]],
    ["trustedOrigins", ["https://a.example/path"]],
    ["userCacheSeconds", -1],
    ["userCacheMaxEntries", 0],
    ["maxAccountFailures", 0],
    ["maxAddressFailures", 0],
    ["lockBaseSeconds", 0],
    ["lockMaxSeconds", 0],
    ["failureWindowSeconds", 0],
    ["clock", {}],
    ["clock", "system"],
    ["clock", { now: 5 }],
  ];

  it.each(bad)("%s = %j", (name, value) => {
    const error = configurationError({ ...base(), [name]: value });
    expect(error.message).toContain(name);
  });

  it("rejects an idle timeout longer than the absolute timeout", () => {
    const message = configurationError({
      ...base(),
      idleTimeoutSeconds: 7200,
      absoluteTimeoutSeconds: 3600,
    }).message;
    expect(message).toContain("idleTimeoutSeconds");
    expect(message).toContain("absoluteTimeoutSeconds");
  });

  it("rejects a touch interval not shorter than the idle timeout", () => {
    const message = configurationError({
      ...base(),
      idleTimeoutSeconds: 60,
      touchIntervalSeconds: 60,
    }).message;
    expect(message).toContain("touchIntervalSeconds");
  });

  it("rejects a base lock longer than the longest lock", () => {
    const message = configurationError({ ...base(), lockBaseSeconds: 600, lockMaxSeconds: 300 }).message;
    expect(message).toContain("lockBaseSeconds");
  });

  it("rejects more than 100 account failures before locking (NIST SP 800-63B 3.2.2, checklist C.21)", () => {
    expect(resolveOptions({ ...base(), maxAccountFailures: 100 }).maxAccountFailures).toBe(100);
    expect(configurationError({ ...base(), maxAccountFailures: 101 }).message).toContain(
      "maxAccountFailures",
    );
  });

  it("rejects two cookies with the same name", () => {
    const message = configurationError({ ...base(), csrfCookieName: "session" }).message;
    expect(message).toContain("csrfCookieName");
  });
});

describe("loginView and refreshView refuse scheme-relative URLs", () => {
  it("throws for //host/login, which a browser would treat as another site", () => {
    expect(() =>
      resolveOptions({ secret: "s".repeat(32), store: new MemoryStore(), loginView: "//evil.example/login" }),
    ).toThrow(/loginView must be a path/);
  });
});
