import { resolve } from "node:path";
import { ConfigurationError } from "login-manager";
import { resolveAllowedHosts } from "login-manager/options";
import { ConfigError, integer, serverUrl, value } from "./env.js";
import { type MailConfig, mailConfig } from "./mail-config.js";

export { ConfigError } from "./env.js";
export type { MailConfig } from "./mail-config.js";

/** The app's settings, read once from the environment at start-up. */
export interface AppConfig {
  /** `NODE_ENV=production`: mail must go out over SMTP, and the development pages are off. */
  production: boolean;
  /**
   * The site's public origin, without a trailing slash: `APP_BASE_URL`, else (outside production)
   * the address the app listens on. Every link in a mail is built from it, never from a request's
   * Host header. With `PORT=0` and no `APP_BASE_URL`, `start()` fills in the port once listening.
   */
  baseUrl: string;
  /** How mail goes out (`SMTP_URL`, `MAIL_FROM`) and how long a reset link works. */
  mail: MailConfig;
  /** Interface to listen on (`HOST`). */
  host: string;
  /** TCP port (`PORT`); 0 picks a free one. */
  port: number;
  /** Absolute path of the folder holding the database and the generated secret (`DATA_DIR`). */
  dataDir: string;
  /** `SECRET_KEY`, or undefined to use (and create) the key kept in the data folder. */
  secretKey: string | undefined;
  /** `SESSION_PROTECTION`: "off" becomes false. */
  sessionProtection: "basic" | "strong" | false;
  /** `SESSION_IDLE_TIMEOUT_SECONDS` */
  idleTimeoutSeconds: number;
  /** `SESSION_ABSOLUTE_TIMEOUT_SECONDS` */
  absoluteTimeoutSeconds: number;
  /** `REMEMBER_DURATION_SECONDS` */
  rememberDurationSeconds: number;
  /** `TRUST_PROXY`: how many reverse proxies in front of the app to trust. */
  trustProxyHops: number;
  /**
   * The host names the app answers for (login-manager's `allowedHosts`): `ALLOWED_HOSTS`
   * (comma-separated) plus the host of `APP_BASE_URL`; undefined when neither is set, which serves
   * the loopback names only (localhost, 127.0.0.1, [::1]).
   */
  allowedHosts?: readonly string[] | undefined;
  /**
   * `REGISTER_ATTEMPTS_PER_HOUR`: registrations (successful or not) one client address may attempt
   * per hour, counted in the session store so every instance shares the count.
   */
  registerAttemptsPerHour: number;
  /**
   * PostgreSQL (`DATABASE_URL`) for users, and for sessions when no Redis is configured; undefined
   * keeps users in SQLite.
   */
  database?: DatabaseConfig | undefined;
  /** Redis (`REDIS_URL`) for sessions, remember-me tokens and login-failure counters. */
  redis?: RedisConfig | undefined;
  /** The breached-password check (`BREACHED_PASSWORD_API_URL`); undefined (the default) turns it off. */
  breachedPasswords?: BreachedPasswordConfig | undefined;
}

/** Settings of the breached-password check: a k-anonymity range API (ASVS 6.2.12). */
export interface BreachedPasswordConfig {
  /** `BREACHED_PASSWORD_API_URL` (http:// or https://): the check requests `<url>/range/<5 hex>`. */
  url: string;
  /** `BREACHED_PASSWORD_TIMEOUT_MS`: longest wait for an answer, after which the password is accepted. */
  timeoutMs: number;
}

/** Settings of the shared PostgreSQL database. */
export interface DatabaseConfig {
  /** `DATABASE_URL` (postgres:// or postgresql://). */
  url: string;
  /** `DATABASE_SCHEMA`: schema holding the app's tables, created when missing. */
  schema: string;
  /** `DATABASE_POOL_MAX`: connections per app instance. */
  poolMax: number;
  /** `STORE_CONNECT_TIMEOUT_MS`: how long to wait for a connection before answering 503. */
  connectTimeoutMs: number;
  /** `STORE_TIMEOUT_MS`: longest query (server `statement_timeout` and client read timeout). */
  timeoutMs: number;
}

/** Settings of the shared Redis server. */
export interface RedisConfig {
  /** `REDIS_URL` (redis:// or rediss://). */
  url: string;
  /** `REDIS_KEY_PREFIX`: prefix of every key the app writes. */
  keyPrefix: string;
  /** `STORE_CONNECT_TIMEOUT_MS`: how long one connection attempt may take. */
  connectTimeoutMs: number;
  /** `STORE_TIMEOUT_MS`: longest wait for one store operation before answering 503. */
  timeoutMs: number;
}

const TEN_YEARS_SECONDS = 10 * 365 * 24 * 3600;
const MIN_SECRET_LENGTH = 32;
const HOST_PATTERN = /^[A-Za-z0-9.:[\]-]{1,253}$/;
const SCHEMA_PATTERN = /^[a-z_][a-z0-9_]{0,62}$/;
const KEY_PREFIX_PATTERN = /^[A-Za-z0-9_.:{}-]{1,64}$/;

/**
 * Reads the app's settings from `env`, applying defaults; throws a {@link ConfigError} naming the
 * first bad setting. Empty values count as unset.
 *
 * @example
 * ```ts
 * const config = parseConfig({ PORT: "8080", SESSION_PROTECTION: "strong" });
 * config.port; // 8080
 * ```
 */
export function parseConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): AppConfig {
  const idleTimeoutSeconds = integer(env, "SESSION_IDLE_TIMEOUT_SECONDS", 1800, 60, TEN_YEARS_SECONDS);
  const absoluteTimeoutSeconds = integer(
    env,
    "SESSION_ABSOLUTE_TIMEOUT_SECONDS",
    Math.max(43_200, idleTimeoutSeconds),
    60,
    TEN_YEARS_SECONDS,
  );
  if (idleTimeoutSeconds > absoluteTimeoutSeconds) {
    throw new ConfigError(
      "SESSION_IDLE_TIMEOUT_SECONDS",
      `(${idleTimeoutSeconds}) must not exceed SESSION_ABSOLUTE_TIMEOUT_SECONDS (${absoluteTimeoutSeconds})`,
    );
  }
  const secret = secretKey(env);
  const database = databaseConfig(env);
  const redis = redisConfig(env);
  if (secret === undefined && (database || redis)) {
    throw new ConfigError(
      "SECRET_KEY",
      `is required with ${database ? "DATABASE_URL" : "REDIS_URL"}: every instance sharing the database must use the same key (generate one with: node -e "console.log(crypto.randomBytes(32).toString('base64url'))")`,
    );
  }
  const listenOn = host(env);
  const port = integer(env, "PORT", 5000, 0, 65_535);
  const production = value(env, "NODE_ENV") === "production";
  const baseUrl = siteBaseUrl(env, production, listenOn, port);
  return {
    production,
    baseUrl,
    mail: mailConfig(env, { production, baseUrl }),
    host: listenOn,
    port,
    dataDir: resolve(cwd, value(env, "DATA_DIR") ?? "data"),
    secretKey: secret,
    sessionProtection: sessionProtection(env),
    idleTimeoutSeconds,
    absoluteTimeoutSeconds,
    rememberDurationSeconds: integer(env, "REMEMBER_DURATION_SECONDS", 2_592_000, 60, TEN_YEARS_SECONDS),
    trustProxyHops: integer(env, "TRUST_PROXY", 0, 0, 10),
    allowedHosts: allowedHosts(env, listenOn),
    registerAttemptsPerHour: integer(env, "REGISTER_ATTEMPTS_PER_HOUR", 10, 1, 1_000_000),
    database,
    redis,
    breachedPasswords: breachedPasswordConfig(env),
  };
}

/**
 * `DATABASE_URL` and its companions. The companions are checked even without `DATABASE_URL`, so a
 * typo never waits for the day the database is switched on.
 */
function databaseConfig(env: NodeJS.ProcessEnv): DatabaseConfig | undefined {
  const schema = value(env, "DATABASE_SCHEMA") ?? "public";
  if (!SCHEMA_PATTERN.test(schema)) {
    throw new ConfigError(
      "DATABASE_SCHEMA",
      `must be 1-63 lowercase letters, digits or underscores, not starting with a digit, got ${JSON.stringify(schema)}`,
    );
  }
  const poolMax = integer(env, "DATABASE_POOL_MAX", 10, 1, 1000);
  const connectTimeoutMs = integer(env, "STORE_CONNECT_TIMEOUT_MS", 2000, 100, 60_000);
  const timeoutMs = storeTimeout(env);
  const url = serverUrl(
    env,
    "DATABASE_URL",
    ["postgres:", "postgresql:"],
    "postgres://user:password@host:5432/db",
  );
  return url === undefined ? undefined : { url, schema, poolMax, connectTimeoutMs, timeoutMs };
}

function redisConfig(env: NodeJS.ProcessEnv): RedisConfig | undefined {
  const keyPrefix = value(env, "REDIS_KEY_PREFIX") ?? "lm:";
  if (!KEY_PREFIX_PATTERN.test(keyPrefix)) {
    throw new ConfigError(
      "REDIS_KEY_PREFIX",
      `must be 1-64 letters, digits or _ . : - { }, got ${JSON.stringify(keyPrefix)}`,
    );
  }
  const connectTimeoutMs = integer(env, "STORE_CONNECT_TIMEOUT_MS", 2000, 100, 60_000);
  const timeoutMs = storeTimeout(env);
  const url = serverUrl(env, "REDIS_URL", ["redis:", "rediss:"], "redis://host:6379");
  return url === undefined ? undefined : { url, keyPrefix, connectTimeoutMs, timeoutMs };
}

function breachedPasswordConfig(env: NodeJS.ProcessEnv): BreachedPasswordConfig | undefined {
  const timeoutMs = integer(env, "BREACHED_PASSWORD_TIMEOUT_MS", 2000, 100, 10_000);
  const url = serverUrl(
    env,
    "BREACHED_PASSWORD_API_URL",
    ["http:", "https:"],
    "https://api.pwnedpasswords.com",
  );
  return url === undefined ? undefined : { url, timeoutMs };
}

function storeTimeout(env: NodeJS.ProcessEnv): number {
  return integer(env, "STORE_TIMEOUT_MS", 3000, 100, 600_000);
}

function host(env: NodeJS.ProcessEnv): string {
  const raw = value(env, "HOST") ?? "127.0.0.1";
  if (!HOST_PATTERN.test(raw)) {
    throw new ConfigError("HOST", `must be a host name or IP address, got ${JSON.stringify(raw)}`);
  }
  return raw.replace(/^\[(.*)\]$/, "$1");
}

/**
 * `ALLOWED_HOSTS` and the host of `APP_BASE_URL`, validated by login-manager. Without either, an app
 * listening beyond loopback (`HOST=0.0.0.0`) would answer 400 to every name its clients use, so that
 * stops start-up instead, saying what to set.
 */
function allowedHosts(env: NodeJS.ProcessEnv, listenOn: string): readonly string[] | undefined {
  const listed = (value(env, "ALLOWED_HOSTS") ?? "")
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry !== "");
  const base = baseUrlHost(env);
  const hosts = base === undefined || listed.includes(base) ? listed : [...listed, base];
  if (hosts.length === 0) {
    if (isLoopback(listenOn)) return undefined;
    throw new ConfigError(
      "ALLOWED_HOSTS",
      `is required when HOST (${listenOn}) accepts remote connections: list the host names clients use, comma-separated (ALLOWED_HOSTS=app.example.com), or set APP_BASE_URL=https://app.example.com; requests for other names get 400`,
    );
  }
  try {
    return resolveAllowedHosts(hosts);
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    throw new ConfigError("ALLOWED_HOSTS", error.message.replace(/^allowedHosts /, ""));
  }
}

/** The host (and port, when not the default) of `APP_BASE_URL`. */
function baseUrlHost(env: NodeJS.ProcessEnv): string | undefined {
  const url = appBaseUrl(env);
  return url === undefined ? undefined : new URL(url).host;
}

/** `APP_BASE_URL` as an origin (`https://app.example.com`), or undefined when unset. */
function appBaseUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = value(env, "APP_BASE_URL");
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  const bare =
    url !== undefined &&
    (url.protocol === "http:" || url.protocol === "https:") &&
    url.username === "" &&
    url.password === "" &&
    url.pathname === "/" &&
    url.search === "" &&
    url.hash === "";
  if (!url || !bare) {
    throw new ConfigError(
      "APP_BASE_URL",
      `must be the site's public origin, like https://app.example.com (no path), got ${JSON.stringify(raw)}`,
    );
  }
  return url.origin;
}

/**
 * The origin mail links point at: `APP_BASE_URL`; required in production, where the app cannot
 * know the name people reach it by; else the address the app listens on (`localhost` when that is
 * every interface).
 */
function siteBaseUrl(env: NodeJS.ProcessEnv, production: boolean, listenOn: string, port: number): string {
  const configured = appBaseUrl(env);
  if (configured !== undefined) return configured;
  if (production) {
    throw new ConfigError(
      "APP_BASE_URL",
      "is required in production (NODE_ENV=production): links in mails (password reset, address verification) are built from it, never from the Host header; set the site's public origin, like https://app.example.com",
    );
  }
  const name = isLoopback(listenOn) ? listenOn : "localhost";
  return `http://${name.includes(":") ? `[${name}]` : name}:${port}`;
}

/** True for the addresses and name that only this machine can reach. */
function isLoopback(listenOn: string): boolean {
  return listenOn === "localhost" || listenOn === "::1" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(listenOn);
}

function secretKey(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.SECRET_KEY;
  if (raw === undefined || raw === "") return undefined;
  if (raw.length < MIN_SECRET_LENGTH) {
    throw new ConfigError(
      "SECRET_KEY",
      `must be at least ${MIN_SECRET_LENGTH} characters (got ${raw.length}); generate one with: node -e "console.log(crypto.randomBytes(32).toString('base64url'))"`,
    );
  }
  return raw;
}

function sessionProtection(env: NodeJS.ProcessEnv): "basic" | "strong" | false {
  const raw = value(env, "SESSION_PROTECTION")?.toLowerCase() ?? "basic";
  if (raw === "basic" || raw === "strong") return raw;
  if (raw === "off") return false;
  throw new ConfigError(
    "SESSION_PROTECTION",
    `must be basic, strong or off, got ${JSON.stringify(value(env, "SESSION_PROTECTION"))}`,
  );
}
