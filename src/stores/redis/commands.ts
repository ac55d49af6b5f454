/**
 * How the store's parts talk to Redis: one command or one Lua script, with the client's failures
 * turned into `StoreError`s that name the contract method.
 *
 * @module
 */
import { evalScript, type RedisDriver } from "./driver.js";
import { toStoreError } from "./errors.js";
import type { LuaScript } from "./scripts.js";

/**
 * The driver and key prefix of one store, and the two ways its parts send work to Redis.
 *
 * @example
 * ```ts
 * const redis = new RedisCommands(redisDriver(client), "lm:");
 * const reply = await redis.send("getCounter", ["HMGET", `${redis.prefix}failures:k`, "count"]);
 * ```
 */
export class RedisCommands {
  /**
   * Keeps the driver and the prefix every key of the store starts with.
   *
   * @example
   * ```ts
   * const redis = new RedisCommands(driver, "myapp:lm:");
   * ```
   */
  constructor(
    readonly driver: RedisDriver,
    readonly prefix: string,
  ) {}

  /**
   * Sends one command; a failure rejects with a `StoreError` naming `operation`.
   *
   * @example
   * ```ts
   * await redis.send("deleteCounter", ["DEL", key]);
   * ```
   */
  async send(operation: string, args: string[]): Promise<unknown> {
    try {
      return await this.driver.send(args);
    } catch (error) {
      throw toStoreError(operation, error, this.driver.notConnectedYet());
    }
  }

  /**
   * Runs a Lua script (`EVALSHA`, falling back to `EVAL`); a failure rejects with a `StoreError`
   * naming `operation`.
   *
   * @example
   * ```ts
   * await redis.script("deleteSession", DELETE_RECORD, [sessionKey], [prefix, id, ":sessions"]);
   * ```
   */
  async script(operation: string, script: LuaScript, keys: string[], args: string[]): Promise<unknown> {
    try {
      return await evalScript(this.driver, script, keys, args);
    } catch (error) {
      throw toStoreError(operation, error, this.driver.notConnectedYet());
    }
  }
}
