import { createHash } from "node:crypto";
import type { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from "pg";
import pg from "pg";
import { ConfigurationError } from "../../core/errors.js";
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
import { toStoreError } from "./errors.js";
import { migrate, type TableNames, tableNames } from "./schema.js";

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
export { SCHEMA_VERSION } from "./schema.js";

/** Rows deleted per statement by {@link PostgresStore.deleteExpired}, so no sweep holds long locks. */
const SWEEP_BATCH = 1000;
/** Rows deleted per statement by {@link PostgresStore.deleteAllSessions}. */
const DELETE_ALL_BATCH = 1000;

/**
 * Options of {@link PostgresStore}. Pass exactly one of `pool` and `connectionString`.
 *
 * @example
 * ```ts
 * const options: PostgresStoreOptions = { connectionString: process.env.DATABASE_URL, schema: "auth" };
 * ```
 */
export interface PostgresStoreOptions {
  /** A pool you own. The store never ends it; `poolMax` and the timeouts must then be set on it. */
  pool?: Pool;
  /**
   * Connection URL for a pool the store creates (and ends in `close()`). `undefined` (an unset
   * environment variable) counts as not given, also under `exactOptionalPropertyTypes`.
   */
  connectionString?: string | undefined;
  /** Schema holding the tables; created on first use when missing and `migrate` is on. Default "public". */
  schema?: string;
  /** Prefix of every table and index name. Default "login_manager_". */
  tablePrefix?: string;
  /** Size of the pool the store creates. Default 10. */
  poolMax?: number;
  /** How long to wait for a connection before failing with `unavailable`. Default 5000. */
  connectionTimeoutMillis?: number;
  /** Server-side `statement_timeout` of the pool the store creates. Default 5000. */
  statementTimeoutMillis?: number;
  /**
   * Create the tables on first use (idempotent, safe when several instances start together).
   * Set false when you apply `sql/postgres.sql` with your own migration tool. Default true.
   */
  migrate?: boolean;
}

interface SessionRow extends QueryResultRow {
  id: string;
  secret_hash: string;
  user_id: string;
  fresh: boolean;
  created_at: string;
  last_seen_at: string;
  expires_at: string;
  absolute_expires_at: string;
  fingerprint: string;
  user_agent: string;
  ip_address: string;
  remember_selector: string | null;
}

interface TokenRow extends QueryResultRow {
  selector: string;
  validator_hash: string;
  previous_validator_hash: string | null;
  rotated_at: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

interface FailureRow extends QueryResultRow {
  key: string;
  count: number;
  first_failure_at: string;
  last_failure_at: string;
  expires_at: string;
}

const SESSION_COLUMNS =
  "id, secret_hash, user_id, fresh, created_at, last_seen_at, expires_at, absolute_expires_at, fingerprint, user_agent, ip_address, remember_selector";
const TOKEN_COLUMNS =
  "selector, validator_hash, previous_validator_hash, rotated_at, user_id, created_at, expires_at";
const FAILURE_COLUMNS = "key, count, first_failure_at, last_failure_at, expires_at";

/**
 * A {@link SessionStore} on PostgreSQL (9.5 or later) through `pg`. Timestamps are `bigint`
 * milliseconds; every per-user operation is one query on a `(user_id)` index; `getSession` is one
 * named prepared statement by primary key. Named statements need session-level connections: with
 * PgBouncer use session pooling (or 1.21+ with `max_prepared_statements`).
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
export class PostgresStore implements SessionStore {
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly names: TableNames;
  private readonly statementTag: string;
  private readonly shouldMigrate: boolean;
  private migration: Promise<void> | undefined;
  private migrated = false;
  private closed = false;

  constructor(options: PostgresStoreOptions) {
    this.names = tableNames(options.schema ?? "public", options.tablePrefix ?? "login_manager_");
    this.statementTag = createHash("sha256")
      .update(`${this.names.schema}.${this.names.prefix}`)
      .digest("hex")
      .slice(0, 12);
    this.shouldMigrate = options.migrate ?? true;
    this.ownsPool = options.pool === undefined;
    this.pool = options.pool ?? createPool(options);
    if (options.pool !== undefined) assertNoPoolSettings(options);
  }

  async createSession(session: SessionRecord): Promise<void> {
    await this.query("createSession", {
      name: this.statementName("create_session"),
      text: `INSERT INTO ${this.names.sessions} (${SESSION_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      values: [
        session.id,
        session.secretHash,
        session.userId,
        session.fresh,
        session.createdAt,
        session.lastSeenAt,
        session.expiresAt,
        session.absoluteExpiresAt,
        session.fingerprint,
        session.userAgent,
        session.ipAddress,
        session.rememberSelector,
      ],
    });
  }

  async getSession(id: string, now: number): Promise<SessionRecord | null> {
    const result = await this.query<SessionRow>("getSession", {
      name: this.statementName("get_session"),
      text: `SELECT ${SESSION_COLUMNS} FROM ${this.names.sessions} WHERE id = $1 AND expires_at > $2`,
      values: [id, now],
    });
    const row = result.rows[0];
    return row ? sessionFromRow(row) : null;
  }

  async updateSession(id: string, patch: SessionPatch): Promise<boolean> {
    if (!hasChanges(patch)) return this.sessionExists(id);
    const result = await this.query("updateSession", {
      name: this.statementName("update_session"),
      text: `UPDATE ${this.names.sessions} SET
  fresh = COALESCE($2::boolean, fresh),
  last_seen_at = COALESCE($3::bigint, last_seen_at),
  expires_at = COALESCE($4::bigint, expires_at),
  fingerprint = COALESCE($5::text, fingerprint),
  remember_selector = CASE WHEN $6::boolean THEN $7::text ELSE remember_selector END
WHERE id = $1`,
      values: [
        id,
        patch.fresh ?? null,
        patch.lastSeenAt ?? null,
        patch.expiresAt ?? null,
        patch.fingerprint ?? null,
        patch.rememberSelector !== undefined,
        patch.rememberSelector ?? null,
      ],
    });
    return result.rowCount === 1;
  }

  async deleteSession(id: string): Promise<boolean> {
    const result = await this.query("deleteSession", {
      name: this.statementName("delete_session"),
      text: `DELETE FROM ${this.names.sessions} WHERE id = $1`,
      values: [id],
    });
    return result.rowCount === 1;
  }

  async listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
    const result = await this.query<SessionRow>("listUserSessions", {
      name: this.statementName("list_user_sessions"),
      text: `SELECT ${SESSION_COLUMNS} FROM ${this.names.sessions} WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at, id`,
      values: [userId, now],
    });
    return result.rows.map(sessionFromRow);
  }

  async deleteUserSessions(userId: string, exceptSessionId?: string): Promise<number> {
    const result = await this.query("deleteUserSessions", {
      name: this.statementName("delete_user_sessions"),
      text: `DELETE FROM ${this.names.sessions} WHERE user_id = $1 AND ($2::text IS NULL OR id <> $2::text)`,
      values: [userId, exceptSessionId ?? null],
    });
    return result.rowCount ?? 0;
  }

  async createRememberToken(token: RememberTokenRecord): Promise<void> {
    await this.query("createRememberToken", {
      name: this.statementName("create_remember_token"),
      text: `INSERT INTO ${this.names.rememberTokens} (${TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      values: [
        token.selector,
        token.validatorHash,
        token.previousValidatorHash,
        token.rotatedAt,
        token.userId,
        token.createdAt,
        token.expiresAt,
      ],
    });
  }

  async getRememberToken(selector: string, now: number): Promise<RememberTokenRecord | null> {
    const result = await this.query<TokenRow>("getRememberToken", {
      name: this.statementName("get_remember_token"),
      text: `SELECT ${TOKEN_COLUMNS} FROM ${this.names.rememberTokens} WHERE selector = $1 AND expires_at > $2`,
      values: [selector, now],
    });
    const row = result.rows[0];
    return row ? tokenFromRow(row) : null;
  }

  /**
   * Locks the row with `SELECT ... FOR UPDATE` inside a transaction, compares the hashes in
   * constant time here (not with SQL `=`), and updates it: concurrent callers queue on the row lock,
   * so exactly one sees its validator as current and the rest see it as the previous one.
   */
  async rotateRememberToken(input: RotateRememberInput): Promise<RotateRememberResult> {
    return this.transaction("rotateRememberToken", async (client) => {
      const locked = await client.query<TokenRow>({
        name: this.statementName("lock_remember_token"),
        text: `SELECT ${TOKEN_COLUMNS} FROM ${this.names.rememberTokens} WHERE selector = $1 FOR UPDATE`,
        values: [input.selector],
      });
      const row = locked.rows[0];
      if (!row) return { outcome: "unknown" };
      const token = tokenFromRow(row);
      if (token.expiresAt <= input.now) return { outcome: "unknown" };
      if (constantTimeEqual(input.presentedValidatorHash, token.validatorHash)) {
        return { outcome: "rotated", token: await this.applyRotation(client, input) };
      }
      const previous = token.previousValidatorHash;
      const withinGrace = input.now - token.rotatedAt <= input.graceMs;
      if (previous !== null && constantTimeEqual(input.presentedValidatorHash, previous) && withinGrace) {
        return { outcome: "grace", token };
      }
      return { outcome: "mismatch", token };
    });
  }

  async deleteRememberToken(selector: string): Promise<boolean> {
    const result = await this.query("deleteRememberToken", {
      name: this.statementName("delete_remember_token"),
      text: `DELETE FROM ${this.names.rememberTokens} WHERE selector = $1`,
      values: [selector],
    });
    return result.rowCount === 1;
  }

  async deleteUserRememberTokens(userId: string): Promise<number> {
    const result = await this.query("deleteUserRememberTokens", {
      name: this.statementName("delete_user_remember_tokens"),
      text: `DELETE FROM ${this.names.rememberTokens} WHERE user_id = $1`,
      values: [userId],
    });
    return result.rowCount ?? 0;
  }

  /**
   * Deletes the remember-me tokens, then the sessions, {@link DELETE_ALL_BATCH} rows per statement
   * in primary-key order (each statement its own short transaction, so no long lock and no
   * `statement_timeout` on a large table). Walking the key keeps each batch an index range and makes
   * the walk end even while new logins keep arriving. The failure counters table is not touched.
   */
  async deleteAllSessions(): Promise<DeletedSessionCounts> {
    const rememberTokens = await this.deleteAllRows(this.names.rememberTokens, "selector", "tokens");
    const sessions = await this.deleteAllRows(this.names.sessions, "id", "sessions");
    return { sessions, rememberTokens };
  }

  async incrementFailures(key: string, now: number, ttlMs: number): Promise<FailureRecord> {
    const table = this.names.failures;
    const result = await this.query<FailureRow>("incrementFailures", {
      name: this.statementName("increment_failures"),
      text: `INSERT INTO ${table} AS f (${FAILURE_COLUMNS}) VALUES ($1, 1, $2::bigint, $2::bigint, $2::bigint + $3::bigint)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN f.expires_at <= $2::bigint THEN 1 ELSE f.count + 1 END,
  first_failure_at = CASE WHEN f.expires_at <= $2::bigint THEN $2::bigint ELSE f.first_failure_at END,
  last_failure_at = $2::bigint,
  expires_at = CASE WHEN f.expires_at <= $2::bigint THEN $2::bigint + $3::bigint
    ELSE GREATEST(f.expires_at, $2::bigint + $3::bigint) END
RETURNING ${FAILURE_COLUMNS}`,
      values: [key, now, ttlMs],
    });
    const row = result.rows[0];
    if (!row) throw toStoreError("incrementFailures", new Error("INSERT ... RETURNING returned no row"));
    return failureFromRow(row);
  }

  async getFailures(key: string, now: number): Promise<FailureRecord | null> {
    const result = await this.query<FailureRow>("getFailures", {
      name: this.statementName("get_failures"),
      text: `SELECT ${FAILURE_COLUMNS} FROM ${this.names.failures} WHERE key = $1 AND expires_at > $2`,
      values: [key, now],
    });
    const row = result.rows[0];
    return row ? failureFromRow(row) : null;
  }

  async resetFailures(key: string): Promise<void> {
    await this.query("resetFailures", {
      name: this.statementName("reset_failures"),
      text: `DELETE FROM ${this.names.failures} WHERE key = $1`,
      values: [key],
    });
  }

  /**
   * Deletes expired rows {@link SWEEP_BATCH} at a time per statement (each its own short
   * transaction, skipping rows other transactions hold), until a batch comes back short.
   */
  async deleteExpired(now: number): Promise<number> {
    let removed = 0;
    const tables = [
      { table: this.names.sessions, key: "id", name: "sweep_sessions" },
      { table: this.names.rememberTokens, key: "selector", name: "sweep_remember_tokens" },
      { table: this.names.failures, key: "key", name: "sweep_failures" },
    ];
    for (const { table, key, name } of tables) {
      const sweep: QueryConfig = {
        name: this.statementName(name),
        text: `DELETE FROM ${table} WHERE ${key} IN (
  SELECT ${key} FROM ${table} WHERE expires_at <= $1 LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED)`,
        values: [now],
      };
      for (;;) {
        const count = (await this.query("deleteExpired", sweep)).rowCount ?? 0;
        removed += count;
        if (count < SWEEP_BATCH) break;
      }
    }
    return removed;
  }

  /** Ends the pool when the store created it; a pool passed in `options.pool` is left open. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.ownsPool) await this.pool.end();
  }

  private async deleteAllRows(table: string, key: string, name: string): Promise<number> {
    const batch: Omit<QueryConfig, "values"> = {
      name: this.statementName(`delete_all_${name}`),
      text: `WITH batch AS (
  SELECT ${key} FROM ${table} WHERE ${key} > $1::text ORDER BY ${key} LIMIT ${DELETE_ALL_BATCH}
), deleted AS (
  DELETE FROM ${table} AS t USING batch WHERE t.${key} = batch.${key} RETURNING 1
)
SELECT (SELECT count(*) FROM batch)::int AS scanned,
  (SELECT max(${key}) FROM batch) AS last,
  (SELECT count(*) FROM deleted)::int AS deleted`,
    };
    let deleted = 0;
    let after = "";
    for (;;) {
      const result = await this.query<{ scanned: number; last: string | null; deleted: number }>(
        "deleteAllSessions",
        { ...batch, values: [after] },
      );
      const row = result.rows[0];
      deleted += row?.deleted ?? 0;
      if (!row || row.scanned < DELETE_ALL_BATCH || row.last === null) return deleted;
      after = row.last;
    }
  }

  private statementName(operation: string): string {
    return `lm_${this.statementTag}_${operation}`;
  }

  private async applyRotation(client: PoolClient, input: RotateRememberInput): Promise<RememberTokenRecord> {
    const updated = await client.query<TokenRow>({
      name: this.statementName("rotate_remember_token"),
      text: `UPDATE ${this.names.rememberTokens}
SET validator_hash = $2, previous_validator_hash = $3, rotated_at = $4, expires_at = COALESCE($5::bigint, expires_at)
WHERE selector = $1 RETURNING ${TOKEN_COLUMNS}`,
      values: [
        input.selector,
        input.newValidatorHash,
        input.presentedValidatorHash,
        input.now,
        input.newExpiresAt ?? null,
      ],
    });
    const row = updated.rows[0];
    if (!row) throw new Error("the locked remember-me token disappeared");
    return tokenFromRow(row);
  }

  private async sessionExists(id: string): Promise<boolean> {
    const result = await this.query("updateSession", {
      name: this.statementName("session_exists"),
      text: `SELECT 1 FROM ${this.names.sessions} WHERE id = $1`,
      values: [id],
    });
    return result.rowCount === 1;
  }

  private async query<R extends QueryResultRow = QueryResultRow>(
    operation: string,
    config: QueryConfig,
  ): Promise<QueryResult<R>> {
    try {
      await this.ready();
      return await this.pool.query<R>(config);
    } catch (error) {
      throw toStoreError(operation, error);
    }
  }

  private async transaction<T>(operation: string, body: (client: PoolClient) => Promise<T>): Promise<T> {
    try {
      await this.ready();
      return await withClient(this.pool, async (client) => {
        await client.query("BEGIN");
        try {
          const result = await body(client);
          await client.query("COMMIT");
          return result;
        } catch (error) {
          // The original error matters more than a failed ROLLBACK; withClient destroys the client.
          await client.query("ROLLBACK").catch(() => undefined);
          throw error;
        }
      });
    } catch (error) {
      throw toStoreError(operation, error);
    }
  }

  private ready(): Promise<void> | undefined {
    if (!this.shouldMigrate || this.migrated) return undefined;
    this.migration ??= withClient(this.pool, (client) => migrate(client, this.names)).then(
      () => {
        this.migrated = true;
      },
      (error: unknown) => {
        this.migration = undefined;
        throw error;
      },
    );
    return this.migration;
  }
}

/**
 * Runs `body` on a checked-out client. While checked out, pg-pool's own error listener is detached,
 * so a connection dying between two queries would emit an unhandled 'error'; this listens for it,
 * and a client that failed is destroyed rather than returned to the pool.
 */
async function withClient<T>(pool: Pool, body: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken = error;
  };
  client.on("error", onError);
  try {
    return await body(client);
  } catch (error) {
    broken ??= error instanceof Error ? error : new Error(String(error));
    throw error;
  } finally {
    client.off("error", onError);
    client.release(broken);
  }
}

function createPool(options: PostgresStoreOptions): Pool {
  if (options.connectionString === undefined || options.connectionString === "") {
    throw new ConfigurationError(
      "PostgresStore needs exactly one of `pool` (a pg.Pool you own) or `connectionString` (e.g. postgresql://user@host/db); neither was given.",
    );
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: positiveInteger("poolMax", options.poolMax ?? 10),
    connectionTimeoutMillis: positiveInteger(
      "connectionTimeoutMillis",
      options.connectionTimeoutMillis ?? 5000,
    ),
    statement_timeout: positiveInteger("statementTimeoutMillis", options.statementTimeoutMillis ?? 5000),
    keepAlive: true,
    fallback_application_name: "login-manager",
  });
  // An idle connection that the server drops is reported here; without a listener it would be an
  // unhandled 'error' event and crash the process. The pool discards that connection by itself.
  pool.on("error", () => undefined);
  return pool;
}

function assertNoPoolSettings(options: PostgresStoreOptions): void {
  if (options.connectionString !== undefined) {
    throw new ConfigurationError(
      "PostgresStore takes either `pool` or `connectionString`, not both: remove one of them.",
    );
  }
  for (const name of ["poolMax", "connectionTimeoutMillis", "statementTimeoutMillis"] as const) {
    if (options[name] !== undefined) {
      throw new ConfigurationError(
        `PostgresStore option ${name} only applies to the pool it creates from connectionString; set it on your own pg.Pool instead (max, connectionTimeoutMillis, statement_timeout).`,
      );
    }
  }
}

function positiveInteger(name: string, value: number): number {
  if (!Number.isInteger(value) || value <= 0) {
    throw new ConfigurationError(`PostgresStore option ${name} must be a positive integer, got ${value}.`);
  }
  return value;
}

function hasChanges(patch: SessionPatch): boolean {
  return Object.values(patch).some((value) => value !== undefined);
}

function sessionFromRow(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    userId: row.user_id,
    fresh: row.fresh,
    createdAt: Number(row.created_at),
    lastSeenAt: Number(row.last_seen_at),
    expiresAt: Number(row.expires_at),
    absoluteExpiresAt: Number(row.absolute_expires_at),
    fingerprint: row.fingerprint,
    userAgent: row.user_agent,
    ipAddress: row.ip_address,
    rememberSelector: row.remember_selector,
  };
}

function tokenFromRow(row: TokenRow): RememberTokenRecord {
  return {
    selector: row.selector,
    validatorHash: row.validator_hash,
    previousValidatorHash: row.previous_validator_hash,
    rotatedAt: Number(row.rotated_at),
    userId: row.user_id,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}

function failureFromRow(row: FailureRow): FailureRecord {
  return {
    key: row.key,
    count: Number(row.count),
    firstFailureAt: Number(row.first_failure_at),
    lastFailureAt: Number(row.last_failure_at),
    expiresAt: Number(row.expires_at),
  };
}
