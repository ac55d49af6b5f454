/**
 * Every statement the store runs, prepared once per connection once the schema exists, and the three
 * multi-statement operations that run in one `BEGIN IMMEDIATE` transaction.
 *
 * @module
 */
import type { DeletedSessionCounts, RotateRememberInput, RotateRememberResult } from "../../core/store.js";
import { constantTimeEqual } from "../../core/tokens.js";
import type { SqliteDriver, SqliteStatement as Statement } from "./drivers.js";
import {
  type FailureRow,
  fromTokenRow,
  type RotateParams,
  SESSION_COLUMNS,
  type SessionRow,
  type SessionTuple,
  type SessionUpdateParams,
  type TokenRow,
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
  insertToken: Statement<[TokenRow]>;
  getToken: Statement<[string, number], TokenRow>;
  rotate: (input: RotateRememberInput) => RotateRememberResult;
  deleteToken: Statement<[string]>;
  deleteUserTokens: Statement<[string]>;
  deleteAll: () => DeletedSessionCounts;
  incrementFailures: Statement<[{ key: string; now: number; expires_at: number }], FailureRow>;
  getFailures: Statement<[string, number], FailureRow>;
  resetFailures: Statement<[string]>;
  deleteExpired: (now: number) => number;
}

interface TableNames {
  sessions: string;
  tokens: string;
  failures: string;
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
    failures: `"${prefix}failures"`,
  };
  return {
    ...sessionStatements(driver, names),
    ...tokenStatements(driver, names),
    ...failureStatements(driver, names),
    ...sweepTransactions(driver, names),
  };
}

function sessionStatements(driver: SqliteDriver, { sessions }: TableNames) {
  return {
    insertSession: driver.prepare<[SessionRow]>(
      `INSERT INTO ${sessions} (id, secret_hash, user_id, fresh, created_at, last_seen_at, expires_at,
         absolute_expires_at, fingerprint, user_agent, ip_address, remember_selector)
       VALUES (@id, @secret_hash, @user_id, @fresh, @created_at, @last_seen_at, @expires_at,
         @absolute_expires_at, @fingerprint, @user_agent, @ip_address, @remember_selector)`,
    ),
    // Rows as arrays: on the per-request path, building a 12-key object per row cost about 2 µs.
    getSession: driver.prepare<[string, number], SessionTuple>(
      `SELECT ${SESSION_COLUMNS} FROM ${sessions} WHERE id = ? AND expires_at > ?`,
      "arrays",
    ),
    updateSession: driver.prepare<[SessionUpdateParams]>(`UPDATE ${sessions} SET
         fresh = CASE WHEN @set_fresh THEN @fresh ELSE fresh END,
         last_seen_at = CASE WHEN @set_last_seen_at THEN @last_seen_at ELSE last_seen_at END,
         expires_at = CASE WHEN @set_expires_at THEN @expires_at ELSE expires_at END,
         fingerprint = CASE WHEN @set_fingerprint THEN @fingerprint ELSE fingerprint END,
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
  };
}

function tokenStatements(driver: SqliteDriver, { tokens }: TableNames) {
  return {
    insertToken: driver.prepare<[TokenRow]>(
      `INSERT INTO ${tokens} (selector, validator_hash, previous_validator_hash, rotated_at, user_id, created_at, expires_at)
       VALUES (@selector, @validator_hash, @previous_validator_hash, @rotated_at, @user_id, @created_at, @expires_at)`,
    ),
    getToken: driver.prepare<[string, number], TokenRow>(
      `SELECT * FROM ${tokens} WHERE selector = ? AND expires_at > ?`,
    ),
    rotate: rotateTransaction(driver, tokens),
    deleteToken: driver.prepare<[string]>(`DELETE FROM ${tokens} WHERE selector = ?`),
    deleteUserTokens: driver.prepare<[string]>(`DELETE FROM ${tokens} WHERE user_id = ?`),
  };
}

/**
 * The read, constant-time comparison and update of a remember-me rotation in one `BEGIN IMMEDIATE`
 * transaction, so it is atomic across every connection and process using the file.
 */
function rotateTransaction(driver: SqliteDriver, tokens: string): Prepared["rotate"] {
  const selectToken = driver.prepare<[string], TokenRow>(`SELECT * FROM ${tokens} WHERE selector = ?`);
  const updateRotation = driver.prepare<[RotateParams]>(
    `UPDATE ${tokens} SET validator_hash = @validator_hash, previous_validator_hash = @previous_validator_hash,
       rotated_at = @rotated_at, expires_at = COALESCE(@expires_at, expires_at)
     WHERE selector = @selector`,
  );
  return driver.immediate((input: RotateRememberInput): RotateRememberResult => {
    const row = selectToken.get(input.selector);
    if (!row || row.expires_at <= input.now) return { outcome: "unknown" };
    const token = fromTokenRow(row);
    if (constantTimeEqual(input.presentedValidatorHash, token.validatorHash)) {
      updateRotation.run({
        selector: input.selector,
        validator_hash: input.newValidatorHash,
        previous_validator_hash: input.presentedValidatorHash,
        rotated_at: input.now,
        expires_at: input.newExpiresAt ?? null,
      });
      return {
        outcome: "rotated",
        token: {
          ...token,
          validatorHash: input.newValidatorHash,
          previousValidatorHash: input.presentedValidatorHash,
          rotatedAt: input.now,
          expiresAt: input.newExpiresAt ?? token.expiresAt,
        },
      };
    }
    const inGrace =
      token.previousValidatorHash !== null &&
      constantTimeEqual(input.presentedValidatorHash, token.previousValidatorHash) &&
      input.now - token.rotatedAt <= input.graceMs;
    return { outcome: inGrace ? "grace" : "mismatch", token };
  });
}

function failureStatements(driver: SqliteDriver, { failures }: TableNames) {
  return {
    // In an UPDATE every right-hand side sees the old row, so the CASEs all test the old expires_at.
    incrementFailures: driver.prepare<[{ key: string; now: number; expires_at: number }], FailureRow>(
      `INSERT INTO ${failures} ("key", "count", first_failure_at, last_failure_at, expires_at)
       VALUES (@key, 1, @now, @now, @expires_at)
       ON CONFLICT ("key") DO UPDATE SET
         "count" = CASE WHEN expires_at <= @now THEN 1 ELSE "count" + 1 END,
         first_failure_at = CASE WHEN expires_at <= @now THEN @now ELSE first_failure_at END,
         last_failure_at = @now,
         expires_at = CASE WHEN expires_at <= @now THEN @expires_at ELSE MAX(expires_at, @expires_at) END
       RETURNING "key", "count", first_failure_at, last_failure_at, expires_at`,
    ),
    getFailures: driver.prepare<[string, number], FailureRow>(
      `SELECT "key", "count", first_failure_at, last_failure_at, expires_at FROM ${failures}
       WHERE "key" = ? AND expires_at > ?`,
    ),
    resetFailures: driver.prepare<[string]>(`DELETE FROM ${failures} WHERE "key" = ?`),
  };
}

function sweepTransactions(driver: SqliteDriver, { sessions, tokens, failures }: TableNames) {
  const deleteExpiredSessions = driver.prepare<[number]>(`DELETE FROM ${sessions} WHERE expires_at <= ?`);
  const deleteExpiredTokens = driver.prepare<[number]>(`DELETE FROM ${tokens} WHERE expires_at <= ?`);
  const deleteExpiredFailures = driver.prepare<[number]>(`DELETE FROM ${failures} WHERE expires_at <= ?`);
  const deleteAllTokens = driver.prepare<[]>(`DELETE FROM ${tokens}`);
  const deleteAllSessions = driver.prepare<[]>(`DELETE FROM ${sessions}`);
  return {
    deleteAll: driver.immediate(
      (): DeletedSessionCounts => ({
        rememberTokens: deleteAllTokens.run().changes,
        sessions: deleteAllSessions.run().changes,
      }),
    ),
    deleteExpired: driver.immediate(
      (now: number): number =>
        deleteExpiredSessions.run(now).changes +
        deleteExpiredTokens.run(now).changes +
        deleteExpiredFailures.run(now).changes,
    ),
  };
}
