/**
 * The real `PostgresStore` (in a schema of its own) and `RedisStore` (under a key prefix of its own
 * on the shared server) with ways to read what they hold directly, bypassing the store's own
 * per-user index, so the tests can check that index against the records.
 *
 * @module
 */
import type { SessionStore } from "login-manager";
import { PostgresStore } from "login-manager/stores/postgres";
import { RedisStore } from "login-manager/stores/redis";
import type pg from "pg";
import { createClient, type RedisClientType } from "redis";
import { redisUrl } from "../../../../test/helpers/services.js";
import { createSchema, deleteRedisPrefix, uniqueName } from "./support.js";

/** One stored session, as read directly. */
export interface RawSession {
  id: string;
  userId: string;
  rememberSelector: string | null;
  createdAt: number;
}

/** A store under test and direct reads of its contents. */
export interface StoreUnderTest {
  name: "PostgresStore" | "RedisStore";
  store: SessionStore;
  /** Every session record of the user, read without the per-user index. */
  rawSessions(userId: string): Promise<RawSession[]>;
  /** Every remember-me token selector of the user, read without the per-user index. */
  rawTokens(userId: string): Promise<string[]>;
  /** Session ids in the user's index (Redis: the `user:<id>:sessions` set; PostgreSQL: `listUserSessions`). */
  indexedSessions(userId: string): Promise<string[]>;
  /** Token selectors in the user's index (Redis: `user:<id>:remember`; PostgreSQL: by `user_id`). */
  indexedTokens(userId: string): Promise<string[]>;
  close(): Promise<void>;
}

/**
 * A `PostgresStore` on `pool` (or a pool of its own) in a new schema, dropped by `close()`.
 *
 * @example
 * ```ts
 * const subject = await postgresSubject();
 * ```
 */
export async function postgresSubject(
  pool?: pg.Pool,
): Promise<StoreUnderTest & { schema: string; pool: pg.Pool }> {
  const schema = await createSchema("lib");
  const own = pool ?? schema.pool;
  const store = new PostgresStore({ pool: own, schema: schema.name });
  const table = (name: string) => `"${schema.name}"."login_manager_${name}"`;
  return {
    name: "PostgresStore",
    schema: schema.name,
    pool: own,
    store,
    async rawSessions(userId) {
      const result = await schema.pool.query<{
        id: string;
        user_id: string;
        remember_selector: string | null;
        created_at: string;
      }>(`SELECT id, user_id, remember_selector, created_at FROM ${table("sessions")}`);
      return result.rows
        .filter((row) => row.user_id === userId)
        .map((row) => ({
          id: row.id,
          userId: row.user_id,
          rememberSelector: row.remember_selector,
          createdAt: Number(row.created_at),
        }));
    },
    async rawTokens(userId) {
      const result = await schema.pool.query<{ selector: string; user_id: string }>(
        `SELECT selector, user_id FROM ${table("remember_tokens")}`,
      );
      return result.rows.filter((row) => row.user_id === userId).map((row) => row.selector);
    },
    async indexedSessions(userId) {
      return (await store.listUserSessions(userId, Date.now())).map((session) => session.id);
    },
    async indexedTokens(userId) {
      const result = await schema.pool.query<{ selector: string }>(
        `SELECT selector FROM ${table("remember_tokens")} WHERE user_id = $1`,
        [userId],
      );
      return result.rows.map((row) => row.selector);
    },
    async close() {
      await store.close();
      await schema.drop();
    },
  };
}

/**
 * A `RedisStore` on the shared Redis (or `url`) under a new key prefix, whose keys `close()` deletes.
 *
 * @example
 * ```ts
 * const subject = await redisSubject();
 * ```
 */
export async function redisSubject(
  url = redisUrl(),
): Promise<StoreUnderTest & { prefix: string; client: RedisClientType }> {
  const prefix = `${uniqueName("so_lib")}:`;
  const client = createClient({ url });
  client.on("error", () => undefined);
  await client.connect();
  const reader = createClient({ url });
  reader.on("error", () => undefined);
  await reader.connect();
  const store = new RedisStore({ client, keyPrefix: prefix });
  const scan = async (pattern: string) => {
    const keys: string[] = [];
    for await (const batch of reader.scanIterator({ MATCH: pattern, COUNT: 500 })) keys.push(...batch);
    return keys;
  };
  return {
    name: "RedisStore",
    prefix,
    client,
    store,
    async rawSessions(userId) {
      const sessions: RawSession[] = [];
      for (const key of await scan(`${prefix}session:*`)) {
        const [owner, rememberSelector, createdAt] = await reader.hmGet(key, [
          "userId",
          "rememberSelector",
          "createdAt",
        ]);
        if (owner !== userId) continue;
        sessions.push({
          id: key.slice(`${prefix}session:`.length),
          userId: owner,
          rememberSelector: rememberSelector ?? null,
          createdAt: Number(createdAt),
        });
      }
      return sessions;
    },
    async rawTokens(userId) {
      const selectors: string[] = [];
      for (const key of await scan(`${prefix}remember:*`)) {
        if ((await reader.hGet(key, "userId")) === userId)
          selectors.push(key.slice(`${prefix}remember:`.length));
      }
      return selectors;
    },
    async indexedSessions(userId) {
      return reader.sMembers(`${prefix}user:${userId}:sessions`);
    },
    async indexedTokens(userId) {
      return reader.sMembers(`${prefix}user:${userId}:remember`);
    },
    async close() {
      await store.close();
      await deleteRedisPrefix(url, prefix);
      client.destroy();
      reader.destroy();
    },
  };
}

/** Sorted copy, for order-insensitive comparisons. */
export function sorted(values: Iterable<string | undefined>): string[] {
  return [...values].filter((value): value is string => value !== undefined).sort();
}
