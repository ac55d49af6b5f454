/**
 * `login-manager/store`: the session store contract, for authors of a custom store. Applications
 * only pick a store (`login-manager/stores/memory`, `/sqlite`, `/postgres`, `/redis`) and pass it as
 * `store`; `SessionStore` is also exported by `login-manager` for them.
 *
 * The contract has six parts ({@link SessionStorage}, {@link RememberTokenStorage},
 * {@link CounterStorage}, {@link OneTimeTokenStorage}, {@link FactorStorage} for second factors,
 * and {@link StoreMaintenance}); `login-manager/testing` has one conformance suite per part
 * (`defineStoreConformanceTests` runs all but the one-time token suite). A store fails with a
 * {@link StoreError}, flagged `unavailable` when its server cannot be reached (adapters then answer
 * 503). Times are the manager's clock, in milliseconds. Second factors never expire: keep them in a
 * store that persists, since losing one silently turns it off.
 *
 * @example
 * ```ts
 * import type { SessionRecord, SessionStorage } from "login-manager/store";
 * import { StoreError } from "login-manager/store";
 *
 * class KeyValueSessions implements Pick<SessionStorage, "createSession"> {
 *   constructor(private readonly kv: { set(key: string, value: string): Promise<void> }) {}
 *
 *   async createSession(session: SessionRecord): Promise<void> {
 *     try {
 *       await this.kv.set(`session:${session.id}`, JSON.stringify(session));
 *     } catch (cause) {
 *       throw new StoreError("createSession failed", { cause, unavailable: true });
 *     }
 *   }
 * }
 * ```
 *
 * @module
 */
export type { Clock } from "../core/clock.js";
export { systemClock } from "../core/clock.js";
export { StoreError } from "../core/errors.js";
export type { MaybePromise } from "../core/maybe-promise.js";
export type {
  CounterRecord,
  CounterStorage,
  DeletedSessionCounts,
  FactorPatch,
  FactorRecord,
  FactorStorage,
  OneTimeTokenRecord,
  OneTimeTokenStorage,
  RememberRotation,
  RememberTokenRecord,
  RememberTokenStorage,
  SessionPatch,
  SessionRecord,
  SessionStorage,
  SessionStore,
  StoreMaintenance,
} from "../core/store.js";
export { constantTimeEqual } from "../core/tokens.js";
