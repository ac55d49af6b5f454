/**
 * Statements that walk whole tables: the expiry sweep and "delete every row". Both work in batches,
 * each statement its own short transaction, so neither holds long locks nor runs into
 * `statement_timeout` on a large table.
 *
 * @module
 */
import type { QueryConfig } from "pg";
import type { PostgresDb } from "./connection.js";

/** Rows deleted per statement by {@link deleteExpiredRows}. */
const SWEEP_BATCH = 1000;
/** Rows deleted per statement by {@link deleteAllRows}. */
const DELETE_ALL_BATCH = 1000;

/**
 * Deletes the expired rows of the sessions, remember-me, counters and one-time token tables, {@link SWEEP_BATCH}
 * at a time per statement (skipping rows other transactions hold), until a batch comes back short.
 * Resolves to the number of rows removed.
 *
 * @example
 * ```ts
 * const removed = await deleteExpiredRows(db, Date.now());
 * ```
 */
export async function deleteExpiredRows(db: PostgresDb, now: number): Promise<number> {
  const tables = [
    { table: db.names.sessions, key: "id", statement: "sweep_sessions" },
    { table: db.names.rememberTokens, key: "selector", statement: "sweep_remember_tokens" },
    { table: db.names.counters, key: "key", statement: "sweep_counters" },
    { table: db.names.oneTimeTokens, key: "token_hash", statement: "sweep_one_time_tokens" },
  ];
  let removed = 0;
  for (const { table, key, statement } of tables) {
    const sweep: QueryConfig = {
      name: db.statementName(statement),
      text: `DELETE FROM ${table} WHERE ${key} IN (
  SELECT ${key} FROM ${table} WHERE expires_at <= $1 LIMIT ${SWEEP_BATCH} FOR UPDATE SKIP LOCKED)`,
      values: [now],
    };
    for (;;) {
      const count = (await db.query("deleteExpired", sweep)).rowCount ?? 0;
      removed += count;
      if (count < SWEEP_BATCH) break;
    }
  }
  return removed;
}

/**
 * Which table {@link deleteAllRows} empties, and the names it runs under.
 *
 * @example
 * ```ts
 * const target: DeleteAllTarget = { table: db.names.sessions, key: "id", statement: "delete_all_sessions", operation: "deleteAllSessions" };
 * ```
 */
export interface DeleteAllTarget {
  /** The quoted, schema-qualified table. */
  table: string;
  /** Its text primary key. */
  key: string;
  /** The prepared statement's operation name (see `PostgresDb.statementName`). */
  statement: string;
  /** The contract method, for error messages. */
  operation: string;
}

/**
 * Deletes every row of `target.table`, {@link DELETE_ALL_BATCH} rows per statement in primary-key
 * order. Walking the key keeps each batch an index range and makes the walk end even while new rows
 * keep arriving (rows inserted behind the walk survive, as the contract allows). Resolves to the
 * number of rows deleted.
 *
 * @example
 * ```ts
 * const removed = await deleteAllRows(db, { table: db.names.sessions, key: "id",
 *   statement: "delete_all_sessions", operation: "deleteAllSessions" });
 * ```
 */
export async function deleteAllRows(db: PostgresDb, target: DeleteAllTarget): Promise<number> {
  const { table, key } = target;
  const batch: Omit<QueryConfig, "values"> = {
    name: db.statementName(target.statement),
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
    const result = await db.query<{ scanned: number; last: string | null; deleted: number }>(
      target.operation,
      { ...batch, values: [after] },
    );
    const row = result.rows[0];
    deleted += row?.deleted ?? 0;
    if (!row || row.scanned < DELETE_ALL_BATCH || row.last === null) return deleted;
    after = row.last;
  }
}
