import assert from "node:assert/strict";
import { randomToken } from "../../core/tokens.js";
import {
  type ConformanceHarness,
  DAY,
  HOUR,
  MINUTE,
  makeFactor,
  makeSession,
  makeToken,
  newUserId,
  T0,
} from "./shared.js";

type Test = ConformanceHarness["test"];

/** How many callers the concurrency tests start at once. */
const RACERS = 20;

/**
 * Registers the factor tests of the single-use steps (`advanceFactorCounter`, `deleteFactor`), of
 * `deleteUserFactors`, and of what other parts' deletions must leave alone. `registerFactorStorageTests`
 * calls it.
 *
 * @example
 * ```ts
 * registerFactorLifecycleTests(harness.test);
 * ```
 */
export function registerFactorLifecycleTests(test: Test): void {
  registerAdvanceTests(test);
  registerDeleteTests(test);
  registerIsolationTests(test);
}

function registerAdvanceTests(test: Test): void {
  test("advanceFactorCounter writes a higher counter and lastUsedAt; an equal or lower one is refused and changes nothing", async (store) => {
    const factor = makeFactor({ kind: "totp", counter: 0 });
    await store.createFactor(factor);
    assert.equal(await store.advanceFactorCounter("totp", factor.id, 1, T0 + MINUTE), true);
    assert.deepStrictEqual(await store.getFactor("totp", factor.id), {
      ...factor,
      counter: 1,
      lastUsedAt: T0 + MINUTE,
    });
    assert.equal(await store.advanceFactorCounter("totp", factor.id, 66_666_700, T0 + 2 * MINUTE), true);
    const advanced = { ...factor, counter: 66_666_700, lastUsedAt: T0 + 2 * MINUTE };
    assert.equal(await store.advanceFactorCounter("totp", factor.id, 66_666_700, T0 + 3 * MINUTE), false);
    assert.equal(await store.advanceFactorCounter("totp", factor.id, 66_666_699, T0 + 4 * MINUTE), false);
    assert.equal(await store.advanceFactorCounter("totp", factor.id, 0, T0 + 5 * MINUTE), false);
    assert.deepStrictEqual(await store.getFactor("totp", factor.id), advanced);
    assert.equal(
      await store.advanceFactorCounter("totp", factor.id, Number.MAX_SAFE_INTEGER, T0 + HOUR),
      true,
    );
    assert.equal((await store.getFactor("totp", factor.id))?.counter, Number.MAX_SAFE_INTEGER);
  });

  test("advanceFactorCounter from a stored counter of 0 to 0 is refused (a first use must be above it)", async (store) => {
    const factor = makeFactor({ kind: "passkey" });
    await store.createFactor(factor);
    assert.equal(await store.advanceFactorCounter("passkey", factor.id, 0, T0), false);
    assert.deepStrictEqual(await store.getFactor("passkey", factor.id), factor);
  });

  test("advanceFactorCounter resolves false for a missing factor, or one under another kind, and creates nothing", async (store) => {
    const factor = makeFactor({ kind: "totp" });
    await store.createFactor(factor);
    const id = randomToken();
    assert.equal(await store.advanceFactorCounter("totp", id, 5, T0), false);
    assert.equal(await store.getFactor("totp", id), null);
    assert.equal(await store.advanceFactorCounter("passkey", factor.id, 5, T0), false);
    assert.equal(await store.getFactor("passkey", factor.id), null);
    assert.deepStrictEqual(await store.getFactor("totp", factor.id), factor);
  });

  test(`${RACERS} concurrent advanceFactorCounter with the same counter: exactly one resolves true`, async (store) => {
    const factor = makeFactor({ kind: "totp", counter: 100 });
    await store.createFactor(factor);
    const results = await Promise.all(
      Array.from({ length: RACERS }, (_, i) => store.advanceFactorCounter("totp", factor.id, 101, T0 + i)),
    );
    const winners = results.flatMap((won, i) => (won ? [i] : []));
    assert.equal(winners.length, 1, `${winners.length} callers advanced the counter`);
    assert.deepStrictEqual(await store.getFactor("totp", factor.id), {
      ...factor,
      counter: 101,
      lastUsedAt: T0 + (winners[0] ?? -1),
    });
  });

  test("concurrent advanceFactorCounter with different counters: the highest is stored and its caller got true", async (store) => {
    const factor = makeFactor({ kind: "passkey" });
    await store.createFactor(factor);
    const counters = Array.from({ length: RACERS }, (_, i) => ((i * 7) % RACERS) + 1);
    const results = await Promise.all(
      counters.map((counter) => store.advanceFactorCounter("passkey", factor.id, counter, T0 + counter)),
    );
    assert.equal(results[counters.indexOf(RACERS)], true, "the highest counter was refused");
    assert.deepStrictEqual(await store.getFactor("passkey", factor.id), {
      ...factor,
      counter: RACERS,
      lastUsedAt: T0 + RACERS,
    });
  });
}

function registerDeleteTests(test: Test): void {
  test("deleteFactor resolves true when the factor existed, then false; the (kind, id) can be created again", async (store) => {
    const userId = newUserId();
    const code = makeFactor({ userId });
    const other = makeFactor({ userId, createdAt: T0 + 1 });
    await store.createFactor(code);
    await store.createFactor(other);
    assert.equal(await store.deleteFactor("recovery-code", code.id), true);
    assert.equal(await store.getFactor("recovery-code", code.id), null);
    assert.equal(await store.deleteFactor("recovery-code", code.id), false);
    assert.equal(await store.deleteFactor("recovery-code", randomToken()), false);
    assert.equal(await store.deleteFactor("passkey", other.id), false);
    assert.deepStrictEqual(await store.listUserFactors(userId, null), [other]);

    const again = { ...code, createdAt: T0 + MINUTE };
    assert.equal(await store.createFactor(again), true);
    assert.deepStrictEqual(await store.listUserFactors(userId, null), [other, again]);
  });

  test(`${RACERS} concurrent deleteFactor of the same factor: exactly one resolves true`, async (store) => {
    const code = makeFactor();
    const sibling = makeFactor({ userId: code.userId });
    await store.createFactor(code);
    await store.createFactor(sibling);
    const results = await Promise.all(
      Array.from({ length: RACERS }, () => store.deleteFactor("recovery-code", code.id)),
    );
    assert.equal(results.filter(Boolean).length, 1, `${results.filter(Boolean).length} callers deleted it`);
    assert.equal(await store.getFactor("recovery-code", code.id), null);
    assert.deepStrictEqual(await store.listUserFactors(code.userId, null), [sibling]);
  });

  test("deleteUserFactors(userId, kind) deletes only that user's factors of that kind and counts them", async (store) => {
    const userId = newUserId();
    const codes = [0, 1, 2].map((i) => makeFactor({ userId, createdAt: T0 + i }));
    const totp = makeFactor({ userId, kind: "totp" });
    const theirCode = makeFactor();
    for (const factor of [...codes, totp, theirCode]) await store.createFactor(factor);

    assert.equal(await store.deleteUserFactors(userId, "recovery-code"), 3);
    for (const code of codes) assert.equal(await store.getFactor("recovery-code", code.id), null);
    assert.deepStrictEqual(await store.listUserFactors(userId, null), [totp]);
    assert.deepStrictEqual(await store.getFactor("recovery-code", theirCode.id), theirCode);
    assert.equal(await store.deleteUserFactors(userId, "recovery-code"), 0);
    assert.equal(await store.deleteUserFactors(userId, "passkey"), 0);
  });

  test("deleteUserFactors(userId, null) deletes the user's factors of every kind, other users untouched", async (store) => {
    const userId = newUserId();
    const mine = ["totp", "passkey", "recovery-code", "recovery-code"].map((kind, i) =>
      makeFactor({ userId, kind, createdAt: T0 + i }),
    );
    const theirs = [makeFactor({ kind: "totp" }), makeFactor({ kind: "passkey" })];
    for (const factor of [...mine, ...theirs]) await store.createFactor(factor);

    assert.equal(await store.deleteUserFactors(userId, null), 4);
    for (const factor of mine) assert.equal(await store.getFactor(factor.kind, factor.id), null);
    assert.deepStrictEqual(await store.listUserFactors(userId, null), []);
    for (const factor of theirs) {
      assert.deepStrictEqual(await store.getFactor(factor.kind, factor.id), factor);
    }
    assert.equal(await store.deleteUserFactors(userId, null), 0);
    assert.equal(await store.deleteUserFactors(newUserId(), null), 0);
  });
}

function registerIsolationTests(test: Test): void {
  test("deleteExpired leaves factors alone, however old, and does not count them", async (store) => {
    const userId = newUserId();
    const old = makeFactor({ userId, kind: "totp", createdAt: T0 - 400 * DAY, lastUsedAt: T0 - 300 * DAY });
    const fresh = makeFactor({ userId, kind: "passkey", createdAt: T0 });
    await store.createFactor(old);
    await store.createFactor(fresh);
    await store.createSession(makeSession({ userId, expiresAt: T0 + MINUTE }));

    assert.equal(await store.deleteExpired(T0 + 1000 * DAY), 1);
    assert.deepStrictEqual(await store.listUserFactors(userId, null), [old, fresh]);
    assert.equal(await store.deleteExpired(T0 + 1000 * DAY), 0);
  });

  test("deleting a user's sessions, remember-me tokens and one-time tokens, or all of them, leaves factors alone", async (store) => {
    const userId = newUserId();
    const factors = [makeFactor({ userId, kind: "totp" }), makeFactor({ userId, createdAt: T0 + 1 })];
    for (const factor of factors) await store.createFactor(factor);
    await store.createSession(makeSession({ userId }));
    await store.createRememberToken(makeToken({ userId }));

    assert.equal(await store.deleteUserSessions(userId), 1);
    assert.equal(await store.deleteUserRememberTokens(userId), 1);
    assert.equal(await store.deleteUserOneTimeTokens(userId, null), 0);
    await store.createSession(makeSession({ userId }));
    await store.createRememberToken(makeToken({ userId }));
    assert.equal(await store.deleteAllSessions(), 1);
    assert.equal(await store.deleteAllRememberTokens(), 1);
    assert.deepStrictEqual(await store.listUserFactors(userId, null), factors);
  });
}
