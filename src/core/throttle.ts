import type { FailureRecord, SessionStore } from "./store.js";
import { hashToken } from "./tokens.js";

/**
 * Settings of the login throttle (a subset of the manager's options).
 *
 * @example
 * ```ts
 * const policy: ThrottlePolicy = { maxAccountFailures: 5, maxAddressFailures: 50, lockBaseSeconds: 30,
 *   lockMaxSeconds: 3600, failureWindowSeconds: 86400 };
 * ```
 */
export interface ThrottlePolicy {
  maxAccountFailures: number;
  maxAddressFailures: number;
  lockBaseSeconds: number;
  lockMaxSeconds: number;
  failureWindowSeconds: number;
}

/**
 * Whether a login attempt may go ahead, and if not, for how long it is locked.
 *
 * @example
 * ```ts
 * const status = await throttle.check("alice", "10.0.0.1", now);
 * if (status.locked) reply429(status.retryAfterSeconds);
 * ```
 */
export type ThrottleStatus = { locked: false } | { locked: true; retryAfterSeconds: number };

/**
 * Counts failed logins per account and per client address in the store, and locks either with a
 * delay that doubles with every failure past the threshold (NIST 800-63B 3.2.2: throttling rather
 * than a hard lockout). A success resets the account's count, not the address's.
 *
 * @example
 * ```ts
 * const throttle = new LoginThrottle(store, policy);
 * await throttle.recordFailure("alice", "10.0.0.1", now);
 * ```
 */
export class LoginThrottle {
  readonly #store: SessionStore;
  readonly #policy: ThrottlePolicy;

  constructor(store: SessionStore, policy: ThrottlePolicy) {
    this.#store = store;
    this.#policy = policy;
  }

  /** Reports whether the account or the address is locked at `now`. */
  async check(account: string, address: string, now: number): Promise<ThrottleStatus> {
    const [accountRecord, addressRecord] = await Promise.all([
      this.#store.getFailures(accountKey(account), now),
      this.#store.getFailures(addressKey(address), now),
    ]);
    const until = Math.max(
      this.#lockedUntil(accountRecord, this.#policy.maxAccountFailures),
      this.#lockedUntil(addressRecord, this.#policy.maxAddressFailures),
    );
    return until > now
      ? { locked: true, retryAfterSeconds: Math.ceil((until - now) / 1000) }
      : { locked: false };
  }

  /** Counts one failure for the account and the address; returns the resulting status. */
  async recordFailure(account: string, address: string, now: number): Promise<ThrottleStatus> {
    const ttlMs = Math.max(this.#policy.failureWindowSeconds, this.#policy.lockMaxSeconds) * 1000;
    const [accountRecord, addressRecord] = await Promise.all([
      this.#store.incrementFailures(accountKey(account), now, ttlMs),
      this.#store.incrementFailures(addressKey(address), now, ttlMs),
    ]);
    const until = Math.max(
      this.#lockedUntil(accountRecord, this.#policy.maxAccountFailures),
      this.#lockedUntil(addressRecord, this.#policy.maxAddressFailures),
    );
    return until > now
      ? { locked: true, retryAfterSeconds: Math.ceil((until - now) / 1000) }
      : { locked: false };
  }

  /** Forgets the account's failures after a successful login. */
  async recordSuccess(account: string): Promise<void> {
    await this.#store.resetFailures(accountKey(account));
  }

  #lockedUntil(record: FailureRecord | null, threshold: number): number {
    if (!record || record.count < threshold) return 0;
    const doublings = Math.min(record.count - threshold, 30);
    const lockSeconds = Math.min(this.#policy.lockBaseSeconds * 2 ** doublings, this.#policy.lockMaxSeconds);
    return record.lastFailureAt + lockSeconds * 1000;
  }
}

function accountKey(account: string): string {
  return `account:${hashToken(account)}`;
}

function addressKey(address: string): string {
  return `address:${address}`;
}
