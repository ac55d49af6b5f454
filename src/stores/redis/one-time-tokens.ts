/**
 * The one-time token part of the contract ({@link OneTimeTokenStorage}) on Redis: a hash per token,
 * `onetime:<tokenHash>`, expiring at its `expiresAt`, and a per-user set `user:<userId>:onetime` of
 * the user's token hashes, so that deleting a user's tokens is one script and no scan.
 *
 * @module
 */
import type { OneTimeTokenRecord, OneTimeTokenStorage } from "../../core/store.js";
import type { RedisCommands } from "./commands.js";
import { fieldPairs, ONE_TIME_FIELDS, oneTimeTokenFromReply } from "./rows.js";
import { CONSUME_ONE_TIME_TOKEN, CREATE_RECORD, DELETE_USER_ONE_TIME_TOKENS } from "./scripts.js";

/**
 * {@link OneTimeTokenStorage} on the keys of one store. Reads are one `HMGET`; every write is one
 * Lua script, so consuming a token is atomic: of several concurrent callers, exactly one gets it.
 *
 * @example
 * ```ts
 * const tokens = new RedisOneTimeTokens(new RedisCommands(redisDriver(client), "lm:"));
 * await tokens.createOneTimeToken(record);
 * ```
 */
export class RedisOneTimeTokens implements OneTimeTokenStorage {
  readonly #redis: RedisCommands;

  /**
   * Sends everything through `redis`, under its prefix.
   *
   * @example
   * ```ts
   * const tokens = new RedisOneTimeTokens(redis);
   * ```
   */
  constructor(redis: RedisCommands) {
    this.#redis = redis;
  }

  /**
   * Writes the hash with `PEXPIREAT` = `expiresAt` and adds it to the user's set, in one script; a
   * hash already stored rejects with a `StoreError`.
   *
   * @example
   * ```ts
   * await tokens.createOneTimeToken(record);
   * ```
   */
  async createOneTimeToken(token: OneTimeTokenRecord): Promise<void> {
    const { purpose, userId, data, epoch, createdAt, expiresAt } = token;
    await this.#redis.script(
      "createOneTimeToken",
      CREATE_RECORD,
      [this.#tokenKey(token.tokenHash), this.#userKey(userId)],
      [
        token.tokenHash,
        String(expiresAt),
        ...fieldPairs({ purpose, userId, data, epoch, createdAt, expiresAt }),
      ],
    );
  }

  /**
   * One `HMGET`; the token stays.
   *
   * @example
   * ```ts
   * const token = await tokens.findOneTimeToken(hashToken(fromLink), Date.now());
   * ```
   */
  async findOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null> {
    const reply = await this.#redis.send("findOneTimeToken", [
      "HMGET",
      this.#tokenKey(tokenHash),
      ...ONE_TIME_FIELDS,
    ]);
    const token = oneTimeTokenFromReply(tokenHash, reply);
    return token && token.expiresAt > now ? token : null;
  }

  /**
   * One script reads, deletes and returns the token if it has not expired at `now`.
   *
   * @example
   * ```ts
   * const token = await tokens.consumeOneTimeToken(hashToken(fromLink), Date.now());
   * ```
   */
  async consumeOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null> {
    const reply = await this.#redis.script(
      "consumeOneTimeToken",
      CONSUME_ONE_TIME_TOKEN,
      [this.#tokenKey(tokenHash)],
      [this.#redis.prefix, tokenHash, String(now)],
    );
    return oneTimeTokenFromReply(tokenHash, reply);
  }

  /**
   * One script over the user's set, of one purpose or (`null`) of every purpose, expired or not.
   *
   * @example
   * ```ts
   * const removed = await tokens.deleteUserOneTimeTokens("42", "password-reset");
   * ```
   */
  async deleteUserOneTimeTokens(userId: string, purpose: string | null): Promise<number> {
    const removed = await this.#redis.script(
      "deleteUserOneTimeTokens",
      DELETE_USER_ONE_TIME_TOKENS,
      [this.#userKey(userId)],
      [`${this.#redis.prefix}onetime:`, purpose === null ? "1" : "0", purpose ?? ""],
    );
    return Number(removed);
  }

  #tokenKey(tokenHash: string): string {
    return `${this.#redis.prefix}onetime:${tokenHash}`;
  }

  #userKey(userId: string): string {
    return `${this.#redis.prefix}user:${userId}:onetime`;
  }
}
