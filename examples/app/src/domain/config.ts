import { resolve } from "node:path";

/** The app's settings, read once from the environment at start-up. */
export interface AppConfig {
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
}

/** A setting that stops start-up; `setting` is the environment variable's name. */
export class ConfigError extends Error {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super(`${setting} ${message}`);
    this.name = "ConfigError";
    this.setting = setting;
  }
}

const TEN_YEARS_SECONDS = 10 * 365 * 24 * 3600;
const MIN_SECRET_LENGTH = 32;
const HOST_PATTERN = /^[A-Za-z0-9.:[\]-]{1,253}$/;

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
  return {
    host: host(env),
    port: integer(env, "PORT", 5000, 0, 65_535),
    dataDir: resolve(cwd, value(env, "DATA_DIR") ?? "data"),
    secretKey: secretKey(env),
    sessionProtection: sessionProtection(env),
    idleTimeoutSeconds,
    absoluteTimeoutSeconds,
    rememberDurationSeconds: integer(env, "REMEMBER_DURATION_SECONDS", 2_592_000, 60, TEN_YEARS_SECONDS),
    trustProxyHops: integer(env, "TRUST_PROXY", 0, 0, 10),
  };
}

function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === "" ? undefined : raw;
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const parsed = /^\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return parsed;
}

function host(env: NodeJS.ProcessEnv): string {
  const raw = value(env, "HOST") ?? "127.0.0.1";
  if (!HOST_PATTERN.test(raw)) {
    throw new ConfigError("HOST", `must be a host name or IP address, got ${JSON.stringify(raw)}`);
  }
  return raw.replace(/^\[(.*)\]$/, "$1");
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
