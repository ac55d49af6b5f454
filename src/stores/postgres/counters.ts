/**
 * The counter part of the contract ({@link CounterStorage}) in SQL. The table keeps its first name,
 * `<prefix>failures`, and its columns `first_failure_at` / `last_failure_at` (they hold `firstAt` /
 * `lastAt`), so databases created by earlier releases keep working unchanged.
 *
 * @module
 */
import type { QueryResultRow } from "pg";
import type { CounterRecord, CounterStorage } from "../../core/store.js";
import type { PostgresDb } from "./connection.js";
import { toStoreError } from "./errors.js";

interface CounterRow extends QueryResultRow {
  key: string;
  count: number;
  first_failure_at: string;
  last_failure_at: string;
  expires_at: string;
}

const COUNTER_COLUMNS = "key, count, first_failure_at, last_failure_at, expires_at";

/**
 * {@link CounterStorage} on the counters table of `db`.
 *
 * @example
 * ```ts
 * const counters = new PostgresCounters(db);
 * const { count } = await counters.incrementCounter("account:alice", Date.now(), 3_600_000);
 * ```
 */
export class PostgresCounters implements CounterStorage {
  readonly #db: PostgresDb;

  /**
   * Runs every statement through `db`.
   *
   * @example
   * ```ts
   * const counters = new PostgresCounters(db);
   * ```
   */
  constructor(db: PostgresDb) {
    this.#db = db;
  }

  /**
   * One `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`: atomic on the server, and a counter that
   * has expired at `now` starts again from one.
   *
   * @example
   * ```ts
   * const record = await counters.incrementCounter("address:203.0.113.9", now, 900_000);
   * ```
   */
  async incrementCounter(key: string, now: number, ttlMs: number): Promise<CounterRecord> {
    const result = await this.#db.query<CounterRow>("incrementCounter", {
      name: this.#db.statementName("increment_counter"),
      text: `INSERT INTO ${this.#db.names.counters} AS c (${COUNTER_COLUMNS}) VALUES ($1, 1, $2::bigint, $2::bigint, $2::bigint + $3::bigint)
ON CONFLICT (key) DO UPDATE SET
  count = CASE WHEN c.expires_at <= $2::bigint THEN 1 ELSE c.count + 1 END,
  first_failure_at = CASE WHEN c.expires_at <= $2::bigint THEN $2::bigint ELSE c.first_failure_at END,
  last_failure_at = $2::bigint,
  expires_at = CASE WHEN c.expires_at <= $2::bigint THEN $2::bigint + $3::bigint
    ELSE GREATEST(c.expires_at, $2::bigint + $3::bigint) END
RETURNING ${COUNTER_COLUMNS}`,
      values: [key, now, ttlMs],
    });
    const row = result.rows[0];
    if (!row) throw toStoreError("incrementCounter", new Error("INSERT ... RETURNING returned no row"));
    return counterFromRow(row);
  }

  /**
   * One `SELECT` by primary key.
   *
   * @example
   * ```ts
   * const record = await counters.getCounter("account:alice", Date.now());
   * ```
   */
  async getCounter(key: string, now: number): Promise<CounterRecord | null> {
    const result = await this.#db.query<CounterRow>("getCounter", {
      name: this.#db.statementName("get_counter"),
      text: `SELECT ${COUNTER_COLUMNS} FROM ${this.#db.names.counters} WHERE key = $1 AND expires_at > $2`,
      values: [key, now],
    });
    const row = result.rows[0];
    return row ? counterFromRow(row) : null;
  }

  /**
   * Deletes the counter by primary key.
   *
   * @example
   * ```ts
   * await counters.deleteCounter("account:alice");
   * ```
   */
  async deleteCounter(key: string): Promise<void> {
    await this.#db.query("deleteCounter", {
      name: this.#db.statementName("delete_counter"),
      text: `DELETE FROM ${this.#db.names.counters} WHERE key = $1`,
      values: [key],
    });
  }
}

function counterFromRow(row: CounterRow): CounterRecord {
  return {
    key: row.key,
    count: Number(row.count),
    firstAt: Number(row.first_failure_at),
    lastAt: Number(row.last_failure_at),
    expiresAt: Number(row.expires_at),
  };
}
