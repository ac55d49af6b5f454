import { StoreError } from "../../core/errors.js";
import type { OneTimeTokenRecord } from "../../core/store.js";
import { addToIndex, removeFromIndex } from "./user-index.js";

/**
 * The one-time tokens of a `MemoryStore`: a map by token hash and a per-user index. Every
 * method is synchronous, so a consume (read and delete) cannot interleave with another caller's.
 * Records are copied in and out.
 *
 * @example
 * ```ts
 * const tokens = new MemoryOneTimeTokens();
 * tokens.create(record);
 * const consumed = tokens.consume(record.tokenHash, Date.now());
 * ```
 */
export class MemoryOneTimeTokens {
  readonly #tokens = new Map<string, OneTimeTokenRecord>();
  readonly #byUser = new Map<string, Set<string>>();

  /**
   * @example
   * ```ts
   * tokens.create(record);
   * ```
   */
  create(token: OneTimeTokenRecord): void {
    if (this.#tokens.has(token.tokenHash)) {
      throw new StoreError("MemoryStore: a one-time token with this hash already exists");
    }
    this.#tokens.set(token.tokenHash, { ...token });
    addToIndex(this.#byUser, token.userId, token.tokenHash);
  }

  /**
   * @example
   * ```ts
   * const record = tokens.find(tokenHash, Date.now());
   * ```
   */
  find(tokenHash: string, now: number): OneTimeTokenRecord | null {
    const token = this.#tokens.get(tokenHash);
    return token && token.expiresAt > now ? { ...token } : null;
  }

  /**
   * Deletes and returns the live token; an expired one is left for the sweep.
   *
   * @example
   * ```ts
   * const record = tokens.consume(tokenHash, Date.now());
   * ```
   */
  consume(tokenHash: string, now: number): OneTimeTokenRecord | null {
    const token = this.find(tokenHash, now);
    if (token) this.#remove(tokenHash);
    return token;
  }

  /**
   * @example
   * ```ts
   * const removed = tokens.deleteUser("42", "password-reset");
   * ```
   */
  deleteUser(userId: string, purpose: string | null): number {
    const hashes = this.#byUser.get(userId);
    if (!hashes) return 0;
    let deleted = 0;
    for (const hash of [...hashes]) {
      const token = this.#tokens.get(hash);
      if (token && (purpose === null || token.purpose === purpose) && this.#remove(hash)) deleted++;
    }
    return deleted;
  }

  /**
   * Removes the tokens expired at `now`; returns how many.
   *
   * @example
   * ```ts
   * const removed = tokens.sweep(Date.now());
   * ```
   */
  sweep(now: number): number {
    let removed = 0;
    for (const [hash, token] of this.#tokens) {
      if (token.expiresAt <= now && this.#remove(hash)) removed++;
    }
    return removed;
  }

  #remove(tokenHash: string): boolean {
    const token = this.#tokens.get(tokenHash);
    if (!token) return false;
    this.#tokens.delete(tokenHash);
    removeFromIndex(this.#byUser, token.userId, tokenHash);
    return true;
  }
}
