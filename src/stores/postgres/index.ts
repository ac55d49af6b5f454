/**
 * `login-manager/stores/postgres`: the {@link SessionStore} on PostgreSQL through `pg`. The class
 * below hands each part of the contract to its statements: `sessions.ts`, `remember-tokens.ts`,
 * `counters.ts`, `one-time-tokens.ts`, `factors.ts` (behind the checks of `FactorStorageBase`) and
 * `maintenance.ts`, run through `connection.ts` on the tables of `schema.ts`; options are checked in
 * `options.ts`, errors mapped in `errors.ts`.
 *
 * @module
 */
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
import { PostgresConnection } from "./connection.js";
import { PostgresCounters } from "./counters.js";
import { PostgresFactors } from "./factors.js";
import { deleteExpiredRows } from "./maintenance.js";
import { PostgresOneTimeTokens } from "./one-time-tokens.js";
import { type PostgresStoreOptions, resolvePostgresOptions } from "./options.js";
import { PostgresRememberTokens } from "./remember-tokens.js";
import { PostgresSessions } from "./sessions.js";

/**
 * True when a `pg` error means PostgreSQL cannot be reached (connection refused, reset or timed out,
 * server shutting down, too many connections, statement timeout): answer 503, not 500. Useful for
 * the app's own queries on the same pool.
 *
 * @example
 * ```ts
 * if (isPostgresConnectionError(error)) return res.status(503).send("Try again shortly");
 * ```
 */
export { isUnavailable as isPostgresConnectionError } from "./errors.js";
export type { PostgresStoreOptions } from "./options.js";
export { SCHEMA_VERSION } from "./schema.js";

/**
 * A {@link SessionStore} on PostgreSQL (9.6 or later) through `pg`, with one-time tokens
 * ({@link OneTimeTokenStorage}) for password resets and e-mail verification, and second factors
 * (`FactorStorage`, which `deleteExpired` never touches). Timestamps are `bigint`
 * milliseconds; every method is one statement (the table-wide deletes, one per batch of 1,000
 * rows); `getSession` is one named prepared statement by primary key. Named statements need
 * session-level connections: with PgBouncer use session pooling (or 1.21+ with
 * `max_prepared_statements`). The store holds no security rule: it implements the primitives, and
 * the core decides what a stale remember-me validator means.
 *
 * Connection failures (refused, reset, timed out, server shutting down) reject with a `StoreError`
 * whose `unavailable` is true, so adapters answer 503; a pool the store creates never crashes the
 * process when an idle connection dies.
 *
 * @example
 * ```ts
 * import { PostgresStore } from "login-manager/stores/postgres";
 * const store = new PostgresStore({ connectionString: "postgresql://app@db/app" });
 * ```
 *
 * @example
 * ```ts
 * // Your own pool (never ended by the store) and tables applied from sql/postgres.sql:
 * const store = new PostgresStore({ pool, migrate: false });
 * ```
 */
export class PostgresStore extends FactorStorageBase implements SessionStore, OneTimeTokenStorage {
  readonly #db: PostgresConnection;
  readonly #sessions: PostgresSessions;
  readonly #tokens: PostgresRememberTokens;
  readonly #counters: PostgresCounters;
  readonly #oneTimeTokens: PostgresOneTimeTokens;

  /**
   * Checks the options (an unknown or misspelt name throws a `ConfigurationError` with the closest
   * known one) and creates the pool a `connectionString` asks for. Nothing is sent to the server
   * before the first call, which also creates or upgrades the tables when `migrate` is on.
   *
   * @example
   * ```ts
   * const store = new PostgresStore({ connectionString: process.env.DATABASE_URL, schema: "auth" });
   * ```
   */
  constructor(options: PostgresStoreOptions) {
    const db = new PostgresConnection(resolvePostgresOptions(options));
    super("PostgresStore", new PostgresFactors(db));
    this.#db = db;
    this.#sessions = new PostgresSessions(this.#db);
    this.#tokens = new PostgresRememberTokens(this.#db);
    this.#counters = new PostgresCounters(this.#db);
    this.#oneTimeTokens = new PostgresOneTimeTokens(this.#db);
  }

  /**
   * @example
   * ```ts
   * await store.createSession(record);
   * ```
   */
  createSession(session: SessionRecord): Promise<void> {
    return this.#sessions.createSession(session);
  }

  /**
   * @example
   * ```ts
   * const session = await store.getSession(id, Date.now());
   * ```
   */
  getSession(id: string, now: number): Promise<SessionRecord | null> {
    return this.#sessions.getSession(id, now);
  }

  /**
   * @example
   * ```ts
   * await store.updateSession(id, { fresh: false });
   * ```
   */
  updateSession(id: string, patch: SessionPatch): Promise<boolean> {
    return this.#sessions.updateSession(id, patch);
  }

  /**
   * @example
   * ```ts
   * const existed = await store.deleteSession(id);
   * ```
   */
  deleteSession(id: string): Promise<boolean> {
    return this.#sessions.deleteSession(id);
  }

  /**
   * @example
   * ```ts
   * const sessions = await store.listUserSessions("42", Date.now());
   * ```
   */
  listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return this.#sessions.listUserSessions(userId, now);
  }

  /**
   * @example
   * ```ts
   * const removed = await store.deleteUserSessions("42", currentSessionId);
   * ```
   */
  deleteUserSessions(userId: string, exceptSessionId?: string): Promise<number> {
    return this.#sessions.deleteUserSessions(userId, exceptSessionId);
  }

  /**
   * Deletes every session, 1,000 rows per statement in primary-key order (no long lock, no
   * `statement_timeout` on a large table). Remember-me tokens and counters are not touched.
   *
   * @example
   * ```ts
   * const removed = await store.deleteAllSessions();
   * ```
   */
  deleteAllSessions(): Promise<number> {
    return this.#sessions.deleteAllSessions();
  }

  /**
   * @example
   * ```ts
   * await store.createRememberToken(record);
   * ```
   */
  createRememberToken(token: RememberTokenRecord): Promise<void> {
    return this.#tokens.createRememberToken(token);
  }

  /**
   * @example
   * ```ts
   * const token = await store.getRememberToken(selector, Date.now());
   * ```
   */
  getRememberToken(selector: string, now: number): Promise<RememberTokenRecord | null> {
    return this.#tokens.getRememberToken(selector, now);
  }

  /**
   * One `UPDATE ... WHERE selector = $1 AND validator_hash = $2`: of several concurrent callers
   * expecting the same hash, exactly one gets true.
   *
   * @example
   * ```ts
   * const swapped = await store.swapRememberValidator(selector, token.validatorHash, rotation);
   * ```
   */
  swapRememberValidator(
    selector: string,
    expectedValidatorHash: string,
    rotation: RememberRotation,
  ): Promise<boolean> {
    return this.#tokens.swapRememberValidator(selector, expectedValidatorHash, rotation);
  }

  /**
   * @example
   * ```ts
   * const existed = await store.deleteRememberToken(selector);
   * ```
   */
  deleteRememberToken(selector: string): Promise<boolean> {
    return this.#tokens.deleteRememberToken(selector);
  }

  /**
   * @example
   * ```ts
   * const removed = await store.deleteUserRememberTokens("42");
   * ```
   */
  deleteUserRememberTokens(userId: string): Promise<number> {
    return this.#tokens.deleteUserRememberTokens(userId);
  }

  /**
   * Deletes every remember-me token, 1,000 rows per statement in primary-key order.
   *
   * @example
   * ```ts
   * const removed = await store.deleteAllRememberTokens();
   * ```
   */
  deleteAllRememberTokens(): Promise<number> {
    return this.#tokens.deleteAllRememberTokens();
  }

  /**
   * @example
   * ```ts
   * const { count } = await store.incrementCounter("account:alice", Date.now(), 3_600_000);
   * ```
   */
  incrementCounter(key: string, now: number, ttlMs: number): Promise<CounterRecord> {
    return this.#counters.incrementCounter(key, now, ttlMs);
  }

  /**
   * @example
   * ```ts
   * const counter = await store.getCounter("account:alice", Date.now());
   * ```
   */
  getCounter(key: string, now: number): Promise<CounterRecord | null> {
    return this.#counters.getCounter(key, now);
  }

  /**
   * @example
   * ```ts
   * await store.deleteCounter("account:alice");
   * ```
   */
  deleteCounter(key: string): Promise<void> {
    return this.#counters.deleteCounter(key);
  }

  /**
   * @example
   * ```ts
   * await store.createOneTimeToken({ tokenHash: hashToken(token), purpose: "password-reset", userId: "42",
   *   data: "", epoch, createdAt: now, expiresAt: now + 1_800_000 });
   * ```
   */
  createOneTimeToken(token: OneTimeTokenRecord): Promise<void> {
    return this.#oneTimeTokens.createOneTimeToken(token);
  }

  /**
   * One `SELECT` by primary key; the token is not consumed.
   *
   * @example
   * ```ts
   * const pending = await store.findOneTimeToken(hashToken(token), Date.now());
   * ```
   */
  findOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null> {
    return this.#oneTimeTokens.findOneTimeToken(tokenHash, now);
  }

  /**
   * One `DELETE ... WHERE token_hash = $1 AND expires_at > $2 RETURNING`: of several concurrent
   * callers with the same hash, exactly one gets the record.
   *
   * @example
   * ```ts
   * const record = await store.consumeOneTimeToken(hashToken(token), Date.now());
   * ```
   */
  consumeOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null> {
    return this.#oneTimeTokens.consumeOneTimeToken(tokenHash, now);
  }

  /**
   * @example
   * ```ts
   * const removed = await store.deleteUserOneTimeTokens("42", null); // every purpose
   * ```
   */
  deleteUserOneTimeTokens(userId: string, purpose: string | null): Promise<number> {
    return this.#oneTimeTokens.deleteUserOneTimeTokens(userId, purpose);
  }

  /**
   * Deletes expired sessions, tokens, counters and one-time tokens, 1,000 rows per statement, skipping rows other
   * transactions hold.
   *
   * @example
   * ```ts
   * setInterval(() => void store.deleteExpired(Date.now()), 3_600_000).unref();
   * ```
   */
  deleteExpired(now: number): Promise<number> {
    return deleteExpiredRows(this.#db, now);
  }

  /**
   * Ends the pool when the store created it; a pool passed in `options.pool` is left open.
   *
   * @example
   * ```ts
   * await store.close();
   * ```
   */
  close(): Promise<void> {
    return this.#db.close();
  }
}
