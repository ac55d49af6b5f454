import assert from "node:assert/strict";
import type { SessionRecord, SessionStore } from "../../core/store.js";
import { hashToken, randomToken } from "../../core/tokens.js";
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
 * Registers the tests of the session part ({@link SessionStorage}) in the current `describe` block.
 * {@link defineSessionStorageTests} and `defineStoreConformanceTests` call it.
 *
 * @example
 * ```ts
 * describe("sessions", () => registerSessionStorageTests(harness));
 * ```
 */
export function registerSessionStorageTests({ test }: ConformanceHarness): void {
  registerReadWriteTests(test);
  registerUserSessionTests(test);
  registerDeleteAllSessionsTests(test);
}

/**
 * Registers the conformance tests of the session part of the store contract (`createSession` …
 * `deleteAllSessions`): one `describe` block named after the store, a fresh store per test.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * import { defineSessionStorageTests } from "login-manager/testing";
 *
 * defineSessionStorageTests({ name: "MyStore", createStore: () => new MyStore(), describe, it });
 * ```
 */
export function defineSessionStorageTests<S extends SessionStore>(options: StoreConformanceOptions<S>): void {
  defineSuite(options, `${options.name} (SessionStorage conformance)`, registerSessionStorageTests);
}

type Test = ConformanceHarness["test"];

function registerReadWriteTests(test: Test): void {
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

  test("authMethods round-trips as given (empty, a list of methods, 512 characters) and no update changes it", async (store) => {
    const userId = newUserId();
    const none = makeSession({ userId, createdAt: T0, authMethods: "" });
    const two = makeSession({ userId, createdAt: T0 + 1, authMethods: `pwd:${T0 - MINUTE} otp:${T0}` });
    const unit = `hwk:${T0} mfa:${T0} `;
    const longest = unit
      .repeat(Math.ceil(512 / unit.length))
      .slice(0, 511)
      .padEnd(512, "x");
    assert.equal(longest.length, 512);
    const full = makeSession({ userId, createdAt: T0 + 2, authMethods: longest });
    for (const session of [none, two, full]) await store.createSession(session);

    for (const session of [none, two, full]) {
      assert.deepStrictEqual(await store.getSession(session.id, T0), session);
    }
    assert.deepStrictEqual(await store.listUserSessions(userId, T0), [none, two, full]);
    const patch = { fresh: false, lastSeenAt: T0 + MINUTE, expiresAt: T0 + 2 * HOUR, rememberSelector: null };
    assert.equal(await store.updateSession(full.id, patch), true);
    assert.deepStrictEqual(await store.getSession(full.id, T0), { ...full, ...patch });
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
    const session = makeSession({ fingerprint: hashToken("fingerprint") });
    const other = makeSession({ userId: session.userId });
    await store.createSession(session);
    await store.createSession(other);

    const first = { fresh: false, lastSeenAt: T0 + MINUTE, expiresAt: T0 + 3 * HOUR };
    assert.equal(await store.updateSession(session.id, first), true);
    const afterFirst = { ...session, ...first };
    assert.deepStrictEqual(await store.getSession(session.id, T0 + MINUTE), afterFirst);

    const selector = randomToken();
    assert.equal(await store.updateSession(session.id, { rememberSelector: selector }), true);
    const afterSecond = { ...afterFirst, rememberSelector: selector };
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
}

function registerUserSessionTests(test: Test): void {
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
}

function registerDeleteAllSessionsTests(test: Test): void {
  test("deleteAllSessions deletes every session of every user and resolves to the count", async (store) => {
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
    const deletedEarlier = makeSession({ userId: alice });
    for (const session of [...sessions, deletedEarlier]) await store.createSession(session);
    await store.deleteSession(deletedEarlier.id);

    assert.equal(await store.deleteAllSessions(), 5);

    for (const session of sessions) assert.equal(await store.getSession(session.id, T0), null);
    for (const userId of [alice, bob]) {
      assert.deepStrictEqual(await store.listUserSessions(userId, T0), []);
      assert.equal(await store.deleteUserSessions(userId), 0);
    }
    assert.equal(await store.deleteAllSessions(), 0);
  });

  test("deleteAllSessions leaves remember-me tokens and counters alone, so locks stay in force", async (store) => {
    const userId = newUserId();
    const account = newCounterKey("account");
    const address = newCounterKey("address");
    for (let i = 0; i < 5; i++) await store.incrementCounter(account, T0 + i, HOUR);
    const accountBefore = await store.getCounter(account, T0 + 5);
    const addressBefore = await store.incrementCounter(address, T0, DAY);
    const tokens = [makeToken({ userId }), makeToken({ userId }), makeToken()];
    await store.createSession(makeSession({ userId }));
    for (const token of tokens) await store.createRememberToken(token);

    assert.equal(await store.deleteAllSessions(), 1);

    for (const token of tokens)
      assert.deepStrictEqual(await store.getRememberToken(token.selector, T0), token);
    assert.deepStrictEqual(await store.getCounter(account, T0 + 5), accountBefore);
    assert.deepStrictEqual(await store.getCounter(address, T0 + 5), addressBefore);
    assert.equal((await store.incrementCounter(account, T0 + 6, HOUR)).count, 6);
    assert.equal(await store.deleteUserRememberTokens(userId), 2);
  });

  test("deleteAllSessions on an empty store resolves to 0", async (store) => {
    assert.equal(await store.deleteAllSessions(), 0);
  });

  test("after deleteAllSessions new sessions are created, listed and revoked per user as before", async (store) => {
    const userId = newUserId();
    await store.createSession(makeSession({ userId }));
    await store.deleteAllSessions();

    const session = makeSession({ userId, createdAt: T0 + MINUTE });
    await store.createSession(session);
    assert.deepStrictEqual(await store.getSession(session.id, T0), session);
    assert.deepStrictEqual(await store.listUserSessions(userId, T0), [session]);
    assert.equal(await store.deleteUserSessions(userId), 1);
  });

  test("sessions created while deleteAllSessions runs are either gone or still listed and revocable for their user", async (store) => {
    const userId = newUserId();
    const before = Array.from({ length: 40 }, (_, i) => makeSession({ userId, createdAt: T0 + i }));
    for (const session of before) await store.createSession(session);
    const during = Array.from({ length: 40 }, (_, i) => makeSession({ userId, createdAt: T0 + 100 + i }));

    const [count] = await Promise.all([
      store.deleteAllSessions(),
      ...during.map((session) => store.createSession(session)),
    ]);

    for (const session of before) assert.equal(await store.getSession(session.id, T0), null);
    const survivors: SessionRecord[] = [];
    for (const session of during) {
      const found = await store.getSession(session.id, T0);
      if (found) survivors.push(found);
    }
    assert.equal(count, before.length + during.length - survivors.length);
    assert.deepStrictEqual(await store.listUserSessions(userId, T0), survivors);
    assert.equal(await store.deleteUserSessions(userId), survivors.length);
    for (const session of during) assert.equal(await store.getSession(session.id, T0), null);
  });
}
