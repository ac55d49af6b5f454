import assert from "node:assert/strict";
import type { RememberRotation, RememberTokenRecord, SessionStore } from "../../core/store.js";
import { hashToken, randomToken } from "../../core/tokens.js";
import {
  assertRememberTokenGone,
  type ConformanceHarness,
  DAY,
  defineSuite,
  HOUR,
  MINUTE,
  makeSession,
  makeToken,
  newCounterKey,
  newHash,
  newUserId,
  type StoreConformanceOptions,
  T0,
} from "./shared.js";

/**
 * Registers the tests of the remember-me part (`RememberTokenStorage`) in the current `describe`
 * block. {@link defineRememberTokenStorageTests} and `defineStoreConformanceTests` call it.
 *
 * @example
 * ```ts
 * describe("remember tokens", () => registerRememberTokenStorageTests(harness));
 * ```
 */
export function registerRememberTokenStorageTests({ test }: ConformanceHarness): void {
  registerReadWriteTests(test);
  registerSwapTests(test);
  registerDeleteTests(test);
}

/**
 * Registers the conformance tests of the remember-me part of the store contract
 * (`createRememberToken` … `deleteAllRememberTokens`, with `swapRememberValidator`'s
 * compare-and-swap): one `describe` block named after the store, a fresh store per test.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * import { defineRememberTokenStorageTests } from "login-manager/testing";
 *
 * defineRememberTokenStorageTests({ name: "MyStore", createStore: () => new MyStore(), describe, it });
 * ```
 */
export function defineRememberTokenStorageTests<S extends SessionStore>(
  options: StoreConformanceOptions<S>,
): void {
  defineSuite(
    options,
    `${options.name} (RememberTokenStorage conformance)`,
    registerRememberTokenStorageTests,
  );
}

type Test = ConformanceHarness["test"];

function rotationAt(rotatedAt: number, previousValidatorHash: string | null): RememberRotation {
  return { validatorHash: newHash(), previousValidatorHash, rotatedAt, rotatedBy: hashToken(randomToken()) };
}

function registerReadWriteTests(test: Test): void {
  test("createRememberToken then getRememberToken returns every field unchanged, rotatedBy included", async (store) => {
    const fresh = makeToken();
    const rotated = makeToken({
      previousValidatorHash: newHash(),
      rotatedAt: T0 - MINUTE,
      rotatedBy: "",
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

  test("mutating a token passed to createRememberToken or returned by getRememberToken does not change the store", async (store) => {
    const token = makeToken();
    const original = structuredClone(token);
    await store.createRememberToken(token);
    token.validatorHash = "tampered";
    token.rotatedBy = "tampered";

    const first = await store.getRememberToken(original.selector, T0);
    assert.deepStrictEqual(first, original);
    assert.ok(first);
    first.validatorHash = "tampered";
    first.userId = "mallory";
    first.rotatedBy = "tampered";
    assert.deepStrictEqual(await store.getRememberToken(original.selector, T0), original);
  });

  test("mutating the rotation passed to swapRememberValidator afterwards does not change the store", async (store) => {
    const token = makeToken();
    await store.createRememberToken(token);
    const rotation = rotationAt(T0 + MINUTE, token.validatorHash);
    const expected: RememberTokenRecord = { ...token, ...rotation };
    assert.equal(await store.swapRememberValidator(token.selector, token.validatorHash, rotation), true);
    rotation.validatorHash = "tampered";
    rotation.rotatedBy = "tampered";
    assert.deepStrictEqual(await store.getRememberToken(token.selector, T0 + MINUTE), expected);
  });
}

function registerSwapTests(test: Test): void {
  test("swapRememberValidator expecting the current hash resolves true and writes exactly the four rotation fields", async (store) => {
    const token = makeToken({ previousValidatorHash: newHash(), expiresAt: T0 + DAY });
    const other = makeToken({ userId: token.userId });
    await store.createRememberToken(token);
    await store.createRememberToken(other);
    const now = T0 + 5 * MINUTE;
    const rotation = rotationAt(now, token.validatorHash);

    assert.equal(await store.swapRememberValidator(token.selector, token.validatorHash, rotation), true);
    const expected: RememberTokenRecord = { ...token, ...rotation };
    assert.deepStrictEqual(await store.getRememberToken(token.selector, now), expected);
    // expiresAt is not among the rotation fields: the token still ends when it did.
    assert.deepStrictEqual(await store.getRememberToken(token.selector, T0 + DAY - 1), expected);
    assert.equal(await store.getRememberToken(token.selector, T0 + DAY), null);
    assert.deepStrictEqual(await store.getRememberToken(other.selector, now), other, "another token changed");
  });

  test("swapRememberValidator writes a null previousValidatorHash and an empty rotatedBy as given", async (store) => {
    const token = makeToken({ previousValidatorHash: newHash(), rotatedAt: T0 - HOUR });
    await store.createRememberToken(token);
    const rotation: RememberRotation = {
      validatorHash: newHash(),
      previousValidatorHash: null,
      rotatedAt: T0,
      rotatedBy: "",
    };
    assert.equal(await store.swapRememberValidator(token.selector, token.validatorHash, rotation), true);
    assert.deepStrictEqual(await store.getRememberToken(token.selector, T0), { ...token, ...rotation });
  });

  test("swapRememberValidator expecting a wrong hash resolves false and changes nothing", async (store) => {
    const token = makeToken({ previousValidatorHash: newHash(), rotatedAt: T0 });
    const neverRotated = makeToken({ userId: token.userId });
    await store.createRememberToken(token);
    await store.createRememberToken(neverRotated);

    for (const record of [token, neverRotated]) {
      const wrong = [newHash(), "", record.validatorHash.slice(1), `${record.validatorHash}x`];
      if (record.previousValidatorHash !== null) wrong.push(record.previousValidatorHash);
      for (const expected of wrong) {
        const swapped = await store.swapRememberValidator(
          record.selector,
          expected,
          rotationAt(T0 + 1, expected),
        );
        assert.equal(swapped, false, `expecting ${JSON.stringify(expected)}`);
        assert.deepStrictEqual(await store.getRememberToken(record.selector, T0 + 1), record);
      }
    }
  });

  test("swapRememberValidator on an unknown or deleted selector resolves false and creates nothing", async (store) => {
    const selector = randomToken();
    const expected = newHash();
    assert.equal(await store.swapRememberValidator(selector, expected, rotationAt(T0, expected)), false);
    assert.equal(await store.getRememberToken(selector, T0), null);

    const token = makeToken();
    await store.createRememberToken(token);
    await store.deleteRememberToken(token.selector);
    await assertRememberTokenGone(store, token);
  });

  test("swapRememberValidator chains: after two swaps only the latest hash is expected, the first two resolve false", async (store) => {
    const token = makeToken();
    await store.createRememberToken(token);
    const first = rotationAt(T0 + 1, token.validatorHash);
    const second = rotationAt(T0 + 2, first.validatorHash);

    assert.equal(await store.swapRememberValidator(token.selector, token.validatorHash, first), true);
    assert.equal(await store.swapRememberValidator(token.selector, token.validatorHash, second), false);
    assert.deepStrictEqual(await store.getRememberToken(token.selector, T0 + 1), { ...token, ...first });

    assert.equal(await store.swapRememberValidator(token.selector, first.validatorHash, second), true);
    const stored = { ...token, ...second };
    assert.deepStrictEqual(await store.getRememberToken(token.selector, T0 + 2), stored);

    for (const stale of [token.validatorHash, first.validatorHash]) {
      assert.equal(
        await store.swapRememberValidator(token.selector, stale, rotationAt(T0 + 3, stale)),
        false,
      );
    }
    assert.deepStrictEqual(await store.getRememberToken(token.selector, T0 + 3), stored);
  });

  test("20 concurrent swaps expecting the same hash: exactly one resolves true and its rotation is stored", async (store) => {
    const token = makeToken();
    await store.createRememberToken(token);
    const now = T0 + MINUTE;
    const rotations = Array.from({ length: 20 }, () => rotationAt(now, token.validatorHash));

    const results = await Promise.all(
      rotations.map((rotation) => store.swapRememberValidator(token.selector, token.validatorHash, rotation)),
    );

    const winners = results.flatMap((swapped, index) => (swapped ? [index] : []));
    assert.equal(winners.length, 1, `expected exactly one true, got ${winners.length}`);
    const winner = rotations[winners[0] ?? -1];
    assert.ok(winner);
    assert.deepStrictEqual(await store.getRememberToken(token.selector, now), { ...token, ...winner });
  });
}

function registerDeleteTests(test: Test): void {
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
    for (const token of tokens) await assertRememberTokenGone(store, token);
    assert.deepStrictEqual(await store.getRememberToken(otherUser.selector, T0), otherUser);
    assert.equal(await store.deleteUserRememberTokens(userId), 0);
    assert.equal(await store.deleteUserRememberTokens(newUserId()), 0);
  });

  test("deleteAllRememberTokens deletes every token of every user and resolves to the count", async (store) => {
    const alice = newUserId();
    // A user id with separators, and one ending like a key suffix, as a key-value store might build names from them.
    const bob = `team:ops:${newUserId()}:tokens`;
    const tokens = [
      makeToken({ userId: alice }),
      makeToken({ userId: alice, previousValidatorHash: newHash() }),
      makeToken({ userId: bob, rotatedBy: "" }),
    ];
    const deletedEarlier = makeToken({ userId: bob });
    for (const token of [...tokens, deletedEarlier]) await store.createRememberToken(token);
    await store.deleteRememberToken(deletedEarlier.selector);

    assert.equal(await store.deleteAllRememberTokens(), 3);

    for (const token of tokens) await assertRememberTokenGone(store, token);
    for (const userId of [alice, bob]) assert.equal(await store.deleteUserRememberTokens(userId), 0);
    assert.equal(await store.deleteAllRememberTokens(), 0);
  });

  test("deleteAllRememberTokens leaves sessions and counters alone", async (store) => {
    const userId = newUserId();
    const sessions = [makeSession({ userId, rememberSelector: randomToken() }), makeSession()];
    const account = newCounterKey("account");
    const epoch = newCounterKey("epoch");
    for (const session of sessions) await store.createSession(session);
    await store.incrementCounter(account, T0, HOUR);
    const accountBefore = await store.incrementCounter(account, T0 + 1, HOUR);
    const epochBefore = await store.incrementCounter(epoch, T0, 400 * DAY);
    await store.createRememberToken(makeToken({ userId }));

    assert.equal(await store.deleteAllRememberTokens(), 1);

    for (const session of sessions) assert.deepStrictEqual(await store.getSession(session.id, T0), session);
    assert.deepStrictEqual(await store.listUserSessions(userId, T0), [sessions[0]]);
    assert.deepStrictEqual(await store.getCounter(account, T0 + 1), accountBefore);
    assert.deepStrictEqual(await store.getCounter(epoch, T0 + 1), epochBefore);
  });

  test("deleteAllRememberTokens on an empty store resolves to 0", async (store) => {
    assert.equal(await store.deleteAllRememberTokens(), 0);
  });

  test("after deleteAllRememberTokens new tokens are created, read, swapped and revoked per user as before", async (store) => {
    const userId = newUserId();
    await store.createRememberToken(makeToken({ userId }));
    await store.deleteAllRememberTokens();

    const token = makeToken({ userId });
    await store.createRememberToken(token);
    assert.deepStrictEqual(await store.getRememberToken(token.selector, T0), token);
    const rotation = rotationAt(T0 + 1, token.validatorHash);
    assert.equal(await store.swapRememberValidator(token.selector, token.validatorHash, rotation), true);
    assert.equal(await store.deleteUserRememberTokens(userId), 1);
  });

  test("tokens created while deleteAllRememberTokens runs are either gone or still found and revocable for their user", async (store) => {
    const userId = newUserId();
    const before = Array.from({ length: 40 }, () => makeToken({ userId }));
    for (const token of before) await store.createRememberToken(token);
    const during = Array.from({ length: 40 }, () => makeToken({ userId }));

    const [count] = await Promise.all([
      store.deleteAllRememberTokens(),
      ...during.map((token) => store.createRememberToken(token)),
    ]);

    for (const token of before) await assertRememberTokenGone(store, token);
    let survivors = 0;
    for (const token of during) {
      const found = await store.getRememberToken(token.selector, T0);
      if (found) {
        assert.deepStrictEqual(found, token);
        survivors++;
      }
    }
    assert.equal(count, before.length + during.length - survivors);
    assert.equal(await store.deleteUserRememberTokens(userId), survivors);
    for (const token of during) assert.equal(await store.getRememberToken(token.selector, T0), null);
  });
}
