import type { CounterRecord } from "../../core/store.js";

/**
 * The expiring counters of a `MemoryStore`. Every method is synchronous, so an increment
 * (read, add, write) cannot interleave with another caller's. Records are copied out.
 *
 * @example
 * ```ts
 * const counters = new MemoryCounters();
 * const { count } = counters.increment("account:alice", Date.now(), 900_000);
 * ```
 */
export class MemoryCounters {
  readonly #counters = new Map<string, CounterRecord>();

  /**
   * @example
   * ```ts
   * const record = counters.increment("account:alice", Date.now(), 900_000);
   * ```
   */
  increment(key: string, now: number, ttlMs: number): CounterRecord {
    const existing = this.#counters.get(key);
    const record: CounterRecord =
      existing && existing.expiresAt > now
        ? {
            key,
            count: existing.count + 1,
            firstAt: existing.firstAt,
            lastAt: now,
            expiresAt: Math.max(existing.expiresAt, now + ttlMs),
          }
        : { key, count: 1, firstAt: now, lastAt: now, expiresAt: now + ttlMs };
    this.#counters.set(key, record);
    return { ...record };
  }

  /**
   * @example
   * ```ts
   * const record = counters.get("address:203.0.113.7", Date.now());
   * ```
   */
  get(key: string, now: number): CounterRecord | null {
    const record = this.#counters.get(key);
    return record && record.expiresAt > now ? { ...record } : null;
  }

  /**
   * @example
   * ```ts
   * counters.delete("account:alice");
   * ```
   */
  delete(key: string): void {
    this.#counters.delete(key);
  }

  /**
   * Removes the counters expired at `now`; returns how many.
   *
   * @example
   * ```ts
   * const removed = counters.sweep(Date.now());
   * ```
   */
  sweep(now: number): number {
    let removed = 0;
    for (const [key, record] of this.#counters) {
      if (record.expiresAt <= now && this.#counters.delete(key)) removed++;
    }
    return removed;
  }
}
