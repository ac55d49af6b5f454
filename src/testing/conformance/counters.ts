import assert from "node:assert/strict";
import type { CounterRecord, SessionStore } from "../../core/store.js";
import {
  type ConformanceHarness,
  DAY,
  defineSuite,
  HOUR,
  MINUTE,
  newCounterKey,
  type StoreConformanceOptions,
  T0,
} from "./shared.js";

/**
 * Registers the tests of the counter part (`CounterStorage`) in the current `describe` block.
 * {@link defineCounterStorageTests} and `defineStoreConformanceTests` call it.
 *
 * @example
 * ```ts
 * describe("counters", () => registerCounterStorageTests(harness));
 * ```
 */
export function registerCounterStorageTests({ test }: ConformanceHarness): void {
  registerIncrementTests(test);
  registerReadDeleteTests(test);
}

/**
 * Registers the conformance tests of the counter part of the store contract (`incrementCounter`,
 * `getCounter`, `deleteCounter`): one `describe` block named after the store, a fresh store per test.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * import { defineCounterStorageTests } from "login-manager/testing";
 *
 * defineCounterStorageTests({ name: "MyStore", createStore: () => new MyStore(), describe, it });
 * ```
 */
export function defineCounterStorageTests<S extends SessionStore>(options: StoreConformanceOptions<S>): void {
  defineSuite(options, `${options.name} (CounterStorage conformance)`, registerCounterStorageTests);
}

type Test = ConformanceHarness["test"];

function registerIncrementTests(test: Test): void {
  test("incrementCounter on a missing key starts at 1 with firstAt and lastAt at now and expiresAt now + ttlMs", async (store) => {
    const key = newCounterKey();
    const expected: CounterRecord = { key, count: 1, firstAt: T0, lastAt: T0, expiresAt: T0 + HOUR };
    assert.deepStrictEqual(await store.incrementCounter(key, T0, HOUR), expected);
    assert.deepStrictEqual(await store.getCounter(key, T0), expected);
  });

  test("incrementCounter accumulates: count grows, firstAt stays, lastAt and expiresAt move", async (store) => {
    const key = newCounterKey();
    await store.incrementCounter(key, T0, HOUR);
    assert.deepStrictEqual(await store.incrementCounter(key, T0 + MINUTE, HOUR), {
      key,
      count: 2,
      firstAt: T0,
      lastAt: T0 + MINUTE,
      expiresAt: T0 + MINUTE + HOUR,
    });
    const third = await store.incrementCounter(key, T0 + 2 * MINUTE, HOUR);
    assert.deepStrictEqual(third, {
      key,
      count: 3,
      firstAt: T0,
      lastAt: T0 + 2 * MINUTE,
      expiresAt: T0 + 2 * MINUTE + HOUR,
    });
    assert.deepStrictEqual(await store.getCounter(key, T0 + 2 * MINUTE), third);
  });

  test("incrementCounter keeps the existing expiresAt when now + ttlMs is earlier (max of both)", async (store) => {
    const key = newCounterKey();
    await store.incrementCounter(key, T0, DAY);
    const record = await store.incrementCounter(key, T0 + MINUTE, HOUR);
    assert.equal(record.count, 2);
    assert.equal(record.firstAt, T0);
    assert.equal(record.lastAt, T0 + MINUTE);
    assert.equal(record.expiresAt, T0 + DAY);
    assert.equal((await store.getCounter(key, T0 + 2 * HOUR))?.count, 2);
  });

  test("incrementCounter on a counter expired at now starts again from 1 with firstAt = now", async (store) => {
    const key = newCounterKey();
    await store.incrementCounter(key, T0, HOUR);
    await store.incrementCounter(key, T0 + 1, HOUR - 1);
    const restarted: CounterRecord = {
      key,
      count: 1,
      firstAt: T0 + HOUR,
      lastAt: T0 + HOUR,
      expiresAt: T0 + HOUR + MINUTE,
    };
    assert.deepStrictEqual(await store.incrementCounter(key, T0 + HOUR, MINUTE), restarted);
    assert.deepStrictEqual(await store.getCounter(key, T0 + HOUR), restarted);

    const later = T0 + 5 * HOUR;
    assert.deepStrictEqual(await store.incrementCounter(key, later, MINUTE), {
      key,
      count: 1,
      firstAt: later,
      lastAt: later,
      expiresAt: later + MINUTE,
    });
  });

  test("50 concurrent incrementCounter on one key count to 50, each caller seeing a distinct count", async (store) => {
    const key = newCounterKey();
    const records = await Promise.all(
      Array.from({ length: 50 }, (_, i) => store.incrementCounter(key, T0 + i, HOUR)),
    );
    assert.deepStrictEqual(
      records.map((record) => record.count).sort((a, b) => a - b),
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    const final = await store.getCounter(key, T0 + 50);
    assert.ok(final);
    assert.equal(final.count, 50);
    assert.ok(final.firstAt >= T0 && final.firstAt <= T0 + 49);
    assert.equal(final.expiresAt, T0 + 49 + HOUR);
  });
}

function registerReadDeleteTests(test: Test): void {
  test("getCounter resolves null for a missing key and at and after expiresAt", async (store) => {
    const key = newCounterKey();
    assert.equal(await store.getCounter(key, T0), null);
    const record = await store.incrementCounter(key, T0, HOUR);
    assert.deepStrictEqual(await store.getCounter(key, T0 + HOUR - 1), record);
    assert.equal(await store.getCounter(key, T0 + HOUR), null);
    assert.equal(await store.getCounter(key, T0 + DAY), null);
  });

  test("counters are independent per key", async (store) => {
    const a = newCounterKey("account");
    const b = newCounterKey("address");
    const c = newCounterKey("epoch");
    await store.incrementCounter(a, T0, HOUR);
    await store.incrementCounter(a, T0, HOUR);
    await store.incrementCounter(b, T0 + 1, HOUR);
    await store.incrementCounter(c, T0 + 1, 400 * DAY);
    assert.equal((await store.getCounter(a, T0 + 1))?.count, 2);
    assert.equal((await store.getCounter(b, T0 + 1))?.count, 1);
    await store.deleteCounter(a);
    assert.equal(await store.getCounter(a, T0 + 1), null);
    assert.equal((await store.getCounter(b, T0 + 1))?.count, 1);
    assert.equal((await store.getCounter(c, T0 + 1))?.count, 1);
  });

  test("mutating a CounterRecord returned by incrementCounter or getCounter does not change the store", async (store) => {
    const key = newCounterKey();
    const record = await store.incrementCounter(key, T0, HOUR);
    const copy = structuredClone(record);
    record.count = 99;
    record.firstAt = T0 - DAY;
    const fetched = await store.getCounter(key, T0);
    assert.deepStrictEqual(fetched, copy);
    assert.ok(fetched);
    fetched.count = 99;
    fetched.expiresAt = T0;
    assert.deepStrictEqual(await store.getCounter(key, T0), copy);
    assert.equal((await store.incrementCounter(key, T0 + 1, HOUR)).count, 2);
  });

  test("deleteCounter deletes the counter, so the next increment counts from 1; deleting a missing key resolves", async (store) => {
    const key = newCounterKey();
    await store.incrementCounter(key, T0, HOUR);
    await store.incrementCounter(key, T0, HOUR);
    await store.deleteCounter(key);
    assert.equal(await store.getCounter(key, T0), null);
    assert.deepStrictEqual(await store.incrementCounter(key, T0 + 1, HOUR), {
      key,
      count: 1,
      firstAt: T0 + 1,
      lastAt: T0 + 1,
      expiresAt: T0 + 1 + HOUR,
    });
    await store.deleteCounter(newCounterKey());
  });
}
