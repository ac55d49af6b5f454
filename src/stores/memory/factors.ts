import type { FactorPatch, FactorRecord } from "../../core/store.js";
import type { FactorOperations } from "../factor-storage.js";
import { addToIndex, removeFromIndex } from "./user-index.js";

/**
 * The second factors of a `MemoryStore`: a map by `(kind, id)` and a per-user index. Every method is
 * synchronous, so a counter advance or a delete cannot interleave with another caller's. Records
 * are copied in and out. Factors never expire: the store's sweep does not look at them.
 *
 * @example
 * ```ts
 * const factors = new MemoryFactors();
 * factors.create(record);
 * const used = factors.delete("recovery-code", codeHash);
 * ```
 */
export class MemoryFactors implements FactorOperations {
  readonly #factors = new Map<string, FactorRecord>();
  readonly #byUser = new Map<string, Set<string>>();

  /**
   * @example
   * ```ts
   * const created = factors.create(record); // false when (kind, id) exists
   * ```
   */
  create(factor: FactorRecord): boolean {
    const key = factorKey(factor.kind, factor.id);
    if (this.#factors.has(key)) return false;
    this.#factors.set(key, { ...factor });
    addToIndex(this.#byUser, factor.userId, key);
    return true;
  }

  /**
   * @example
   * ```ts
   * const totp = factors.get("totp", userId);
   * ```
   */
  get(kind: string, id: string): FactorRecord | null {
    const factor = this.#factors.get(factorKey(kind, id));
    return factor ? { ...factor } : null;
  }

  /**
   * @example
   * ```ts
   * const passkeys = factors.list(userId, "passkey");
   * ```
   */
  list(userId: string, kind: string | null): FactorRecord[] {
    const result: FactorRecord[] = [];
    for (const key of this.#byUser.get(userId) ?? []) {
      const factor = this.#factors.get(key);
      if (factor && (kind === null || factor.kind === kind)) result.push({ ...factor });
    }
    return result.sort(oldestFirst);
  }

  /**
   * @example
   * ```ts
   * factors.update("passkey", credentialId, { label: "Laptop" });
   * ```
   */
  update(kind: string, id: string, patch: FactorPatch): boolean {
    const factor = this.#factors.get(factorKey(kind, id));
    if (!factor) return false;
    if (patch.label !== undefined) factor.label = patch.label;
    if (patch.data !== undefined) factor.data = patch.data;
    if (patch.lastUsedAt !== undefined) factor.lastUsedAt = patch.lastUsedAt;
    return true;
  }

  /**
   * @example
   * ```ts
   * const fresh = factors.advance("totp", userId, step, Date.now());
   * ```
   */
  advance(kind: string, id: string, counter: number, usedAt: number): boolean {
    const factor = this.#factors.get(factorKey(kind, id));
    if (!factor || factor.counter >= counter) return false;
    factor.counter = counter;
    factor.lastUsedAt = usedAt;
    return true;
  }

  /**
   * @example
   * ```ts
   * const used = factors.delete("recovery-code", codeHash);
   * ```
   */
  delete(kind: string, id: string): boolean {
    const key = factorKey(kind, id);
    const factor = this.#factors.get(key);
    if (!factor) return false;
    this.#factors.delete(key);
    removeFromIndex(this.#byUser, factor.userId, key);
    return true;
  }

  /**
   * @example
   * ```ts
   * const removed = factors.deleteUser(userId, null);
   * ```
   */
  deleteUser(userId: string, kind: string | null): number {
    let deleted = 0;
    for (const key of [...(this.#byUser.get(userId) ?? [])]) {
      const factor = this.#factors.get(key);
      if (factor && (kind === null || factor.kind === kind) && this.delete(factor.kind, factor.id)) deleted++;
    }
    return deleted;
  }
}

// JSON keeps the pair unambiguous whatever characters a kind or id holds.
function factorKey(kind: string, id: string): string {
  return JSON.stringify([kind, id]);
}

function oldestFirst(a: FactorRecord, b: FactorRecord): number {
  if (a.createdAt !== b.createdAt) return a.createdAt - b.createdAt;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
