import assert from "node:assert/strict";
import type {
  FailureRecord,
  RememberTokenRecord,
  RotateRememberResult,
  SessionRecord,
  SessionStore,
} from "../core/store.js";
import { hashToken, randomToken } from "../core/tokens.js";

/**
 * Options of {@link defineStoreConformanceTests}. `describe`, `it` and the optional hooks are the
 * test runner's own functions, so the suite runs under Vitest, Jest or `node:test` alike.
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

const T0 = CONFORMANCE_BASE_TIME;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

function newUserId(): string {
  return `user-${randomToken()}`;
}

function makeSession(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomToken(),
    secretHash: hashToken(randomToken()),
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
    ...overrides,
  };
}

function makeToken(overrides: Partial<RememberTokenRecord> = {}): RememberTokenRecord {
  return {
    selector: randomToken(),
    validatorHash: hashToken(randomToken()),
    previousValidatorHash: null,
    rotatedAt: T0,
    userId: newUserId(),
    createdAt: T0,
    expiresAt: T0 + 30 * DAY,
    ...overrides,
  };
}

function newHash(): string {
  return hashToken(randomToken());
}

function newFailureKey(): string {
  return `account:${randomToken()}`;
}

/** Asserts a remember token is gone: not found, and rotating it with its own validator is unknown. */
async function assertRememberTokenGone(store: SessionStore, token: RememberTokenRecord): Promise<void> {
  assert.equal(await store.getRememberToken(token.selector, T0), null);
  assert.deepStrictEqual(
    await store.rotateRememberToken({
      selector: token.selector,
      presentedValidatorHash: token.validatorHash,
      newValidatorHash: newHash(),
      now: T0,
      graceMs: 10_000,
    }),
    { outcome: "unknown" },
  );
}

function tokenOf(result: RotateRememberResult): RememberTokenRecord {
  assert.ok("token" in result, `expected a token in the ${result.outcome} result`);
  return result.token;
}

/**
 * Registers the conformance tests every {@link SessionStore} must pass: one `describe` block named
 * after the store, with a fresh store from `createStore()` per test. Assertions use
 * `node:assert/strict`, so the suite depends on no test runner. Every test uses explicit `now`
 * values counted from {@link CONFORMANCE_BASE_TIME} and fresh random ids, users and keys.
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
  const { describe, it } = options;
  const useHooks = options.beforeEach !== undefined && options.afterEach !== undefined;
  const closedByTest = new WeakSet<S>();
  let current: S | undefined;

  async function destroy(store: S): Promise<void> {
    if (options.destroyStore) {
      await options.destroyStore(store);
    } else if (!closedByTest.has(store)) {
      await store.close();
    }
  }

  function test(title: string, body: (store: S) => Promise<void>): void {
    it(title, async () => {
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
  }

  describe(`${options.name} (SessionStore conformance)`, () => {
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

    describe("sessions", () => {
      test("createSession then getSession returns every field unchanged", async (store) => {
        const plain = makeSession();
        const remembered = makeSession({
          fresh: false,
          createdAt: T0 - 5 * MINUTE,
          lastSeenAt: T0 - MINUTE,
          expiresAt: T0 + 2 * HOUR,
          absoluteExpiresAt: T0 + 7 * DAY,
          fingerprint: hashToken("fingerprint"),
          userAgent: "",
          ipAddress: "2001:db8::1",
          rememberSelector: randomToken(),
        });
        await store.createSession(plain);
        await store.createSession(remembered);
        assert.deepStrictEqual(await store.getSession(plain.id, T0), plain);
        assert.deepStrictEqual(await store.getSession(remembered.id, T0), remembered);
      });

      test("getSession resolves null for an unknown id", async (store) => {
        assert.equal(await store.getSession(randomToken(), T0), null);
      });

      test("getSession returns the session until just before expiresAt and null at and after it", async (store) => {
        const session = makeSession({ expiresAt: T0 + HOUR });
        await store.createSession(session);
        assert.deepStrictEqual(await store.getSession(session.id, T0 + HOUR - 1), session);
        assert.equal(await store.getSession(session.id, T0 + HOUR), null);
        assert.equal(await store.getSession(session.id, T0 + HOUR + 1), null);
        assert.equal(await store.getSession(session.id, T0 + 2 * DAY), null);
      });

      test("updateSession changes only the fields in the patch and resolves true", async (store) => {
        const session = makeSession();
        const other = makeSession({ userId: session.userId });
        await store.createSession(session);
        await store.createSession(other);

        assert.equal(
          await store.updateSession(session.id, {
            fresh: false,
            lastSeenAt: T0 + MINUTE,
            expiresAt: T0 + 3 * HOUR,
          }),
          true,
        );
        const afterFirst = { ...session, fresh: false, lastSeenAt: T0 + MINUTE, expiresAt: T0 + 3 * HOUR };
        assert.deepStrictEqual(await store.getSession(session.id, T0 + MINUTE), afterFirst);

        const selector = randomToken();
        const fingerprint = hashToken("new fingerprint");
        assert.equal(
          await store.updateSession(session.id, { fingerprint, rememberSelector: selector }),
          true,
        );
        const afterSecond = { ...afterFirst, fingerprint, rememberSelector: selector };
        assert.deepStrictEqual(await store.getSession(session.id, T0 + MINUTE), afterSecond);

        assert.equal(await store.updateSession(session.id, { rememberSelector: null, fresh: true }), true);
        assert.deepStrictEqual(await store.getSession(session.id, T0 + MINUTE), {
          ...afterSecond,
          rememberSelector: null,
          fresh: true,
        });

        assert.deepStrictEqual(await store.getSession(other.id, T0), other, "another session was changed");
      });

      test("updateSession with an empty patch resolves true and changes nothing", async (store) => {
        const session = makeSession();
        await store.createSession(session);
        assert.equal(await store.updateSession(session.id, {}), true);
        assert.deepStrictEqual(await store.getSession(session.id, T0), session);
      });

      test("updateSession of expiresAt moves the expiry later and earlier", async (store) => {
        const session = makeSession({ expiresAt: T0 + HOUR });
        await store.createSession(session);

        assert.equal(
          await store.updateSession(session.id, { lastSeenAt: T0 + HOUR - 1, expiresAt: T0 + 2 * HOUR }),
          true,
        );
        assert.equal((await store.getSession(session.id, T0 + HOUR))?.expiresAt, T0 + 2 * HOUR);
        assert.equal(await store.getSession(session.id, T0 + 2 * HOUR), null);

        assert.equal(await store.updateSession(session.id, { expiresAt: T0 + 10 * MINUTE }), true);
        assert.equal((await store.getSession(session.id, T0 + 10 * MINUTE - 1))?.expiresAt, T0 + 10 * MINUTE);
        assert.equal(await store.getSession(session.id, T0 + 10 * MINUTE), null);
      });

      test("updateSession resolves false for an unknown id and creates nothing", async (store) => {
        const id = randomToken();
        assert.equal(
          await store.updateSession(id, { fresh: false, lastSeenAt: T0, expiresAt: T0 + HOUR }),
          false,
        );
        assert.equal(await store.getSession(id, T0), null);
      });

      test("updateSession resolves false once the session was deleted", async (store) => {
        const session = makeSession();
        await store.createSession(session);
        await store.deleteSession(session.id);
        assert.equal(await store.updateSession(session.id, { fresh: false }), false);
        assert.equal(await store.getSession(session.id, T0), null);
      });

      test("mutating a record passed to createSession or returned by getSession does not change the store", async (store) => {
        const session = makeSession();
        const original = structuredClone(session);
        await store.createSession(session);
        session.userId = "mallory";
        session.expiresAt = T0 + 365 * DAY;

        const first = await store.getSession(original.id, T0);
        assert.deepStrictEqual(first, original);
        assert.ok(first);
        first.fresh = false;
        first.secretHash = "tampered";
        first.rememberSelector = "tampered";
        assert.deepStrictEqual(await store.getSession(original.id, T0), original);
      });

      test("mutating records returned by listUserSessions does not change the store", async (store) => {
        const session = makeSession();
        await store.createSession(session);
        const [listed] = await store.listUserSessions(session.userId, T0);
        assert.ok(listed);
        listed.userAgent = "tampered";
        listed.expiresAt = T0;
        assert.deepStrictEqual(await store.getSession(session.id, T0), session);
        assert.deepStrictEqual(await store.listUserSessions(session.userId, T0), [session]);
      });

      test("deleteSession resolves true when the session existed, then false", async (store) => {
        const session = makeSession();
        const other = makeSession({ userId: session.userId });
        await store.createSession(session);
        await store.createSession(other);
        assert.equal(await store.deleteSession(session.id), true);
        assert.equal(await store.getSession(session.id, T0), null);
        assert.equal(await store.deleteSession(session.id), false);
        assert.equal(await store.deleteSession(randomToken()), false);
        assert.deepStrictEqual(await store.getSession(other.id, T0), other);
        assert.deepStrictEqual(await store.listUserSessions(session.userId, T0), [other]);
      });

      test("listUserSessions returns only the user's unexpired sessions, oldest first", async (store) => {
        const userId = newUserId();
        const newest = makeSession({ userId, createdAt: T0 + 2 * MINUTE, expiresAt: T0 + HOUR });
        const oldest = makeSession({ userId, createdAt: T0 - 2 * HOUR, expiresAt: T0 + HOUR });
        const middle = makeSession({ userId, createdAt: T0 - MINUTE, expiresAt: T0 + 30 * MINUTE });
        const expired = makeSession({ userId, createdAt: T0 - 3 * HOUR, expiresAt: T0 - 1 });
        const expiresNow = makeSession({ userId, createdAt: T0 - 4 * HOUR, expiresAt: T0 });
        const otherUser = makeSession({ createdAt: T0 - 5 * HOUR });
        for (const session of [newest, expired, oldest, otherUser, expiresNow, middle]) {
          await store.createSession(session);
        }

        assert.deepStrictEqual(await store.listUserSessions(userId, T0), [oldest, middle, newest]);
        assert.deepStrictEqual(await store.listUserSessions(userId, T0 + 30 * MINUTE), [oldest, newest]);
        assert.deepStrictEqual(await store.listUserSessions(userId, T0 + HOUR), []);
        assert.deepStrictEqual(await store.listUserSessions(otherUser.userId, T0), [otherUser]);
        assert.deepStrictEqual(await store.listUserSessions(newUserId(), T0), []);
      });

      test("deleteUserSessions deletes every session of the user, resolves to the count and leaves other users alone", async (store) => {
        const userId = newUserId();
        const sessions = [0, 1, 2].map((i) => makeSession({ userId, createdAt: T0 + i }));
        const deletedEarlier = makeSession({ userId });
        const otherUser = makeSession();
        for (const session of [...sessions, deletedEarlier, otherUser]) await store.createSession(session);
        await store.deleteSession(deletedEarlier.id);

        assert.equal(await store.deleteUserSessions(userId), 3);
        for (const session of sessions) assert.equal(await store.getSession(session.id, T0), null);
        assert.deepStrictEqual(await store.listUserSessions(userId, T0), []);
        assert.deepStrictEqual(await store.getSession(otherUser.id, T0), otherUser);
        assert.deepStrictEqual(await store.listUserSessions(otherUser.userId, T0), [otherUser]);
        assert.equal(await store.deleteUserSessions(userId), 0);
      });

      test("deleteUserSessions with exceptSessionId keeps that session and resolves to the number deleted", async (store) => {
        const userId = newUserId();
        const kept = makeSession({ userId, createdAt: T0 });
        const others = [1, 2, 3].map((i) => makeSession({ userId, createdAt: T0 + i }));
        const otherUser = makeSession();
        for (const session of [kept, ...others, otherUser]) await store.createSession(session);

        assert.equal(await store.deleteUserSessions(userId, kept.id), 3);
        assert.deepStrictEqual(await store.getSession(kept.id, T0), kept);
        assert.deepStrictEqual(await store.listUserSessions(userId, T0), [kept]);
        for (const session of others) assert.equal(await store.getSession(session.id, T0), null);
        assert.deepStrictEqual(await store.getSession(otherUser.id, T0), otherUser);
        assert.equal(await store.deleteUserSessions(userId, kept.id), 0);
      });

      test("deleteUserSessions with another user's session as exceptSessionId does not spare it", async (store) => {
        const userId = newUserId();
        const mine = makeSession({ userId });
        const theirs = makeSession();
        await store.createSession(mine);
        await store.createSession(theirs);
        assert.equal(await store.deleteUserSessions(userId, theirs.id), 1);
        assert.equal(await store.getSession(mine.id, T0), null);
        assert.deepStrictEqual(await store.getSession(theirs.id, T0), theirs);
      });

      test("deleteUserSessions resolves 0 for a user without sessions", async (store) => {
        assert.equal(await store.deleteUserSessions(newUserId()), 0);
        assert.equal(await store.deleteUserSessions(newUserId(), randomToken()), 0);
      });
    });

    describe("remember tokens", () => {
      test("createRememberToken then getRememberToken returns every field unchanged", async (store) => {
        const fresh = makeToken();
        const rotated = makeToken({
          previousValidatorHash: newHash(),
          rotatedAt: T0 - MINUTE,
          createdAt: T0 - 10 * DAY,
          expiresAt: T0 + 20 * DAY,
        });
        await store.createRememberToken(fresh);
        await store.createRememberToken(rotated);
        assert.deepStrictEqual(await store.getRememberToken(fresh.selector, T0), fresh);
        assert.deepStrictEqual(await store.getRememberToken(rotated.selector, T0), rotated);
      });

      test("getRememberToken resolves null for an unknown selector", async (store) => {
        assert.equal(await store.getRememberToken(randomToken(), T0), null);
      });

      test("getRememberToken returns the token until just before expiresAt and null at and after it", async (store) => {
        const token = makeToken({ expiresAt: T0 + DAY });
        await store.createRememberToken(token);
        assert.deepStrictEqual(await store.getRememberToken(token.selector, T0 + DAY - 1), token);
        assert.equal(await store.getRememberToken(token.selector, T0 + DAY), null);
        assert.equal(await store.getRememberToken(token.selector, T0 + 2 * DAY), null);
      });

      test("mutating a token passed to createRememberToken or returned by the store does not change the store", async (store) => {
        const token = makeToken();
        const original = structuredClone(token);
        await store.createRememberToken(token);
        token.validatorHash = "tampered";

        const first = await store.getRememberToken(original.selector, T0);
        assert.deepStrictEqual(first, original);
        assert.ok(first);
        first.validatorHash = "tampered";
        first.userId = "mallory";
        assert.deepStrictEqual(await store.getRememberToken(original.selector, T0), original);

        const rotated = tokenOf(
          await store.rotateRememberToken({
            selector: original.selector,
            presentedValidatorHash: original.validatorHash,
            newValidatorHash: newHash(),
            now: T0 + MINUTE,
            graceMs: 10_000,
          }),
        );
        const stored = await store.getRememberToken(original.selector, T0 + MINUTE);
        rotated.validatorHash = "tampered";
        assert.deepStrictEqual(await store.getRememberToken(original.selector, T0 + MINUTE), stored);
      });

      test("rotateRememberToken with the current validator rotates and keeps expiresAt without newExpiresAt", async (store) => {
        const token = makeToken({ previousValidatorHash: newHash() });
        await store.createRememberToken(token);
        const next = newHash();
        const now = T0 + 5 * MINUTE;

        const result = await store.rotateRememberToken({
          selector: token.selector,
          presentedValidatorHash: token.validatorHash,
          newValidatorHash: next,
          now,
          graceMs: 10_000,
        });
        const expected: RememberTokenRecord = {
          ...token,
          validatorHash: next,
          previousValidatorHash: token.validatorHash,
          rotatedAt: now,
        };
        assert.deepStrictEqual(result, { outcome: "rotated", token: expected });
        assert.deepStrictEqual(await store.getRememberToken(token.selector, now), expected);
      });

      test("rotateRememberToken sets expiresAt to newExpiresAt when given", async (store) => {
        const token = makeToken({ expiresAt: T0 + DAY });
        await store.createRememberToken(token);
        const next = newHash();
        const now = T0 + HOUR;
        const newExpiresAt = now + 30 * DAY;

        const result = await store.rotateRememberToken({
          selector: token.selector,
          presentedValidatorHash: token.validatorHash,
          newValidatorHash: next,
          now,
          graceMs: 10_000,
          newExpiresAt,
        });
        const expected: RememberTokenRecord = {
          ...token,
          validatorHash: next,
          previousValidatorHash: token.validatorHash,
          rotatedAt: now,
          expiresAt: newExpiresAt,
        };
        assert.deepStrictEqual(result, { outcome: "rotated", token: expected });
        assert.deepStrictEqual(await store.getRememberToken(token.selector, T0 + 2 * DAY), expected);
        assert.equal(await store.getRememberToken(token.selector, newExpiresAt), null);
      });

      test("rotateRememberToken with the previous validator within graceMs (boundary included) is grace and changes nothing", async (store) => {
        const token = makeToken();
        await store.createRememberToken(token);
        const next = newHash();
        const rotatedAt = T0 + MINUTE;
        await store.rotateRememberToken({
          selector: token.selector,
          presentedValidatorHash: token.validatorHash,
          newValidatorHash: next,
          now: rotatedAt,
          graceMs: 10_000,
        });
        const stored = await store.getRememberToken(token.selector, rotatedAt);
        assert.ok(stored);

        for (const now of [rotatedAt, rotatedAt + 5_000, rotatedAt + 10_000]) {
          const result = await store.rotateRememberToken({
            selector: token.selector,
            presentedValidatorHash: token.validatorHash,
            newValidatorHash: newHash(),
            now,
            graceMs: 10_000,
            newExpiresAt: now + 60 * DAY,
          });
          assert.deepStrictEqual(
            result,
            { outcome: "grace", token: stored },
            `at rotatedAt + ${now - rotatedAt}`,
          );
          assert.deepStrictEqual(await store.getRememberToken(token.selector, now), stored);
        }
      });

      test("rotateRememberToken with the previous validator after graceMs is a mismatch and changes nothing", async (store) => {
        const token = makeToken();
        await store.createRememberToken(token);
        const rotatedAt = T0 + MINUTE;
        await store.rotateRememberToken({
          selector: token.selector,
          presentedValidatorHash: token.validatorHash,
          newValidatorHash: newHash(),
          now: rotatedAt,
          graceMs: 10_000,
        });
        const stored = await store.getRememberToken(token.selector, rotatedAt);
        assert.ok(stored);

        for (const now of [rotatedAt + 10_001, rotatedAt + HOUR]) {
          const result = await store.rotateRememberToken({
            selector: token.selector,
            presentedValidatorHash: token.validatorHash,
            newValidatorHash: newHash(),
            now,
            graceMs: 10_000,
          });
          assert.deepStrictEqual(
            result,
            { outcome: "mismatch", token: stored },
            `at rotatedAt + ${now - rotatedAt}`,
          );
          assert.deepStrictEqual(await store.getRememberToken(token.selector, now), stored);
        }
      });

      test("rotateRememberToken with graceMs 0 accepts the previous validator only at the rotation instant", async (store) => {
        const token = makeToken();
        await store.createRememberToken(token);
        await store.rotateRememberToken({
          selector: token.selector,
          presentedValidatorHash: token.validatorHash,
          newValidatorHash: newHash(),
          now: T0,
          graceMs: 0,
        });
        const input = { selector: token.selector, presentedValidatorHash: token.validatorHash, graceMs: 0 };
        assert.equal(
          (await store.rotateRememberToken({ ...input, newValidatorHash: newHash(), now: T0 })).outcome,
          "grace",
        );
        assert.equal(
          (await store.rotateRememberToken({ ...input, newValidatorHash: newHash(), now: T0 + 1 })).outcome,
          "mismatch",
        );
      });

      test("rotateRememberToken with an unknown validator is a mismatch carrying the token and changes nothing", async (store) => {
        const token = makeToken({ previousValidatorHash: newHash(), rotatedAt: T0 });
        const neverRotated = makeToken({ userId: token.userId });
        await store.createRememberToken(token);
        await store.createRememberToken(neverRotated);

        for (const record of [token, neverRotated]) {
          const result = await store.rotateRememberToken({
            selector: record.selector,
            presentedValidatorHash: newHash(),
            newValidatorHash: newHash(),
            now: T0 + 1,
            graceMs: 10_000,
            newExpiresAt: T0 + 60 * DAY,
          });
          assert.deepStrictEqual(result, { outcome: "mismatch", token: record });
          assert.equal(tokenOf(result).userId, token.userId);
          assert.deepStrictEqual(await store.getRememberToken(record.selector, T0 + 1), record);
        }
      });

      test("rotateRememberToken after two rotations treats the first validator as a mismatch", async (store) => {
        const token = makeToken();
        await store.createRememberToken(token);
        const second = newHash();
        const third = newHash();
        const base = { selector: token.selector, graceMs: 10_000 };
        const r1 = await store.rotateRememberToken({
          ...base,
          presentedValidatorHash: token.validatorHash,
          newValidatorHash: second,
          now: T0 + 1,
        });
        assert.equal(r1.outcome, "rotated");
        const r2 = await store.rotateRememberToken({
          ...base,
          presentedValidatorHash: second,
          newValidatorHash: third,
          now: T0 + 2,
        });
        assert.equal(r2.outcome, "rotated");
        assert.equal(tokenOf(r2).previousValidatorHash, second);
        assert.equal(tokenOf(r2).validatorHash, third);

        const r3 = await store.rotateRememberToken({
          ...base,
          presentedValidatorHash: token.validatorHash,
          newValidatorHash: newHash(),
          now: T0 + 3,
        });
        assert.equal(r3.outcome, "mismatch");
        assert.equal(tokenOf(r3).validatorHash, third);
      });

      test("rotateRememberToken on an unknown selector is unknown", async (store) => {
        const result = await store.rotateRememberToken({
          selector: randomToken(),
          presentedValidatorHash: newHash(),
          newValidatorHash: newHash(),
          now: T0,
          graceMs: 10_000,
        });
        assert.deepStrictEqual(result, { outcome: "unknown" });
      });

      test("rotateRememberToken on a token expired at now is unknown and changes nothing, even with the right validator", async (store) => {
        const token = makeToken({ expiresAt: T0 + DAY });
        await store.createRememberToken(token);
        for (const now of [T0 + DAY, T0 + 2 * DAY]) {
          const result = await store.rotateRememberToken({
            selector: token.selector,
            presentedValidatorHash: token.validatorHash,
            newValidatorHash: newHash(),
            now,
            graceMs: 10_000,
            newExpiresAt: now + 30 * DAY,
          });
          assert.deepStrictEqual(result, { outcome: "unknown" });
        }
        assert.deepStrictEqual(await store.getRememberToken(token.selector, T0), token);
      });

      test("20 concurrent rotations presenting the same validator: exactly one rotated, the others grace, the winner's hash stored", async (store) => {
        const token = makeToken();
        await store.createRememberToken(token);
        const now = T0 + MINUTE;
        const candidates = Array.from({ length: 20 }, () => newHash());

        const results = await Promise.all(
          candidates.map((newValidatorHash) =>
            store.rotateRememberToken({
              selector: token.selector,
              presentedValidatorHash: token.validatorHash,
              newValidatorHash,
              now,
              graceMs: 10_000,
            }),
          ),
        );

        const winners = results.flatMap((result, index) => (result.outcome === "rotated" ? [index] : []));
        assert.equal(winners.length, 1, `expected exactly one "rotated", got ${winners.length}`);
        const winner = candidates[winners[0] ?? -1];
        assert.ok(winner);
        assert.deepStrictEqual(
          results.map((result) => result.outcome).filter((outcome) => outcome !== "rotated"),
          Array.from({ length: 19 }, () => "grace"),
        );

        const stored = await store.getRememberToken(token.selector, now);
        assert.deepStrictEqual(stored, {
          ...token,
          validatorHash: winner,
          previousValidatorHash: token.validatorHash,
          rotatedAt: now,
        });
        for (const result of results) assert.deepStrictEqual(tokenOf(result), stored);
      });

      test("deleteRememberToken resolves true when the token existed, then false", async (store) => {
        const token = makeToken();
        const other = makeToken({ userId: token.userId });
        await store.createRememberToken(token);
        await store.createRememberToken(other);
        assert.equal(await store.deleteRememberToken(token.selector), true);
        await assertRememberTokenGone(store, token);
        assert.equal(await store.deleteRememberToken(token.selector), false);
        assert.equal(await store.deleteRememberToken(randomToken()), false);
        assert.deepStrictEqual(await store.getRememberToken(other.selector, T0), other);
      });

      test("deleteUserRememberTokens deletes only that user's tokens and resolves to the count", async (store) => {
        const userId = newUserId();
        const tokens = [0, 1, 2].map(() => makeToken({ userId }));
        const deletedEarlier = makeToken({ userId });
        const otherUser = makeToken();
        for (const token of [...tokens, deletedEarlier, otherUser]) await store.createRememberToken(token);
        await store.deleteRememberToken(deletedEarlier.selector);

        assert.equal(await store.deleteUserRememberTokens(userId), 3);
        for (const token of tokens) assert.equal(await store.getRememberToken(token.selector, T0), null);
        assert.deepStrictEqual(await store.getRememberToken(otherUser.selector, T0), otherUser);
        assert.equal(await store.deleteUserRememberTokens(userId), 0);
        assert.equal(await store.deleteUserRememberTokens(newUserId()), 0);
      });
    });

    describe("failure counters", () => {
      test("incrementFailures on a missing key starts at 1 with first and last failure at now and expiresAt now + ttlMs", async (store) => {
        const key = newFailureKey();
        const expected: FailureRecord = {
          key,
          count: 1,
          firstFailureAt: T0,
          lastFailureAt: T0,
          expiresAt: T0 + HOUR,
        };
        assert.deepStrictEqual(await store.incrementFailures(key, T0, HOUR), expected);
        assert.deepStrictEqual(await store.getFailures(key, T0), expected);
      });

      test("incrementFailures accumulates: count grows, firstFailureAt stays, lastFailureAt and expiresAt move", async (store) => {
        const key = newFailureKey();
        await store.incrementFailures(key, T0, HOUR);
        assert.deepStrictEqual(await store.incrementFailures(key, T0 + MINUTE, HOUR), {
          key,
          count: 2,
          firstFailureAt: T0,
          lastFailureAt: T0 + MINUTE,
          expiresAt: T0 + MINUTE + HOUR,
        });
        const third = await store.incrementFailures(key, T0 + 2 * MINUTE, HOUR);
        assert.deepStrictEqual(third, {
          key,
          count: 3,
          firstFailureAt: T0,
          lastFailureAt: T0 + 2 * MINUTE,
          expiresAt: T0 + 2 * MINUTE + HOUR,
        });
        assert.deepStrictEqual(await store.getFailures(key, T0 + 2 * MINUTE), third);
      });

      test("incrementFailures keeps the existing expiresAt when now + ttlMs is earlier (max of both)", async (store) => {
        const key = newFailureKey();
        await store.incrementFailures(key, T0, DAY);
        const record = await store.incrementFailures(key, T0 + MINUTE, HOUR);
        assert.equal(record.count, 2);
        assert.equal(record.lastFailureAt, T0 + MINUTE);
        assert.equal(record.expiresAt, T0 + DAY);
        assert.equal((await store.getFailures(key, T0 + 2 * HOUR))?.count, 2);
      });

      test("incrementFailures on a counter expired at now starts again from 1", async (store) => {
        const key = newFailureKey();
        await store.incrementFailures(key, T0, HOUR);
        await store.incrementFailures(key, T0 + 1, HOUR - 1);
        const restarted: FailureRecord = {
          key,
          count: 1,
          firstFailureAt: T0 + HOUR,
          lastFailureAt: T0 + HOUR,
          expiresAt: T0 + HOUR + MINUTE,
        };
        assert.deepStrictEqual(await store.incrementFailures(key, T0 + HOUR, MINUTE), restarted);
        assert.deepStrictEqual(await store.getFailures(key, T0 + HOUR), restarted);

        const later = T0 + 5 * HOUR;
        assert.deepStrictEqual(await store.incrementFailures(key, later, MINUTE), {
          key,
          count: 1,
          firstFailureAt: later,
          lastFailureAt: later,
          expiresAt: later + MINUTE,
        });
      });

      test("getFailures resolves null for a missing key and at and after expiresAt", async (store) => {
        const key = newFailureKey();
        assert.equal(await store.getFailures(key, T0), null);
        const record = await store.incrementFailures(key, T0, HOUR);
        assert.deepStrictEqual(await store.getFailures(key, T0 + HOUR - 1), record);
        assert.equal(await store.getFailures(key, T0 + HOUR), null);
        assert.equal(await store.getFailures(key, T0 + DAY), null);
      });

      test("counters are independent per key", async (store) => {
        const a = newFailureKey();
        const b = `ip:${randomToken()}`;
        await store.incrementFailures(a, T0, HOUR);
        await store.incrementFailures(a, T0, HOUR);
        await store.incrementFailures(b, T0 + 1, HOUR);
        assert.equal((await store.getFailures(a, T0 + 1))?.count, 2);
        assert.equal((await store.getFailures(b, T0 + 1))?.count, 1);
        await store.resetFailures(a);
        assert.equal(await store.getFailures(a, T0 + 1), null);
        assert.equal((await store.getFailures(b, T0 + 1))?.count, 1);
      });

      test("mutating a returned FailureRecord does not change the store", async (store) => {
        const key = newFailureKey();
        const record = await store.incrementFailures(key, T0, HOUR);
        const copy = structuredClone(record);
        record.count = 99;
        const fetched = await store.getFailures(key, T0);
        assert.deepStrictEqual(fetched, copy);
        assert.ok(fetched);
        fetched.count = 99;
        fetched.expiresAt = T0;
        assert.deepStrictEqual(await store.getFailures(key, T0), copy);
      });

      test("resetFailures deletes the counter, so the next failure counts from 1; resetting a missing key resolves", async (store) => {
        const key = newFailureKey();
        await store.incrementFailures(key, T0, HOUR);
        await store.incrementFailures(key, T0, HOUR);
        await store.resetFailures(key);
        assert.equal(await store.getFailures(key, T0), null);
        assert.equal((await store.incrementFailures(key, T0 + 1, HOUR)).count, 1);
        await store.resetFailures(newFailureKey());
      });

      test("50 concurrent incrementFailures on one key count to 50, each caller seeing a distinct count", async (store) => {
        const key = newFailureKey();
        const records = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.incrementFailures(key, T0 + i, HOUR)),
        );
        assert.deepStrictEqual(
          records.map((record) => record.count).sort((a, b) => a - b),
          Array.from({ length: 50 }, (_, i) => i + 1),
        );
        const final = await store.getFailures(key, T0 + 50);
        assert.ok(final);
        assert.equal(final.count, 50);
        assert.ok(final.firstFailureAt >= T0 && final.firstFailureAt <= T0 + 49);
        assert.equal(final.expiresAt, T0 + 49 + HOUR);
      });
    });

    describe("deleteExpired", () => {
      test("deleteExpired removes expired sessions, tokens and counters, keeps live ones and resolves to the count", async (store) => {
        const userId = newUserId();
        const cutoff = T0 + HOUR;
        const expiredSession = makeSession({ userId, createdAt: T0 - HOUR, expiresAt: T0 + 10 * MINUTE });
        const boundarySession = makeSession({ userId, createdAt: T0 - 30 * MINUTE, expiresAt: cutoff });
        const liveSession = makeSession({ userId, createdAt: T0, expiresAt: cutoff + 1 });
        const expiredToken = makeToken({ userId, expiresAt: T0 + MINUTE });
        const boundaryToken = makeToken({ userId, expiresAt: cutoff });
        const liveToken = makeToken({ userId, expiresAt: cutoff + DAY });
        for (const session of [expiredSession, boundarySession, liveSession])
          await store.createSession(session);
        for (const token of [expiredToken, boundaryToken, liveToken]) await store.createRememberToken(token);
        const expiredKey = newFailureKey();
        const boundaryKey = newFailureKey();
        const liveKey = newFailureKey();
        await store.incrementFailures(expiredKey, T0, MINUTE);
        await store.incrementFailures(boundaryKey, T0, HOUR);
        const liveCounter = await store.incrementFailures(liveKey, T0, DAY);

        assert.equal(await store.deleteExpired(cutoff), 6);

        // Read at T0, when every record was still valid: only the live ones remain.
        assert.equal(await store.getSession(expiredSession.id, T0), null);
        assert.equal(await store.getSession(boundarySession.id, T0), null);
        assert.deepStrictEqual(await store.getSession(liveSession.id, T0), liveSession);
        assert.deepStrictEqual(await store.listUserSessions(userId, T0), [liveSession]);
        assert.equal(await store.getRememberToken(expiredToken.selector, T0), null);
        assert.equal(await store.getRememberToken(boundaryToken.selector, T0), null);
        assert.deepStrictEqual(await store.getRememberToken(liveToken.selector, T0), liveToken);
        assert.equal(await store.getFailures(expiredKey, T0), null);
        assert.equal(await store.getFailures(boundaryKey, T0), null);
        assert.deepStrictEqual(await store.getFailures(liveKey, T0), liveCounter);

        // The per-user views no longer count the removed records.
        assert.equal(await store.deleteUserSessions(userId), 1);
        assert.equal(await store.deleteUserRememberTokens(userId), 1);
      });

      test("deleteExpired resolves 0 when nothing has expired, and removes nothing", async (store) => {
        const session = makeSession({ expiresAt: T0 + HOUR });
        const token = makeToken({ expiresAt: T0 + HOUR });
        const key = newFailureKey();
        await store.createSession(session);
        await store.createRememberToken(token);
        await store.incrementFailures(key, T0, HOUR);
        assert.equal(await store.deleteExpired(T0 + HOUR - 1), 0);
        assert.deepStrictEqual(await store.getSession(session.id, T0), session);
        assert.deepStrictEqual(await store.getRememberToken(token.selector, T0), token);
        assert.equal((await store.getFailures(key, T0))?.count, 1);
      });
    });

    describe("deleteAllSessions", () => {
      test("deleteAllSessions deletes every session and remember token of every user and resolves to the counts", async (store) => {
        const alice = newUserId();
        // A user id with separators, and one ending like a key suffix, as a key-value store might build names from them.
        const bob = `team:ops:${newUserId()}:sessions`;
        const sessions = [
          makeSession({ userId: alice, createdAt: T0 }),
          makeSession({ userId: alice, createdAt: T0 + 1, rememberSelector: randomToken() }),
          makeSession({ userId: alice, createdAt: T0 + 2, fresh: false }),
          makeSession({ userId: bob, createdAt: T0 }),
          makeSession({ userId: bob, createdAt: T0 + 1, expiresAt: T0 + 7 * DAY }),
        ];
        const tokens = [
          makeToken({ userId: alice }),
          makeToken({ userId: alice }),
          makeToken({ userId: bob }),
        ];
        const deletedEarlier = makeSession({ userId: alice });
        for (const session of [...sessions, deletedEarlier]) await store.createSession(session);
        for (const token of tokens) await store.createRememberToken(token);
        await store.deleteSession(deletedEarlier.id);

        assert.deepStrictEqual(await store.deleteAllSessions(), { sessions: 5, rememberTokens: 3 });

        for (const session of sessions) assert.equal(await store.getSession(session.id, T0), null);
        for (const token of tokens) await assertRememberTokenGone(store, token);
        for (const userId of [alice, bob]) {
          assert.deepStrictEqual(await store.listUserSessions(userId, T0), []);
          assert.equal(await store.deleteUserSessions(userId), 0);
          assert.equal(await store.deleteUserRememberTokens(userId), 0);
        }
        assert.deepStrictEqual(await store.deleteAllSessions(), { sessions: 0, rememberTokens: 0 });
      });

      test("deleteAllSessions keeps every login failure counter, so locks stay in force", async (store) => {
        const account = newFailureKey();
        const address = `ip:${randomToken()}`;
        for (let i = 0; i < 5; i++) await store.incrementFailures(account, T0 + i, HOUR);
        const accountBefore = await store.getFailures(account, T0 + 5);
        const addressBefore = await store.incrementFailures(address, T0, DAY);
        await store.createSession(makeSession());
        await store.createRememberToken(makeToken());

        assert.deepStrictEqual(await store.deleteAllSessions(), { sessions: 1, rememberTokens: 1 });

        assert.deepStrictEqual(await store.getFailures(account, T0 + 5), accountBefore);
        assert.deepStrictEqual(await store.getFailures(address, T0 + 5), addressBefore);
        assert.equal((await store.incrementFailures(account, T0 + 6, HOUR)).count, 6);
      });

      test("deleteAllSessions on an empty store resolves to zero counts", async (store) => {
        assert.deepStrictEqual(await store.deleteAllSessions(), { sessions: 0, rememberTokens: 0 });
      });

      test("after deleteAllSessions new sessions and tokens are created, listed and revoked per user as before", async (store) => {
        const userId = newUserId();
        await store.createSession(makeSession({ userId }));
        await store.createRememberToken(makeToken({ userId }));
        await store.deleteAllSessions();

        const session = makeSession({ userId, createdAt: T0 + MINUTE });
        const token = makeToken({ userId });
        await store.createSession(session);
        await store.createRememberToken(token);
        assert.deepStrictEqual(await store.getSession(session.id, T0), session);
        assert.deepStrictEqual(await store.listUserSessions(userId, T0), [session]);
        assert.deepStrictEqual(await store.getRememberToken(token.selector, T0), token);
        assert.equal(await store.deleteUserSessions(userId), 1);
        assert.equal(await store.deleteUserRememberTokens(userId), 1);
      });

      test("sessions created while deleteAllSessions runs are either gone or still listed and revocable for their user", async (store) => {
        const userId = newUserId();
        const before = Array.from({ length: 40 }, (_, i) => makeSession({ userId, createdAt: T0 + i }));
        for (const session of before) await store.createSession(session);
        const during = Array.from({ length: 40 }, (_, i) => makeSession({ userId, createdAt: T0 + 100 + i }));

        const [counts] = await Promise.all([
          store.deleteAllSessions(),
          ...during.map((session) => store.createSession(session)),
        ]);

        for (const session of before) assert.equal(await store.getSession(session.id, T0), null);
        const survivors: SessionRecord[] = [];
        for (const session of during) {
          const found = await store.getSession(session.id, T0);
          if (found) survivors.push(found);
        }
        assert.equal(counts.sessions, before.length + during.length - survivors.length);
        assert.deepStrictEqual(await store.listUserSessions(userId, T0), survivors);
        assert.equal(await store.deleteUserSessions(userId), survivors.length);
        for (const session of during) assert.equal(await store.getSession(session.id, T0), null);
      });
    });

    describe("close", () => {
      test("close() resolves", async (store) => {
        closedByTest.add(store);
        assert.equal(await store.close(), undefined);
      });
    });
  });
}
