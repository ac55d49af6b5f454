import { type SessionStore, StoreError } from "login-manager";
import { MemoryStore } from "login-manager/stores/memory";
import { afterEach, describe, expect, it } from "vitest";
import { withDeadline, withOverrides } from "../src/services.js";

const DEADLINE_MS = 20;
const SLOW_MS = 100;

const slowly = <T>(value: T) => new Promise<T>((resolve) => setTimeout(() => resolve(value), SLOW_MS));

/** A memory store whose answers all take SLOW_MS: longer than the deadline. */
function slowStore(): MemoryStore {
  const store = new MemoryStore();
  store.getSession = () => slowly(null);
  store.deleteExpired = () => slowly(3);
  store.deleteAllSessions = () => slowly(2);
  store.deleteAllRememberTokens = () => slowly(1);
  return store;
}

describe("withDeadline (the Redis store's per-operation timeout)", () => {
  let store: SessionStore | undefined;
  afterEach(async () => {
    await store?.close();
  });

  it("rejects an operation that has not settled in time as unavailable (a 503)", async () => {
    store = withDeadline(slowStore(), DEADLINE_MS, "SlowStore");
    const error = await Promise.resolve(store.getSession("x", Date.now())).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(StoreError);
    expect(error).toMatchObject({ unavailable: true });
    expect((error as Error).message).toBe(`SlowStore.getSession: no answer within ${DEADLINE_MS} ms`);
  });

  it("never cuts short the whole-store operations run outside requests: the sweep and logging everyone out", async () => {
    store = withDeadline(slowStore(), DEADLINE_MS, "SlowStore");
    await expect(store.deleteExpired(Date.now())).resolves.toBe(3);
    await expect(store.deleteAllRememberTokens()).resolves.toBe(1);
    await expect(store.deleteAllSessions()).resolves.toBe(2);
  });
});

describe("withOverrides (the test seam for manager options)", () => {
  it("merges each overridden group into the app's, keeping the group's other settings", () => {
    const settings = {
      session: { protection: "basic" as const, idleTimeoutSeconds: 900 },
      network: { trustProxyHops: 1, allowedHosts: ["app.example.com"] },
    };
    expect(
      withOverrides(settings, { session: { idleTimeoutSeconds: 60 }, throttle: { maxAccountFailures: 3 } }),
    ).toEqual({
      session: { protection: "basic", idleTimeoutSeconds: 60 },
      network: { trustProxyHops: 1, allowedHosts: ["app.example.com"] },
      throttle: { maxAccountFailures: 3 },
    });
    expect(settings.session.idleTimeoutSeconds).toBe(900);
  });

  it("replaces lists, a store and a clock whole", () => {
    const store = new MemoryStore();
    const clock = { now: () => 0 };
    const merged = withOverrides(
      {
        network: { allowedHosts: ["a.example", "b.example"] },
        clock: { now: () => 1, extra: true } as never,
      },
      { network: { allowedHosts: ["c.example"] }, store, clock },
    );
    expect(merged.network?.allowedHosts).toEqual(["c.example"]);
    expect(merged.store).toBe(store);
    expect(merged.clock).toBe(clock);
  });
});
