/**
 * The second-factors table (`<prefix>factors`): its row, the mapping to and from the contract's
 * record, and its operations. The counter advance is one `UPDATE ... WHERE counter < ?` and the
 * delete one `DELETE`, each atomic on its own across every connection and process on the file
 * (SQLite runs a write statement under the database's write lock).
 *
 * @module
 */
import type { FactorPatch, FactorRecord } from "../../core/store.js";
import type { SqliteDriver } from "./drivers.js";

/**
 * A row of `<prefix>factors`, also the named parameters of its `INSERT`.
 *
 * @example
 * ```ts
 * const row: FactorRow = toFactorRow(record);
 * ```
 */
export interface FactorRow {
  kind: string;
  id: string;
  user_id: string;
  label: string;
  data: string;
  counter: number;
  created_at: number;
  last_used_at: number | null;
}

interface FactorUpdateParams {
  kind: string;
  id: string;
  set_label: number;
  label: string | null;
  set_data: number;
  data: string | null;
  set_last_used_at: number;
  last_used_at: number | null;
}

interface AdvanceParams {
  kind: string;
  id: string;
  counter: number;
  used_at: number;
}

/**
 * The factor operations on one connection, synchronous, each on statements prepared once.
 *
 * @example
 * ```ts
 * const used = prepared.factors.delete("recovery-code", codeHash);
 * ```
 */
export interface SqliteFactorOperations {
  create(factor: FactorRecord): boolean;
  get(kind: string, id: string): FactorRecord | null;
  list(userId: string, kind: string | null): FactorRecord[];
  update(kind: string, id: string, patch: FactorPatch): boolean;
  advance(kind: string, id: string, counter: number, usedAt: number): boolean;
  delete(kind: string, id: string): boolean;
  deleteUser(userId: string, kind: string | null): number;
}

const COLUMNS = "kind, id, user_id, label, data, counter, created_at, last_used_at";

/**
 * Prepares the operations on the factors table `table` (quoted, with its prefix).
 *
 * @example
 * ```ts
 * const operations = factorOperations(driver, '"login_manager_factors"');
 * ```
 */
export function factorOperations(driver: SqliteDriver, table: string): SqliteFactorOperations {
  const insert = driver.prepare<[FactorRow]>(
    `INSERT INTO ${table} (${COLUMNS})
     VALUES (@kind, @id, @user_id, @label, @data, @counter, @created_at, @last_used_at)
     ON CONFLICT (kind, id) DO NOTHING`,
  );
  const select = driver.prepare<[string, string], FactorRow>(
    `SELECT ${COLUMNS} FROM ${table} WHERE kind = ? AND id = ?`,
  );
  const listAll = driver.prepare<[string], FactorRow>(
    `SELECT ${COLUMNS} FROM ${table} WHERE user_id = ? ORDER BY created_at, id`,
  );
  const listOfKind = driver.prepare<[string, string], FactorRow>(
    `SELECT ${COLUMNS} FROM ${table} WHERE user_id = ? AND kind = ? ORDER BY created_at, id`,
  );
  const update = driver.prepare<[FactorUpdateParams]>(`UPDATE ${table} SET
       label = CASE WHEN @set_label THEN @label ELSE label END,
       data = CASE WHEN @set_data THEN @data ELSE data END,
       last_used_at = CASE WHEN @set_last_used_at THEN @last_used_at ELSE last_used_at END
     WHERE kind = @kind AND id = @id`);
  const advance = driver.prepare<[AdvanceParams]>(
    `UPDATE ${table} SET counter = @counter, last_used_at = @used_at
     WHERE kind = @kind AND id = @id AND counter < @counter`,
  );
  const remove = driver.prepare<[string, string]>(`DELETE FROM ${table} WHERE kind = ? AND id = ?`);
  const removeAll = driver.prepare<[string]>(`DELETE FROM ${table} WHERE user_id = ?`);
  const removeOfKind = driver.prepare<[string, string]>(
    `DELETE FROM ${table} WHERE user_id = ? AND kind = ?`,
  );
  return {
    create: (factor) => insert.run(toFactorRow(factor)).changes > 0,
    get: (kind, id) => {
      const row = select.get(kind, id);
      return row ? fromFactorRow(row) : null;
    },
    list: (userId, kind) =>
      (kind === null ? listAll.all(userId) : listOfKind.all(userId, kind)).map(fromFactorRow),
    update: (kind, id, patch) => update.run(toUpdateParams(kind, id, patch)).changes > 0,
    advance: (kind, id, counter, usedAt) => advance.run({ kind, id, counter, used_at: usedAt }).changes > 0,
    delete: (kind, id) => remove.run(kind, id).changes > 0,
    deleteUser: (userId, kind) =>
      kind === null ? removeAll.run(userId).changes : removeOfKind.run(userId, kind).changes,
  };
}

/**
 * @example
 * ```ts
 * insertFactor.run(toFactorRow(record));
 * ```
 */
export function toFactorRow(factor: FactorRecord): FactorRow {
  return {
    kind: factor.kind,
    id: factor.id,
    user_id: factor.userId,
    label: factor.label,
    data: factor.data,
    counter: factor.counter,
    created_at: factor.createdAt,
    last_used_at: factor.lastUsedAt,
  };
}

/**
 * @example
 * ```ts
 * const factors = listUserFactors.all(userId).map(fromFactorRow);
 * ```
 */
export function fromFactorRow(row: FactorRow): FactorRecord {
  return {
    kind: row.kind,
    id: row.id,
    userId: row.user_id,
    label: row.label,
    data: row.data,
    counter: row.counter,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}

function toUpdateParams(kind: string, id: string, patch: FactorPatch): FactorUpdateParams {
  return {
    kind,
    id,
    set_label: patch.label === undefined ? 0 : 1,
    label: patch.label ?? null,
    set_data: patch.data === undefined ? 0 : 1,
    data: patch.data ?? null,
    set_last_used_at: patch.lastUsedAt === undefined ? 0 : 1,
    last_used_at: patch.lastUsedAt ?? null,
  };
}
