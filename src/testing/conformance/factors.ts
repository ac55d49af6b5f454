import assert from "node:assert/strict";
import type { FactorRecord, SessionStore } from "../../core/store.js";
import { randomToken } from "../../core/tokens.js";
import { registerFactorLifecycleTests } from "./factors-lifecycle.js";
import {
  type ConformanceHarness,
  DAY,
  defineSuite,
  HOUR,
  MINUTE,
  makeFactor,
  newUserId,
  type StoreConformanceOptions,
  T0,
} from "./shared.js";

/**
 * Registers the tests of the second-factor part (`FactorStorage`) in the current `describe` block.
 * {@link defineFactorStorageTests} and `defineStoreConformanceTests` call it.
 *
 * @example
 * ```ts
 * describe("factors", () => registerFactorStorageTests(harness));
 * ```
 */
export function registerFactorStorageTests({ test }: ConformanceHarness): void {
  registerReadWriteTests(test);
  registerListTests(test);
  registerUpdateTests(test);
  registerFactorLifecycleTests(test);
}

/**
 * Registers the conformance tests of the second-factor part of the store contract (`createFactor`,
 * `getFactor`, `listUserFactors`, `updateFactor`, the atomic `advanceFactorCounter` and
 * `deleteFactor`, `deleteUserFactors`, and that `deleteExpired` leaves factors alone): one `describe`
 * block named after the store, a fresh store per test.
 *
 * @example
 * ```ts
 * import { describe, it } from "vitest";
 * import { defineFactorStorageTests } from "login-manager/testing";
 *
 * defineFactorStorageTests({ name: "MyStore", createStore: () => new MyStore(), describe, it });
 * ```
 */
export function defineFactorStorageTests<S extends SessionStore>(options: StoreConformanceOptions<S>): void {
  defineSuite(options, `${options.name} (FactorStorage conformance)`, registerFactorStorageTests);
}

type Test = ConformanceHarness["test"];

/** Exactly `length` UTF-16 code units of mixed scripts and emoji, never a split surrogate pair. */
function unicodeText(length: number): string {
  const unit = "Clé «YubiKey» 日本語 Ωμέγα 🔑 ";
  let text = unit.repeat(Math.ceil(length / unit.length) + 1).slice(0, length - 2);
  if (/[\uD800-\uDBFF]$/.test(text)) text = text.slice(0, -1);
  return text.padEnd(length, "x");
}

function registerReadWriteTests(test: Test): void {
  test("createFactor resolves true, then getFactor returns every field unchanged", async (store) => {
    const totp = makeFactor({ kind: "totp", data: "v1.sealed.secret" });
    const passkey = makeFactor({
      kind: "passkey",
      label: "YubiKey 5C",
      data: JSON.stringify({ publicKey: "pQECAyYgASFYIA", transports: ["usb", "nfc"], backedUp: false }),
      counter: 2 ** 40,
      createdAt: T0 - DAY,
      lastUsedAt: T0 - HOUR,
    });
    const code = makeFactor({ kind: "recovery-code", userId: totp.userId, counter: Number.MAX_SAFE_INTEGER });
    for (const factor of [totp, passkey, code]) assert.equal(await store.createFactor(factor), true);
    for (const factor of [totp, passkey, code]) {
      assert.deepStrictEqual(await store.getFactor(factor.kind, factor.id), factor);
    }
  });

  test("createFactor of an existing (kind, id) resolves false and changes nothing; the id under another kind is another factor", async (store) => {
    const factor = makeFactor({ kind: "passkey", label: "Phone" });
    assert.equal(await store.createFactor(factor), true);
    const intruder = makeFactor({ kind: "passkey", id: factor.id, label: "Attacker", data: "other key" });
    assert.equal(await store.createFactor(intruder), false);
    assert.deepStrictEqual(await store.getFactor("passkey", factor.id), factor);
    assert.deepStrictEqual(await store.listUserFactors(intruder.userId, null), []);

    const sameIdOtherKind = makeFactor({ kind: "totp", id: factor.id, userId: factor.userId });
    assert.equal(await store.createFactor(sameIdOtherKind), true);
    assert.deepStrictEqual(await store.getFactor("totp", factor.id), sameIdOtherKind);
    assert.deepStrictEqual(await store.getFactor("passkey", factor.id), factor);
  });

  test("getFactor resolves null for an unknown id, and for a known id under another kind", async (store) => {
    const factor = makeFactor({ kind: "totp" });
    await store.createFactor(factor);
    assert.equal(await store.getFactor("totp", randomToken()), null);
    assert.equal(await store.getFactor("passkey", factor.id), null);
    assert.equal(await store.getFactor("recovery-code", factor.id), null);
  });

  test("sizes at the contract's limits round-trip: kind 32, id 1400, label 200 and data 8192 characters", async (store) => {
    const kind = `k-${"x".repeat(29)}:`;
    const id = `${randomToken()}-${"A_z0".repeat(350)}`.slice(0, 1400);
    assert.deepStrictEqual([kind.length, id.length], [32, 1400]);
    const factor = makeFactor({ kind, id, label: unicodeText(200), data: unicodeText(8192) });
    assert.deepStrictEqual([factor.label.length, factor.data.length], [200, 8192]);
    assert.equal(await store.createFactor(factor), true);
    assert.deepStrictEqual(await store.getFactor(kind, id), factor);
    assert.deepStrictEqual(await store.listUserFactors(factor.userId, kind), [factor]);

    const patch = { label: unicodeText(199).padEnd(200, "!"), data: unicodeText(8192).replace(/x$/, "y") };
    assert.equal(await store.updateFactor(kind, id, patch), true);
    assert.equal(await store.advanceFactorCounter(kind, id, 1, T0 + MINUTE), true);
    const updated = { ...factor, ...patch, counter: 1, lastUsedAt: T0 + MINUTE };
    assert.deepStrictEqual(await store.getFactor(kind, id), updated);
    assert.equal(await store.deleteFactor(kind, id), true);
    assert.equal(await store.getFactor(kind, id), null);
  });

  test("mutating a record passed to createFactor or returned by getFactor or listUserFactors does not change the store", async (store) => {
    const factor = makeFactor({ kind: "passkey", label: "Laptop" });
    const original = structuredClone(factor);
    await store.createFactor(factor);
    factor.userId = "mallory";
    factor.counter = 99;
    factor.data = "tampered";

    const found = await store.getFactor("passkey", original.id);
    assert.deepStrictEqual(found, original);
    assert.ok(found);
    found.label = "tampered";
    found.lastUsedAt = T0;
    const [listed] = await store.listUserFactors(original.userId, null);
    assert.deepStrictEqual(listed, original);
    assert.ok(listed);
    listed.counter = 42;
    listed.kind = "totp";
    assert.deepStrictEqual(await store.getFactor("passkey", original.id), original);
    assert.deepStrictEqual(await store.listUserFactors(original.userId, "passkey"), [original]);
  });
}

function registerListTests(test: Test): void {
  test("listUserFactors returns the user's factors oldest first, then by id, of every kind when kind is null", async (store) => {
    const userId = newUserId();
    const late = makeFactor({ userId, kind: "passkey", createdAt: T0 + HOUR });
    const early = makeFactor({ userId, kind: "totp", createdAt: T0 - DAY });
    // Same createdAt: ordered by id.
    const codes = ["c3", "a1", "b2"].map((prefix) =>
      makeFactor({ userId, kind: "recovery-code", id: `${prefix}-${randomToken()}`, createdAt: T0 }),
    );
    const otherUser = makeFactor({ kind: "totp", createdAt: T0 - 2 * DAY });
    for (const factor of [late, ...codes, otherUser, early]) await store.createFactor(factor);

    const sortedCodes = [...codes].sort((a, b) => (a.id < b.id ? -1 : 1));
    assert.deepStrictEqual(await store.listUserFactors(userId, null), [early, ...sortedCodes, late]);
    assert.deepStrictEqual(await store.listUserFactors(otherUser.userId, null), [otherUser]);
  });

  test("listUserFactors with a kind returns only that kind, and [] for a kind or user without factors", async (store) => {
    const userId = newUserId();
    const keys = [0, 1].map((i) => makeFactor({ userId, kind: "passkey", createdAt: T0 + i }));
    const totp = makeFactor({ userId, kind: "totp", createdAt: T0 - MINUTE });
    const otherUsersKey = makeFactor({ kind: "passkey", createdAt: T0 - HOUR });
    for (const factor of [...keys, totp, otherUsersKey]) await store.createFactor(factor);

    assert.deepStrictEqual(await store.listUserFactors(userId, "passkey"), keys);
    assert.deepStrictEqual(await store.listUserFactors(userId, "totp"), [totp]);
    assert.deepStrictEqual(await store.listUserFactors(userId, "recovery-code"), []);
    assert.deepStrictEqual(await store.listUserFactors(newUserId(), null), []);
    assert.deepStrictEqual(await store.listUserFactors(newUserId(), "passkey"), []);
  });

  test("a user id with separators and key-like suffixes keeps its factors apart from other users'", async (store) => {
    const tricky = `team:ops:${newUserId()}:factors`;
    const prefix = tricky.split(":factors")[0] ?? tricky;
    const mine = makeFactor({ userId: tricky, kind: "totp" });
    const theirs = makeFactor({ userId: prefix, kind: "totp" });
    await store.createFactor(mine);
    await store.createFactor(theirs);
    assert.deepStrictEqual(await store.listUserFactors(tricky, null), [mine]);
    assert.deepStrictEqual(await store.listUserFactors(prefix, null), [theirs]);
    assert.equal(await store.deleteUserFactors(tricky, null), 1);
    assert.deepStrictEqual(await store.getFactor("totp", theirs.id), theirs);
  });
}

function registerUpdateTests(test: Test): void {
  test("updateFactor changes only the fields in the patch and resolves true", async (store) => {
    const factor = makeFactor({ kind: "passkey", label: "Phone", data: "key-v1", counter: 7 });
    const other = makeFactor({ kind: "passkey", userId: factor.userId, label: "Laptop" });
    await store.createFactor(factor);
    await store.createFactor(other);

    assert.equal(await store.updateFactor("passkey", factor.id, { label: "Old phone" }), true);
    let expected: FactorRecord = { ...factor, label: "Old phone" };
    assert.deepStrictEqual(await store.getFactor("passkey", factor.id), expected);

    assert.equal(
      await store.updateFactor("passkey", factor.id, { data: "key-v2", lastUsedAt: T0 + 5 }),
      true,
    );
    expected = { ...expected, data: "key-v2", lastUsedAt: T0 + 5 };
    assert.deepStrictEqual(await store.getFactor("passkey", factor.id), expected);

    assert.equal(await store.updateFactor("passkey", factor.id, { lastUsedAt: null, label: "" }), true);
    expected = { ...expected, lastUsedAt: null, label: "" };
    assert.deepStrictEqual(await store.getFactor("passkey", factor.id), expected);
    assert.equal(await store.updateFactor("passkey", factor.id, {}), true);
    assert.deepStrictEqual(await store.getFactor("passkey", factor.id), expected);
    assert.deepStrictEqual(await store.getFactor("passkey", other.id), other, "another factor was changed");
  });

  test("updateFactor resolves false for an unknown factor, or one under another kind, and creates nothing", async (store) => {
    const factor = makeFactor({ kind: "totp" });
    await store.createFactor(factor);
    const id = randomToken();
    assert.equal(await store.updateFactor("totp", id, { label: "x", data: "y", lastUsedAt: T0 }), false);
    assert.equal(await store.getFactor("totp", id), null);
    assert.equal(await store.updateFactor("passkey", factor.id, { label: "x" }), false);
    assert.equal(await store.getFactor("passkey", factor.id), null);
    assert.deepStrictEqual(await store.getFactor("totp", factor.id), factor);
  });
}
