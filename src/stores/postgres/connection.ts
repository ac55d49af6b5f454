/**
 * The store's way to PostgreSQL: the pool, the one-time migration before the first query, named
 * prepared statements, and driver errors turned into `StoreError`s.
 *
 * @module
 */
import { createHash } from "node:crypto";
import type { Pool, PoolClient, QueryConfig, QueryResult, QueryResultRow } from "pg";
import { toStoreError } from "./errors.js";
import { migrate, type TableNames } from "./schema.js";

/**
 * What the statement modules (`sessions.ts`, `remember-tokens.ts`, `counters.ts`,
 * `one-time-tokens.ts`, `maintenance.ts`) need: the table names, a name for each prepared statement, and a query that migrates first and
 * rejects only with a `StoreError`.
 *
 * @example
 * ```ts
 * const result = await db.query("deleteSession", {
 *   name: db.statementName("delete_session"),
 *   text: `DELETE FROM ${db.names.sessions} WHERE id = $1`,
 *   values: [id],
 * });
 * ```
 */
export interface PostgresDb {
  readonly names: TableNames;
  /** A statement name unique to this `(schema, tablePrefix)`, so stores on one pool never collide. */
  statementName(operation: string): string;
  /** Runs one statement; `operation` (the contract method) names it in a failure's message. */
  query<R extends QueryResultRow = QueryResultRow>(
    operation: string,
    config: QueryConfig,
  ): Promise<QueryResult<R>>;
}

/**
 * The pool of one store, with its migration state.
 *
 * @example
 * ```ts
 * const db = new PostgresConnection({ pool, ownsPool: false, names: tableNames("public", "login_manager_"), migrate: true });
 * await db.query("getSession", { text: "SELECT 1" });
 * ```
 */
export class PostgresConnection implements PostgresDb {
  readonly names: TableNames;
  readonly #pool: Pool;
  readonly #ownsPool: boolean;
  readonly #statementTag: string;
  #migrated: boolean;
  #migration: Promise<void> | undefined;
  #closed = false;

  /**
   * Keeps the pool; nothing is sent to the server before the first query.
   *
   * @example
   * ```ts
   * new PostgresConnection({ pool, ownsPool: true, names, migrate: false });
   * ```
   */
  constructor(settings: { pool: Pool; ownsPool: boolean; names: TableNames; migrate: boolean }) {
    this.names = settings.names;
    this.#pool = settings.pool;
    this.#ownsPool = settings.ownsPool;
    this.#migrated = !settings.migrate;
    this.#statementTag = createHash("sha256")
      .update(`${settings.names.schema}.${settings.names.prefix}`)
      .digest("hex")
      .slice(0, 12);
  }

  /**
   * `lm_<12 hex digits of the schema and prefix>_<operation>`.
   *
   * @example
   * ```ts
   * db.statementName("get_session"); // "lm_3f2a9c01b7de_get_session"
   * ```
   */
  statementName(operation: string): string {
    return `lm_${this.#statementTag}_${operation}`;
  }

  /**
   * Migrates once (when asked to), then runs `config` on the pool.
   *
   * @example
   * ```ts
   * const { rowCount } = await db.query("deleteSession", { text: "DELETE ...", values: [id] });
   * ```
   */
  async query<R extends QueryResultRow = QueryResultRow>(
    operation: string,
    config: QueryConfig,
  ): Promise<QueryResult<R>> {
    try {
      await this.#ready();
      return await this.#pool.query<R>(config);
    } catch (error) {
      throw toStoreError(operation, error);
    }
  }

  /**
   * Ends the pool when the store created it; a pool passed in is left open. Idempotent.
   *
   * @example
   * ```ts
   * await db.close();
   * ```
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#ownsPool) await this.#pool.end();
  }

  #ready(): Promise<void> | undefined {
    if (this.#migrated) return undefined;
    this.#migration ??= withClient(this.#pool, (client) => migrate(client, this.names)).then(
      () => {
        this.#migrated = true;
      },
      (error: unknown) => {
        this.#migration = undefined;
        throw error;
      },
    );
    return this.#migration;
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
