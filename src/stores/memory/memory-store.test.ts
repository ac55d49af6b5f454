import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ConfigurationError } from "../../core/errors.js";
import {
  defineCounterStorageTests,
  defineFactorStorageTests,
  defineOneTimeTokenStorageTests,
  defineRememberTokenStorageTests,
  defineSessionStorageTests,
  defineStoreConformanceTests,
  defineStoreMaintenanceTests,
} from "../../testing/store-suite.js";
import { MemoryStore } from "./index.js";

defineStoreConformanceTests({
  name: "MemoryStore",
  createStore: () => new MemoryStore(),
  describe,
  it,
  beforeEach,
  afterEach,
});

defineOneTimeTokenStorageTests({
  name: "MemoryStore",
  createStore: () => new MemoryStore(),
  describe,
  it,
  beforeEach,
  afterEach,
});

// Each part's suite on its own, creating the store inside each test (no hooks).
for (const definePart of [
  defineSessionStorageTests,
  defineRememberTokenStorageTests,
  defineCounterStorageTests,
  defineFactorStorageTests,
  defineOneTimeTokenStorageTests,
  defineStoreMaintenanceTests,
]) {
  definePart({ name: "MemoryStore", createStore: () => new MemoryStore(), describe, it });
}

describe("MemoryStore specifics", () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it("sweeps expired records on the configured interval when sweepIntervalSeconds is set", async () => {
    vi.useFakeTimers();
    let now = 1_000;
    const store = new MemoryStore({ sweepIntervalSeconds: 60, clock: { now: () => now } });
    const session = {
      id: "s1",
      secretHash: "h",
      userId: "u1",
      fresh: true,
      createdAt: 0,
      lastSeenAt: 0,
      expiresAt: 2_000,
      absoluteExpiresAt: 2_000,
      fingerprint: "",
      userAgent: "",
      ipAddress: "",
      rememberSelector: null,
      authMethods: "",
    };
    await store.createSession(session);
    now = 5_000;
    vi.advanceTimersByTime(60_000);
    // Read with an earlier `now`: only a sweep can make it disappear.
    expect(await store.getSession("s1", 0)).toBeNull();
    await store.close();
    expect(vi.getTimerCount()).toBe(0);
  });

  it("does not sweep unless asked", async () => {
    vi.useFakeTimers();
    const store = new MemoryStore();
    expect(vi.getTimerCount()).toBe(0);
    await store.close();
  });

  it("rejects a non-positive sweepIntervalSeconds with a ConfigurationError naming the option", () => {
    expect(() => new MemoryStore({ sweepIntervalSeconds: 0 })).toThrow(ConfigurationError);
    expect(() => new MemoryStore({ sweepIntervalSeconds: Number.NaN })).toThrow(/sweepIntervalSeconds/);
  });
});
