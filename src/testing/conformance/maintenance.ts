import assert from "node:assert/strict";
import type { SessionStore } from "../../core/store.js";
import {
  type ConformanceHarness,
  DAY,
  defineSuite,
  HOUR,
  MINUTE,
  makeSession,
  makeToken,
  newCounterKey,
  newUserId,
  type StoreConformanceOptions,
  T0,
} from "./shared.js";

/**
 * Registers the tests of the housekeeping part (`StoreMaintenance`) in the current `describe`
 * block. {@link defineStoreMaintenanceTests} and `defineStoreConformanceTests` call it.
 *
 * @example
 * ```ts
 * describe("maintenance", () => registerStoreMaintenanceTests(harness));
 * ```
 */
export function registerStoreMaintenanceTests({ test, markClosed }: ConformanceHarness): void {
  test("deleteExpired removes expired sessions, tokens and counters, keeps live ones and resolves to the count", async (store) => {
    const userId = newUserId();
    const cutoff = T0 + HOUR;
    const expiredSession = makeSession({ userId, createdAt: T0 - HOUR, expiresAt: T0 + 10 * MINUTE });
    const boundarySession = makeSession({ userId, createdAt: T0 - 30 * MINUTE, expiresAt: cutoff });
    const liveSession = makeSession({ userId, createdAt: T0, expiresAt: cutoff + 1 });
    const expiredToken = makeToken({ userId, expiresAt: T0 + MINUTE });
    const boundaryToken = makeToken({ userId, expiresAt: cutoff });
    const liveToken = makeToken({ userId, expiresAt: cutoff + DAY });
    for (const session of [expiredSession, boundarySession, liveSession]) await store.createSession(session);
    for (const token of [expiredToken, boundaryToken, liveToken]) await store.createRememberToken(token);
    const expiredKey = newCounterKey("account");
    const boundaryKey = newCounterKey("address");
    const liveKey = newCounterKey("epoch");
    await store.incrementCounter(expiredKey, T0, MINUTE);
    await store.incrementCounter(boundaryKey, T0, HOUR);
    const liveCounter = await store.incrementCounter(liveKey, T0, DAY);

    assert.equal(await store.deleteExpired(cutoff), 6);

    // Read at T0, when every record was still valid: only the live ones remain.
    assert.equal(await store.getSession(expiredSession.id, T0), null);
    assert.equal(await store.getSession(boundarySession.id, T0), null);
    assert.deepStrictEqual(await store.getSession(liveSession.id, T0), liveSession);
    assert.deepStrictEqual(await store.listUserSessions(userId, T0), [liveSession]);
    assert.equal(await store.getRememberToken(expiredToken.selector, T0), null);
    assert.equal(await store.getRememberToken(boundaryToken.selector, T0), null);
    assert.deepStrictEqual(await store.getRememberToken(liveToken.selector, T0), liveToken);
    assert.equal(await store.getCounter(expiredKey, T0), null);
    assert.equal(await store.getCounter(boundaryKey, T0), null);
    assert.deepStrictEqual(await store.getCounter(liveKey, T0), liveCounter);

    // The per-user views no longer count the removed records.
    assert.equal(await store.deleteUserSessions(userId), 1);
    assert.equal(await store.deleteUserRememberTokens(userId), 1);
  });

  test("deleteExpired resolves 0 when nothing has expired, and removes nothing", async (store) => {
    const session = makeSession({ expiresAt: T0 + HOUR });
    const token = makeToken({ expiresAt: T0 + HOUR });
    const key = newCounterKey();
    await store.createSession(session);
    await store.createRememberToken(token);
    const counter = await store.incrementCounter(key, T0, HOUR);
    assert.equal(await store.deleteExpired(T0 + HOUR - 1), 0);
    assert.deepStrictEqual(await store.getSession(session.id, T0), session);
    assert.deepStrictEqual(await store.getRememberToken(token.selector, T0), token);
    assert.deepStrictEqual(await store.getCounter(key, T0), counter);
  });

  test("close() resolves", async (store) => {
    markClosed(store);
    assert.equal(await store.close(), undefined);
  });
}

/**
 * Registers the conformance tests of the housekeeping part of the store contract (`deleteExpired`,
 * `close`): one `describe` block named after the store, a fresh store per test. `deleteExpired`
 * is checked on sessions, remember-me tokens and counters, so the store needs every part.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * import { defineStoreMaintenanceTests } from "login-manager/testing";
 *
 * defineStoreMaintenanceTests({ name: "MyStore", createStore: () => new MyStore(), describe, it });
 * ```
 */
export function defineStoreMaintenanceTests<S extends SessionStore>(
  options: StoreConformanceOptions<S>,
): void {
  defineSuite(options, `${options.name} (StoreMaintenance conformance)`, registerStoreMaintenanceTests);
}
