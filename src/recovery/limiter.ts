/**
 * Rate limits of the mails the recovery helpers send: per account and per client address, with
 * counters in the store (shared by every process on it). Only hashes of accounts reach the store.
 *
 * @module
 */
import type { Clock } from "../core/clock.js";
import type { CounterRecord, CounterStorage } from "../core/store.js";
import { addressBucket } from "../core/throttle.js";
import { hashToken } from "../core/tokens.js";
import type { ResolvedLimits } from "./shared.js";

/**
 * The answer to a request that may send a mail: it went ahead, or it is refused for a while.
 *
 * @example
 * ```ts
 * const answer: MailRequestAnswer = { ok: false, retryAfterSeconds: 1200 };
 * if (!answer.ok) res.status(429).set("retry-after", String(answer.retryAfterSeconds));
 * ```
 */
export type MailRequestAnswer = { ok: true } | { ok: false; retryAfterSeconds: number };

/**
 * Counts requests per account and per client address under `<prefix>-account:<sha-256 of the
 * account>` and `<prefix>-address:<address, IPv6 by /64>`. A request is refused, and not counted,
 * while either counter is at its limit; a counter is forgotten `windowSeconds` after the last request
 * it let through. Concurrent requests racing past a limit are refused after being counted.
 *
 * @example
 * ```ts
 * const limiter = new RequestLimiter(store, clock, limits, "reset");
 * const answer = await limiter.admit("ada@example.com", "203.0.113.9");
 * ```
 */
export class RequestLimiter {
  readonly #store: CounterStorage;
  readonly #clock: Clock;
  readonly #limits: ResolvedLimits;
  readonly #prefix: string;

  constructor(store: CounterStorage, clock: Clock, limits: ResolvedLimits, prefix: string) {
    this.#store = store;
    this.#clock = clock;
    this.#limits = limits;
    this.#prefix = prefix;
  }

  /** Counts one request of `account` from `address` unless a limit refuses it. */
  async admit(account: string, address: string): Promise<MailRequestAnswer> {
    const now = this.#clock.now();
    const budgets = [
      { key: `${this.#prefix}-account:${hashToken(account)}`, limit: this.#limits.perAccount },
      { key: `${this.#prefix}-address:${addressBucket(address)}`, limit: this.#limits.perAddress },
    ];
    const before = await Promise.all(budgets.map(({ key }) => this.#store.getCounter(key, now)));
    const waiting = longestWait(before, budgets, now, (count, limit) => count >= limit);
    if (waiting > 0) return { ok: false, retryAfterSeconds: waiting };
    const windowMs = this.#limits.windowSeconds * 1000;
    const after = await Promise.all(
      budgets.map(({ key }) => this.#store.incrementCounter(key, now, windowMs)),
    );
    const raced = longestWait(after, budgets, now, (count, limit) => count > limit);
    return raced > 0 ? { ok: false, retryAfterSeconds: raced } : { ok: true };
  }
}

/** Seconds until the last of the counters past their limit expires; 0 when none is. */
function longestWait(
  records: readonly (CounterRecord | null)[],
  budgets: readonly { limit: number }[],
  now: number,
  past: (count: number, limit: number) => boolean,
): number {
  let wait = 0;
  records.forEach((record, index) => {
    const limit = budgets[index]?.limit ?? 0;
    if (record && past(record.count, limit)) {
      wait = Math.max(wait, Math.max(1, Math.ceil((record.expiresAt - now) / 1000)));
    }
  });
  return wait;
}
