/**
 * Turns what either driver throws into the {@link StoreError} the store contract promises, flagged
 * `unavailable` when the database cannot be used right now (so adapters answer 503).
 *
 * @module
 */
import { StoreError } from "../../core/errors.js";

/** better-sqlite3's string codes (`SQLITE_BUSY`, `SQLITE_IOERR_WRITE`, ...) that mean "unavailable". */
const UNAVAILABLE_CODES = /^SQLITE_(BUSY|LOCKED|CANTOPEN|IOERR|FULL|NOTADB|CORRUPT|READONLY|PROTOCOL)/;

/**
 * The same result codes as numbers, which node:sqlite reports as `errcode` (an extended code: the
 * primary code is its low byte): BUSY, LOCKED, READONLY, IOERR, CORRUPT, FULL, CANTOPEN, PROTOCOL, NOTADB.
 */
const UNAVAILABLE_PRIMARY_CODES = new Set([5, 6, 8, 10, 11, 13, 14, 15, 26]);

/**
 * True when a driver error means "the database cannot be used right now" (locked, unreadable, full,
 * not a database, cannot be opened), not "this call is wrong". Reads better-sqlite3's `code` string
 * and node:sqlite's numeric `errcode`.
 *
 * @example
 * ```ts
 * isUnavailable(Object.assign(new Error("database is locked"), { code: "ERR_SQLITE_ERROR", errcode: 5 })); // true
 * ```
 */
export function isUnavailable(error: unknown): boolean {
  const { code, errcode } = (error ?? {}) as { code?: unknown; errcode?: unknown };
  if (typeof code === "string" && UNAVAILABLE_CODES.test(code)) return true;
  return typeof errcode === "number" && UNAVAILABLE_PRIMARY_CODES.has(errcode & 0xff);
}

/**
 * Wraps a driver error in a {@link StoreError} whose `cause` is the driver error (a StoreError passes
 * through unchanged).
 *
 * @example
 * ```ts
 * try { statement.run(row); } catch (error) { throw toStoreError("createSession", error); }
 * ```
 */
export function toStoreError(operation: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreError(`SqliteStore: ${operation} failed: ${reason}`, {
    cause: error,
    unavailable: isUnavailable(error),
  });
}

/**
 * The error for a database file that cannot be opened (or whose folder cannot be created): always
 * `unavailable`, since nothing the caller passed is wrong.
 *
 * @example
 * ```ts
 * throw openError("data/app.db", error);
 * ```
 */
export function openError(path: string, error: unknown): StoreError {
  const reason = error instanceof Error ? error.message : String(error);
  return new StoreError(`SqliteStore: cannot open ${JSON.stringify(path)}: ${reason}`, {
    cause: error,
    unavailable: true,
  });
}
