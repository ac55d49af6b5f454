import { isIPv4, isIPv6 } from "node:net";
import type { ThrottleSettings } from "./settings.js";
import type { CounterRecord, SessionStore } from "./store.js";
import { hashToken } from "./tokens.js";

/**
 * Settings of the login throttle: the manager's `throttle` group.
 *
 * @example
 * ```ts
 * const policy: ThrottlePolicy = { maxAccountFailures: 5, maxAddressFailures: 50, lockBaseSeconds: 30,
 *   lockMaxSeconds: 3600, failureWindowSeconds: 86400 };
 * ```
 */
export type ThrottlePolicy = ThrottleSettings;

/**
 * Whether a login attempt may go ahead, and if not, for how long it is locked.
 *
 * @example
 * ```ts
 * const status: ThrottleStatus = { locked: true, retryAfterSeconds: 30 };
 * if (status.locked) reply429(status.retryAfterSeconds);
 * ```
 */
export type ThrottleStatus = { locked: false } | { locked: true; retryAfterSeconds: number };

/**
 * The answer of {@link LoginThrottle.admit}: either the attempt may verify the password (and is
 * already counted as an account failure, `charge` being the account's counter after it), or it is
 * refused for `retryAfterSeconds`.
 *
 * @example
 * ```ts
 * const admission = await throttle.admit("alice", "10.0.0.1", now);
 * if (!admission.admitted) return reply429(admission.retryAfterSeconds);
 * if (await checkPassword()) await throttle.recordSuccess("alice");
 * else await throttle.recordAdmittedFailure(admission, "10.0.0.1", now);
 * ```
 */
export type ThrottleAdmission =
  | { admitted: true; charge: CounterRecord }
  | { admitted: false; retryAfterSeconds: number };

/**
 * What one check of a secret found ({@link LoginThrottle.checkSecret}): right, with what the check
 * produced (the user logged in, say; `keepBudget` when the attempt is not over, as a right password
 * whose second factor is still to come: its charge stays counted until that step succeeds), or wrong: `"invalid"`, or `"inactive"` for a right password of
 * an account that may not log in (counted, and answered, like a wrong one).
 *
 * @example
 * ```ts
 * const found: SecretCheck<User> = user ? { ok: true, value: user } : { ok: false, reason: "invalid" };
 * ```
 */
export type SecretCheck<T> =
  | { ok: true; value: T; keepBudget?: boolean }
  | { ok: false; reason: "invalid" | "inactive" };

/**
 * The outcome of {@link LoginThrottle.checkSecret}: the check's own result, with the lock status a
 * wrong secret left (`after`), or `"locked"` when the budget refused the check before it ran.
 *
 * @example
 * ```ts
 * const outcome = await throttle.checkSecret("alice", address, () => clock.now(), check);
 * if (!outcome.ok && outcome.reason === "locked") reply429(outcome.retryAfterSeconds);
 * ```
 */
export type BudgetedCheck<T> =
  | { ok: true; value: T; keepBudget?: boolean }
  | { ok: false; reason: "invalid" | "inactive"; after: ThrottleStatus }
  | { ok: false; reason: "locked"; retryAfterSeconds: number };

/**
 * Counts failed logins per account and per client address in the store, and locks either with a
 * delay that doubles with every failure past the threshold (NIST 800-63B 3.2.2: throttling rather
 * than a hard lockout). A success resets the account's count, not the address's.
 *
 * Password checks go through {@link LoginThrottle.admit}, which counts the account failure before
 * the password is verified ("charge first"): the store's atomic increment gives every concurrent
 * attempt its own count, so however many processes share the store, an account gets at most
 * `maxAccountFailures` verifications before it locks, and one per lock period after that.
 *
 * @example
 * ```ts
 * const throttle = new LoginThrottle(store, policy);
 * const outcome = await throttle.checkSecret("alice", "10.0.0.1", () => Date.now(), check);
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
   * {@link LoginThrottle.admit} alone already keeps parallel guesses within the limit; queueing them
   * here means that, within a process, an attempt arriving while the account is locked is refused by
   * the read in `admit` without being counted, instead of being counted as a failure that lost the
   * race (which would lengthen the lock). Attempts on other accounts still run in parallel.
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

  /**
   * Runs one check of a secret of `account` against the account's **failure budget**: one budget per
   * account, spent by every check of any of its secrets (the password at login, at re-authentication,
   * the current password of a change, a second factor), so a holder of one of its sessions gets
   * `maxAccountFailures` guesses in all before the lock, not that many per form. `account` is the
   * account's canonical name, the string every kind of check uses. The check runs only if the
   * budget admits it ({@link LoginThrottle.admit}: counted first, one at a time per account in this
   * process); a right secret resets the budget, a wrong one is also counted against the client
   * address. A check that throws stays counted (see `attemptLogin`).
   *
   * @example
   * ```ts
   * const outcome = await throttle.checkSecret(account, address, () => clock.now(), async () =>
   *   (await verify()) ? { ok: true, value: user } : { ok: false, reason: "invalid" },
   * );
   * ```
   */
  checkSecret<T>(
    account: string,
    address: string,
    now: () => number,
    check: () => Promise<SecretCheck<T>>,
  ): Promise<BudgetedCheck<T>> {
    return this.exclusive(account, async (): Promise<BudgetedCheck<T>> => {
      const admission = await this.admit(account, address, now());
      if (!admission.admitted) {
        return { ok: false, reason: "locked", retryAfterSeconds: admission.retryAfterSeconds };
      }
      const found = await check();
      if (found.ok) {
        if (found.keepBudget !== true) await this.recordSuccess(account);
        return found;
      }
      return { ...found, after: await this.recordAdmittedFailure(admission, address, now()) };
    });
  }

  /**
   * Decides whether an attempt may verify a password, counting it as a failure of the account first.
   * A locked account or address refuses the attempt without counting it (a refused attempt checks no
   * password, so it does not lengthen the lock). Otherwise the account's counter is incremented, and
   * the new count decides: up to `maxAccountFailures` every attempt may go on; past it, only the one
   * whose increment moved the counter on from the unlocked state it read, so attempts racing from
   * other processes are refused (and stay counted as failures). The address is only read here: it is
   * counted after a failed verification ({@link LoginThrottle.recordAdmittedFailure}), because the
   * store cannot take a count back and a success must not count against a shared address.
   */
  async admit(account: string, address: string, now: number): Promise<ThrottleAdmission> {
    const key = accountKey(account);
    const [before, addressRecord] = await Promise.all([
      this.#store.getCounter(key, now),
      this.#store.getCounter(addressKey(address), now),
    ]);
    const status = this.#status(before, addressRecord, now);
    if (status.locked) return { admitted: false, retryAfterSeconds: status.retryAfterSeconds };
    const charge = await this.#store.incrementCounter(key, now, this.#ttlMs());
    if (this.#mayVerify(before, charge)) return { admitted: true, charge };
    const until = this.#lockedUntil(charge, this.#policy.maxAccountFailures);
    return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((until - now) / 1000)) };
  }

  /**
   * Records that an admitted attempt's password was wrong: counts the failure for the address (the
   * account was counted by {@link LoginThrottle.admit}); returns the status that failure left, locked
   * when it reached a threshold.
   */
  async recordAdmittedFailure(
    admission: { charge: CounterRecord },
    address: string,
    now: number,
  ): Promise<ThrottleStatus> {
    const addressRecord = await this.#store.incrementCounter(addressKey(address), now, this.#ttlMs());
    return this.#status(admission.charge, addressRecord, now);
  }

  /** Forgets the account's failures after a successful login. */
  async recordSuccess(account: string): Promise<void> {
    await this.#store.deleteCounter(accountKey(account));
  }

  /** Counters live at least as long as the longest lock, so a lock is never forgotten early. */
  #ttlMs(): number {
    return Math.max(this.#policy.failureWindowSeconds, this.#policy.lockMaxSeconds) * 1000;
  }

  /**
   * True when the attempt that got `charge` may verify. Below the threshold the count alone says so.
   * Past it, the account was unlocked before this increment only if the increment moved the counter
   * on from exactly the state `admit` read (same count, same epoch: not reset or expired meanwhile),
   * which that read found unlocked; any other increment in between started a lock.
   */
  #mayVerify(before: CounterRecord | null, charge: CounterRecord): boolean {
    if (charge.count <= this.#policy.maxAccountFailures) return true;
    return before !== null && charge.count === before.count + 1 && charge.firstAt === before.firstAt;
  }

  #status(
    accountRecord: CounterRecord | null,
    addressRecord: CounterRecord | null,
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

  #lockedUntil(record: CounterRecord | null, threshold: number): number {
    if (!record || record.count < threshold) return 0;
    const doublings = Math.min(record.count - threshold, 30);
    const lockSeconds = Math.min(this.#policy.lockBaseSeconds * 2 ** doublings, this.#policy.lockMaxSeconds);
    return record.lastAt + lockSeconds * 1000;
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
 * Exported for apps that rate-limit other endpoints the way the login throttle does.
 *
 * @example
 * ```ts
 * addressBucket("2001:db8:1:2:aaaa::1"); // "2001:0db8:0001:0002::/64"
 * addressBucket("::ffff:192.0.2.1"); // "192.0.2.1"
 * ```
 */
export function addressBucket(address: string): string {
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
