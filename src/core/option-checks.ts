/**
 * The checks `resolveOptions` (options.ts) applies to each option: one small function per kind of
 * value, each returning the value or its default, or throwing a {@link ConfigurationError} whose
 * message names the option (by its path, `session.idleTimeoutSeconds`), the value as given and the fix.
 *
 * @module
 */
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";
import { ConfigurationError } from "./errors.js";
import { showValue } from "./option-names.js";
import { SESSION_STORE_METHODS, type SessionStore } from "./store.js";

const MIN_SECRET_LENGTH = 32;
const COOKIE_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * `secret`: one key or a non-empty array of keys, each at least 32 characters; a frozen list.
 *
 * @example
 * ```ts
 * resolveSecrets(process.env.SECRET_KEY); // [key]
 * ```
 */
export function resolveSecrets(secret: unknown): readonly string[] {
  const list = typeof secret === "string" ? [secret] : Array.isArray(secret) ? secret : undefined;
  if (!list || list.length === 0) {
    throw new ConfigurationError(
      "secret is required: pass a random string of at least 32 characters, e.g. from `node -e \"console.log(crypto.randomBytes(32).toString('base64url'))\"`",
    );
  }
  for (const entry of list) {
    if (typeof entry !== "string" || entry.length < MIN_SECRET_LENGTH) {
      throw new ConfigurationError(
        `every secret must be a string of at least ${MIN_SECRET_LENGTH} characters; generate one with crypto.randomBytes(32).toString("base64url")`,
      );
    }
  }
  return Object.freeze([...list]);
}

/**
 * `store`: anything with every {@link SessionStore} method (checked by shape, not class).
 *
 * @example
 * ```ts
 * resolveStore(new MemoryStore());
 * ```
 */
export function resolveStore(store: unknown): SessionStore {
  const candidate = store as Record<string, unknown> | null | undefined;
  const missing = SESSION_STORE_METHODS.filter((name) => typeof candidate?.[name] !== "function");
  if (missing.length > 0) {
    throw new ConfigurationError(
      `store must implement SessionStore (missing ${missing.join(", ")}); use e.g. new SqliteStore({ database: "data/app.db" }) from "login-manager/stores/sqlite"`,
    );
  }
  return store as SessionStore;
}

/**
 * A callback option: undefined, or a function.
 *
 * @example
 * ```ts
 * optionalFunction(csrf.skip, "csrf.skip");
 * ```
 */
export function optionalFunction<F>(value: F | undefined, name: string): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "function") {
    throw new ConfigurationError(`${name} must be a function, got ${showValue(value)}`);
  }
  return value;
}

/**
 * A view option: null, a path starting with one `/`, or an absolute http(s) URL.
 *
 * @example
 * ```ts
 * optionalPath("/login", "views.loginView"); // "/login"
 * ```
 */
export function optionalPath(value: string | null | undefined, name: string): string | null {
  if (value === undefined || value === null) return null;
  const relativePath = typeof value === "string" && value.startsWith("/") && !value.startsWith("//");
  if (typeof value !== "string" || !(relativePath || /^https?:\/\//.test(value))) {
    throw new ConfigurationError(
      `${name} must be a path starting with "/" (or an absolute http(s) URL), got ${showValue(value)}`,
    );
  }
  return value;
}

/**
 * A message option: a string, null for none, or `fallback` when unset.
 *
 * @example
 * ```ts
 * nullableString(null, "views.loginMessage", "Please log in."); // null
 * ```
 */
export function nullableString(
  value: string | null | undefined,
  name: string,
  fallback: string,
): string | null {
  if (value === undefined) return fallback;
  if (value !== null && typeof value !== "string") {
    throw new ConfigurationError(`${name} must be a string or null, got ${showValue(value)}`);
  }
  return value;
}

/**
 * A non-empty string, or `fallback` when unset.
 *
 * @example
 * ```ts
 * stringOption(undefined, "views.nextField", "next"); // "next"
 * ```
 */
export function stringOption(value: string | undefined, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || value.length === 0) {
    throw new ConfigurationError(`${name} must be a non-empty string, got ${showValue(value)}`);
  }
  return value;
}

/**
 * true or false, or `fallback` when unset.
 *
 * @example
 * ```ts
 * booleanOption(undefined, "csrf.enabled", true); // true
 * ```
 */
export function booleanOption(value: boolean | undefined, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new ConfigurationError(`${name} must be true or false, got ${showValue(value)}`);
  }
  return value;
}

/**
 * A whole number of at least `minimum`, or `fallback` when unset (`??`-style: 0 stays 0). A number
 * written as text (`"1800"`) is refused, and shown quoted so the message makes that visible.
 *
 * @example
 * ```ts
 * wholeNumber(0, "network.trustProxyHops", 0, 0); // 0
 * ```
 */
export function wholeNumber(
  value: number | undefined,
  name: string,
  fallback: number,
  minimum: number,
): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < minimum) {
    throw new ConfigurationError(`${name} must be a whole number >= ${minimum}, got ${showValue(value)}`);
  }
  return value;
}

/**
 * `clock`: an object with `now()`, or the system clock.
 *
 * @example
 * ```ts
 * resolveClock({ now: () => 0 });
 * ```
 */
export function resolveClock(value: unknown): Clock {
  if (value === undefined) return systemClock;
  if (typeof (value as Clock | null)?.now !== "function") {
    throw new ConfigurationError(
      `clock must be an object with a now() method returning epoch milliseconds, got ${showValue(value)}`,
    );
  }
  return value as Clock;
}

/**
 * `session.protection`: "basic" (the default), "strong" or false.
 *
 * @example
 * ```ts
 * resolveProtection(undefined); // "basic"
 * ```
 */
export function resolveProtection(value: unknown): "basic" | "strong" | false {
  if (value === undefined) return "basic";
  if (value === "basic" || value === "strong" || value === false) return value;
  throw new ConfigurationError(
    `session.protection must be "basic", "strong" or false, got ${showValue(value)}`,
  );
}

/**
 * `cookies.secure`: "auto" (the default), true or false.
 *
 * @example
 * ```ts
 * resolveCookieSecure(true); // true
 * ```
 */
export function resolveCookieSecure(value: unknown): "auto" | boolean {
  if (value === undefined) return "auto";
  if (value === "auto" || typeof value === "boolean") return value;
  throw new ConfigurationError(`cookies.secure must be "auto", true or false, got ${showValue(value)}`);
}

/**
 * `cookies.sameSite`: "Lax" (the default) or "Strict"; never "None".
 *
 * @example
 * ```ts
 * resolveSameSite("Strict"); // "Strict"
 * ```
 */
export function resolveSameSite(value: unknown): "Lax" | "Strict" {
  if (value === undefined) return "Lax";
  if (value === "Lax" || value === "Strict") return value;
  throw new ConfigurationError(
    `cookies.sameSite must be "Lax" or "Strict" (None would send cookies cross-site), got ${showValue(value)}`,
  );
}

/**
 * A cookie name option: 1-64 token characters without the `__` prefix the HTTPS names get.
 *
 * @example
 * ```ts
 * cookieName(undefined, "cookies.sessionName", "session"); // "session"
 * ```
 */
export function cookieName(value: string | undefined, name: string, fallback: string): string {
  if (value === undefined) return fallback;
  if (typeof value !== "string" || !COOKIE_NAME.test(value) || value.startsWith("__")) {
    throw new ConfigurationError(
      `${name} must be 1-64 letters, digits, "_" or "-" without a "__" prefix (it is added over HTTPS), got ${showValue(value)}`,
    );
  }
  return value;
}

/**
 * `csrf.trustedOrigins`: bare origins (`https://admin.example.com`), frozen; [] when unset.
 *
 * @example
 * ```ts
 * resolveOrigins(["https://admin.example.com"]);
 * ```
 */
export function resolveOrigins(value: readonly string[] | undefined): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  if (!Array.isArray(value)) {
    throw new ConfigurationError(`csrf.trustedOrigins must be an array of origins, got ${showValue(value)}`);
  }
  return Object.freeze(
    value.map((origin) => {
      let parsed: URL;
      try {
        parsed = new URL(origin);
      } catch {
        throw new ConfigurationError(
          `csrf.trustedOrigins entry ${showValue(origin)} is not a URL origin like https://example.com`,
        );
      }
      if (parsed.origin !== origin) {
        throw new ConfigurationError(
          `csrf.trustedOrigins entry ${showValue(origin)} must be a bare origin like ${JSON.stringify(parsed.origin)}`,
        );
      }
      return origin;
    }),
  );
}
