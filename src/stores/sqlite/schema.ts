/**
 * The connection settings and the tables the store applies on first use, the same on both drivers:
 * existing databases keep working whichever driver opens them next.
 *
 * @module
 */
import { StoreError } from "../../core/errors.js";
import type { SqliteDriver } from "./drivers.js";

/**
 * Version of the table layout below, recorded in `<prefix>schema_version`. It changes only when a
 * file of the new layout would break an older login-manager; columns added with a default (see
 * {@link ADDED_COLUMNS}) and new tables (`one_time_tokens`, `factors`, created by `IF NOT EXISTS` in
 * files of earlier releases too) keep the version, so rolling back a deploy keeps working on the same
 * file.
 *
 * @example
 * ```ts
 * db.prepare(`SELECT MAX(version) AS v FROM "login_manager_schema_version"`).get(); // { v: SCHEMA_VERSION }
 * ```
 */
export const SCHEMA_VERSION = 1;

/**
 * Sets the pragmas the store relies on, on the connection it uses (the caller's too, when given one).
 * A connection the store opened itself also gets a 16 MB page cache.
 *
 * @example
 * ```ts
 * applyConnectionSettings(driver, { ownsConnection: true });
 * ```
 */
export function applyConnectionSettings(
  driver: SqliteDriver,
  { ownsConnection }: { ownsConnection: boolean },
): void {
  // Wait up to 5 s for another connection's write lock instead of failing at once with SQLITE_BUSY.
  driver.exec("PRAGMA busy_timeout = 5000");
  // WAL: readers never block the writer and vice versa, so several processes can share the file.
  driver.exec("PRAGMA journal_mode = WAL");
  // FULL: every commit fsyncs the WAL before the call returns, so an acknowledged write survives
  // not only a kill -9 of the process but also an OS crash or power loss. (NORMAL only fsyncs at
  // checkpoints: it survives kill -9 but may lose the last commits on power loss.) The cost is one
  // fsync per write; reads are unaffected.
  driver.exec("PRAGMA synchronous = FULL");
  driver.exec("PRAGMA foreign_keys = ON");
  // better-sqlite3's default page cache; node:sqlite's is 2 MB, and with a file larger than that a
  // third of session reads went back to the OS for a page (bench/profiling.md). A caller's
  // connection keeps the cache size its owner chose.
  if (ownsConnection) driver.exec(`PRAGMA cache_size = ${OWN_CONNECTION_CACHE_SIZE}`);
}

/** 16 MB (negative: KiB), better-sqlite3's default, for connections the store opens itself. */
const OWN_CONNECTION_CACHE_SIZE = -16_000;

/**
 * Creates the tables and indexes of `prefix` when missing and checks the recorded schema version.
 * `BEGIN IMMEDIATE` takes the write lock first, so processes starting together create the schema
 * one after the other; `IF NOT EXISTS` makes the second one a no-op.
 *
 * @example
 * ```ts
 * createSchema(driver, "login_manager_");
 * ```
 */
export function createSchema(driver: SqliteDriver, prefix: string): void {
  driver.immediate(() => {
    driver.exec(schemaSql(prefix));
    addMissingColumns(driver, prefix);
    const row = driver
      .prepare<[], { version: number | null }>(
        `SELECT MAX(version) AS version FROM "${prefix}schema_version"`,
      )
      .get();
    const version = row?.version ?? null;
    if (version === null) {
      driver
        .prepare<[number]>(`INSERT INTO "${prefix}schema_version" (version) VALUES (?)`)
        .run(SCHEMA_VERSION);
    } else if (version > SCHEMA_VERSION) {
      throw new StoreError(
        `SqliteStore: the tables with prefix "${prefix}" have schema version ${version}, newer than this version of login-manager supports (${SCHEMA_VERSION}); upgrade login-manager.`,
      );
    }
  })();
}

/**
 * Columns added after a table's first release, with the DDL that adds each to a file created
 * before it (`ALTER TABLE ... ADD COLUMN`, constant default: SQLite rewrites no row).
 *
 * @example
 * ```ts
 * ADDED_COLUMNS[0]; // { table: "remember_tokens", column: "rotated_by", definition: "TEXT NOT NULL DEFAULT ''" }
 * ```
 */
export const ADDED_COLUMNS: readonly { table: string; column: string; definition: string }[] = [
  // Tokens created before it have no recorded rotating client: "" is the contract's "none".
  { table: "remember_tokens", column: "rotated_by", definition: "TEXT NOT NULL DEFAULT ''" },
  // Sessions created before it have no recorded proofs: "" is the contract's "none recorded".
  { table: "sessions", column: "auth_methods", definition: "TEXT NOT NULL DEFAULT ''" },
];

/** Brings a file created by an earlier version up to the columns of {@link schemaSql}. */
function addMissingColumns(driver: SqliteDriver, prefix: string): void {
  for (const { table, column, definition } of ADDED_COLUMNS) {
    const columns = driver
      .prepare<[string], { name: string }>("SELECT name FROM pragma_table_info(?)")
      .all(`${prefix}${table}`)
      .map((row) => row.name);
    if (!columns.includes(column)) {
      driver.exec(`ALTER TABLE "${prefix}${table}" ADD COLUMN ${column} ${definition}`);
    }
  }
}

function schemaSql(p: string): string {
  return `
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
      remember_selector TEXT,
      auth_methods TEXT NOT NULL DEFAULT ''
    );
    CREATE INDEX IF NOT EXISTS "${p}sessions_user_id" ON "${p}sessions" (user_id, created_at);
    CREATE INDEX IF NOT EXISTS "${p}sessions_expires_at" ON "${p}sessions" (expires_at);
    CREATE TABLE IF NOT EXISTS "${p}remember_tokens" (
      selector TEXT NOT NULL PRIMARY KEY,
      validator_hash TEXT NOT NULL,
      previous_validator_hash TEXT,
      rotated_at INTEGER NOT NULL,
      rotated_by TEXT NOT NULL DEFAULT '',
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
    CREATE TABLE IF NOT EXISTS "${p}one_time_tokens" (
      token_hash TEXT NOT NULL PRIMARY KEY,
      purpose TEXT NOT NULL,
      user_id TEXT NOT NULL,
      data TEXT NOT NULL,
      epoch INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      expires_at INTEGER NOT NULL
    );
    CREATE INDEX IF NOT EXISTS "${p}one_time_tokens_user_id" ON "${p}one_time_tokens" (user_id, purpose);
    CREATE INDEX IF NOT EXISTS "${p}one_time_tokens_expires_at" ON "${p}one_time_tokens" (expires_at);
    CREATE TABLE IF NOT EXISTS "${p}factors" (
      kind TEXT NOT NULL,
      id TEXT NOT NULL,
      user_id TEXT NOT NULL,
      label TEXT NOT NULL,
      data TEXT NOT NULL,
      counter INTEGER NOT NULL,
      created_at INTEGER NOT NULL,
      last_used_at INTEGER,
      PRIMARY KEY (kind, id)
    );
    CREATE INDEX IF NOT EXISTS "${p}factors_user_id" ON "${p}factors" (user_id, created_at);
  `;
}
