import { describe, expect, it } from "vitest";
import { MemoryStore } from "../stores/memory/index.js";
import type { SessionStore } from "./store.js";
import type { ThrottlePolicy } from "./throttle.js";
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

async function fail(
  throttle: LoginThrottle,
  times: number,
  account = "alice",
  address = "10.0.0.1",
  when = T0,
) {
  let status = await throttle.recordFailure(account, address, when);
  for (let i = 1; i < times; i++) status = await throttle.recordFailure(account, address, when);
  return status;
}

describe("LoginThrottle [checklist C.21-C.24] [NIST 800-63B 3.2.2]", () => {
  it("allows attempts below the account threshold", async () => {
    const { throttle } = setup();
    expect(await fail(throttle, 2)).toEqual({ locked: false });
    expect(await throttle.check("alice", "10.0.0.1", T0)).toEqual({ locked: false });
  });

  it("locks the account for lockBaseSeconds at the threshold, whatever the address", async () => {
    const { throttle } = setup();
    expect(await fail(throttle, 3)).toEqual({ locked: true, retryAfterSeconds: 30 });
    expect(await throttle.check("alice", "10.9.9.9", at(0))).toEqual({ locked: true, retryAfterSeconds: 30 });
    expect(await throttle.check("alice", "10.9.9.9", at(29.5))).toEqual({
      locked: true,
      retryAfterSeconds: 1,
    });
    expect(await throttle.check("alice", "10.9.9.9", at(30))).toEqual({ locked: false });
  });

  it("does not lock other accounts for one account's failures", async () => {
    const { throttle } = setup();
    await fail(throttle, 3);
    expect(await throttle.check("bob", "10.0.0.1", T0)).toEqual({ locked: false });
  });

  it("doubles the lock with each further failure, up to lockMaxSeconds", async () => {
    const { throttle } = setup();
    const locks: number[] = [];
    let now = T0;
    for (let failure = 1; failure <= 9; failure++) {
      const status = await throttle.recordFailure("alice", "10.0.0.1", now);
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
    await throttle.recordFailure("alice", "10.0.0.2", at(100));
    expect(await throttle.check("alice", "10.0.0.1", at(100))).toEqual({
      locked: true,
      retryAfterSeconds: 60,
    });
    expect(await throttle.check("alice", "10.0.0.1", at(160))).toEqual({ locked: false });
  });

  it("resets the account count on success (NIST SHOULD, checklist C.22) but not the address count", async () => {
    const { throttle } = setup({ ...POLICY, maxAddressFailures: 4 });
    await fail(throttle, 2, "alice");
    await throttle.recordSuccess("alice");
    await fail(throttle, 2, "alice");
    // Without the reset alice would have 4 >= 3 failures and be locked from any address.
    expect(await throttle.check("alice", "10.9.9.9", T0)).toEqual({ locked: false });
    // The address saw 4 failures in all: locked although alice's own count restarted.
    expect(await throttle.check("carol", "10.0.0.1", T0)).toEqual({ locked: true, retryAfterSeconds: 30 });
  });

  it("locks a client address spraying many accounts (checklist C.24)", async () => {
    const { throttle } = setup();
    for (let i = 0; i < 10; i++) await throttle.recordFailure(`user${i}`, "203.0.113.7", T0);
    expect(await throttle.check("never-tried", "203.0.113.7", T0)).toEqual({
      locked: true,
      retryAfterSeconds: 30,
    });
    expect(await throttle.check("never-tried", "198.51.100.1", T0)).toEqual({ locked: false });
  });

  it("forgets failures after the failure window", async () => {
    const { throttle } = setup();
    await fail(throttle, 2);
    await throttle.recordFailure("alice", "10.0.0.1", at(3600));
    expect(await throttle.check("alice", "10.0.0.1", at(3600))).toEqual({ locked: false });
  });

  it("keeps a counter at least as long as the longest lock", async () => {
    const { throttle } = setup({ ...POLICY, failureWindowSeconds: 10, lockMaxSeconds: 600 });
    let now = T0;
    for (let i = 0; i < 8; i++) {
      const status = await throttle.recordFailure("alice", "10.0.0.1", now);
      if (status.locked) now += status.retryAfterSeconds * 1000;
    }
    const status = await throttle.check("alice", "10.0.0.1", now - 1000);
    expect(status.locked).toBe(true);
  });

  it("never stores the account name in clear (keys are hashed)", async () => {
    const { throttle, keys } = setup();
    await fail(throttle, 1, "alice@example.com");
    await throttle.check("alice@example.com", "10.0.0.1", T0);
    await throttle.recordSuccess("alice@example.com");
    expect(keys.length).toBeGreaterThan(0);
    for (const key of keys) expect(key).not.toContain("alice");
  });

  it("keeps account and address counters apart when an account looks like an address", async () => {
    const { throttle } = setup({ ...POLICY, maxAddressFailures: 3 });
    await fail(throttle, 2, "10.0.0.1", "10.0.0.1");
    expect(await throttle.check("someone", "10.0.0.1", T0)).toEqual({ locked: false });
  });
});
