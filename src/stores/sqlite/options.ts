/**
 * {@link SqliteStoreOptions}, checked once at construction: every mistake throws a
 * ConfigurationError that names the option and the fix.
 *
 * @module
 */
import type { Clock } from "../../core/clock.js";
import { systemClock } from "../../core/clock.js";
import { ConfigurationError, type StoreError } from "../../core/errors.js";
import {
  type BetterSqlite3DatabaseLike,
  type ConnectionSource,
  connectionSource,
  type NodeSqliteDatabaseLike,
  type SqliteDriverName,
} from "./drivers.js";

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
   * connection that the store uses but never closes: a node:sqlite `DatabaseSync` or a better-sqlite3
   * `Database`. A missing folder in the path is created (readable by its owner only).
   */
  database: string | NodeSqliteDatabaseLike | BetterSqlite3DatabaseLike;
  /**
   * Which driver opens a `database` path: `"node:sqlite"` (built into Node.js 22.13 and newer,
   * nothing to install) or `"better-sqlite3"` (`npm install better-sqlite3`, version 12 or 13).
   * Default `"node:sqlite"`. Leave it out when passing an open connection.
   */
  driver?: SqliteDriverName;
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

/**
 * The options once checked.
 *
 * @example
 * ```ts
 * const { source, prefix, sweep } = resolveSqliteOptions({ database: ":memory:" });
 * ```
 */
export interface ResolvedSqliteOptions {
  readonly source: ConnectionSource;
  readonly prefix: string;
  readonly sweep:
    | { intervalMs: number; clock: Clock; onError: ((error: StoreError) => void) | undefined }
    | undefined;
}

const DEFAULT_PREFIX = "login_manager_";
const PREFIX_PATTERN = /^[a-z_][a-z0-9_]{0,40}$/i;

/**
 * Checks the options and loads the driver a path needs; opens nothing.
 *
 * @example
 * ```ts
 * resolveSqliteOptions({ database: "data/app.db", tablePrefix: "1x" }); // throws: tablePrefix "1x" is invalid ...
 * ```
 */
export function resolveSqliteOptions(options: SqliteStoreOptions): ResolvedSqliteOptions {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError(
      'SqliteStore: pass an options object, e.g. new SqliteStore({ database: "data/app.db" }).',
    );
  }
  const source = connectionSource(options.database, options.driver);
  return { source, prefix: resolvePrefix(options.tablePrefix), sweep: resolveSweep(options) };
}

function resolvePrefix(tablePrefix: unknown): string {
  if (tablePrefix === undefined) return DEFAULT_PREFIX;
  if (typeof tablePrefix !== "string" || !PREFIX_PATTERN.test(tablePrefix)) {
    throw new ConfigurationError(
      `SqliteStore: tablePrefix ${JSON.stringify(tablePrefix)} is invalid; use 1 to 41 letters, digits or underscores, not starting with a digit (default "${DEFAULT_PREFIX}").`,
    );
  }
  return tablePrefix;
}

function resolveSweep(options: SqliteStoreOptions): ResolvedSqliteOptions["sweep"] {
  const { sweepIntervalSeconds, onSweepError } = options;
  if (sweepIntervalSeconds === undefined) return undefined;
  if (
    typeof sweepIntervalSeconds !== "number" ||
    !Number.isFinite(sweepIntervalSeconds) ||
    sweepIntervalSeconds <= 0
  ) {
    throw new ConfigurationError(
      `SqliteStore: sweepIntervalSeconds must be a positive number of seconds (got ${shown(sweepIntervalSeconds)}); omit it to disable sweeping.`,
    );
  }
  return {
    intervalMs: sweepIntervalSeconds * 1000,
    clock: options.clock ?? systemClock,
    onError: onSweepError,
  };
}

/** A value as the caller wrote it: strings quoted, so `"30"` is told apart from `30`. */
function shown(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}
