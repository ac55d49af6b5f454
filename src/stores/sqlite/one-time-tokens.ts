/**
 * The one-time tokens table (`<prefix>one_time_tokens`): its row, the mapping to and from the
 * contract's record, and its operations. Consuming is one `DELETE ... RETURNING` statement, so it is
 * atomic on its own, across every connection and process on the file.
 *
 * @module
 */
import type { OneTimeTokenRecord } from "../../core/store.js";
import type { SqliteDriver } from "./drivers.js";

/**
 * A row of `<prefix>one_time_tokens`, also the named parameters of its `INSERT`.
 *
 * @example
 * ```ts
 * const row: OneTimeTokenRow = toOneTimeTokenRow(record);
 * ```
 */
export interface OneTimeTokenRow {
  token_hash: string;
  purpose: string;
  user_id: string;
  data: string;
  epoch: number;
  created_at: number;
  expires_at: number;
}

/**
 * The one-time token operations on one connection, each on statements prepared once.
 *
 * @example
 * ```ts
 * const record = operations.consume(tokenHash, Date.now());
 * ```
 */
export interface OneTimeTokenOperations {
  create(token: OneTimeTokenRecord): void;
  find(tokenHash: string, now: number): OneTimeTokenRecord | null;
  /** Deletes and returns the live token; an expired one stays for `deleteExpired`. */
  consume(tokenHash: string, now: number): OneTimeTokenRecord | null;
  /** Deletes the user's tokens of `purpose`, or of every purpose when null; returns how many. */
  deleteUser(userId: string, purpose: string | null): number;
}

const COLUMNS = "token_hash, purpose, user_id, data, epoch, created_at, expires_at";

/**
 * Prepares the operations on the one-time tokens table `table` (quoted, with its prefix).
 *
 * @example
 * ```ts
 * const operations = oneTimeTokenOperations(driver, '"login_manager_one_time_tokens"');
 * ```
 */
export function oneTimeTokenOperations(driver: SqliteDriver, table: string): OneTimeTokenOperations {
  const insert = driver.prepare<[OneTimeTokenRow]>(
    `INSERT INTO ${table} (${COLUMNS})
     VALUES (@token_hash, @purpose, @user_id, @data, @epoch, @created_at, @expires_at)`,
  );
  const select = driver.prepare<[string, number], OneTimeTokenRow>(
    `SELECT ${COLUMNS} FROM ${table} WHERE token_hash = ? AND expires_at > ?`,
  );
  // SQLite makes every change of a RETURNING statement at its first step, inside the statement's
  // own write transaction: no other connection can read or delete the row in between.
  const take = driver.prepare<[string, number], OneTimeTokenRow>(
    `DELETE FROM ${table} WHERE token_hash = ? AND expires_at > ? RETURNING ${COLUMNS}`,
  );
  const deleteAll = driver.prepare<[string]>(`DELETE FROM ${table} WHERE user_id = ?`);
  const deleteOfPurpose = driver.prepare<[string, string]>(
    `DELETE FROM ${table} WHERE user_id = ? AND purpose = ?`,
  );
  return {
    create: (token) => {
      insert.run(toOneTimeTokenRow(token));
    },
    find: (tokenHash, now) => fromOptionalRow(select.get(tokenHash, now)),
    consume: (tokenHash, now) => fromOptionalRow(take.get(tokenHash, now)),
    deleteUser: (userId, purpose) =>
      purpose === null ? deleteAll.run(userId).changes : deleteOfPurpose.run(userId, purpose).changes,
  };
}

function fromOptionalRow(row: OneTimeTokenRow | undefined): OneTimeTokenRecord | null {
  return row ? fromOneTimeTokenRow(row) : null;
}

/**
 * @example
 * ```ts
 * insertOneTimeToken.run(toOneTimeTokenRow(record));
 * ```
 */
export function toOneTimeTokenRow(token: OneTimeTokenRecord): OneTimeTokenRow {
  return {
    token_hash: token.tokenHash,
    purpose: token.purpose,
    user_id: token.userId,
    data: token.data,
    epoch: token.epoch,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
  };
}

/**
 * @example
 * ```ts
 * const row = consumeOneTimeToken.get(tokenHash, now);
 * return row ? fromOneTimeTokenRow(row) : null;
 * ```
 */
export function fromOneTimeTokenRow(row: OneTimeTokenRow): OneTimeTokenRecord {
  return {
    tokenHash: row.token_hash,
    purpose: row.purpose,
    userId: row.user_id,
    data: row.data,
    epoch: row.epoch,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}
