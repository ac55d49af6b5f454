/**
 * Reading settings from the environment: the pieces every part of the app's configuration uses.
 * Empty values count as unset; a bad value throws a {@link ConfigError} naming the setting.
 *
 * @module
 */

/** A setting that stops start-up; `setting` is the environment variable's name. */
export class ConfigError extends Error {
  readonly setting: string;

  constructor(setting: string, message: string) {
    super(`${setting} ${message}`);
    this.name = "ConfigError";
    this.setting = setting;
  }
}

/**
 * The trimmed value of `name`, or undefined when it is unset or blank.
 *
 * @example
 * ```ts
 * value({ PORT: " 8080 " }, "PORT"); // "8080"
 * ```
 */
export function value(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name]?.trim();
  return raw === undefined || raw === "" ? undefined : raw;
}

/**
 * A whole number from `min` to `max`, or `fallback` when unset.
 *
 * @example
 * ```ts
 * integer({ PORT: "8080" }, "PORT", 5000, 0, 65_535); // 8080
 * ```
 */
export function integer(
  env: NodeJS.ProcessEnv,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number {
  const raw = value(env, name);
  if (raw === undefined) return fallback;
  const parsed = /^\d{1,10}$/.test(raw) ? Number(raw) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < min || parsed > max) {
    throw new ConfigError(name, `must be a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  return parsed;
}

/**
 * A server URL with one of `protocols`, or undefined when unset. The message never repeats the
 * value: it may hold a password.
 *
 * @example
 * ```ts
 * serverUrl(process.env, "REDIS_URL", ["redis:", "rediss:"], "redis://host:6379");
 * ```
 */
export function serverUrl(
  env: NodeJS.ProcessEnv,
  name: string,
  protocols: readonly string[],
  example: string,
): string | undefined {
  const raw = value(env, name);
  if (raw === undefined) return undefined;
  let parsed: URL | undefined;
  try {
    parsed = new URL(raw);
  } catch {
    parsed = undefined;
  }
  if (!parsed || !protocols.includes(parsed.protocol)) {
    const scheme = parsed ? ` (got ${parsed.protocol}//…)` : "";
    throw new ConfigError(name, `must be a URL like ${example}${scheme}`);
  }
  return raw;
}
