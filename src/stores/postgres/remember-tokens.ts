/**
 * The remember-me part of the contract ({@link RememberTokenStorage}) in SQL, on the
 * `<prefix>remember_tokens` table. Primitives only: what a stale validator means is the core's call.
 *
 * @module
 */
import type { QueryResultRow } from "pg";
import type { RememberRotation, RememberTokenRecord, RememberTokenStorage } from "../../core/store.js";
import type { PostgresDb } from "./connection.js";
import { deleteAllRows } from "./maintenance.js";

interface TokenRow extends QueryResultRow {
  selector: string;
  validator_hash: string;
  previous_validator_hash: string | null;
  rotated_at: string;
  rotated_by: string;
  user_id: string;
  created_at: string;
  expires_at: string;
}

const TOKEN_COLUMNS =
  "selector, validator_hash, previous_validator_hash, rotated_at, rotated_by, user_id, created_at, expires_at";

/**
 * {@link RememberTokenStorage} on the remember-me table of `db`.
 *
 * @example
 * ```ts
 * const tokens = new PostgresRememberTokens(db);
 * await tokens.createRememberToken(record);
 * ```
 */
export class PostgresRememberTokens implements RememberTokenStorage {
  readonly #db: PostgresDb;

  /**
   * Runs every statement through `db`.
   *
   * @example
   * ```ts
   * const tokens = new PostgresRememberTokens(db);
   * ```
   */
  constructor(db: PostgresDb) {
    this.#db = db;
  }

  /**
   * Inserts the token.
   *
   * @example
   * ```ts
   * await tokens.createRememberToken(record);
   * ```
   */
  async createRememberToken(token: RememberTokenRecord): Promise<void> {
    await this.#db.query("createRememberToken", {
      name: this.#db.statementName("create_remember_token"),
      text: `INSERT INTO ${this.#db.names.rememberTokens} (${TOKEN_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      values: [
        token.selector,
        token.validatorHash,
        token.previousValidatorHash,
        token.rotatedAt,
        token.rotatedBy,
        token.userId,
        token.createdAt,
        token.expiresAt,
      ],
    });
  }

  /**
   * One `SELECT` by primary key.
   *
   * @example
   * ```ts
   * const token = await tokens.getRememberToken(selector, Date.now());
   * ```
   */
  async getRememberToken(selector: string, now: number): Promise<RememberTokenRecord | null> {
    const result = await this.#db.query<TokenRow>("getRememberToken", {
      name: this.#db.statementName("get_remember_token"),
      text: `SELECT ${TOKEN_COLUMNS} FROM ${this.#db.names.rememberTokens} WHERE selector = $1 AND expires_at > $2`,
      values: [selector, now],
    });
    const row = result.rows[0];
    return row ? tokenFromRow(row) : null;
  }

  /**
   * One `UPDATE ... WHERE selector = $1 AND validator_hash = $2`. Concurrent callers queue on the
   * row lock, and each one after the first re-checks the condition against the row the winner
   * wrote (PostgreSQL re-evaluates the `WHERE` of an `UPDATE` that waited), so exactly one of those
   * expecting the same hash matches. SQL `=` rather than a constant-time comparison is safe here:
   * it compares SHA-256 hashes, and learning a stored hash through timing gives no validator that
   * hashes to it (the core compares the client's validator in constant time before it swaps).
   *
   * @example
   * ```ts
   * const swapped = await tokens.swapRememberValidator(selector, token.validatorHash, {
   *   validatorHash: hashToken(next), previousValidatorHash: token.validatorHash, rotatedAt: now, rotatedBy: fingerprint,
   * });
   * ```
   */
  async swapRememberValidator(
    selector: string,
    expectedValidatorHash: string,
    rotation: RememberRotation,
  ): Promise<boolean> {
    const result = await this.#db.query("swapRememberValidator", {
      name: this.#db.statementName("swap_remember_validator"),
      text: `UPDATE ${this.#db.names.rememberTokens}
SET validator_hash = $3, previous_validator_hash = $4, rotated_at = $5, rotated_by = $6
WHERE selector = $1 AND validator_hash = $2`,
      values: [
        selector,
        expectedValidatorHash,
        rotation.validatorHash,
        rotation.previousValidatorHash,
        rotation.rotatedAt,
        rotation.rotatedBy,
      ],
    });
    return result.rowCount === 1;
  }

  /**
   * Deletes one token by primary key.
   *
   * @example
   * ```ts
   * const existed = await tokens.deleteRememberToken(selector);
   * ```
   */
  async deleteRememberToken(selector: string): Promise<boolean> {
    const result = await this.#db.query("deleteRememberToken", {
      name: this.#db.statementName("delete_remember_token"),
      text: `DELETE FROM ${this.#db.names.rememberTokens} WHERE selector = $1`,
      values: [selector],
    });
    return result.rowCount === 1;
  }

  /**
   * One `DELETE` on the `(user_id)` index.
   *
   * @example
   * ```ts
   * const removed = await tokens.deleteUserRememberTokens("42");
   * ```
   */
  async deleteUserRememberTokens(userId: string): Promise<number> {
    const result = await this.#db.query("deleteUserRememberTokens", {
      name: this.#db.statementName("delete_user_remember_tokens"),
      text: `DELETE FROM ${this.#db.names.rememberTokens} WHERE user_id = $1`,
      values: [userId],
    });
    return result.rowCount ?? 0;
  }

  /**
   * Deletes every token in batches of primary keys (see `deleteAllRows` in `maintenance.ts`).
   *
   * @example
   * ```ts
   * const removed = await tokens.deleteAllRememberTokens();
   * ```
   */
  deleteAllRememberTokens(): Promise<number> {
    return deleteAllRows(this.#db, {
      table: this.#db.names.rememberTokens,
      key: "selector",
      statement: "delete_all_remember_tokens",
      operation: "deleteAllRememberTokens",
    });
  }
}

function tokenFromRow(row: TokenRow): RememberTokenRecord {
  return {
    selector: row.selector,
    validatorHash: row.validator_hash,
    previousValidatorHash: row.previous_validator_hash,
    rotatedAt: Number(row.rotated_at),
    rotatedBy: row.rotated_by,
    userId: row.user_id,
    createdAt: Number(row.created_at),
    expiresAt: Number(row.expires_at),
  };
}
