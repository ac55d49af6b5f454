import { describe, expect, it } from "vitest";
import { MemoryStore } from "../stores/memory/index.js";
import type { SessionStore } from "./store.js";
import type { BudgetedCheck, ThrottlePolicy } from "./throttle.js";
import { LoginThrottle } from "./throttle.js";

const POLICY: ThrottlePolicy = {
  maxAccountFailures: 3,
  maxAddressFailures: 10,
  lockBaseSeconds: 30,
  lockMaxSeconds: 600,
  failureWindowSeconds: 3600,
};
const T0 = Date.UTC(2026, 0, 1);
const at = (seconds: number) => T0 + seconds * 1000;

function setup(policy: ThrottlePolicy = POLICY) {
  const store = new MemoryStore();
  const keys: string[] = [];
  const recording = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (typeof args[0] === "string") keys.push(args[0]);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as SessionStore;
  return { throttle: new LoginThrottle(recording, policy), keys };
}

/** One wrong secret of `account` checked through the failure budget, as a login or re-authentication does. */
function wrong(
  throttle: LoginThrottle,
  account = "alice",
  address = "10.0.0.1",
  when = T0,
): Promise<BudgetedCheck<never>> {
  return throttle.checkSecret<never>(
    account,
    address,
    () => when,
    async () => ({
      ok: false,
      reason: "invalid",
    }),
  );
}

/** `times` wrong secrets in a row; the outcome of the last. */
async function fail(
  throttle: LoginThrottle,
  times: number,
  account = "alice",
  address = "10.0.0.1",
  when = T0,
): Promise<BudgetedCheck<never>> {
  let outcome = await wrong(throttle, account, address, when);
  for (let i = 1; i < times; i++) outcome = await wrong(throttle, account, address, when);
  return outcome;
}

/** The lock a wrong secret left (it must have been checked, not refused as locked). */
function lockAfter(outcome: BudgetedCheck<never>) {
  if (outcome.ok || outcome.reason === "locked") throw new Error(`not checked: ${JSON.stringify(outcome)}`);
  return outcome.after;
}

describe("LoginThrottle [checklist C.21-C.24] [NIST 800-63B 3.2.2]", () => {
  it("allows attempts below the account threshold", async () => {
    const { throttle } = setup();
    expect(await fail(throttle, 2)).toEqual({ ok: false, reason: "invalid", after: { locked: false } });
    expect(await throttle.admit("alice", "10.0.0.1", T0)).toMatchObject({
      admitted: true,
      charge: { count: 3 },
    });
  });

  it("locks the account for lockBaseSeconds at the threshold, whatever the address", async () => {
    const { throttle } = setup();
    expect(await fail(throttle, 3)).toEqual({
      ok: false,
      reason: "invalid",
      after: { locked: true, retryAfterSeconds: 30 },
    });
    expect(await throttle.admit("alice", "10.9.9.9", at(0))).toEqual({
      admitted: false,
      retryAfterSeconds: 30,
    });
    expect(await throttle.admit("alice", "10.9.9.9", at(29.5))).toEqual({
      admitted: false,
      retryAfterSeconds: 1,
    });
    expect(await throttle.admit("alice", "10.9.9.9", at(30))).toMatchObject({
      admitted: true,
      charge: { count: 4 },
    });
  });

  it("does not lock other accounts for one account's failures", async () => {
    const { throttle } = setup();
    await fail(throttle, 3);
    expect(await throttle.admit("bob", "10.0.0.1", T0)).toMatchObject({
      admitted: true,
      charge: { count: 1 },
    });
  });

  it("doubles the lock with each further failure, up to lockMaxSeconds", async () => {
    const { throttle } = setup();
    const locks: number[] = [];
    let now = T0;
    for (let failure = 1; failure <= 9; failure++) {
      const status = lockAfter(await wrong(throttle, "alice", "10.0.0.1", now));
      if (status.locked) {
        locks.push(status.retryAfterSeconds);
        now += status.retryAfterSeconds * 1000;
      }
    }
    expect(locks).toEqual([30, 60, 120, 240, 480, 600, 600]);
  });

  it("counts the lock from the last failure", async () => {
    const { throttle } = setup();
    await fail(throttle, 3, "alice", "10.0.0.1", at(0));
    expect(lockAfter(await wrong(throttle, "alice", "10.0.0.2", at(100)))).toEqual({
      locked: true,
      retryAfterSeconds: 60,
    });
    expect(await throttle.admit("alice", "10.0.0.1", at(100))).toEqual({
      admitted: false,
      retryAfterSeconds: 60,
    });
    expect(await throttle.admit("alice", "10.0.0.1", at(160))).toMatchObject({
      admitted: true,
      charge: { count: 5 },
    });
  });

  it("resets the account count on success (NIST SHOULD, checklist C.22) but not the address count", async () => {
    const { throttle } = setup({ ...POLICY, maxAddressFailures: 4 });
    await fail(throttle, 2, "alice");
    await throttle.recordSuccess("alice");
    await fail(throttle, 2, "alice");
    // Without the reset alice would have 4 >= 3 failures and be locked from any address.
    expect(await throttle.admit("alice", "10.9.9.9", T0)).toMatchObject({
      admitted: true,
      charge: { count: 3 },
    });
    // The address saw 4 failures in all: locked although alice's own count restarted.
    expect(await throttle.admit("carol", "10.0.0.1", T0)).toEqual({ admitted: false, retryAfterSeconds: 30 });
  });

  it("locks a client address spraying many accounts (checklist C.24)", async () => {
    const { throttle } = setup();
    for (let i = 0; i < 10; i++) await wrong(throttle, `user${i}`, "203.0.113.7", T0);
    expect(await throttle.admit("never-tried", "203.0.113.7", T0)).toEqual({
      admitted: false,
      retryAfterSeconds: 30,
    });
    expect(await throttle.admit("never-tried", "198.51.100.1", T0)).toMatchObject({
      admitted: true,
      charge: { count: 1 },
    });
  });

  it("forgets failures after the failure window", async () => {
    const { throttle } = setup();
    await fail(throttle, 2);
    expect(lockAfter(await wrong(throttle, "alice", "10.0.0.1", at(3600)))).toEqual({ locked: false });
    // A count restarted at 1 by the failure at 3600 s: this attempt is the second.
    expect(await throttle.admit("alice", "10.0.0.1", at(3600))).toMatchObject({
      admitted: true,
      charge: { count: 2 },
    });
  });

  it("keeps a counter at least as long as the longest lock", async () => {
    const { throttle } = setup({ ...POLICY, failureWindowSeconds: 10, lockMaxSeconds: 600 });
    let now = T0;
    for (let i = 0; i < 8; i++) {
      const status = lockAfter(await wrong(throttle, "alice", "10.0.0.1", now));
      if (status.locked) now += status.retryAfterSeconds * 1000;
    }
    const admission = await throttle.admit("alice", "10.0.0.1", now - 1000);
    expect(admission.admitted).toBe(false);
  });

  it("never stores the account name in clear (keys are hashed)", async () => {
    const { throttle, keys } = setup();
    await fail(throttle, 1, "alice@example.com");
    await throttle.admit("alice@example.com", "10.0.0.1", T0);
    await throttle.checkSecret(
      "alice@example.com",
      "10.0.0.1",
      () => T0,
      async () => ({ ok: true, value: 1 }),
    );
    await throttle.recordSuccess("alice@example.com");
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).not.toContain("alice");
  });

  it("keeps account and address counters apart when an account looks like an address", async () => {
    const { throttle } = setup({ ...POLICY, maxAddressFailures: 3 });
    await fail(throttle, 2, "10.0.0.1", "10.0.0.1");
    expect(await throttle.admit("someone", "10.0.0.1", T0)).toMatchObject({
      admitted: true,
      charge: { count: 1 },
    });
  });
});

describe("LoginThrottle.admit: counting before the password check [A5 6.3.1]", () => {
  /** Throttles of separate processes: each its own LoginThrottle, all over one store. */
  function processes(count: number, policy: ThrottlePolicy = POLICY) {
    const store = new MemoryStore();
    return { store, throttles: Array.from({ length: count }, () => new LoginThrottle(store, policy)) };
  }

  it("counts the attempt against the account before the check, not against the address", async () => {
    const { throttle } = setup({ ...POLICY, maxAddressFailures: 1 });
    const admission = await throttle.admit("alice", "10.0.0.1", T0);
    expect(admission).toMatchObject({ admitted: true, charge: { count: 1 } });
    // One more counted attempt locks alice (3), while the address (limit 1) is still open.
    await throttle.admit("alice", "10.0.0.1", T0);
    expect((await throttle.admit("alice", "10.0.0.1", T0)).admitted).toBe(true);
    expect(await throttle.admit("alice", "10.9.9.9", T0)).toEqual({ admitted: false, retryAfterSeconds: 30 });
    expect(await throttle.admit("bob", "10.0.0.1", T0)).toMatchObject({
      admitted: true,
      charge: { count: 1 },
    });
  });

  it("counts the address once the admitted attempt failed, and reports the lock that attempt started", async () => {
    const { throttle } = setup({ ...POLICY, maxAddressFailures: 2 });
    const first = await throttle.admit("alice", "10.0.0.1", T0);
    if (!first.admitted) throw new Error("not admitted");
    expect(await throttle.recordAdmittedFailure(first, "10.0.0.1", T0)).toEqual({ locked: false });
    const second = await throttle.admit("bob", "10.0.0.1", T0);
    if (!second.admitted) throw new Error("not admitted");
    expect(await throttle.recordAdmittedFailure(second, "10.0.0.1", T0)).toEqual({
      locked: true,
      retryAfterSeconds: 30,
    });
    expect(await throttle.admit("carol", "10.0.0.1", T0)).toEqual({ admitted: false, retryAfterSeconds: 30 });
  });

  it("forgets the counted attempts when the login succeeds", async () => {
    const { throttle } = setup();
    await throttle.admit("alice", "10.0.0.1", T0);
    await throttle.admit("alice", "10.0.0.1", T0);
    await throttle.recordSuccess("alice");
    expect(await throttle.admit("alice", "10.0.0.1", T0)).toMatchObject({ charge: { count: 1 } });
  });

  it("refuses a locked account without counting the attempt, so refusals do not lengthen the lock", async () => {
    const { throttle, keys } = setup();
    await fail(throttle, 3);
    keys.length = 0;
    expect(await throttle.admit("alice", "10.0.0.1", at(10))).toEqual({
      admitted: false,
      retryAfterSeconds: 20,
    });
    expect(keys).toHaveLength(2); // the two reads, no increment
    // Counted, the refusal would have made it 4 failures, locked until 10 + 60 s.
    expect(await throttle.admit("alice", "10.0.0.1", at(30))).toMatchObject({
      admitted: true,
      charge: { count: 4 },
    });
  });

  it("refuses a locked address without counting the attempt against the account", async () => {
    const { throttle } = setup({ ...POLICY, maxAddressFailures: 1 });
    await wrong(throttle, "bob", "10.0.0.1", T0);
    expect(await throttle.admit("alice", "10.0.0.1", T0)).toEqual({ admitted: false, retryAfterSeconds: 30 });
    expect(await throttle.admit("alice", "10.9.9.9", T0)).toMatchObject({ charge: { count: 1 } });
  });

  it("admits exactly maxAccountFailures of many parallel attempts from separate processes", async () => {
    const { throttles } = processes(20);
    const admissions = await Promise.all(
      throttles.map((throttle) => throttle.admit("alice", "10.0.0.1", T0)),
    );
    expect(admissions.filter((admission) => admission.admitted)).toHaveLength(3);
  });

  it("admits one attempt per lock period past the threshold, however many processes race for it", async () => {
    const { throttles } = processes(20);
    await fail(throttles[0] as LoginThrottle, 3);
    const admissions = await Promise.all(
      throttles.map((throttle) => throttle.admit("alice", "10.0.0.1", at(30))),
    );
    expect(admissions.filter((admission) => admission.admitted)).toHaveLength(1);
  });

  it("keeps an attempt that lost the race counted, so the lock grows as if it had failed", async () => {
    const { throttles } = processes(2);
    const [a, b] = throttles as [LoginThrottle, LoginThrottle];
    await fail(a, 3);
    const [first, second] = await Promise.all([
      a.admit("alice", "10.0.0.1", at(30)),
      b.admit("alice", "10.0.0.1", at(30)),
    ]);
    expect([first.admitted, second.admitted].sort()).toEqual([false, true]);
    // Five counted attempts (3 + 2): locked for 30 * 2^2 seconds.
    expect(await a.admit("alice", "10.0.0.1", at(30))).toEqual({ admitted: false, retryAfterSeconds: 120 });
    expect([first, second]).toContainEqual({ admitted: false, retryAfterSeconds: 120 });
  });

  it("past the threshold, refuses an attempt whose increment follows a reset and new failures, even at the same count", async () => {
    // Between this process's read (count 3, lock passed) and its increment, the owner logs in
    // elsewhere (reset) and three attempts are counted: the increment returns 4 = 3 + 1, but in a
    // new run of failures that is locked, so the attempt must not be admitted.
    const store = new MemoryStore();
    const other = new LoginThrottle(store, POLICY);
    await fail(other, 3);
    let interfered = false;
    const interfering = new Proxy(store, {
      get(target, property, receiver) {
        const value = Reflect.get(target, property, receiver);
        if (property !== "getCounter") return typeof value === "function" ? value.bind(target) : value;
        return async (key: string, now: number) => {
          const record = await target.getCounter(key, now);
          if (key.startsWith("account:") && !interfered) {
            interfered = true;
            await other.recordSuccess("alice");
            for (let i = 0; i < 3; i++) await wrong(other, "alice", "10.0.0.2", at(31));
          }
          return record;
        };
      },
    }) as SessionStore;
    const admission = await new LoginThrottle(interfering, POLICY).admit("alice", "10.0.0.1", at(31));
    expect(interfered).toBe(true);
    expect(admission).toEqual({ admitted: false, retryAfterSeconds: 60 });
  });
});
