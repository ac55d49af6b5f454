import { isConnectionError } from "../../core/connection-errors.js";
import { StoreError } from "../../core/errors.js";

// 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03 cannot_connect_now, 53300 too_many_connections,
// 57014 query_canceled (statement_timeout: the server did not answer in time). Class 08 is added below.
const UNAVAILABLE_SQLSTATES = new Set(["57P01", "57P02", "57P03", "53300", "57014"]);

const UNAVAILABLE_MESSAGES =
  /Connection terminated|timeout exceeded when trying to connect|Connection ended unexpectedly|is not queryable|Query read timeout|server closed the connection/i;

/**
 * True when `error` (or an error it wraps) means the PostgreSQL server could not be reached or
 * dropped the connection, as opposed to a bad query or constraint violation.
 *
 * @example
 * ```ts
 * isUnavailable(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5432"), { code: "ECONNREFUSED" })); // true
 * ```
 */
export function isUnavailable(error: unknown): boolean {
  return isConnectionError(error, isPostgresUnavailable);
}

function isPostgresUnavailable(error: Error): boolean {
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && (UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code)))
    return true;
  return UNAVAILABLE_MESSAGES.test(error.message);
}

/**
 * Wraps a driver error in a {@link StoreError}, flagged `unavailable` for connection failures.
 *
 * @example
 * ```ts
 * try { await pool.query(text); } catch (error) { throw toStoreError("getSession", error); }
 * ```
 */
export function toStoreError(operation: string, error: unknown): StoreError {
  if (error instanceof StoreError) return error;
  const unavailable = isUnavailable(error);
  const reason = error instanceof Error ? error.message : String(error);
  const message = unavailable
    ? `PostgresStore.${operation}: PostgreSQL is unavailable (${reason})`
    : `PostgresStore.${operation} failed: ${reason}`;
  return new StoreError(message, { cause: error, unavailable });
}
