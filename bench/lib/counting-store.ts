import { SESSION_STORE_METHODS } from "../../src/core/store.js";
import type { SessionStore } from "../../src/index.js";

/** Store methods that change state; everything else is a read. */
const WRITES = new Set<string>([
  "createSession",
  "updateSession",
  "deleteSession",
  "deleteUserSessions",
  "deleteAllSessions",
  "createRememberToken",
  "swapRememberValidator",
  "deleteRememberToken",
  "deleteUserRememberTokens",
  "deleteAllRememberTokens",
  "incrementCounter",
  "deleteCounter",
  "createOneTimeToken",
  "consumeOneTimeToken",
  "deleteUserOneTimeTokens",
  "createFactor",
  "updateFactor",
  "advanceFactorCounter",
  "deleteFactor",
  "deleteUserFactors",
  "deleteExpired",
] satisfies (keyof SessionStore)[]);

/** Per-method call counts of a {@link CountingStore}. */
export interface StoreCounts {
  calls: number;
  reads: number;
  writes: number;
  byMethod: Record<string, number>;
}

/**
 * Wraps a SessionStore and counts every call (one call = one store round trip for the SQL and
 * Redis stores). The wrapper is a plain forwarding object: one extra function call per operation.
 */
export function countingStore(inner: SessionStore): { store: SessionStore; take(): StoreCounts } {
  let counts: StoreCounts = { calls: 0, reads: 0, writes: 0, byMethod: {} };
  const wrapper: Record<string, unknown> = {};
  for (const name of SESSION_STORE_METHODS) {
    const fn = (inner as unknown as Record<string, (...args: unknown[]) => unknown>)[name];
    if (typeof fn !== "function") continue;
    const isWrite = WRITES.has(name);
    wrapper[name] = (...args: unknown[]) => {
      counts.calls++;
      if (isWrite) counts.writes++;
      else if (name !== "close") counts.reads++;
      counts.byMethod[name] = (counts.byMethod[name] ?? 0) + 1;
      return fn.apply(inner, args);
    };
  }
  return {
    store: wrapper as unknown as SessionStore,
    take() {
      const result = counts;
      counts = { calls: 0, reads: 0, writes: 0, byMethod: {} };
      return result;
    },
  };
}
