import assert from "node:assert/strict";
import type { FactorRecord, RememberTokenRecord, SessionRecord, SessionStore } from "../../core/store.js";
import { hashToken, randomToken } from "../../core/tokens.js";

/**
 * Options of the conformance suites ({@link defineStoreConformanceTests} and one per part of the
 * store contract). `describe`, `it` and the optional hooks are the test runner's own functions, so
 * the suites run under Vitest, Jest or `node:test` alike.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * const options: StoreConformanceOptions = { name: "MemoryStore", createStore: () => new MemoryStore(), describe, it };
 * ```
 */
export interface StoreConformanceOptions<S extends SessionStore = SessionStore> {
  /** Name of the store under test, shown in the suite title. */
  name: string;
  /**
   * Returns a fresh, empty store. Called once per test, so each test can get its own database,
   * schema or key prefix.
   */
  createStore: () => Promise<S> | S;
  /**
   * Disposes of a store after its test (drop the database, delete the keys, ...). Called after every
   * test, including the one that calls `store.close()` itself, so it must tolerate a closed store.
   * When omitted, the suite calls `store.close()` unless the test already did.
   */
  destroyStore?: (store: S) => Promise<void> | void;
  /** The runner's `describe` (Vitest, Jest, `node:test`). */
  describe: (name: string, fn: () => void) => unknown;
  /** The runner's `it` / `test`. */
  it: (name: string, fn: () => Promise<void>) => unknown;
  /**
   * The runner's `beforeEach`. When both hooks are given the store is created and destroyed in
   * them (so set-up failures are reported as hook failures); otherwise inside each test.
   */
  beforeEach?: (fn: () => Promise<void>) => unknown;
  /** The runner's `afterEach`; see {@link StoreConformanceOptions.beforeEach}. */
  afterEach?: (fn: () => Promise<void>) => unknown;
}

/**
 * The fixed instant every conformance test measures time from (2033-05-18). It lies in the future
 * so that stores which turn `expiresAt` into server-side TTLs (absolute or relative) keep the
 * records the tests expect to find. No test reads a real clock or sleeps.
 *
 * @example
 * ```ts
 * const session = await store.getSession(id, CONFORMANCE_BASE_TIME);
 * ```
 */
export const CONFORMANCE_BASE_TIME = 2_000_000_000_000;

/**
 * What a part's tests are registered with: `test` runs its body against a fresh store, and
 * `markClosed` tells the harness that the test closed the store itself.
 *
 * @example
 * ```ts
 * harness.test("close() resolves", async (store) => {
 *   harness.markClosed(store);
 *   await store.close();
 * });
 * ```
 */
export interface ConformanceHarness {
  test: (title: string, body: (store: SessionStore) => Promise<void>) => void;
  markClosed: (store: SessionStore) => void;
}

/**
 * Registers one part's tests, inside the `describe` block that is current when it runs.
 *
 * @example
 * ```ts
 * const register: RegisterPartTests = (harness) => harness.test("…", async (store) => {});
 * ```
 */
export type RegisterPartTests = (harness: ConformanceHarness) => void;

/**
 * Wraps `register` in one `describe` block titled `title`, with a fresh store from
 * `options.createStore()` per test (made and disposed of in the runner's hooks when both are given).
 *
 * @example
 * ```ts
 * defineSuite(options, `${options.name} (CounterStorage conformance)`, registerCounterStorageTests);
 * ```
 */
export function defineSuite<S extends SessionStore>(
  options: StoreConformanceOptions<S>,
  title: string,
  register: RegisterPartTests,
): void {
  const useHooks = options.beforeEach !== undefined && options.afterEach !== undefined;
  const closedByTest = new WeakSet<object>();
  let current: S | undefined;

  async function destroy(store: S): Promise<void> {
    if (options.destroyStore) {
      await options.destroyStore(store);
    } else if (!closedByTest.has(store)) {
      await store.close();
    }
  }

  const harness: ConformanceHarness = {
    test(name, body) {
      options.it(name, async () => {
        if (useHooks) {
          assert.ok(current, "createStore() did not provide a store");
          await body(current);
          return;
        }
        const store = await options.createStore();
        try {
          await body(store);
        } finally {
          await destroy(store);
        }
      });
    },
    markClosed(store) {
      closedByTest.add(store);
    },
  };

  options.describe(title, () => {
    if (useHooks) {
      options.beforeEach?.(async () => {
        current = await options.createStore();
      });
      options.afterEach?.(async () => {
        const store = current;
        current = undefined;
        if (store) await destroy(store);
      });
    }
    register(harness);
  });
}

/** {@link CONFORMANCE_BASE_TIME}, short. @example `await store.getSession(id, T0)` */
export const T0 = CONFORMANCE_BASE_TIME;
/** One minute in milliseconds. @example `T0 + MINUTE` */
export const MINUTE = 60_000;
/** One hour in milliseconds. @example `T0 + HOUR` */
export const HOUR = 60 * MINUTE;
/** One day in milliseconds. @example `T0 + DAY` */
export const DAY = 24 * HOUR;

/**
 * A user id no other test uses.
 *
 * @example
 * ```ts
 * const session = makeSession({ userId: newUserId() });
 * ```
 */
export function newUserId(): string {
  return `user-${randomToken()}`;
}

/**
 * A fresh SHA-256 hash, as stores keep for secrets and validators.
 *
 * @example
 * ```ts
 * const token = makeToken({ previousValidatorHash: newHash() });
 * ```
 */
export function newHash(): string {
  return hashToken(randomToken());
}

/**
 * A counter key no other test uses, with the given prefix.
 *
 * @example
 * ```ts
 * await store.incrementCounter(newCounterKey("address"), T0, HOUR);
 * ```
 */
export function newCounterKey(prefix = "account"): string {
  return `${prefix}:${randomToken()}`;
}

/**
 * A valid session of a new user, live from {@link T0} for an hour, with `overrides` applied.
 *
 * @example
 * ```ts
 * await store.createSession(makeSession({ userId, expiresAt: T0 + DAY }));
 * ```
 */
export function makeSession(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomToken(),
    secretHash: newHash(),
    userId: newUserId(),
    fresh: true,
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + HOUR,
    absoluteExpiresAt: T0 + DAY,
    fingerprint: "",
    userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    ipAddress: "127.0.0.1",
    rememberSelector: null,
    authMethods: `pwd:${T0}`,
    ...overrides,
  };
}

/**
 * A valid, never rotated remember-me token of a new user, live for 30 days from {@link T0}.
 *
 * @example
 * ```ts
 * await store.createRememberToken(makeToken({ userId }));
 * ```
 */
export function makeToken(overrides: Partial<RememberTokenRecord> = {}): RememberTokenRecord {
  return {
    selector: randomToken(),
    validatorHash: newHash(),
    previousValidatorHash: null,
    rotatedAt: T0,
    rotatedBy: hashToken(`client ${randomToken()}`),
    userId: newUserId(),
    createdAt: T0,
    expiresAt: T0 + 30 * DAY,
    ...overrides,
  };
}

/**
 * A never used second factor of a new user, created at {@link T0}: a recovery code unless
 * `overrides` says otherwise.
 *
 * @example
 * ```ts
 * await store.createFactor(makeFactor({ userId, kind: "passkey", label: "Laptop" }));
 * ```
 */
export function makeFactor(overrides: Partial<FactorRecord> = {}): FactorRecord {
  return {
    kind: "recovery-code",
    id: newHash(),
    userId: newUserId(),
    label: "",
    data: "",
    counter: 0,
    createdAt: T0,
    lastUsedAt: null,
    ...overrides,
  };
}

/**
 * Asserts a remember-me token is gone: not found, and a swap expecting its own validator fails.
 *
 * @example
 * ```ts
 * await store.deleteRememberToken(token.selector);
 * await assertRememberTokenGone(store, token);
 * ```
 */
export async function assertRememberTokenGone(
  store: SessionStore,
  token: RememberTokenRecord,
): Promise<void> {
  assert.equal(await store.getRememberToken(token.selector, T0), null);
  assert.equal(
    await store.swapRememberValidator(token.selector, token.validatorHash, {
      validatorHash: newHash(),
      previousValidatorHash: token.validatorHash,
      rotatedAt: T0,
      rotatedBy: "",
    }),
    false,
  );
  assert.equal(await store.getRememberToken(token.selector, T0), null, "a failed swap created the token");
}
