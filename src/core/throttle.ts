import { isIPv4, isIPv6 } from "node:net";
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
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(store: SessionStore, policy: ThrottlePolicy) {
    this.#store = store;
    this.#policy = policy;
  }

  /**
   * Runs `attempt` once every earlier attempt on the same account in this process has finished.
   * Without it, a burst of parallel guesses all pass {@link LoginThrottle.check} before the first
   * failure is counted, and every one of them is verified. Attempts on other accounts still run in
   * parallel; across processes each one can race at most one attempt past the shared counters.
   */
  async exclusive<T>(account: string, attempt: () => Promise<T>): Promise<T> {
    const key = accountKey(account);
    const run = (this.#inFlight.get(key) ?? Promise.resolve()).then(attempt);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.#inFlight.set(key, settled);
    try {
      return await run;
    } finally {
      if (this.#inFlight.get(key) === settled) this.#inFlight.delete(key);
    }
  }

  /** Reports whether the account or the address is locked at `now`. */
  async check(account: string, address: string, now: number): Promise<ThrottleStatus> {
    const [accountRecord, addressRecord] = await Promise.all([
      this.#store.getFailures(accountKey(account), now),
      this.#store.getFailures(addressKey(address), now),
    ]);
    return this.#status(accountRecord, addressRecord, now);
  }

  /** Counts one failure for the account and the address; returns the resulting status. */
  async recordFailure(account: string, address: string, now: number): Promise<ThrottleStatus> {
    const ttlMs = Math.max(this.#policy.failureWindowSeconds, this.#policy.lockMaxSeconds) * 1000;
    const [accountRecord, addressRecord] = await Promise.all([
      this.#store.incrementFailures(accountKey(account), now, ttlMs),
      this.#store.incrementFailures(addressKey(address), now, ttlMs),
    ]);
    return this.#status(accountRecord, addressRecord, now);
  }

  /** Forgets the account's failures after a successful login. */
  async recordSuccess(account: string): Promise<void> {
    await this.#store.resetFailures(accountKey(account));
  }

  #status(
    accountRecord: FailureRecord | null,
    addressRecord: FailureRecord | null,
    now: number,
  ): ThrottleStatus {
    const until = Math.max(
      this.#lockedUntil(accountRecord, this.#policy.maxAccountFailures),
      this.#lockedUntil(addressRecord, this.#policy.maxAddressFailures),
    );
    return until > now
      ? { locked: true, retryAfterSeconds: Math.ceil((until - now) / 1000) }
      : { locked: false };
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
  return `address:${addressBucket(address)}`;
}

/**
 * What an address is counted as. An IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, how dual-stack
 * sockets report IPv4 peers) counts as the IPv4 address, and an IPv6 address counts as its /64:
 * a household, phone or server gets a whole /64, so per-address counters would let one client
 * rotate through 2^64 source addresses (better-auth fixed the same bypass by defaulting to /64).
 */
function addressBucket(address: string): string {
  const bare = address.replace(/%.*$/, ""); // an IPv6 zone id ("fe80::1%eth0")
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare)?.[1];
  if (mapped && isIPv4(mapped)) return mapped;
  if (!isIPv6(bare)) return address;
  // Only the first four groups matter; an embedded IPv4 tail is the last two and counts as "0:0".
  const text = bare.toLowerCase().replace(/\d{1,3}(?:\.\d{1,3}){3}$/, "0:0");
  const [head = "", tail] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill("0");
  const prefix = [...left, ...zeros, ...right].slice(0, 4).map((group) => group.padStart(4, "0"));
  return `${prefix.join(":")}::/64`;
}
