/**
 * Every statement the store runs, prepared once per connection once the schema exists, and the
 * operations that run several statements in one `BEGIN IMMEDIATE` transaction.
 *
 * @module
 */
import type { RememberRotation } from "../../core/store.js";
import { constantTimeEqual } from "../../core/tokens.js";
import type { SqliteDriver, SqliteStatement as Statement } from "./drivers.js";
import { factorOperations, type SqliteFactorOperations } from "./factors.js";
import { type OneTimeTokenOperations, oneTimeTokenOperations } from "./one-time-tokens.js";
import {
  type CounterRow,
  SESSION_COLUMNS,
  type SessionRow,
  type SessionTuple,
  type SessionUpdateParams,
  type SwapParams,
  type TokenRow,
  toSwapParams,
} from "./rows.js";

/**
 * The store's statements and transactions on one connection.
 *
 * @example
 * ```ts
 * const prepared = prepareStatements(driver, "login_manager_");
 * const row = prepared.getSession.get(id, Date.now());
 * ```
 */
export interface Prepared {
  insertSession: Statement<[SessionRow]>;
  getSession: Statement<[string, number], SessionTuple>;
  updateSession: Statement<[SessionUpdateParams]>;
  deleteSession: Statement<[string]>;
  listUserSessions: Statement<[string, number], SessionRow>;
  deleteUserSessions: Statement<[string]>;
  deleteUserSessionsExcept: Statement<[string, string]>;
  deleteAllSessions: Statement<[]>;
  insertToken: Statement<[TokenRow]>;
  getToken: Statement<[string, number], TokenRow>;
  swapValidator: (selector: string, expectedValidatorHash: string, rotation: RememberRotation) => boolean;
  deleteToken: Statement<[string]>;
  deleteUserTokens: Statement<[string]>;
  deleteAllTokens: Statement<[]>;
  incrementCounter: Statement<[{ key: string; now: number; expires_at: number }], CounterRow>;
  getCounter: Statement<[string, number], CounterRow>;
  deleteCounter: Statement<[string]>;
  oneTimeTokens: OneTimeTokenOperations;
  factors: SqliteFactorOperations;
  deleteExpired: (now: number) => number;
}

interface TableNames {
  sessions: string;
  tokens: string;
  counters: string;
  oneTimeTokens: string;
}

/**
 * Prepares every statement of the tables with `prefix` (which must exist).
 *
 * @example
 * ```ts
 * createSchema(driver, prefix);
 * const prepared = prepareStatements(driver, prefix);
 * ```
 */
export function prepareStatements(driver: SqliteDriver, prefix: string): Prepared {
  const names = {
    sessions: `"${prefix}sessions"`,
    tokens: `"${prefix}remember_tokens"`,
    // The counters keep the table login failure counters had, so existing files keep working.
    counters: `"${prefix}failures"`,
    oneTimeTokens: `"${prefix}one_time_tokens"`,
  };
  // Factors never expire, so the sweep below does not know their table.
  return {
    ...sessionStatements(driver, names),
    ...tokenStatements(driver, names),
    ...counterStatements(driver, names),
    oneTimeTokens: oneTimeTokenOperations(driver, names.oneTimeTokens),
    factors: factorOperations(driver, `"${prefix}factors"`),
    deleteExpired: sweepTransaction(driver, names),
  };
}

function sessionStatements(driver: SqliteDriver, { sessions }: TableNames) {
  return {
    insertSession: driver.prepare<[SessionRow]>(
      `INSERT INTO ${sessions} (id, secret_hash, user_id, fresh, created_at, last_seen_at, expires_at,
         absolute_expires_at, fingerprint, user_agent, ip_address, remember_selector, auth_methods)
       VALUES (@id, @secret_hash, @user_id, @fresh, @created_at, @last_seen_at, @expires_at,
         @absolute_expires_at, @fingerprint, @user_agent, @ip_address, @remember_selector, @auth_methods)`,
    ),
    // Rows as arrays: on the per-request path, building a 13-key object per row cost about 2 µs.
    getSession: driver.prepare<[string, number], SessionTuple>(
      `SELECT ${SESSION_COLUMNS} FROM ${sessions} WHERE id = ? AND expires_at > ?`,
      "arrays",
    ),
    updateSession: driver.prepare<[SessionUpdateParams]>(`UPDATE ${sessions} SET
         fresh = CASE WHEN @set_fresh THEN @fresh ELSE fresh END,
         last_seen_at = CASE WHEN @set_last_seen_at THEN @last_seen_at ELSE last_seen_at END,
         expires_at = CASE WHEN @set_expires_at THEN @expires_at ELSE expires_at END,
         remember_selector = CASE WHEN @set_remember_selector THEN @remember_selector ELSE remember_selector END
       WHERE id = @id`),
    deleteSession: driver.prepare<[string]>(`DELETE FROM ${sessions} WHERE id = ?`),
    // rowid breaks ties between sessions created in the same millisecond: insertion order.
    listUserSessions: driver.prepare<[string, number], SessionRow>(
      `SELECT * FROM ${sessions} WHERE user_id = ? AND expires_at > ? ORDER BY created_at, rowid`,
    ),
    deleteUserSessions: driver.prepare<[string]>(`DELETE FROM ${sessions} WHERE user_id = ?`),
    deleteUserSessionsExcept: driver.prepare<[string, string]>(
      `DELETE FROM ${sessions} WHERE user_id = ? AND id <> ?`,
    ),
    // Without a WHERE clause SQLite drops the table's pages instead of deleting row by row.
    deleteAllSessions: driver.prepare<[]>(`DELETE FROM ${sessions}`),
  };
}

function tokenStatements(driver: SqliteDriver, { tokens }: TableNames) {
  return {
    insertToken: driver.prepare<[TokenRow]>(
      `INSERT INTO ${tokens} (selector, validator_hash, previous_validator_hash, rotated_at, rotated_by, user_id, created_at, expires_at)
       VALUES (@selector, @validator_hash, @previous_validator_hash, @rotated_at, @rotated_by, @user_id, @created_at, @expires_at)`,
    ),
    getToken: driver.prepare<[string, number], TokenRow>(
      `SELECT * FROM ${tokens} WHERE selector = ? AND expires_at > ?`,
    ),
    swapValidator: swapTransaction(driver, tokens),
    deleteToken: driver.prepare<[string]>(`DELETE FROM ${tokens} WHERE selector = ?`),
    deleteUserTokens: driver.prepare<[string]>(`DELETE FROM ${tokens} WHERE user_id = ?`),
    deleteAllTokens: driver.prepare<[]>(`DELETE FROM ${tokens}`),
  };
}

/**
 * The compare-and-swap of a remember-me validator: read, constant-time comparison (the hashes never
 * meet in SQL, whose comparison stops at the first differing byte) and update in one
 * `BEGIN IMMEDIATE` transaction, so it is atomic across every connection and process on the file.
 */
function swapTransaction(driver: SqliteDriver, tokens: string): Prepared["swapValidator"] {
  const selectValidator = driver.prepare<[string], [validatorHash: string]>(
    `SELECT validator_hash FROM ${tokens} WHERE selector = ?`,
    "arrays",
  );
  const writeRotation = driver.prepare<[SwapParams]>(
    `UPDATE ${tokens} SET validator_hash = @validator_hash, previous_validator_hash = @previous_validator_hash,
       rotated_at = @rotated_at, rotated_by = @rotated_by
     WHERE selector = @selector`,
  );
  return driver.immediate((selector: string, expected: string, rotation: RememberRotation): boolean => {
    const row = selectValidator.get(selector);
    if (!row || !constantTimeEqual(expected, row[0])) return false;
    writeRotation.run(toSwapParams(selector, rotation));
    return true;
  });
}

function counterStatements(driver: SqliteDriver, { counters }: TableNames) {
  return {
    // In an UPDATE every right-hand side sees the old row, so the CASEs all test the old expires_at.
    incrementCounter: driver.prepare<[{ key: string; now: number; expires_at: number }], CounterRow>(
      `INSERT INTO ${counters} ("key", "count", first_failure_at, last_failure_at, expires_at)
       VALUES (@key, 1, @now, @now, @expires_at)
       ON CONFLICT ("key") DO UPDATE SET
         "count" = CASE WHEN expires_at <= @now THEN 1 ELSE "count" + 1 END,
         first_failure_at = CASE WHEN expires_at <= @now THEN @now ELSE first_failure_at END,
         last_failure_at = @now,
         expires_at = CASE WHEN expires_at <= @now THEN @expires_at ELSE MAX(expires_at, @expires_at) END
       RETURNING "key", "count", first_failure_at, last_failure_at, expires_at`,
    ),
    getCounter: driver.prepare<[string, number], CounterRow>(
      `SELECT "key", "count", first_failure_at, last_failure_at, expires_at FROM ${counters}
       WHERE "key" = ? AND expires_at > ?`,
    ),
    deleteCounter: driver.prepare<[string]>(`DELETE FROM ${counters} WHERE "key" = ?`),
  };
}

function sweepTransaction(driver: SqliteDriver, names: TableNames) {
  const deletes = [names.sessions, names.tokens, names.counters, names.oneTimeTokens].map((table) =>
    driver.prepare<[number]>(`DELETE FROM ${table} WHERE expires_at <= ?`),
  );
  return driver.immediate((now: number): number =>
    deletes.reduce((removed, statement) => removed + statement.run(now).changes, 0),
  );
}
