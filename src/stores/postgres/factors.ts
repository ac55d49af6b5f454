/**
 * The second-factor part of the contract (`FactorStorage`) in SQL, on the `<prefix>factors` table:
 * one named prepared statement per method. The checks of sizes happen before, in
 * `FactorStorageBase`; this file only talks to PostgreSQL.
 *
 * @module
 */
import type { QueryResultRow } from "pg";
import type { FactorPatch, FactorRecord } from "../../core/store.js";
import type { FactorOperations } from "../factor-storage.js";
import type { PostgresDb } from "./connection.js";

interface FactorRow extends QueryResultRow {
  kind: string;
  id: string;
  user_id: string;
  label: string;
  data: string;
  counter: string;
  created_at: string;
  last_used_at: string | null;
}

const COLUMNS = "kind, id, user_id, label, data, counter, created_at, last_used_at";
// "C": ties in created_at are ordered by the id's bytes, whatever the database's collation.
const ORDER = `ORDER BY created_at, id COLLATE "C"`;

/**
 * The factor operations on the factors table of `db`.
 *
 * @example
 * ```ts
 * super("PostgresStore", new PostgresFactors(db));
 * ```
 */
export class PostgresFactors implements FactorOperations {
  readonly #db: PostgresDb;

  /**
   * Runs every statement through `db`.
   *
   * @example
   * ```ts
   * const factors = new PostgresFactors(db);
   * ```
   */
  constructor(db: PostgresDb) {
    this.#db = db;
  }

  /**
   * One `INSERT ... ON CONFLICT (kind, id) DO NOTHING`: false, changing nothing, when the factor exists.
   *
   * @example
   * ```ts
   * const created = await factors.create(record);
   * ```
   */
  async create(factor: FactorRecord): Promise<boolean> {
    const result = await this.#db.query("createFactor", {
      name: this.#db.statementName("create_factor"),
      text: `INSERT INTO ${this.#db.names.factors} (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (kind, id) DO NOTHING`,
      values: [
        factor.kind,
        factor.id,
        factor.userId,
        factor.label,
        factor.data,
        factor.counter,
        factor.createdAt,
        factor.lastUsedAt,
      ],
    });
    return result.rowCount === 1;
  }

  /**
   * One `SELECT` by primary key.
   *
   * @example
   * ```ts
   * const totp = await factors.get("totp", userId);
   * ```
   */
  async get(kind: string, id: string): Promise<FactorRecord | null> {
    const result = await this.#db.query<FactorRow>("getFactor", {
      name: this.#db.statementName("get_factor"),
      text: `SELECT ${COLUMNS} FROM ${this.#db.names.factors} WHERE kind = $1 AND id = $2`,
      values: [kind, id],
    });
    const row = result.rows[0];
    return row ? factorFromRow(row) : null;
  }

  /**
   * One query on the `(user_id, created_at)` index.
   *
   * @example
   * ```ts
   * const passkeys = await factors.list(userId, "passkey");
   * ```
   */
  async list(userId: string, kind: string | null): Promise<FactorRecord[]> {
    const result = await this.#db.query<FactorRow>("listUserFactors", {
      name: this.#db.statementName("list_user_factors"),
      text: `SELECT ${COLUMNS} FROM ${this.#db.names.factors}
WHERE user_id = $1 AND ($2::text IS NULL OR kind = $2::text) ${ORDER}`,
      values: [userId, kind],
    });
    return result.rows.map(factorFromRow);
  }

  /**
   * One `UPDATE` whatever fields the patch carries (an absent field keeps its value).
   *
   * @example
   * ```ts
   * await factors.update("passkey", credentialId, { label: "Laptop" });
   * ```
   */
  async update(kind: string, id: string, patch: FactorPatch): Promise<boolean> {
    const result = await this.#db.query("updateFactor", {
      name: this.#db.statementName("update_factor"),
      text: `UPDATE ${this.#db.names.factors} SET
  label = COALESCE($3::text, label),
  data = COALESCE($4::text, data),
  last_used_at = CASE WHEN $5::boolean THEN $6::bigint ELSE last_used_at END
WHERE kind = $1 AND id = $2`,
      values: [
        kind,
        id,
        patch.label ?? null,
        patch.data ?? null,
        patch.lastUsedAt !== undefined,
        patch.lastUsedAt ?? null,
      ],
    });
    return result.rowCount === 1;
  }

  /**
   * One `UPDATE ... WHERE counter < $3`. A concurrent caller waits for the first one's row lock,
   * then re-checks the condition on the row it wrote, so of several callers with the same counter
   * exactly one updates a row.
   *
   * @example
   * ```ts
   * const fresh = await factors.advance("totp", userId, step, Date.now());
   * ```
   */
  async advance(kind: string, id: string, counter: number, usedAt: number): Promise<boolean> {
    const result = await this.#db.query("advanceFactorCounter", {
      name: this.#db.statementName("advance_factor_counter"),
      text: `UPDATE ${this.#db.names.factors} SET counter = $3, last_used_at = $4
WHERE kind = $1 AND id = $2 AND counter < $3`,
      values: [kind, id, counter, usedAt],
    });
    return result.rowCount === 1;
  }

  /**
   * One `DELETE` by primary key: the one caller whose statement removed the row gets true.
   *
   * @example
   * ```ts
   * const used = await factors.delete("recovery-code", codeHash);
   * ```
   */
  async delete(kind: string, id: string): Promise<boolean> {
    const result = await this.#db.query("deleteFactor", {
      name: this.#db.statementName("delete_factor"),
      text: `DELETE FROM ${this.#db.names.factors} WHERE kind = $1 AND id = $2`,
      values: [kind, id],
    });
    return result.rowCount === 1;
  }

  /**
   * One `DELETE` on the `(user_id, created_at)` index, of one kind or (`null`) of every kind.
   *
   * @example
   * ```ts
   * const removed = await factors.deleteUser(userId, "recovery-code");
   * ```
   */
  async deleteUser(userId: string, kind: string | null): Promise<number> {
    const result = await this.#db.query("deleteUserFactors", {
      name: this.#db.statementName("delete_user_factors"),
      text: `DELETE FROM ${this.#db.names.factors} WHERE user_id = $1 AND ($2::text IS NULL OR kind = $2::text)`,
      values: [userId, kind],
    });
    return result.rowCount ?? 0;
  }
}

function factorFromRow(row: FactorRow): FactorRecord {
  return {
    kind: row.kind,
    id: row.id,
    userId: row.user_id,
    label: row.label,
    data: row.data,
    counter: Number(row.counter),
    createdAt: Number(row.created_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}
