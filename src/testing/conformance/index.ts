import type { SessionStore } from "../../core/store.js";
import { defineCounterStorageTests, registerCounterStorageTests } from "./counters.js";
import { defineFactorStorageTests, registerFactorStorageTests } from "./factors.js";
import { defineStoreMaintenanceTests, registerStoreMaintenanceTests } from "./maintenance.js";
import { defineOneTimeTokenStorageTests, type OneTimeTokenStore } from "./one-time-tokens.js";
import { defineRememberTokenStorageTests, registerRememberTokenStorageTests } from "./remember-tokens.js";
import { defineSessionStorageTests, registerSessionStorageTests } from "./sessions.js";
import { defineSuite, type StoreConformanceOptions } from "./shared.js";

export { CONFORMANCE_BASE_TIME, type StoreConformanceOptions } from "./shared.js";
export {
  defineCounterStorageTests,
  defineFactorStorageTests,
  defineOneTimeTokenStorageTests,
  defineRememberTokenStorageTests,
  defineSessionStorageTests,
  defineStoreMaintenanceTests,
  type OneTimeTokenStore,
};

/**
 * Registers the conformance tests every {@link SessionStore} must pass: one `describe` block named
 * after the store, holding one block per part of the contract ("sessions", "remember tokens",
 * "counters", "factors", "maintenance"), with a fresh store from `createStore()` per test. Assertions
 * use `node:assert/strict`, so the suite depends on no test runner. Every test uses explicit `now`
 * values counted from {@link CONFORMANCE_BASE_TIME} and fresh random ids, users and keys. To run one
 * part alone, use `defineSessionStorageTests`, `defineRememberTokenStorageTests`,
 * `defineCounterStorageTests`, `defineFactorStorageTests` or `defineStoreMaintenanceTests` with the
 * same options; the one-time token part has its own suite, `defineOneTimeTokenStorageTests`.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * import { MemoryStore } from "login-manager/stores/memory";
 * import { defineStoreConformanceTests } from "login-manager/testing";
 *
 * defineStoreConformanceTests({ name: "MemoryStore", createStore: () => new MemoryStore(), describe, it });
 * ```
 *
 * @example
 * ```ts
 * import { afterEach, beforeEach, describe, it } from "node:test";
 * defineStoreConformanceTests({
 *   name: "SqliteStore",
 *   createStore: () => new SqliteStore({ database: ":memory:" }),
 *   describe, it, beforeEach, afterEach,
 * });
 * ```
 */
export function defineStoreConformanceTests<S extends SessionStore>(
  options: StoreConformanceOptions<S>,
): void {
  const { describe } = options;
  defineSuite(options, `${options.name} (SessionStore conformance)`, (harness) => {
    describe("sessions", () => registerSessionStorageTests(harness));
    describe("remember tokens", () => registerRememberTokenStorageTests(harness));
    describe("counters", () => registerCounterStorageTests(harness));
    describe("factors", () => registerFactorStorageTests(harness));
    describe("maintenance", () => registerStoreMaintenanceTests(harness));
  });
}
