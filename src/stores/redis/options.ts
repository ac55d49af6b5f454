/**
 * The options of `RedisStore` and their checks.
 *
 * @module
 */
import { ConfigurationError } from "../../core/errors.js";
import { rejectUnknownKeys } from "../../core/option-names.js";
import type { RedisStoreClient } from "./clients.js";

/**
 * Options of `RedisStore`.
 *
 * @example
 * ```ts
 * const options: RedisStoreOptions = { client, keyPrefix: "myapp:lm:" };
 * ```
 */
export interface RedisStoreOptions {
  /**
   * A node-redis v4.6 to v6 client (`createClient()`) or an ioredis v5 or v6 client (`new Redis()`),
   * connected (see `connectRedis`). The store never closes it. Standalone or Sentinel only,
   * not Cluster; an ioredis `keyPrefix` is refused (use `keyPrefix` below).
   */
  client: RedisStoreClient;
  /**
   * Prefix of every key the store writes, so several apps or tests can share a server. Default "lm:".
   * Stores sharing a database need prefixes that do not start one another (`app1:lm:` and `app2:lm:`,
   * not `lm:` and `lm:user:`): the outer store's `deleteAll…` and `deleteExpired` walk every key
   * under its prefix and would take the nested store's per-user sets for its own.
   */
  keyPrefix?: string;
}

/** Every {@link RedisStoreOptions} name; the store refuses any other. */
const OPTION_NAMES: Record<keyof RedisStoreOptions, true> = { client: true, keyPrefix: true };

/**
 * Checks `options` as `new RedisStore(options)` receives them and returns the key prefix: a
 * {@link ConfigurationError} for options that are not an object, an unknown option name (with the
 * closest known one) or a prefix that is not a non-empty string. The client is checked by the driver.
 *
 * @example
 * ```ts
 * resolveKeyPrefix({ client }); // "lm:"
 * resolveKeyPrefix({ client, keyprefix: "app:" }); // ConfigurationError: … did you mean "keyPrefix"? …
 * ```
 */
export function resolveKeyPrefix(options: RedisStoreOptions): string {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError("RedisStore needs options: new RedisStore({ client, keyPrefix? }).");
  }
  rejectUnknownKeys(options, Object.keys(OPTION_NAMES), "RedisStore");
  const prefix = options.keyPrefix ?? "lm:";
  if (typeof prefix !== "string" || prefix === "") {
    throw new ConfigurationError(
      'RedisStore keyPrefix must be a non-empty string such as "lm:" (the default).',
    );
  }
  return prefix;
}
