/**
 * {@link PostgresStoreOptions}, checked once at construction: every mistake throws a
 * ConfigurationError that names the option and the fix.
 *
 * @module
 */
import type { Pool } from "pg";
import pg from "pg";
import { ConfigurationError } from "../../core/errors.js";
import { rejectUnknownKeys } from "../../core/option-names.js";
import { type TableNames, tableNames } from "./schema.js";

/**
 * Options of `PostgresStore`. Pass exactly one of `pool` and `connectionString`.
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
   * Create the tables on first use, and bring tables of an earlier schema version up to date
   * (idempotent, safe when several instances start together). Set false when you apply
   * `sql/postgres.sql` with your own migration tool. Default true.
   */
  migrate?: boolean;
}

/** Every option name, so that a misspelt one is refused instead of ignored. */
const OPTION_NAMES: readonly (keyof PostgresStoreOptions)[] = [
  "pool",
  "connectionString",
  "schema",
  "tablePrefix",
  "poolMax",
  "connectionTimeoutMillis",
  "statementTimeoutMillis",
  "migrate",
];

/** The options that only shape a pool the store creates itself. */
const POOL_SETTINGS = ["poolMax", "connectionTimeoutMillis", "statementTimeoutMillis"] as const;

/**
 * The options once checked: the pool to use (created here from `connectionString`), whether the
 * store owns it, the quoted table names and whether to migrate.
 *
 * @example
 * ```ts
 * const { pool, ownsPool, names, migrate } = resolvePostgresOptions({ pool: myPool });
 * ```
 */
export interface ResolvedPostgresOptions {
  readonly pool: Pool;
  readonly ownsPool: boolean;
  readonly names: TableNames;
  readonly migrate: boolean;
}

/**
 * Checks the options and creates the pool a `connectionString` asks for (it connects nothing yet).
 *
 * @example
 * ```ts
 * resolvePostgresOptions({ connectionString: url, tablePrefx: "auth_" });
 * // throws: PostgresStore: unknown option "tablePrefx": did you mean "tablePrefix"? Known options: ...
 * ```
 */
export function resolvePostgresOptions(options: PostgresStoreOptions): ResolvedPostgresOptions {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError(
      "PostgresStore needs an options object, e.g. new PostgresStore({ connectionString: process.env.DATABASE_URL }).",
    );
  }
  rejectUnknownKeys(options, OPTION_NAMES, "PostgresStore");
  const names = tableNames(options.schema ?? "public", options.tablePrefix ?? "login_manager_");
  const migrate = options.migrate ?? true;
  if (typeof migrate !== "boolean") {
    throw new ConfigurationError(
      `PostgresStore option migrate must be true or false, got ${JSON.stringify(migrate)}.`,
    );
  }
  if (options.pool !== undefined) {
    assertNoPoolSettings(options);
    return { pool: options.pool, ownsPool: false, names, migrate };
  }
  return { pool: createPool(options), ownsPool: true, names, migrate };
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
  for (const name of POOL_SETTINGS) {
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
