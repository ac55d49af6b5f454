/**
 * {@link SqliteStoreOptions}, checked once at construction: every mistake (a misspelled option
 * name included) throws a ConfigurationError that names the option and the fix.
 *
 * @module
 */
import type { Clock } from "../../core/clock.js";
import { systemClock } from "../../core/clock.js";
import { ConfigurationError, StoreError } from "../../core/errors.js";
import { rejectUnknownKeys, showValue } from "../../core/option-names.js";
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
   * At most 2,147,483 (about 24 days, the longest delay a Node.js timer takes).
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

/**
 * Starts the unref'd timer that calls `deleteExpired(clock.now())` every interval (it never keeps
 * the process alive), handing a failure's `StoreError` to `onError`. Returns the function that stops
 * it, or undefined without `sweep`.
 *
 * @example
 * ```ts
 * const stopSweep = startSweepTimer(resolved.sweep, (now) => store.deleteExpired(now));
 * stopSweep?.();
 * ```
 */
export function startSweepTimer(
  sweep: ResolvedSqliteOptions["sweep"],
  deleteExpired: (now: number) => Promise<number>,
): (() => void) | undefined {
  if (!sweep) return undefined;
  const timer = setInterval(() => {
    deleteExpired(sweep.clock.now()).catch((error: unknown) => {
      if (sweep.onError && error instanceof StoreError) sweep.onError(error);
    });
  }, sweep.intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

const DEFAULT_PREFIX = "login_manager_";
const PREFIX_PATTERN = /^[a-z_][a-z0-9_]{0,40}$/i;
/** Node.js runs a timer with a longer delay after 1 ms instead (TimeoutOverflowWarning). */
const MAX_SWEEP_INTERVAL_SECONDS = Math.floor((2 ** 31 - 1) / 1000);

/** Every option name, in the order the messages list them: one entry per {@link SqliteStoreOptions} key. */
const OPTION_NAMES: Record<keyof SqliteStoreOptions, true> = {
  database: true,
  driver: true,
  tablePrefix: true,
  sweepIntervalSeconds: true,
  clock: true,
  onSweepError: true,
};
const KNOWN_OPTIONS = Object.keys(OPTION_NAMES);
/** Names other libraries use for the same thing, too far from ours for a spelling hint. */
const OPTION_ALIASES: Readonly<Record<string, string>> = {
  path: "database",
  file: "database",
  filename: "database",
  db: "database",
  connection: "database",
  onError: "onSweepError",
  sweepIntervalMs: "sweepIntervalSeconds",
};

/**
 * Checks the options and loads the driver a path needs; opens nothing.
 *
 * @example
 * ```ts
 * resolveSqliteOptions({ database: "data/app.db", tablePrefix: "1x" }); // throws: tablePrefix "1x" is invalid ...
 * ```
 */
export function resolveSqliteOptions(options: SqliteStoreOptions): ResolvedSqliteOptions {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ConfigurationError(
      `SqliteStore: pass an options object, e.g. new SqliteStore({ database: "data/app.db" }) (got ${showValue(options)}).`,
    );
  }
  rejectUnknownKeys(options, KNOWN_OPTIONS, "SqliteStore", { hints: OPTION_ALIASES });
  const source = connectionSource(options.database, options.driver);
  return { source, prefix: resolvePrefix(options.tablePrefix), sweep: resolveSweep(options) };
}

function resolvePrefix(tablePrefix: unknown): string {
  if (tablePrefix === undefined) return DEFAULT_PREFIX;
  if (typeof tablePrefix !== "string" || !PREFIX_PATTERN.test(tablePrefix)) {
    throw new ConfigurationError(
      `SqliteStore: tablePrefix ${showValue(tablePrefix)} is invalid; use 1 to 41 letters, digits or underscores, not starting with a digit (default "${DEFAULT_PREFIX}").`,
    );
  }
  return tablePrefix;
}

function resolveSweep(options: SqliteStoreOptions): ResolvedSqliteOptions["sweep"] {
  const { sweepIntervalSeconds } = options;
  const clock = resolveClock(options.clock);
  const onError = resolveOnSweepError(options.onSweepError);
  if (sweepIntervalSeconds === undefined) return undefined;
  if (
    typeof sweepIntervalSeconds !== "number" ||
    !Number.isFinite(sweepIntervalSeconds) ||
    sweepIntervalSeconds <= 0 ||
    sweepIntervalSeconds > MAX_SWEEP_INTERVAL_SECONDS
  ) {
    throw new ConfigurationError(
      `SqliteStore: sweepIntervalSeconds must be a number of seconds above 0 and at most ${MAX_SWEEP_INTERVAL_SECONDS} (got ${showValue(sweepIntervalSeconds)}); omit it to disable sweeping.`,
    );
  }
  return { intervalMs: sweepIntervalSeconds * 1000, clock, onError };
}

function resolveClock(clock: unknown): Clock {
  if (clock === undefined) return systemClock;
  if (typeof clock !== "object" || clock === null || typeof (clock as Clock).now !== "function") {
    throw new ConfigurationError(
      `SqliteStore: clock must be an object with a now() method returning milliseconds (got ${showValue(clock)}); omit it to use the system clock.`,
    );
  }
  return clock as Clock;
}

function resolveOnSweepError(onSweepError: unknown): ((error: StoreError) => void) | undefined {
  if (onSweepError === undefined || typeof onSweepError === "function") {
    return onSweepError as ((error: StoreError) => void) | undefined;
  }
  throw new ConfigurationError(
    `SqliteStore: onSweepError must be a function (got ${showValue(onSweepError)}); omit it to ignore failed sweeps.`,
  );
}
