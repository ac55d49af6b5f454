import { describe, expect, it } from "vitest";
import { StoreError } from "../core/errors.js";
import type { FactorRecord } from "../core/store.js";
import { FACTOR_LIMITS, type FactorOperations, FactorStorageBase } from "./factor-storage.js";

/** Operations that record every call, so a test sees whether a refused input reached the backend. */
function recordingStore(): { store: FactorStorageBase; calls: string[] } {
  const calls: string[] = [];
  const record =
    <T>(name: string, answer: T) =>
    (): T => {
      calls.push(name);
      return answer;
    };
  const operations: FactorOperations = {
    create: record("create", true),
    get: record("get", null),
    list: record("list", []),
    update: record("update", true),
    advance: record("advance", true),
    delete: record("delete", true),
    deleteUser: record("deleteUser", 2),
  };
  return { store: new FactorStorageBase("TestStore", operations), calls };
}

function factor(overrides: Partial<FactorRecord> = {}): FactorRecord {
  return {
    kind: "totp",
    id: "42",
    userId: "42",
    label: "",
    data: "sealed",
    counter: 0,
    createdAt: 1,
    lastUsedAt: null,
    ...overrides,
  };
}

const SECRET = "s3cr3t-material";

describe("FactorStorageBase", () => {
  it("passes records at the limits through to the store's operations", async () => {
    const { store, calls } = recordingStore();
    const largest = factor({
      kind: "k".repeat(FACTOR_LIMITS.kind),
      id: "i".repeat(FACTOR_LIMITS.id),
      label: "l".repeat(FACTOR_LIMITS.label),
      data: "d".repeat(FACTOR_LIMITS.data),
      counter: Number.MAX_SAFE_INTEGER,
    });
    expect(await store.createFactor(largest)).toBe(true);
    expect(
      await store.updateFactor(largest.kind, largest.id, { label: largest.label, data: largest.data }),
    ).toBe(true);
    expect(await store.advanceFactorCounter(largest.kind, largest.id, Number.MAX_SAFE_INTEGER, 2)).toBe(true);
    expect(await store.deleteFactor(largest.kind, largest.id)).toBe(true);
    expect(await store.deleteUserFactors("42", largest.kind)).toBe(2);
    expect(calls).toEqual(["create", "update", "advance", "delete", "deleteUser"]);
  });

  it.each([
    ["kind", { kind: "" }],
    ["kind", { kind: "k".repeat(FACTOR_LIMITS.kind + 1) }],
    ["id", { id: "" }],
    ["id", { id: "i".repeat(FACTOR_LIMITS.id + 1) }],
    ["label", { label: "l".repeat(FACTOR_LIMITS.label + 1) }],
    ["data", { data: `${SECRET}${"d".repeat(FACTOR_LIMITS.data)}` }],
    ["counter", { counter: -1 }],
    ["counter", { counter: 1.5 }],
    ["counter", { counter: 2 ** 53 }],
    ["counter", { counter: Number.NaN }],
    ["userId", { userId: 42 as unknown as string }],
  ])(
    "createFactor refuses a bad %s with a StoreError naming it, before any store call",
    async (field, bad) => {
      const { store, calls } = recordingStore();
      const refused = store.createFactor(factor(bad));
      await expect(refused).rejects.toThrow(StoreError);
      await expect(refused).rejects.toThrow(new RegExp(`^TestStore: factor ${field} must be`));
      await expect(refused).rejects.not.toThrow(SECRET);
      await expect(refused).rejects.toMatchObject({ code: "ERR_STORE", unavailable: false });
      expect(calls).toEqual([]);
    },
  );

  it("updateFactor refuses an oversize label or data, and advanceFactorCounter a bad counter", async () => {
    const { store, calls } = recordingStore();
    const long = { label: "l".repeat(FACTOR_LIMITS.label + 1) };
    await expect(store.updateFactor("totp", "42", long)).rejects.toThrow(/factor label must be/);
    const data = { data: "d".repeat(FACTOR_LIMITS.data + 1) };
    await expect(store.updateFactor("totp", "42", data)).rejects.toThrow(/factor data must be/);
    await expect(store.advanceFactorCounter("totp", "42", -1, 1)).rejects.toThrow(/factor counter must be/);
    await expect(store.advanceFactorCounter("totp", "42", 0.5, 1)).rejects.toThrow(StoreError);
    expect(calls).toEqual([]);
  });

  it("a lookup of a kind or id no store can hold is not found, without a store call", async () => {
    const { store, calls } = recordingStore();
    const longId = "i".repeat(FACTOR_LIMITS.id + 1);
    const longKind = "k".repeat(FACTOR_LIMITS.kind + 1);
    expect(await store.getFactor("passkey", longId)).toBeNull();
    expect(await store.getFactor("", "42")).toBeNull();
    expect(await store.listUserFactors("42", longKind)).toEqual([]);
    expect(await store.updateFactor("passkey", longId, { label: "x" })).toBe(false);
    expect(await store.advanceFactorCounter("passkey", longId, 3, 1)).toBe(false);
    expect(await store.deleteFactor(longKind, "42")).toBe(false);
    expect(await store.deleteUserFactors("42", "")).toBe(0);
    expect(calls).toEqual([]);
    expect(await store.listUserFactors("42", null)).toEqual([]);
    expect(calls).toEqual(["list"]);
  });

  it("never throws synchronously: a refusal is a rejected promise", () => {
    const { store } = recordingStore();
    const result = store.createFactor(factor({ kind: "" }));
    expect(result).toBeInstanceOf(Promise);
    return expect(result).rejects.toThrow(StoreError);
  });
});
