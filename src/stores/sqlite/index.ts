/**
 * `login-manager/stores/sqlite`: the {@link SessionStore} on one SQLite file, through node:sqlite or
 * better-sqlite3 (`drivers.ts`). The class below maps each contract method to a statement prepared in
 * `statements.ts` (one-time tokens: `one-time-tokens.ts`; second factors: `factors.ts`, whose checked
 * entry points come from `FactorStorageBase`), on the tables of `schema.ts`, through the connection of
 * `connection.ts`; rows are mapped in `rows.ts`, errors in `errors.ts`.
 *
 * @module
 */
import { StoreError } from "../../core/errors.js";
import type { MaybePromise } from "../../core/maybe-promise.js";
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
import { connectionFactors, SqliteConnection } from "./connection.js";
import type { ConnectionSource, SqliteDriverName } from "./drivers.js";
import { resolveSqliteOptions, type SqliteStoreOptions, startSweepTimer } from "./options.js";
import {
  fromCounterRow,
  fromSessionRow,
  fromSessionTuple,
  fromTokenRow,
  toSessionRow,
  toSessionUpdateParams,
  toTokenRow,
} from "./rows.js";

export type { BetterSqlite3DatabaseLike, NodeSqliteDatabaseLike, SqliteDriverName } from "./drivers.js";
export type { SqliteStoreOptions } from "./options.js";

/**
 * A {@link SessionStore} on SQLite: durable, shared by every process that opens the same file, no
 * server to run. Good for single-machine deployments. It runs on node:sqlite (built into Node.js
 * 22.13 and newer: nothing to install or compile) or on better-sqlite3 12 or 13 (`driver` option, or
 * pass an open better-sqlite3 `Database`).
 *
 * On first use the store sets `journal_mode = WAL`, `synchronous = FULL`, `busy_timeout = 5000`
 * and `foreign_keys = ON` on the connection, then creates its tables and indexes if they do not
 * exist (safe to run from several processes at once). Every statement is prepared once and reused;
 * `getSession` is a single primary-key lookup, answered without a promise. Driver errors reject with
 * a {@link StoreError} whose `cause` is the driver error (`unavailable` when the file is locked,
 * unreadable or cannot be opened).
 *
 * @example
 * ```ts
 * import { SqliteStore } from "login-manager/stores/sqlite";
 *
 * const store = new SqliteStore({ database: "./data/sessions.db", sweepIntervalSeconds: 600 });
 * await store.initialize(); // optional: fail at start-up rather than on the first request
 * ```
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * const db = new DatabaseSync("./app.db"); // shared with the application; the store never closes it
 * const store = new SqliteStore({ database: db, tablePrefix: "auth_" });
 * ```
 */
export class SqliteStore extends FactorStorageBase implements SessionStore, OneTimeTokenStorage {
  readonly #source: ConnectionSource;
  readonly #connection: SqliteConnection;
  #stopSweep: (() => void) | undefined;

  /**
   * Validates the options and loads the driver a path needs (a missing better-sqlite3 throws here);
   * opening the file and creating the tables happen on first use (or in {@link SqliteStore.initialize}).
   *
   * @example
   * ```ts
   * const store = new SqliteStore({ database: ":memory:" });
   * ```
   */
  constructor(options: SqliteStoreOptions) {
    const { source, prefix, sweep } = resolveSqliteOptions(options);
    const connection = new SqliteConnection(source, prefix);
    super("SqliteStore", connectionFactors(connection));
    this.#source = source;
    this.#connection = connection;
    this.#stopSweep = startSweepTimer(sweep, (now) => this.deleteExpired(now));
  }

  /**
   * Which driver the store runs on: the one chosen for a path, or the kind of connection passed in.
   *
   * @example
   * ```ts
   * new SqliteStore({ database: ":memory:" }).driver; // "node:sqlite"
   * ```
   */
  get driver(): SqliteDriverName {
    return this.#source.driver;
  }

  /**
   * Opens the database (when given a path), applies the pragmas and creates the tables now instead
   * of on first use. Idempotent.
   *
   * @example
   * ```ts
   * await store.initialize();
   * ```
   */
  async initialize(): Promise<void> {
    await this.#connection.run("initialize", () => undefined);
  }

  /**
   * @example
   * ```ts
   * await store.createSession(session);
   * ```
   */
  async createSession(session: SessionRecord): Promise<void> {
    await this.#connection.run("createSession", (p) => {
      p.insertSession.run(toSessionRow(session));
    });
  }

  /**
   * @example
   * ```ts
   * const session = await store.getSession(id, Date.now());
   * ```
   */
  getSession(id: string, now: number): MaybePromise<SessionRecord | null> {
    // Both drivers answer synchronously: hand the row back without a promise (failures reject).
    return this.#connection.runNow("getSession", (p) => {
      const row = p.getSession.get(id, now);
      return row ? fromSessionTuple(row) : null;
    });
  }

  /**
   * @example
   * ```ts
   * await store.updateSession(id, { lastSeenAt: now, expiresAt: now + 1_800_000 });
   * ```
   */
  async updateSession(id: string, patch: SessionPatch): Promise<boolean> {
    return this.#connection.run(
      "updateSession",
      (p) => p.updateSession.run(toSessionUpdateParams(id, patch)).changes > 0,
    );
  }

  /**
   * @example
   * ```ts
   * await store.deleteSession(id); // true when it existed
   * ```
   */
  async deleteSession(id: string): Promise<boolean> {
    return this.#connection.run("deleteSession", (p) => p.deleteSession.run(id).changes > 0);
  }

  /**
   * @example
   * ```ts
   * const sessions = await store.listUserSessions("42", Date.now());
   * ```
   */
  async listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return this.#connection.run("listUserSessions", (p) =>
      p.listUserSessions.all(userId, now).map(fromSessionRow),
    );
  }

  /**
   * @example
   * ```ts
   * const revoked = await store.deleteUserSessions("42", currentSessionId);
   * ```
   */
  async deleteUserSessions(userId: string, exceptSessionId?: string): Promise<number> {
    return this.#connection.run("deleteUserSessions", (p) =>
      exceptSessionId === undefined
        ? p.deleteUserSessions.run(userId).changes
        : p.deleteUserSessionsExcept.run(userId, exceptSessionId).changes,
    );
  }

  /**
   * @example
   * ```ts
   * await store.createRememberToken(token);
   * ```
   */
  async createRememberToken(token: RememberTokenRecord): Promise<void> {
    await this.#connection.run("createRememberToken", (p) => {
      p.insertToken.run(toTokenRow(token));
    });
  }

  /**
   * @example
   * ```ts
   * const token = await store.getRememberToken(selector, Date.now());
   * ```
   */
  async getRememberToken(selector: string, now: number): Promise<RememberTokenRecord | null> {
    return this.#connection.run("getRememberToken", (p) => {
      const row = p.getToken.get(selector, now);
      return row ? fromTokenRow(row) : null;
    });
  }

  /**
   * The compare-and-swap of a remember-me validator: the read, a constant-time comparison and the
   * update run in one `BEGIN IMMEDIATE` transaction, so of several callers (in any process using
   * the file) expecting the same hash, exactly one gets true.
   *
   * @example
   * ```ts
   * const swapped = await store.swapRememberValidator(selector, token.validatorHash, {
   *   validatorHash: hashToken(next), previousValidatorHash: token.validatorHash, rotatedAt: now, rotatedBy: fingerprint,
   * });
   * ```
   */
  async swapRememberValidator(
    selector: string,
    expectedValidatorHash: string,
    rotation: RememberRotation,
  ): Promise<boolean> {
    return this.#connection.run("swapRememberValidator", (p) =>
      p.swapValidator(selector, expectedValidatorHash, rotation),
    );
  }

  /**
   * @example
   * ```ts
   * await store.deleteRememberToken(selector);
   * ```
   */
  async deleteRememberToken(selector: string): Promise<boolean> {
    return this.#connection.run("deleteRememberToken", (p) => p.deleteToken.run(selector).changes > 0);
  }

  /**
   * @example
   * ```ts
   * const removed = await store.deleteUserRememberTokens("42");
   * ```
   */
  async deleteUserRememberTokens(userId: string): Promise<number> {
    return this.#connection.run("deleteUserRememberTokens", (p) => p.deleteUserTokens.run(userId).changes);
  }

  /**
   * One unconditional `DELETE` of the remember-me tokens table: without a `WHERE` clause SQLite drops
   * the rows page by page instead of row by row, so even a large table is emptied quickly. Another
   * `tablePrefix`'s tables in the same file are not touched.
   *
   * @example
   * ```ts
   * const removed = await store.deleteAllRememberTokens();
   * ```
   */
  async deleteAllRememberTokens(): Promise<number> {
    return this.#connection.run("deleteAllRememberTokens", (p) => p.deleteAllTokens.run().changes);
  }

  /**
   * One unconditional `DELETE` of the sessions table (quick, as for
   * {@link SqliteStore.deleteAllRememberTokens}); remember-me tokens and counters are not touched.
   *
   * @example
   * ```ts
   * const removed = await store.deleteAllSessions();
   * ```
   */
  async deleteAllSessions(): Promise<number> {
    return this.#connection.run("deleteAllSessions", (p) => p.deleteAllSessions.run().changes);
  }

  /**
   * A single `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` statement, atomic by itself.
   *
   * @example
   * ```ts
   * const { count } = await store.incrementCounter("account:alice", Date.now(), 900_000);
   * ```
   */
  async incrementCounter(key: string, now: number, ttlMs: number): Promise<CounterRecord> {
    return this.#connection.run("incrementCounter", (p) => {
      const row = p.incrementCounter.get({ key, now, expires_at: now + ttlMs });
      if (!row) throw new Error("INSERT ... RETURNING returned no row");
      return fromCounterRow(row);
    });
  }

  /**
   * @example
   * ```ts
   * const counter = await store.getCounter("address:203.0.113.7", Date.now());
   * ```
   */
  async getCounter(key: string, now: number): Promise<CounterRecord | null> {
    return this.#connection.run("getCounter", (p) => {
      const row = p.getCounter.get(key, now);
      return row ? fromCounterRow(row) : null;
    });
  }

  /**
   * @example
   * ```ts
   * await store.deleteCounter("account:alice");
   * ```
   */
  async deleteCounter(key: string): Promise<void> {
    await this.#connection.run("deleteCounter", (p) => {
      p.deleteCounter.run(key);
    });
  }

  /**
   * @example
   * ```ts
   * await store.createOneTimeToken({ ...record, expiresAt: Date.now() + 1_800_000 });
   * ```
   */
  async createOneTimeToken(token: OneTimeTokenRecord): Promise<void> {
    await this.#connection.run("createOneTimeToken", (p) => p.oneTimeTokens.create(token));
  }

  /**
   * @example
   * ```ts
   * const pending = await store.findOneTimeToken(hashToken(token), Date.now());
   * ```
   */
  async findOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null> {
    return this.#connection.run("findOneTimeToken", (p) => p.oneTimeTokens.find(tokenHash, now));
  }

  /**
   * One `DELETE ... RETURNING` statement: of several callers (in any process using the file) with
   * the same hash, exactly one gets the record.
   *
   * @example
   * ```ts
   * const record = await store.consumeOneTimeToken(hashToken(token), Date.now());
   * ```
   */
  async consumeOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null> {
    return this.#connection.run("consumeOneTimeToken", (p) => p.oneTimeTokens.consume(tokenHash, now));
  }

  /**
   * @example
   * ```ts
   * const removed = await store.deleteUserOneTimeTokens("42", "password-reset");
   * ```
   */
  async deleteUserOneTimeTokens(userId: string, purpose: string | null): Promise<number> {
    return this.#connection.run("deleteUserOneTimeTokens", (p) =>
      p.oneTimeTokens.deleteUser(userId, purpose),
    );
  }

  /**
   * @example
   * ```ts
   * const removed = await store.deleteExpired(Date.now());
   * ```
   */
  async deleteExpired(now: number): Promise<number> {
    return this.#connection.run("deleteExpired", (p) => p.deleteExpired(now));
  }

  /**
   * Stops the sweep timer and closes the database if the store opened it (a connection passed in
   * stays open). Further calls on the store reject with a {@link StoreError}. Idempotent.
   *
   * @example
   * ```ts
   * await store.close();
   * ```
   */
  async close(): Promise<void> {
    this.#stopSweep?.();
    this.#stopSweep = undefined;
    this.#connection.close();
  }
}
