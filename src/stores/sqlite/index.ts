import Database from "better-sqlite3";
import type { Clock } from "../../core/clock.js";
import { systemClock } from "../../core/clock.js";
import { ConfigurationError, StoreError } from "../../core/errors.js";
import type { MaybePromise } from "../../core/maybe-promise.js";
import type {
  DeletedSessionCounts,
  FailureRecord,
  RememberTokenRecord,
  RotateRememberInput,
  RotateRememberResult,
  SessionPatch,
  SessionRecord,
  SessionStore,
} from "../../core/store.js";
import { constantTimeEqual } from "../../core/tokens.js";

/**
 * Options of {@link SqliteStore}.
 *
 * @example
 * ```ts
 * const options: SqliteStoreOptions = { database: "./data/sessions.db", tablePrefix: "auth_" };
 * ```
 */
export interface SqliteStoreOptions {
  /**
   * A file path (or `":memory:"`) that the store opens itself and closes in `close()`, or an open
   * better-sqlite3 `Database` that the store uses but never closes.
   */
  database: string | Database.Database;
  /**
   * Prefix of every table and index the store creates. Letters, digits and `_`, not starting with a
   * digit, at most 41 characters. Default `"login_manager_"`.
   */
  tablePrefix?: string;
  /**
   * When set, `deleteExpired(clock.now())` runs every this many seconds on an unref'd timer (it never
   * keeps the process alive; `close()` stops it). Off by default: expired rows are already invisible
   * to every read, sweeping only reclaims space. With several processes on one file, let one sweep.
   */
  sweepIntervalSeconds?: number;
  /** The clock the sweep timer reads; defaults to the system clock. */
  clock?: Clock;
  /** Called with the error when a background sweep fails (the next sweep retries). Default: ignore. */
  onSweepError?: (error: StoreError) => void;
}

/** Version of the table layout below, recorded in `<prefix>schema_version`. */
const SCHEMA_VERSION = 1;
const DEFAULT_PREFIX = "login_manager_";
const PREFIX_PATTERN = /^[a-z_][a-z0-9_]{0,40}$/i;

interface SessionRow {
  id: string;
  secret_hash: string;
  user_id: string;
  fresh: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  absolute_expires_at: number;
  fingerprint: string;
  user_agent: string;
  ip_address: string;
  remember_selector: string | null;
}

interface TokenRow {
  selector: string;
  validator_hash: string;
  previous_validator_hash: string | null;
  rotated_at: number;
  user_id: string;
  created_at: number;
  expires_at: number;
}

interface FailureRow {
  key: string;
  count: number;
  first_failure_at: number;
  last_failure_at: number;
  expires_at: number;
}

interface SessionUpdateParams {
  id: string;
  set_fresh: number;
  fresh: number | null;
  set_last_seen_at: number;
  last_seen_at: number | null;
  set_expires_at: number;
  expires_at: number | null;
  set_fingerprint: number;
  fingerprint: string | null;
  set_remember_selector: number;
  remember_selector: string | null;
}

interface RotateParams {
  selector: string;
  validator_hash: string;
  previous_validator_hash: string;
  rotated_at: number;
  expires_at: number | null;
}

type Statement<P extends unknown[], R = unknown> = Database.Statement<P, R>;

/** Everything the store needs once the schema exists: statements are prepared exactly once. */
interface Prepared {
  insertSession: Statement<[SessionRow]>;
  getSession: Statement<[string, number], SessionTuple>;
  updateSession: Statement<[SessionUpdateParams]>;
  deleteSession: Statement<[string]>;
  listUserSessions: Statement<[string, number], SessionRow>;
  deleteUserSessions: Statement<[string]>;
  deleteUserSessionsExcept: Statement<[string, string]>;
  insertToken: Statement<[TokenRow]>;
  getToken: Statement<[string, number], TokenRow>;
  rotate: (input: RotateRememberInput) => RotateRememberResult;
  deleteToken: Statement<[string]>;
  deleteUserTokens: Statement<[string]>;
  deleteAll: () => DeletedSessionCounts;
  incrementFailures: Statement<[{ key: string; now: number; expires_at: number }], FailureRow>;
  getFailures: Statement<[string, number], FailureRow>;
  resetFailures: Statement<[string]>;
  deleteExpired: (now: number) => number;
}

/**
 * A {@link SessionStore} on SQLite through better-sqlite3: durable, shared by every process that
 * opens the same file, no server to run. Good for single-machine deployments.
 *
 * On first use the store sets `journal_mode = WAL`, `synchronous = FULL`, `busy_timeout = 5000`
 * and `foreign_keys = ON` on the connection, then creates its tables and indexes if they do not
 * exist (safe to run from several processes at once). Every statement is prepared once and reused;
 * `getSession` is a single primary-key lookup. Driver errors reject with a {@link StoreError} whose
 * `cause` is the driver error (`unavailable` when the file is locked, unreadable or cannot be opened).
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
 * import Database from "better-sqlite3";
 * const db = new Database("./app.db"); // shared with the application; the store never closes it
 * const store = new SqliteStore({ database: db, tablePrefix: "auth_" });
 * ```
 */
export class SqliteStore implements SessionStore {
  readonly #source: string | Database.Database;
  readonly #ownsDatabase: boolean;
  readonly #prefix: string;
  #db: Database.Database | undefined;
  #prepared: Prepared | undefined;
  #closed = false;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * Validates the options; opening the file and creating the tables happen on first use (or in
   * {@link SqliteStore.initialize}).
   *
   * @example
   * ```ts
   * const store = new SqliteStore({ database: ":memory:" });
   * ```
   */
  constructor(options: SqliteStoreOptions) {
    const { database, tablePrefix = DEFAULT_PREFIX, sweepIntervalSeconds } = options;
    if (typeof database !== "string" && (typeof database !== "object" || database === null)) {
      throw new ConfigurationError(
        "SqliteStore: database must be a file path (or ':memory:') or a better-sqlite3 Database instance.",
      );
    }
    if (typeof tablePrefix !== "string" || !PREFIX_PATTERN.test(tablePrefix)) {
      throw new ConfigurationError(
        `SqliteStore: tablePrefix ${JSON.stringify(tablePrefix)} is invalid; use 1 to 41 letters, digits or underscores, not starting with a digit (default "${DEFAULT_PREFIX}").`,
      );
    }
    this.#source = database;
    this.#ownsDatabase = typeof database === "string";
    this.#prefix = tablePrefix;

    if (sweepIntervalSeconds !== undefined) {
      if (!Number.isFinite(sweepIntervalSeconds) || sweepIntervalSeconds <= 0) {
        throw new ConfigurationError(
          `SqliteStore: sweepIntervalSeconds must be a positive number of seconds (got ${String(sweepIntervalSeconds)}); omit it to disable sweeping.`,
        );
      }
      const clock = options.clock ?? systemClock;
      const onSweepError = options.onSweepError;
      this.#timer = setInterval(() => {
        this.deleteExpired(clock.now()).catch((error: unknown) => {
          if (onSweepError && error instanceof StoreError) onSweepError(error);
        });
      }, sweepIntervalSeconds * 1000);
      this.#timer.unref();
    }
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
    await this.#run("initialize", () => undefined);
  }

  /**
   * @example
   * ```ts
   * await store.createSession(session);
   * ```
   */
  async createSession(session: SessionRecord): Promise<void> {
    await this.#run("createSession", (p) => {
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
    // better-sqlite3 answers synchronously: hand the row back without a promise (failures reject).
    return this.#runNow("getSession", (p) => {
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
    return this.#run("updateSession", (p) => {
      const result = p.updateSession.run({
        id,
        set_fresh: patch.fresh === undefined ? 0 : 1,
        fresh: patch.fresh === undefined ? null : patch.fresh ? 1 : 0,
        set_last_seen_at: patch.lastSeenAt === undefined ? 0 : 1,
        last_seen_at: patch.lastSeenAt ?? null,
        set_expires_at: patch.expiresAt === undefined ? 0 : 1,
        expires_at: patch.expiresAt ?? null,
        set_fingerprint: patch.fingerprint === undefined ? 0 : 1,
        fingerprint: patch.fingerprint ?? null,
        set_remember_selector: patch.rememberSelector === undefined ? 0 : 1,
        remember_selector: patch.rememberSelector ?? null,
      });
      return result.changes > 0;
    });
  }

  /**
   * @example
   * ```ts
   * await store.deleteSession(id); // true when it existed
   * ```
   */
  async deleteSession(id: string): Promise<boolean> {
    return this.#run("deleteSession", (p) => p.deleteSession.run(id).changes > 0);
  }

  /**
   * @example
   * ```ts
   * const sessions = await store.listUserSessions("42", Date.now());
   * ```
   */
  async listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
    return this.#run("listUserSessions", (p) => p.listUserSessions.all(userId, now).map(fromSessionRow));
  }

  /**
   * @example
   * ```ts
   * const revoked = await store.deleteUserSessions("42", currentSessionId);
   * ```
   */
  async deleteUserSessions(userId: string, exceptSessionId?: string): Promise<number> {
    return this.#run("deleteUserSessions", (p) =>
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
    await this.#run("createRememberToken", (p) => {
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
    return this.#run("getRememberToken", (p) => {
      const row = p.getToken.get(selector, now);
      return row ? fromTokenRow(row) : null;
    });
  }

  /**
   * Runs the read, constant-time comparison and update in one `BEGIN IMMEDIATE` transaction, so
   * it is atomic across every connection and process using the file.
   *
   * @example
   * ```ts
   * const result = await store.rotateRememberToken({ selector, presentedValidatorHash, newValidatorHash, now, graceMs: 10_000 });
   * ```
   */
  async rotateRememberToken(input: RotateRememberInput): Promise<RotateRememberResult> {
    return this.#run("rotateRememberToken", (p) => p.rotate(input));
  }

  /**
   * @example
   * ```ts
   * await store.deleteRememberToken(selector);
   * ```
   */
  async deleteRememberToken(selector: string): Promise<boolean> {
    return this.#run("deleteRememberToken", (p) => p.deleteToken.run(selector).changes > 0);
  }

  /**
   * @example
   * ```ts
   * const removed = await store.deleteUserRememberTokens("42");
   * ```
   */
  async deleteUserRememberTokens(userId: string): Promise<number> {
    return this.#run("deleteUserRememberTokens", (p) => p.deleteUserTokens.run(userId).changes);
  }

  /**
   * Two unconditional `DELETE`s (tokens, then sessions) in one `BEGIN IMMEDIATE` transaction:
   * atomic across every process using the file. Without a `WHERE` clause SQLite drops the rows page
   * by page instead of row by row, so even a large table is emptied quickly. The failure counters
   * table is not touched.
   *
   * @example
   * ```ts
   * const { sessions, rememberTokens } = await store.deleteAllSessions();
   * ```
   */
  async deleteAllSessions(): Promise<DeletedSessionCounts> {
    return this.#run("deleteAllSessions", (p) => p.deleteAll());
  }

  /**
   * A single `INSERT ... ON CONFLICT DO UPDATE ... RETURNING` statement, atomic by itself.
   *
   * @example
   * ```ts
   * const { count } = await store.incrementFailures("account:alice", Date.now(), 900_000);
   * ```
   */
  async incrementFailures(key: string, now: number, ttlMs: number): Promise<FailureRecord> {
    return this.#run("incrementFailures", (p) => {
      const row = p.incrementFailures.get({ key, now, expires_at: now + ttlMs });
      if (!row) throw new Error("INSERT ... RETURNING returned no row");
      return fromFailureRow(row);
    });
  }

  /**
   * @example
   * ```ts
   * const failures = await store.getFailures("ip:203.0.113.7", Date.now());
   * ```
   */
  async getFailures(key: string, now: number): Promise<FailureRecord | null> {
    return this.#run("getFailures", (p) => {
      const row = p.getFailures.get(key, now);
      return row ? fromFailureRow(row) : null;
    });
  }

  /**
   * @example
   * ```ts
   * await store.resetFailures("account:alice");
   * ```
   */
  async resetFailures(key: string): Promise<void> {
    await this.#run("resetFailures", (p) => {
      p.resetFailures.run(key);
    });
  }

  /**
   * @example
   * ```ts
   * const removed = await store.deleteExpired(Date.now());
   * ```
   */
  async deleteExpired(now: number): Promise<number> {
    return this.#run("deleteExpired", (p) => p.deleteExpired(now));
  }

  /**
   * Stops the sweep timer and closes the database if the store opened it (a `Database` passed in
   * stays open). Further calls on the store reject with a {@link StoreError}. Idempotent.
   *
   * @example
   * ```ts
   * await store.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#timer !== undefined) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
    if (this.#closed) return;
    this.#closed = true;
    this.#prepared = undefined;
    const db = this.#db;
    this.#db = undefined;
    if (db && this.#ownsDatabase && db.open) {
      try {
        db.close();
      } catch (error) {
        throw wrap("close", error);
      }
    }
  }

  #run<T>(operation: string, fn: (prepared: Prepared) => T): Promise<T> {
    return Promise.resolve(this.#runNow(operation, fn));
  }

  /** Runs `fn` on the prepared statements: its value, or a promise rejected with a StoreError. */
  #runNow<T>(operation: string, fn: (prepared: Prepared) => T): T | Promise<never> {
    if (this.#closed) {
      return Promise.reject(new StoreError(`SqliteStore: ${operation} called after close()`));
    }
    try {
      this.#prepared ??= this.#setUp();
      return fn(this.#prepared);
    } catch (error) {
      return Promise.reject(error instanceof StoreError ? error : wrap(operation, error));
    }
  }

  #setUp(): Prepared {
    const db = this.#open();
    // Wait up to 5 s for another connection's write lock instead of failing at once with SQLITE_BUSY.
    db.pragma("busy_timeout = 5000");
    // WAL: readers never block the writer and vice versa, so several processes can share the file.
    db.pragma("journal_mode = WAL");
    // FULL: every commit fsyncs the WAL before the call returns, so an acknowledged write survives
    // not only a kill -9 of the process but also an OS crash or power loss. (NORMAL only fsyncs at
    // checkpoints: it survives kill -9 but may lose the last commits on power loss.) The cost is one
    // fsync per write; reads are unaffected.
    db.pragma("synchronous = FULL");
    db.pragma("foreign_keys = ON");
    this.#createSchema(db);
    return this.#prepare(db);
  }

  #open(): Database.Database {
    if (this.#db) return this.#db;
    if (typeof this.#source === "string") {
      try {
        this.#db = new Database(this.#source);
      } catch (error) {
        // better-sqlite3 throws a plain TypeError for a missing directory, SQLITE_CANTOPEN otherwise:
        // either way the store cannot be reached.
        const reason = error instanceof Error ? error.message : String(error);
        throw new StoreError(`SqliteStore: cannot open ${JSON.stringify(this.#source)}: ${reason}`, {
          cause: error,
          unavailable: true,
        });
      }
    } else {
      this.#db = this.#source;
    }
    return this.#db;
  }

  #createSchema(db: Database.Database): void {
    const p = this.#prefix;
    // BEGIN IMMEDIATE takes the write lock first, so processes starting together create the schema
    // one after the other; IF NOT EXISTS makes the second one a no-op.
    db.transaction(() => {
      db.exec(`
        CREATE TABLE IF NOT EXISTS "${p}schema_version" (
          version INTEGER NOT NULL
        );
        CREATE TABLE IF NOT EXISTS "${p}sessions" (
          id TEXT NOT NULL PRIMARY KEY,
          secret_hash TEXT NOT NULL,
          user_id TEXT NOT NULL,
          fresh INTEGER NOT NULL CHECK (fresh IN (0, 1)),
          created_at INTEGER NOT NULL,
          last_seen_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL,
          absolute_expires_at INTEGER NOT NULL,
          fingerprint TEXT NOT NULL,
          user_agent TEXT NOT NULL,
          ip_address TEXT NOT NULL,
          remember_selector TEXT
        );
        CREATE INDEX IF NOT EXISTS "${p}sessions_user_id" ON "${p}sessions" (user_id, created_at);
        CREATE INDEX IF NOT EXISTS "${p}sessions_expires_at" ON "${p}sessions" (expires_at);
        CREATE TABLE IF NOT EXISTS "${p}remember_tokens" (
          selector TEXT NOT NULL PRIMARY KEY,
          validator_hash TEXT NOT NULL,
          previous_validator_hash TEXT,
          rotated_at INTEGER NOT NULL,
          user_id TEXT NOT NULL,
          created_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS "${p}remember_tokens_user_id" ON "${p}remember_tokens" (user_id);
        CREATE INDEX IF NOT EXISTS "${p}remember_tokens_expires_at" ON "${p}remember_tokens" (expires_at);
        CREATE TABLE IF NOT EXISTS "${p}failures" (
          "key" TEXT NOT NULL PRIMARY KEY,
          "count" INTEGER NOT NULL,
          first_failure_at INTEGER NOT NULL,
          last_failure_at INTEGER NOT NULL,
          expires_at INTEGER NOT NULL
        );
        CREATE INDEX IF NOT EXISTS "${p}failures_expires_at" ON "${p}failures" (expires_at);
      `);
      const row = db
        .prepare<[], { version: number | null }>(`SELECT MAX(version) AS version FROM "${p}schema_version"`)
        .get();
      const version = row?.version ?? null;
      if (version === null) {
        db.prepare<[number]>(`INSERT INTO "${p}schema_version" (version) VALUES (?)`).run(SCHEMA_VERSION);
      } else if (version > SCHEMA_VERSION) {
        throw new StoreError(
          `SqliteStore: the tables with prefix "${p}" have schema version ${version}, newer than this version of login-manager supports (${SCHEMA_VERSION}); upgrade login-manager.`,
        );
      }
    }).immediate();
  }

  #prepare(db: Database.Database): Prepared {
    const p = this.#prefix;
    const sessions = `"${p}sessions"`;
    const tokens = `"${p}remember_tokens"`;
    const failures = `"${p}failures"`;

    const selectTokenForUpdate = db.prepare<[string], TokenRow>(`SELECT * FROM ${tokens} WHERE selector = ?`);
    const updateRotation = db.prepare<
      [RotateParams]
    >(`UPDATE ${tokens} SET validator_hash = @validator_hash, previous_validator_hash = @previous_validator_hash,
         rotated_at = @rotated_at, expires_at = COALESCE(@expires_at, expires_at)
       WHERE selector = @selector`);
    const rotate = db.transaction((input: RotateRememberInput): RotateRememberResult => {
      const row = selectTokenForUpdate.get(input.selector);
      if (!row || row.expires_at <= input.now) return { outcome: "unknown" };
      const token = fromTokenRow(row);
      if (constantTimeEqual(input.presentedValidatorHash, token.validatorHash)) {
        updateRotation.run({
          selector: input.selector,
          validator_hash: input.newValidatorHash,
          previous_validator_hash: input.presentedValidatorHash,
          rotated_at: input.now,
          expires_at: input.newExpiresAt ?? null,
        });
        return {
          outcome: "rotated",
          token: {
            ...token,
            validatorHash: input.newValidatorHash,
            previousValidatorHash: input.presentedValidatorHash,
            rotatedAt: input.now,
            expiresAt: input.newExpiresAt ?? token.expiresAt,
          },
        };
      }
      const inGrace =
        token.previousValidatorHash !== null &&
        constantTimeEqual(input.presentedValidatorHash, token.previousValidatorHash) &&
        input.now - token.rotatedAt <= input.graceMs;
      return { outcome: inGrace ? "grace" : "mismatch", token };
    });

    const deleteExpiredSessions = db.prepare<[number]>(`DELETE FROM ${sessions} WHERE expires_at <= ?`);
    const deleteExpiredTokens = db.prepare<[number]>(`DELETE FROM ${tokens} WHERE expires_at <= ?`);
    const deleteExpiredFailures = db.prepare<[number]>(`DELETE FROM ${failures} WHERE expires_at <= ?`);
    const deleteExpired = db.transaction(
      (now: number): number =>
        deleteExpiredSessions.run(now).changes +
        deleteExpiredTokens.run(now).changes +
        deleteExpiredFailures.run(now).changes,
    );

    const deleteAllTokens = db.prepare<[]>(`DELETE FROM ${tokens}`);
    const deleteAllSessions = db.prepare<[]>(`DELETE FROM ${sessions}`);
    const deleteAll = db.transaction(
      (): DeletedSessionCounts => ({
        rememberTokens: deleteAllTokens.run().changes,
        sessions: deleteAllSessions.run().changes,
      }),
    );

    return {
      insertSession: db.prepare<
        [SessionRow]
      >(`INSERT INTO ${sessions} (id, secret_hash, user_id, fresh, created_at, last_seen_at, expires_at,
           absolute_expires_at, fingerprint, user_agent, ip_address, remember_selector)
         VALUES (@id, @secret_hash, @user_id, @fresh, @created_at, @last_seen_at, @expires_at,
           @absolute_expires_at, @fingerprint, @user_agent, @ip_address, @remember_selector)`),
      // Raw rows (arrays): on the per-request path, building a 12-key object per row cost about 2 µs.
      getSession: db
        .prepare<[string, number], SessionTuple>(
          `SELECT ${SESSION_COLUMNS} FROM ${sessions} WHERE id = ? AND expires_at > ?`,
        )
        .raw(true),
      updateSession: db.prepare<[SessionUpdateParams]>(`UPDATE ${sessions} SET
           fresh = CASE WHEN @set_fresh THEN @fresh ELSE fresh END,
           last_seen_at = CASE WHEN @set_last_seen_at THEN @last_seen_at ELSE last_seen_at END,
           expires_at = CASE WHEN @set_expires_at THEN @expires_at ELSE expires_at END,
           fingerprint = CASE WHEN @set_fingerprint THEN @fingerprint ELSE fingerprint END,
           remember_selector = CASE WHEN @set_remember_selector THEN @remember_selector ELSE remember_selector END
         WHERE id = @id`),
      deleteSession: db.prepare<[string]>(`DELETE FROM ${sessions} WHERE id = ?`),
      // rowid breaks ties between sessions created in the same millisecond: insertion order.
      listUserSessions: db.prepare<[string, number], SessionRow>(
        `SELECT * FROM ${sessions} WHERE user_id = ? AND expires_at > ? ORDER BY created_at, rowid`,
      ),
      deleteUserSessions: db.prepare<[string]>(`DELETE FROM ${sessions} WHERE user_id = ?`),
      deleteUserSessionsExcept: db.prepare<[string, string]>(
        `DELETE FROM ${sessions} WHERE user_id = ? AND id <> ?`,
      ),
      insertToken: db.prepare<
        [TokenRow]
      >(`INSERT INTO ${tokens} (selector, validator_hash, previous_validator_hash, rotated_at, user_id, created_at, expires_at)
         VALUES (@selector, @validator_hash, @previous_validator_hash, @rotated_at, @user_id, @created_at, @expires_at)`),
      getToken: db.prepare<[string, number], TokenRow>(
        `SELECT * FROM ${tokens} WHERE selector = ? AND expires_at > ?`,
      ),
      rotate: (input) => rotate.immediate(input),
      deleteToken: db.prepare<[string]>(`DELETE FROM ${tokens} WHERE selector = ?`),
      deleteUserTokens: db.prepare<[string]>(`DELETE FROM ${tokens} WHERE user_id = ?`),
      deleteAll: () => deleteAll.immediate(),
      // In an UPDATE every right-hand side sees the old row, so the CASEs all test the old expires_at.
      incrementFailures: db.prepare<
        [{ key: string; now: number; expires_at: number }],
        FailureRow
      >(`INSERT INTO ${failures} ("key", "count", first_failure_at, last_failure_at, expires_at)
         VALUES (@key, 1, @now, @now, @expires_at)
         ON CONFLICT ("key") DO UPDATE SET
           "count" = CASE WHEN expires_at <= @now THEN 1 ELSE "count" + 1 END,
           first_failure_at = CASE WHEN expires_at <= @now THEN @now ELSE first_failure_at END,
           last_failure_at = @now,
           expires_at = CASE WHEN expires_at <= @now THEN @expires_at ELSE MAX(expires_at, @expires_at) END
         RETURNING "key", "count", first_failure_at, last_failure_at, expires_at`),
      getFailures: db.prepare<
        [string, number],
        FailureRow
      >(`SELECT "key", "count", first_failure_at, last_failure_at, expires_at FROM ${failures}
         WHERE "key" = ? AND expires_at > ?`),
      resetFailures: db.prepare<[string]>(`DELETE FROM ${failures} WHERE "key" = ?`),
      deleteExpired: (now) => deleteExpired.immediate(now),
    };
  }
}

/** SQLite result codes meaning "the database cannot be used right now", not "this call is wrong". */
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|NOTADB|CORRUPT|READONLY|PROTOCOL)/;

function wrap(operation: string, error: unknown): StoreError {
  const code = (error as { code?: unknown } | null)?.code;
  const unavailable = typeof code === "string" && UNAVAILABLE_CODES.test(code);
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreError(`SqliteStore: ${operation} failed: ${reason}`, { cause: error, unavailable });
}

function toSessionRow(session: SessionRecord): SessionRow {
  return {
    id: session.id,
    secret_hash: session.secretHash,
    user_id: session.userId,
    fresh: session.fresh ? 1 : 0,
    created_at: session.createdAt,
    last_seen_at: session.lastSeenAt,
    expires_at: session.expiresAt,
    absolute_expires_at: session.absoluteExpiresAt,
    fingerprint: session.fingerprint,
    user_agent: session.userAgent,
    ip_address: session.ipAddress,
    remember_selector: session.rememberSelector,
  };
}

/** The session columns in the order of {@link SessionTuple}. */
const SESSION_COLUMNS =
  "id, secret_hash, user_id, fresh, created_at, last_seen_at, expires_at, absolute_expires_at, fingerprint, user_agent, ip_address, remember_selector";

/** A session row as better-sqlite3 returns it in raw mode, in {@link SESSION_COLUMNS} order. */
type SessionTuple = [
  id: string,
  secretHash: string,
  userId: string,
  fresh: number,
  createdAt: number,
  lastSeenAt: number,
  expiresAt: number,
  absoluteExpiresAt: number,
  fingerprint: string,
  userAgent: string,
  ipAddress: string,
  rememberSelector: string | null,
];

function fromSessionTuple(row: SessionTuple): SessionRecord {
  return {
    id: row[0],
    secretHash: row[1],
    userId: row[2],
    fresh: row[3] === 1,
    createdAt: row[4],
    lastSeenAt: row[5],
    expiresAt: row[6],
    absoluteExpiresAt: row[7],
    fingerprint: row[8],
    userAgent: row[9],
    ipAddress: row[10],
    rememberSelector: row[11],
  };
}

function fromSessionRow(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    userId: row.user_id,
    fresh: row.fresh === 1,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    fingerprint: row.fingerprint,
    userAgent: row.user_agent,
    ipAddress: row.ip_address,
    rememberSelector: row.remember_selector,
  };
}

function toTokenRow(token: RememberTokenRecord): TokenRow {
  return {
    selector: token.selector,
    validator_hash: token.validatorHash,
    previous_validator_hash: token.previousValidatorHash,
    rotated_at: token.rotatedAt,
    user_id: token.userId,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
  };
}

function fromTokenRow(row: TokenRow): RememberTokenRecord {
  return {
    selector: row.selector,
    validatorHash: row.validator_hash,
    previousValidatorHash: row.previous_validator_hash,
    rotatedAt: row.rotated_at,
    userId: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

function fromFailureRow(row: FailureRow): FailureRecord {
  return {
    key: row.key,
    count: row.count,
    firstFailureAt: row.first_failure_at,
    lastFailureAt: row.last_failure_at,
    expiresAt: row.expires_at,
  };
}
