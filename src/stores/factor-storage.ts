/**
 * The second-factor part of the store contract ({@link FactorStorage}) as the four shipped stores
 * expose it: one base class checks every input against the sizes the contract names, then hands it
 * to the store's own {@link FactorOperations}. Lookups of a kind or id no store could hold resolve
 * "not found" without reaching the backend; a write of an oversize or malformed field rejects with a
 * {@link StoreError} that names the field and the limit (never its value: `data` is key material).
 *
 * @module
 */
import { StoreError } from "../core/errors.js";
import type { MaybePromise } from "../core/maybe-promise.js";
import type { FactorPatch, FactorRecord, FactorStorage } from "../core/store.js";

/**
 * The sizes a factor's fields may have (UTF-16 code units), from the contract (`FactorRecord`).
 *
 * @example
 * ```ts
 * if (credentialId.length > FACTOR_LIMITS.id) return null;
 * ```
 */
export const FACTOR_LIMITS = Object.freeze({ kind: 32, id: 1400, label: 200, data: 8192 });

/**
 * What a store does for each method of {@link FactorStorage}, given inputs already checked. Records
 * handed out must be fresh objects (callers may mutate them).
 *
 * @example
 * ```ts
 * const operations: FactorOperations = new MemoryFactors();
 * ```
 */
export interface FactorOperations {
  create(factor: FactorRecord): MaybePromise<boolean>;
  get(kind: string, id: string): MaybePromise<FactorRecord | null>;
  list(userId: string, kind: string | null): MaybePromise<FactorRecord[]>;
  update(kind: string, id: string, patch: FactorPatch): MaybePromise<boolean>;
  /** Writes `counter` and `lastUsedAt = usedAt` only where the stored counter is lower, atomically. */
  advance(kind: string, id: string, counter: number, usedAt: number): MaybePromise<boolean>;
  /** Deletes the factor atomically; true for the one caller that removed it. */
  delete(kind: string, id: string): MaybePromise<boolean>;
  deleteUser(userId: string, kind: string | null): MaybePromise<number>;
}

/**
 * The {@link FactorStorage} methods of the shipped stores, which extend this class and pass their
 * name (for error messages) and their {@link FactorOperations} to its constructor.
 *
 * @example
 * ```ts
 * class MemoryStore extends FactorStorageBase implements SessionStore {
 *   constructor() { super("MemoryStore", new MemoryFactors()); }
 * }
 * ```
 */
export class FactorStorageBase implements FactorStorage {
  readonly #storeName: string;
  readonly #factors: FactorOperations;

  /**
   * @example
   * ```ts
   * super("SqliteStore", sqliteFactorOperations(connection));
   * ```
   */
  constructor(storeName: string, factors: FactorOperations) {
    this.#storeName = storeName;
    this.#factors = factors;
  }

  /**
   * Refuses (rejects with a {@link StoreError}) a record with a field outside the contract's sizes.
   *
   * @example
   * ```ts
   * const created = await store.createFactor({ kind: "totp", id: userId, userId, label: "", data: sealed,
   *   counter: 0, createdAt: now, lastUsedAt: null });
   * ```
   */
  async createFactor(factor: FactorRecord): Promise<boolean> {
    this.#checkText("kind", factor.kind, 1, FACTOR_LIMITS.kind);
    this.#checkText("id", factor.id, 1, FACTOR_LIMITS.id);
    this.#checkText("userId", factor.userId, 0, Number.POSITIVE_INFINITY);
    this.#checkText("label", factor.label, 0, FACTOR_LIMITS.label);
    this.#checkText("data", factor.data, 0, FACTOR_LIMITS.data);
    this.#checkCounter(factor.counter);
    return this.#factors.create(factor);
  }

  /**
   * @example
   * ```ts
   * const totp = await store.getFactor("totp", userId);
   * ```
   */
  async getFactor(kind: string, id: string): Promise<FactorRecord | null> {
    return fits(kind, id) ? this.#factors.get(kind, id) : null;
  }

  /**
   * @example
   * ```ts
   * const passkeys = await store.listUserFactors(userId, "passkey"); // oldest first
   * ```
   */
  async listUserFactors(userId: string, kind: string | null): Promise<FactorRecord[]> {
    return kind === null || fitsKind(kind) ? this.#factors.list(userId, kind) : [];
  }

  /**
   * Refuses (rejects with a {@link StoreError}) a `label` or `data` longer than the contract allows.
   *
   * @example
   * ```ts
   * await store.updateFactor("passkey", credentialId, { label: "Laptop" });
   * ```
   */
  async updateFactor(kind: string, id: string, patch: FactorPatch): Promise<boolean> {
    if (patch.label !== undefined) this.#checkText("label", patch.label, 0, FACTOR_LIMITS.label);
    if (patch.data !== undefined) this.#checkText("data", patch.data, 0, FACTOR_LIMITS.data);
    return fits(kind, id) ? this.#factors.update(kind, id, patch) : false;
  }

  /**
   * Refuses (rejects with a {@link StoreError}) a `counter` that is not a safe integer from 0.
   *
   * @example
   * ```ts
   * if (!(await store.advanceFactorCounter("totp", userId, step, now))) return "code already used";
   * ```
   */
  async advanceFactorCounter(kind: string, id: string, counter: number, usedAt: number): Promise<boolean> {
    this.#checkCounter(counter);
    return fits(kind, id) ? this.#factors.advance(kind, id, counter, usedAt) : false;
  }

  /**
   * @example
   * ```ts
   * const used = await store.deleteFactor("recovery-code", codeHash); // true for exactly one caller
   * ```
   */
  async deleteFactor(kind: string, id: string): Promise<boolean> {
    return fits(kind, id) ? this.#factors.delete(kind, id) : false;
  }

  /**
   * @example
   * ```ts
   * const removed = await store.deleteUserFactors(userId, "recovery-code");
   * ```
   */
  async deleteUserFactors(userId: string, kind: string | null): Promise<number> {
    return kind === null || fitsKind(kind) ? this.#factors.deleteUser(userId, kind) : 0;
  }

  #checkText(field: string, value: unknown, min: number, max: number): void {
    if (typeof value !== "string") this.#refuse(`factor ${field} must be a string`);
    if (value.length < min || value.length > max) {
      const range = max === Number.POSITIVE_INFINITY ? "" : ` of ${min} to ${max} characters`;
      this.#refuse(`factor ${field} must be a string${range} (got ${value.length})`);
    }
  }

  #checkCounter(counter: unknown): void {
    if (!Number.isSafeInteger(counter) || (counter as number) < 0) {
      this.#refuse("factor counter must be a safe integer from 0");
    }
  }

  #refuse(message: string): never {
    throw new StoreError(`${this.#storeName}: ${message}`);
  }
}

function fitsKind(kind: string): boolean {
  return typeof kind === "string" && kind.length >= 1 && kind.length <= FACTOR_LIMITS.kind;
}

function fits(kind: string, id: string): boolean {
  return fitsKind(kind) && typeof id === "string" && id.length >= 1 && id.length <= FACTOR_LIMITS.id;
}
