import { describe, expect, it } from "vitest";
import { ConfigurationError, StoreError, unavailableStoreError } from "./errors.js";

describe("unavailableStoreError", () => {
  const down = new StoreError("PostgresStore.getSession: PostgreSQL is unavailable", { unavailable: true });

  it("finds an unavailable StoreError itself", () => {
    expect(unavailableStoreError(down)).toBe(down);
  });

  it("finds one an app wrapped (cause), a few levels deep", () => {
    const wrapped = new Error("login failed", { cause: new Error("inner", { cause: down }) });
    expect(unavailableStoreError(wrapped)).toBe(down);
  });

  it("is undefined for a store failure that is not an outage, another error, or a non-error", () => {
    expect(unavailableStoreError(new StoreError("corrupt row"))).toBeUndefined();
    expect(unavailableStoreError(new ConfigurationError("bad option"))).toBeUndefined();
    expect(unavailableStoreError(new Error("boom"))).toBeUndefined();
    expect(unavailableStoreError("down")).toBeUndefined();
    expect(unavailableStoreError(undefined)).toBeUndefined();
  });

  it("stops after four causes (a cycle cannot hang it)", () => {
    let deep: Error = down;
    for (let i = 0; i < 5; i++) deep = new Error(`level ${i}`, { cause: deep });
    expect(unavailableStoreError(deep)).toBeUndefined();
    const cyclic = new Error("a");
    (cyclic as { cause?: unknown }).cause = cyclic;
    expect(unavailableStoreError(cyclic)).toBeUndefined();
  });
});
