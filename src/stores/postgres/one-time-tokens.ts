/**
 * The one-time token part of the contract ({@link OneTimeTokenStorage}) in SQL, on the
 * `<prefix>one_time_tokens` table. Primitives only: what a token may do, and whether the user's
 * credential epoch still matches, is the core's call.
 *
 * @module
 */
import type { QueryResultRow } from "pg";
import type { OneTimeTokenRecord, OneTimeTokenStorage } from "../../core/store.js";
import type { PostgresDb } from "./connection.js";

interface OneTimeTokenRow extends QueryResultRow {
  token_hash: string;
  purpose: string;
  user_id: string;
  data: string;
  epoch: string;
  created_at: string;
  expires_at: string;
}

const COLUMNS = "token_hash, purpose, user_id, data, epoch, created_at, expires_at";

/**
 * {@link OneTimeTokenStorage} on the one-time token table of `db`. Every method is one statement.
 *
 * @example
 * ```ts
 * const tokens = new PostgresOneTimeTokens(db);
 * await tokens.createOneTimeToken(record);
 * ```
 */
export class PostgresOneTimeTokens implements OneTimeTokenStorage {
  readonly #db: PostgresDb;

  /**
   * Runs every statement through `db`.
   *
   * @example
   * ```ts
   * const tokens = new PostgresOneTimeTokens(db);
   * ```
   */
  constructor(db: PostgresDb) {
    this.#db = db;
  }

  /**
   * Inserts the token; a hash already stored rejects with a `StoreError` (primary key).
   *
   * @example
   * ```ts
   * await tokens.createOneTimeToken(record);
   * ```
   */
  async createOneTimeToken(token: OneTimeTokenRecord): Promise<void> {
    await this.#db.query("createOneTimeToken", {
      name: this.#db.statementName("create_one_time_token"),
      text: `INSERT INTO ${this.#db.names.oneTimeTokens} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      values: [
        token.tokenHash,
        token.purpose,
        token.userId,
        token.data,
        token.epoch,
        token.createdAt,
        token.expiresAt,
      ],
    });
  }

  /**
   * One `SELECT` by primary key; the token stays.
   *
   * @example
   * ```ts
   * const token = await tokens.findOneTimeToken(hashToken(fromLink), Date.now());
   * ```
   */
  async findOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null> {
    const result = await this.#db.query<OneTimeTokenRow>("findOneTimeToken", {
      name: this.#db.statementName("find_one_time_token"),
      text: `SELECT ${COLUMNS} FROM ${this.#db.names.oneTimeTokens} WHERE token_hash = $1 AND expires_at > $2`,
      values: [tokenHash, now],
    });
    const row = result.rows[0];
    return row ? oneTimeTokenFromRow(row) : null;
  }

  /**
   * One `DELETE ... WHERE token_hash = $1 AND expires_at > $2 RETURNING`. Concurrent callers queue
   * on the row lock; once the first one's delete commits, the others find no row, so exactly one gets
   * the record. An expired token is left for `deleteExpired`.
   *
   * @example
   * ```ts
   * const token = await tokens.consumeOneTimeToken(hashToken(fromLink), Date.now());
   * ```
   */
  async consumeOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null> {
    const result = await this.#db.query<OneTimeTokenRow>("consumeOneTimeToken", {
      name: this.#db.statementName("consume_one_time_token"),
      text: `DELETE FROM ${this.#db.names.oneTimeTokens} WHERE token_hash = $1 AND expires_at > $2 RETURNING ${COLUMNS}`,
      values: [tokenHash, now],
    });
    const row = result.rows[0];
    return row ? oneTimeTokenFromRow(row) : null;
  }

  /**
   * One `DELETE` on the `(user_id)` index, of one purpose or (`null`) of every purpose, expired or
   * not.
   *
   * @example
   * ```ts
   * const removed = await tokens.deleteUserOneTimeTokens("42", "password-reset");
   * ```
   */
  async deleteUserOneTimeTokens(userId: string, purpose: string | null): Promise<number> {
    const result = await this.#db.query("deleteUserOneTimeTokens", {
      name: this.#db.statementName("delete_user_one_time_tokens"),
      text: `DELETE FROM ${this.#db.names.oneTimeTokens} WHERE user_id = $1 AND ($2::text IS NULL OR purpose = $2::text)`,
      values: [userId, purpose],
    });
    return result.rowCount ?? 0;
  }
}

function oneTimeTokenFromRow(row: OneTimeTokenRow): OneTimeTokenRecord {
  return {
    tokenHash: row.token_hash,
    purpose: row.purpose,
    userId: row.user_id,
    data: row.data,
    epoch: Number(row.epoch),
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}
