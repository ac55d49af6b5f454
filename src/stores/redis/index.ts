import type {
  CounterRecord,
  OneTimeTokenRecord,
  OneTimeTokenStorage,
  RememberRotation,
  RememberTokenRecord,
  SessionPatch,
  SessionRecord,
  SessionStore,
} from "../../core/store.js";
import { FactorStorageBase } from "../factor-storage.js";
import { RedisCommands } from "./commands.js";
import { redisDriver } from "./driver.js";
import { toStoreError } from "./errors.js";
import { RedisFactors } from "./factors.js";
import { recordOrSet, scanBatches, sweepKind } from "./keys.js";
import { RedisOneTimeTokens } from "./one-time-tokens.js";
import { type RedisStoreOptions, resolveKeyPrefix } from "./options.js";
import {
  COUNTER_FIELDS,
  chunks,
  counterFromReply,
  fieldPairs,
  type Reply,
  SESSION_FIELDS,
  sessionFromReply,
  TOKEN_FIELDS,
  tokenFromReply,
} from "./rows.js";

import {
  CREATE_RECORD,
  DELETE_ALL_RECORDS,
  DELETE_RECORD,
  DELETE_USER_RECORDS,
  INCREMENT_COUNTER,
  LIST_RECORDS,
  type LuaScript,
  SWAP_REMEMBER_VALIDATOR,
  SWEEP,
  UPDATE_SESSION,
} from "./scripts.js";

export type { IORedisClient, NodeRedisClient, RedisStoreClient } from "./clients.js";
export { type ConnectRedisOptions, connectRedis } from "./connect.js";
export type { RedisStoreOptions } from "./options.js";

/**
 * A {@link SessionStore}, with one-time tokens ({@link OneTimeTokenStorage}) and second factors, on
 * Redis 6.2+ (tested on 7.0; standalone or Sentinel) through node-redis (4.6 to 6) or ioredis (5, 6).
 *
 * Layout, all under `keyPrefix`: `session:<id>`, `remember:<selector>` and `onetime:<tokenHash>`
 * hashes, counters as `failures:<key>` hashes (their name from when they only counted login
 * failures; credential epochs live there too, for about 400 days), `factor:<kind>:<id>` hashes
 * (`factors.ts`), and per-user sets `user:<userId>:sessions` / `:remember` / `:onetime` / `:factors`.
 * Every record key but a factor's gets `PEXPIREAT` = its `expiresAt` (so the manager's clock must be
 * real time, or a fake clock set in the future), and each such per-user set expires with its
 * longest-lived member; factors and their sets never expire. Run Redis with `maxmemory-policy
 * noeviction` and persistence on: any other policy may evict sessions and counters (lifting locks,
 * forgetting epochs) or, with `allkeys-*`, second factors (silently turning them off) under memory
 * pressure. `getSession` is a single `HMGET`; every write that spans keys or compares values is one
 * Lua script (`EVALSHA`, falling back to `EVAL`), so it is atomic and one round trip.
 *
 * **Failing fast while Redis is down.** By default both clients queue commands while disconnected,
 * so requests hang instead of answering 503. Configure the client so commands fail at once and the
 * client keeps reconnecting in the background:
 * - node-redis: `disableOfflineQueue: true`, `socket.connectTimeout` (e.g. 2000 ms),
 *   `socket.reconnectStrategy: (retries) => Math.min(retries * 100, 2000)` (never `false`, or the
 *   client stays closed), and optionally `socket.socketTimeout` for a server that stops answering.
 * - ioredis: `enableOfflineQueue: false`, `maxRetriesPerRequest: 1`, `connectTimeout` (e.g. 2000 ms)
 *   and optionally `commandTimeout`; the default `retryStrategy` already reconnects forever.
 *
 * Such failures reject with a `StoreError` whose `unavailable` is true. If the client has no
 * 'error' listener the store adds one, because node-redis crashes the process on an unhandled
 * 'error' event during reconnects.
 *
 * **Starting up.** node-redis' `connect()` alone retries forever while Redis is down, and an
 * ioredis client without an offline queue fails commands sent before it is ready. Await
 * {@link connectRedis} before serving: it waits a bounded time, then closes the client and throws
 * a message naming the server.
 *
 * @example
 * ```ts
 * import { createClient } from "redis";
 * const client = createClient({
 *   url: process.env.REDIS_URL,
 *   disableOfflineQueue: true,
 *   socket: { connectTimeout: 2000, reconnectStrategy: (retries) => Math.min(retries * 100, 2000) },
 * });
 * await connectRedis(client, { timeoutMs: 5000 });
 * const store = new RedisStore({ client });
 * ```
 *
 * @example
 * ```ts
 * import { Redis } from "ioredis";
 * const client = new Redis(process.env.REDIS_URL, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2000 });
 * await connectRedis(client, { timeoutMs: 5000 });
 * const store = new RedisStore({ client, keyPrefix: "myapp:lm:" });
 * ```
 */
export class RedisStore extends FactorStorageBase implements SessionStore, OneTimeTokenStorage {
  private readonly redis: RedisCommands;
  private readonly prefix: string;
  private readonly oneTimeTokens: RedisOneTimeTokens;

  /** @throws ConfigurationError for a missing or unknown client, an empty prefix or an unknown option name. */
  constructor(options: RedisStoreOptions) {
    const prefix = resolveKeyPrefix(options);
    const redis = new RedisCommands(redisDriver(options.client), prefix);
    super("RedisStore", new RedisFactors(redis));
    this.prefix = prefix;
    this.redis = redis;
    this.oneTimeTokens = new RedisOneTimeTokens(this.redis);
  }

  async createSession(session: SessionRecord): Promise<void> {
    const pairs = fieldPairs({ ...session, id: undefined, fresh: session.fresh ? "1" : "0" });
    await this.redis.script(
      "createSession",
      CREATE_RECORD,
      [this.sessionKey(session.id), this.userKey(session.userId, "sessions")],
      [session.id, String(session.expiresAt), ...pairs],
    );
  }

  async getSession(id: string, now: number): Promise<SessionRecord | null> {
    const reply = (await this.redis.send("getSession", [
      "HMGET",
      this.sessionKey(id),
      ...SESSION_FIELDS,
    ])) as Reply;
    const session = sessionFromReply(id, reply);
    return session && session.expiresAt > now ? session : null;
  }

  /** Writes only the fields a {@link SessionPatch} may hold, whatever else the object carries. */
  async updateSession(id: string, patch: SessionPatch): Promise<boolean> {
    const { rememberSelector, fresh, lastSeenAt, expiresAt } = patch;
    const pairs = fieldPairs({
      lastSeenAt,
      expiresAt,
      fresh: fresh === undefined ? undefined : fresh ? "1" : "0",
      rememberSelector: rememberSelector ?? undefined,
    });
    const clearSelector = rememberSelector === null ? "1" : "0";
    const updated = await this.redis.script(
      "updateSession",
      UPDATE_SESSION,
      [this.sessionKey(id)],
      [this.prefix, expiresAt === undefined ? "" : String(expiresAt), clearSelector, ...pairs],
    );
    return Number(updated) === 1;
  }

  async deleteSession(id: string): Promise<boolean> {
    const deleted = await this.redis.script(
      "deleteSession",
      DELETE_RECORD,
      [this.sessionKey(id)],
      [this.prefix, id, ":sessions"],
    );
    return Number(deleted) === 1;
  }

  async listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
    const flat = (await this.redis.script(
      "listUserSessions",
      LIST_RECORDS,
      [this.userKey(userId, "sessions")],
      [`${this.prefix}session:`, ...SESSION_FIELDS],
    )) as Reply;
    const sessions: SessionRecord[] = [];
    for (const [id, values] of chunks(flat, SESSION_FIELDS.length)) {
      const session = sessionFromReply(id, values);
      if (session && session.expiresAt > now) sessions.push(session);
    }
    return sessions.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async deleteUserSessions(userId: string, exceptSessionId?: string): Promise<number> {
    const removed = await this.redis.script(
      "deleteUserSessions",
      DELETE_USER_RECORDS,
      [this.userKey(userId, "sessions")],
      [`${this.prefix}session:`, exceptSessionId ?? ""],
    );
    return Number(removed);
  }

  async createRememberToken(token: RememberTokenRecord): Promise<void> {
    await this.redis.script(
      "createRememberToken",
      CREATE_RECORD,
      [this.tokenKey(token.selector), this.userKey(token.userId, "remember")],
      [token.selector, String(token.expiresAt), ...fieldPairs({ ...token, selector: undefined })],
    );
  }

  async getRememberToken(selector: string, now: number): Promise<RememberTokenRecord | null> {
    const reply = (await this.redis.send("getRememberToken", [
      "HMGET",
      this.tokenKey(selector),
      ...TOKEN_FIELDS,
    ])) as Reply;
    const token = tokenFromReply(selector, reply);
    return token && token.expiresAt > now ? token : null;
  }

  /** One Lua compare-and-set (constant-time comparison); it holds no policy. */
  async swapRememberValidator(
    selector: string,
    expectedValidatorHash: string,
    rotation: RememberRotation,
  ): Promise<boolean> {
    const { validatorHash, previousValidatorHash, rotatedAt, rotatedBy } = rotation;
    const swapped = await this.redis.script(
      "swapRememberValidator",
      SWAP_REMEMBER_VALIDATOR,
      [this.tokenKey(selector)],
      [
        expectedValidatorHash,
        previousValidatorHash === null ? "1" : "0",
        ...fieldPairs({ validatorHash, previousValidatorHash, rotatedAt, rotatedBy }),
      ],
    );
    return Number(swapped) === 1;
  }

  async deleteRememberToken(selector: string): Promise<boolean> {
    const deleted = await this.redis.script(
      "deleteRememberToken",
      DELETE_RECORD,
      [this.tokenKey(selector)],
      [this.prefix, selector, ":remember"],
    );
    return Number(deleted) === 1;
  }

  async deleteUserRememberTokens(userId: string): Promise<number> {
    const removed = await this.redis.script(
      "deleteUserRememberTokens",
      DELETE_USER_RECORDS,
      [this.userKey(userId, "remember")],
      [`${this.prefix}remember:`, ""],
    );
    return Number(removed);
  }

  /**
   * Walks the prefix with SCAN (never KEYS), a batch at a time, deleting every `session:` hash and
   * `user:*:sessions` set, one script per batch. A per-user set is deleted together with the records
   * it lists in the same script, so a login running meanwhile never leaves a record its user's set
   * does not list. Remember-me tokens, counters and keys that are not the store's own are left alone.
   */
  async deleteAllSessions(): Promise<number> {
    return this.deleteAllOf("session", "deleteAllSessions");
  }

  /** As {@link RedisStore.deleteAllSessions}, for `remember:` hashes and `user:*:remember` sets. */
  async deleteAllRememberTokens(): Promise<number> {
    return this.deleteAllOf("remember", "deleteAllRememberTokens");
  }

  async incrementCounter(key: string, now: number, ttlMs: number): Promise<CounterRecord> {
    const reply = (await this.redis.script(
      "incrementCounter",
      INCREMENT_COUNTER,
      [this.counterKey(key)],
      [String(now), String(now + ttlMs)],
    )) as Reply;
    const record = counterFromReply(key, reply);
    if (!record) throw toStoreError("incrementCounter", new Error("the script returned no counter"));
    return record;
  }

  async getCounter(key: string, now: number): Promise<CounterRecord | null> {
    const reply = (await this.redis.send("getCounter", [
      "HMGET",
      this.counterKey(key),
      ...COUNTER_FIELDS,
    ])) as Reply;
    const record = counterFromReply(key, reply);
    return record && record.expiresAt > now ? record : null;
  }

  async deleteCounter(key: string): Promise<void> {
    await this.redis.send("deleteCounter", ["DEL", this.counterKey(key)]);
  }

  /**
   * @example
   * ```ts
   * await store.createOneTimeToken({ tokenHash: hashToken(token), purpose: "password-reset", userId: "42",
   *   data: "", epoch, createdAt: now, expiresAt: now + 1_800_000 });
   * ```
   */
  createOneTimeToken(token: OneTimeTokenRecord): Promise<void> {
    return this.oneTimeTokens.createOneTimeToken(token);
  }

  /** @example `const pending = await store.findOneTimeToken(hashToken(token), Date.now());` */
  findOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null> {
    return this.oneTimeTokens.findOneTimeToken(tokenHash, now);
  }

  /**
   * One Lua script: of several concurrent callers with the same hash, exactly one gets the record.
   *
   * @example `const record = await store.consumeOneTimeToken(hashToken(token), Date.now());`
   */
  consumeOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null> {
    return this.oneTimeTokens.consumeOneTimeToken(tokenHash, now);
  }

  /** @example `const removed = await store.deleteUserOneTimeTokens("42", null); // every purpose` */
  deleteUserOneTimeTokens(userId: string, purpose: string | null): Promise<number> {
    return this.oneTimeTokens.deleteUserOneTimeTokens(userId, purpose);
  }

  /**
   * Redis drops expired keys by itself. This walks the prefix with SCAN (never KEYS), a batch at a
   * time, and in one script per batch deletes counters and records expired at `now` (which may be
   * ahead of Redis' clock) and drops per-user set members whose record Redis already expired.
   * Resolves to the number of records and dangling members removed.
   */
  async deleteExpired(now: number): Promise<number> {
    return this.scriptPerBatch(
      "deleteExpired",
      SWEEP,
      (key) => sweepKind(this.prefix, key),
      (kinds) => [this.prefix, String(now), ...kinds],
    );
  }

  /** Stops listening to the client's events (and removes the 'error' listener it added); never closes the client. */
  async close(): Promise<void> {
    this.redis.driver.detach();
  }

  private async deleteAllOf(record: "session" | "remember", operation: string): Promise<number> {
    return this.scriptPerBatch(
      operation,
      DELETE_ALL_RECORDS,
      (key) => recordOrSet(this.prefix, record, key),
      (kinds) => [`${this.prefix}${record}:`, ...kinds],
    );
  }

  /**
   * Walks the prefix with SCAN (never KEYS), a batch at a time, and runs `script` once per batch on
   * the keys `classify` gives a kind, with `args(kinds)` as arguments. Resolves to the sum of what
   * the script calls returned.
   */
  private async scriptPerBatch(
    operation: string,
    script: LuaScript,
    classify: (key: string) => string | undefined,
    args: (kinds: string[]) => string[],
  ): Promise<number> {
    let total = 0;
    for await (const keys of scanBatches((args) => this.redis.send(operation, args), this.prefix)) {
      const batch = keys.flatMap((key) => {
        const kind = classify(key);
        return kind ? [{ key, kind }] : [];
      });
      if (batch.length === 0) continue;
      const keysOf = batch.map((entry) => entry.key);
      total += Number(
        await this.redis.script(operation, script, keysOf, args(batch.map((entry) => entry.kind))),
      );
    }
    return total;
  }

  private sessionKey(id: string): string {
    return `${this.prefix}session:${id}`;
  }

  private tokenKey(selector: string): string {
    return `${this.prefix}remember:${selector}`;
  }

  private counterKey(key: string): string {
    return `${this.prefix}failures:${key}`;
  }

  private userKey(userId: string, kind: "sessions" | "remember"): string {
    return `${this.prefix}user:${userId}:${kind}`;
  }
}
