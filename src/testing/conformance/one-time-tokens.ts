import assert from "node:assert/strict";
import type { OneTimeTokenRecord, OneTimeTokenStorage, SessionStore } from "../../core/store.js";
import {
  type ConformanceHarness,
  DAY,
  defineSuite,
  HOUR,
  MINUTE,
  makeSession,
  makeToken,
  newHash,
  newUserId,
  type StoreConformanceOptions,
  T0,
} from "./shared.js";

/**
 * A store with the one-time token part of the contract, which {@link SessionStore} does not yet require.
 *
 * @example
 * ```ts
 * const store: OneTimeTokenStore = new MemoryStore();
 * ```
 */
export type OneTimeTokenStore = SessionStore & OneTimeTokenStorage;

const ONE_TIME_TOKEN_METHODS = [
  "createOneTimeToken",
  "findOneTimeToken",
  "consumeOneTimeToken",
  "deleteUserOneTimeTokens",
] as const satisfies readonly (keyof OneTimeTokenStorage)[];

/**
 * Registers the tests of the one-time token part (`OneTimeTokenStorage`) in the current `describe`
 * block. {@link defineOneTimeTokenStorageTests} calls it; each test first checks that the store has
 * the part's four methods.
 *
 * @example
 * ```ts
 * describe("one-time tokens", () => registerOneTimeTokenStorageTests(harness));
 * ```
 */
export function registerOneTimeTokenStorageTests(harness: ConformanceHarness): void {
  const test: Test = (title, body) =>
    harness.test(title, async (store) => {
      assertOneTimeTokenStore(store);
      await body(store);
    });
  registerReadTests(test);
  registerConsumeTests(test);
  registerDeleteTests(test);
}

/**
 * Registers the conformance tests of the one-time token part of the store contract
 * (`createOneTimeToken`, `findOneTimeToken`, `consumeOneTimeToken`, `deleteUserOneTimeTokens`, and
 * their place in `deleteExpired`): one `describe` block named after the store, a fresh store per test.
 * The store must implement every other part too.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * import { defineOneTimeTokenStorageTests } from "login-manager/testing";
 *
 * defineOneTimeTokenStorageTests({ name: "MyStore", createStore: () => new MyStore(), describe, it });
 * ```
 */
export function defineOneTimeTokenStorageTests<S extends OneTimeTokenStore>(
  options: StoreConformanceOptions<S>,
): void {
  defineSuite(options, `${options.name} (OneTimeTokenStorage conformance)`, registerOneTimeTokenStorageTests);
}

type Test = (title: string, body: (store: OneTimeTokenStore) => Promise<void>) => void;

function assertOneTimeTokenStore(store: SessionStore): asserts store is OneTimeTokenStore {
  for (const name of ONE_TIME_TOKEN_METHODS) {
    assert.equal(typeof Reflect.get(store, name), "function", `the store has no ${name}() method`);
  }
}

/** A live password-reset token of a new user, valid for 30 minutes from T0, with `overrides` applied. */
function makeOneTimeToken(overrides: Partial<OneTimeTokenRecord> = {}): OneTimeTokenRecord {
  return {
    tokenHash: newHash(),
    purpose: "password-reset",
    userId: newUserId(),
    data: "",
    epoch: 3,
    createdAt: T0,
    expiresAt: T0 + 30 * MINUTE,
    ...overrides,
  };
}

/** Exactly 1024 UTF-16 code units of mixed scripts, accents and emoji (so at most 1024 code points). */
function longUnicodeData(): string {
  const unit = "adresse: Zoë.Ñúñez+日本語@exämple.org 🔑 Ωμέγα; ";
  const repeated = unit.repeat(Math.ceil(1024 / unit.length) + 1);
  // Cut before 1024 without splitting a surrogate pair, then pad with ASCII to exactly 1024.
  let cut = repeated.slice(0, 1020);
  if (/[\uD800-\uDBFF]$/.test(cut)) cut = cut.slice(0, -1);
  return cut.padEnd(1024, "x");
}

function registerReadTests(test: Test): void {
  test("createOneTimeToken then findOneTimeToken returns every field unchanged", async (store) => {
    const plain = makeOneTimeToken();
    const bound = makeOneTimeToken({
      purpose: "email-verify",
      data: "new.address@example.org",
      epoch: 0,
      createdAt: T0 - 10 * MINUTE,
      expiresAt: T0 + 2 * DAY,
    });
    const later = makeOneTimeToken({ purpose: "magic-link", epoch: 2 ** 33, expiresAt: T0 + 400 * DAY });
    for (const token of [plain, bound, later]) await store.createOneTimeToken(token);
    assert.deepStrictEqual(await store.findOneTimeToken(plain.tokenHash, T0), plain);
    assert.deepStrictEqual(await store.findOneTimeToken(bound.tokenHash, T0), bound);
    assert.deepStrictEqual(await store.findOneTimeToken(later.tokenHash, T0), later);
  });

  test("data up to 1024 characters (unicode included) and purpose up to 64 round-trip", async (store) => {
    const data = longUnicodeData();
    assert.equal(data.length, 1024);
    const purpose = `purpose:${"p".repeat(55)}-`;
    assert.equal(purpose.length, 64);
    const token = makeOneTimeToken({ purpose, data });
    await store.createOneTimeToken(token);
    assert.deepStrictEqual(await store.findOneTimeToken(token.tokenHash, T0), token);
    assert.deepStrictEqual(await store.consumeOneTimeToken(token.tokenHash, T0), token);
  });

  test("findOneTimeToken does not consume: found twice, then consumed", async (store) => {
    const token = makeOneTimeToken();
    await store.createOneTimeToken(token);
    assert.deepStrictEqual(await store.findOneTimeToken(token.tokenHash, T0), token);
    assert.deepStrictEqual(await store.findOneTimeToken(token.tokenHash, T0 + MINUTE), token);
    assert.deepStrictEqual(await store.consumeOneTimeToken(token.tokenHash, T0 + MINUTE), token);
  });

  test("findOneTimeToken and consumeOneTimeToken resolve null for an unknown hash", async (store) => {
    await store.createOneTimeToken(makeOneTimeToken());
    const unknown = newHash();
    assert.equal(await store.findOneTimeToken(unknown, T0), null);
    assert.equal(await store.consumeOneTimeToken(unknown, T0), null);
  });

  test("a token is found until just before expiresAt and is absent at and after it, for find and consume", async (store) => {
    const token = makeOneTimeToken({ expiresAt: T0 + HOUR });
    await store.createOneTimeToken(token);
    assert.deepStrictEqual(await store.findOneTimeToken(token.tokenHash, T0 + HOUR - 1), token);
    assert.equal(await store.findOneTimeToken(token.tokenHash, T0 + HOUR), null);
    assert.equal(await store.findOneTimeToken(token.tokenHash, T0 + DAY), null);
    assert.equal(await store.consumeOneTimeToken(token.tokenHash, T0 + HOUR), null);
    assert.equal(await store.consumeOneTimeToken(token.tokenHash, T0 + DAY), null);
  });

  test("mutating a token passed to createOneTimeToken or returned by find or consume does not change the store", async (store) => {
    const token = makeOneTimeToken({ data: "original" });
    const original = structuredClone(token);
    await store.createOneTimeToken(token);
    token.userId = "mallory";
    token.data = "tampered";

    const found = await store.findOneTimeToken(original.tokenHash, T0);
    assert.deepStrictEqual(found, original);
    assert.ok(found);
    found.purpose = "tampered";
    found.expiresAt = T0 + 400 * DAY;
    const consumed = await store.consumeOneTimeToken(original.tokenHash, T0);
    assert.deepStrictEqual(consumed, original);
    assert.ok(consumed);
    consumed.epoch = 99;
    assert.equal(await store.findOneTimeToken(original.tokenHash, T0), null);
  });
}

function registerConsumeTests(test: Test): void {
  test("consumeOneTimeToken returns the record once, then null; find no longer sees it", async (store) => {
    const token = makeOneTimeToken({ data: "once" });
    await store.createOneTimeToken(token);
    assert.deepStrictEqual(await store.consumeOneTimeToken(token.tokenHash, T0), token);
    assert.equal(await store.consumeOneTimeToken(token.tokenHash, T0), null);
    assert.equal(await store.findOneTimeToken(token.tokenHash, T0), null);
  });

  test("consuming one token leaves the user's other tokens, of the same purpose too", async (store) => {
    const userId = newUserId();
    const first = makeOneTimeToken({ userId });
    const second = makeOneTimeToken({ userId });
    const verify = makeOneTimeToken({ userId, purpose: "email-verify" });
    for (const token of [first, second, verify]) await store.createOneTimeToken(token);
    assert.deepStrictEqual(await store.consumeOneTimeToken(first.tokenHash, T0), first);
    assert.deepStrictEqual(await store.findOneTimeToken(second.tokenHash, T0), second);
    assert.deepStrictEqual(await store.findOneTimeToken(verify.tokenHash, T0), verify);
  });

  test("20 concurrent consumeOneTimeToken of the same hash: exactly one gets the record", async (store) => {
    const token = makeOneTimeToken();
    await store.createOneTimeToken(token);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => store.consumeOneTimeToken(token.tokenHash, T0)),
    );
    const winners = results.filter((result) => result !== null);
    assert.equal(winners.length, 1, `${winners.length} callers consumed the token`);
    assert.deepStrictEqual(winners[0], token);
    assert.equal(await store.findOneTimeToken(token.tokenHash, T0), null);
  });
}

function registerDeleteTests(test: Test): void {
  test("deleteUserOneTimeTokens(userId, purpose) deletes only that user's tokens of that purpose and counts them", async (store) => {
    const userId = newUserId();
    const resets = [makeOneTimeToken({ userId }), makeOneTimeToken({ userId })];
    const verify = makeOneTimeToken({ userId, purpose: "email-verify", data: "a@example.org" });
    const otherUser = makeOneTimeToken();
    for (const token of [...resets, verify, otherUser]) await store.createOneTimeToken(token);

    assert.equal(await store.deleteUserOneTimeTokens(userId, "password-reset"), 2);
    for (const token of resets) assert.equal(await store.findOneTimeToken(token.tokenHash, T0), null);
    assert.deepStrictEqual(await store.findOneTimeToken(verify.tokenHash, T0), verify);
    assert.deepStrictEqual(await store.findOneTimeToken(otherUser.tokenHash, T0), otherUser);
    assert.equal(await store.deleteUserOneTimeTokens(userId, "password-reset"), 0);
    assert.equal(await store.deleteUserOneTimeTokens(userId, "magic-link"), 0);
  });

  test("deleteUserOneTimeTokens(userId, null) deletes the user's tokens of every purpose, other users untouched", async (store) => {
    const userId = newUserId();
    const mine = ["password-reset", "email-verify", "magic-link"].map((purpose) =>
      makeOneTimeToken({ userId, purpose }),
    );
    const others = [makeOneTimeToken(), makeOneTimeToken({ purpose: "email-verify" })];
    for (const token of [...mine, ...others]) await store.createOneTimeToken(token);

    assert.equal(await store.deleteUserOneTimeTokens(userId, null), 3);
    for (const token of mine) assert.equal(await store.consumeOneTimeToken(token.tokenHash, T0), null);
    for (const token of others)
      assert.deepStrictEqual(await store.findOneTimeToken(token.tokenHash, T0), token);
    assert.equal(await store.deleteUserOneTimeTokens(userId, null), 0);
    assert.equal(await store.deleteUserOneTimeTokens(newUserId(), null), 0);
  });

  test("deleteExpired removes expired one-time tokens (at the boundary too), counts them and keeps live ones", async (store) => {
    const userId = newUserId();
    const cutoff = T0 + HOUR;
    const expired = makeOneTimeToken({ userId, expiresAt: T0 + MINUTE });
    const boundary = makeOneTimeToken({ userId, purpose: "email-verify", expiresAt: cutoff });
    const live = makeOneTimeToken({ userId, expiresAt: cutoff + 1 });
    for (const token of [expired, boundary, live]) await store.createOneTimeToken(token);

    assert.equal(await store.deleteExpired(cutoff), 2);
    // Read at T0, when every token was still valid: only a deletion makes them absent.
    assert.equal(await store.findOneTimeToken(expired.tokenHash, T0), null);
    assert.equal(await store.findOneTimeToken(boundary.tokenHash, T0), null);
    assert.deepStrictEqual(await store.findOneTimeToken(live.tokenHash, T0), live);
    assert.equal(await store.deleteUserOneTimeTokens(userId, null), 1);
    assert.equal(await store.deleteExpired(cutoff), 0);
  });

  test("deleting sessions and remember-me tokens (all, or the user's) leaves one-time tokens alone", async (store) => {
    const userId = newUserId();
    await store.createSession(makeSession({ userId }));
    await store.createRememberToken(makeToken({ userId }));
    const token = makeOneTimeToken({ userId });
    await store.createOneTimeToken(token);

    assert.equal(await store.deleteUserSessions(userId), 1);
    assert.equal(await store.deleteUserRememberTokens(userId), 1);
    await store.createSession(makeSession({ userId }));
    await store.createRememberToken(makeToken({ userId }));
    assert.equal(await store.deleteAllSessions(), 1);
    assert.equal(await store.deleteAllRememberTokens(), 1);
    assert.deepStrictEqual(await store.findOneTimeToken(token.tokenHash, T0), token);
  });
}
