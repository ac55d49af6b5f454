import type { Clock } from "../../core/clock.js";
import { StoreError } from "../../core/errors.js";
import type { MaybePromise } from "../../core/maybe-promise.js";
import type {
  CounterRecord,
  OneTimeTokenRecord,
  OneTimeTokenStorage,
  RememberRotation,
  RememberTokenRecord,
  SessionPatch,
  SessionRecord,
  SessionStore,
} from "../../core/store.js";
import { constantTimeEqual } from "../../core/tokens.js";
import { FactorStorageBase } from "../factor-storage.js";
import { MemoryCounters } from "./counters.js";
import { MemoryFactors } from "./factors.js";
import { MemoryOneTimeTokens } from "./one-time-tokens.js";
import { startSweepTimer } from "./sweep-timer.js";
import { addToIndex, removeFromIndex } from "./user-index.js";

/**
 * Options of {@link MemoryStore}.
 *
 * @example
 * ```ts
 * const options: MemoryStoreOptions = { sweepIntervalSeconds: 60 };
 * ```
 */
export interface MemoryStoreOptions {
  /**
   * When set, expired records are removed every this many seconds by an unref'd timer (it never
   * keeps the process alive; `close()` stops it). Off by default: expired records are already
   * invisible to every read, the sweep only frees memory.
   */
  sweepIntervalSeconds?: number;
  /** The clock the sweep timer reads; defaults to the system clock. */
  clock?: Clock;
}

/**
 * A {@link SessionStore} (every part, one-time tokens and second factors included) that keeps everything in
 * this process's memory. Meant for tests, demos and single-process development servers: data
 * disappears on restart and is not shared between processes or cluster workers. Use the SQLite,
 * PostgreSQL or Redis store in production.
 *
 * Lookups by id are `Map` reads; a per-user index makes listing and revoking a user's sessions and
 * tokens proportional to that user's records, not to the whole store. Every record going in or out
 * is copied. Second factors (`factors.ts`) never expire and are kept until deleted.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "login-manager/stores/memory";
 *
 * const store = new MemoryStore();
 * await store.createSession(session);
 * const found = await store.getSession(session.id, Date.now());
 * ```
 */
export class MemoryStore extends FactorStorageBase implements SessionStore, OneTimeTokenStorage {
  readonly #sessions = new Map<string, SessionRecord>();
  readonly #userSessions = new Map<string, Set<string>>();
  readonly #tokens = new Map<string, RememberTokenRecord>();
  readonly #userTokens = new Map<string, Set<string>>();
  readonly #counters = new MemoryCounters();
  readonly #oneTimeTokens = new MemoryOneTimeTokens();
  #stopSweep: (() => void) | undefined;

  /**
   * @example
   * ```ts
   * const store = new MemoryStore({ sweepIntervalSeconds: 300 });
   * ```
   */
  constructor(options: MemoryStoreOptions = {}) {
    super("MemoryStore", new MemoryFactors());
    this.#stopSweep = startSweepTimer(options.sweepIntervalSeconds, options.clock, (now) => this.#sweep(now));
  }

  /**
   * @example
   * ```ts
   * await store.createSession(session);
   * ```
   */
  async createSession(session: SessionRecord): Promise<void> {
    if (this.#sessions.has(session.id)) {
      throw new StoreError(`MemoryStore: a session with this id already exists`);
    }
    this.#sessions.set(session.id, { ...session });
    addToIndex(this.#userSessions, session.userId, session.id);
  }

  /**
   * @example
   * ```ts
   * const session = await store.getSession(id, Date.now());
   * ```
   */
  getSession(id: string, now: number): MaybePromise<SessionRecord | null> {
    const session = this.#sessions.get(id);
    return session && session.expiresAt > now ? { ...session } : null;
  }

  /**
   * @example
   * ```ts
   * await store.updateSession(id, { lastSeenAt: now, expiresAt: now + 1_800_000 });
   * ```
   */
  async updateSession(id: string, patch: SessionPatch): Promise<boolean> {
    const session = this.#sessions.get(id);
    if (!session) return false;
    if (patch.fresh !== undefined) session.fresh = patch.fresh;
    if (patch.lastSeenAt !== undefined) session.lastSeenAt = patch.lastSeenAt;
    if (patch.expiresAt !== undefined) session.expiresAt = patch.expiresAt;
    if (patch.rememberSelector !== undefined) session.rememberSelector = patch.rememberSelector;
    return true;
  }

  /**
   * @example
   * ```ts
   * await store.deleteSession(id); // true when it existed
   * ```
   */
  async deleteSession(id: string): Promise<boolean> {
    return this.#removeSession(id);
  }

  /**
   * @example
   * ```ts
   * const sessions = await store.listUserSessions("42", Date.now());
   * ```
   */
  async listUserSessions(userId: string, now: number): Promise<SessionRecord[]> {
    const ids = this.#userSessions.get(userId);
    if (!ids) return [];
    const result: SessionRecord[] = [];
    for (const id of ids) {
      const session = this.#sessions.get(id);
      if (session && session.expiresAt > now) result.push({ ...session });
    }
    // Stable sort: sessions created in the same millisecond stay in insertion order.
    return result.sort((a, b) => a.createdAt - b.createdAt);
  }

  /**
   * @example
   * ```ts
   * const revoked = await store.deleteUserSessions("42", currentSessionId);
   * ```
   */
  async deleteUserSessions(userId: string, exceptSessionId?: string): Promise<number> {
    const ids = this.#userSessions.get(userId);
    if (!ids) return 0;
    let deleted = 0;
    for (const id of [...ids]) {
      if (id !== exceptSessionId && this.#removeSession(id)) deleted++;
    }
    return deleted;
  }

  /**
   * @example
   * ```ts
   * await store.createRememberToken(token);
   * ```
   */
  async createRememberToken(token: RememberTokenRecord): Promise<void> {
    if (this.#tokens.has(token.selector)) {
      throw new StoreError(`MemoryStore: a remember-me token with this selector already exists`);
    }
    this.#tokens.set(token.selector, { ...token });
    addToIndex(this.#userTokens, token.userId, token.selector);
  }

  /**
   * @example
   * ```ts
   * const token = await store.getRememberToken(selector, Date.now());
   * ```
   */
  async getRememberToken(selector: string, now: number): Promise<RememberTokenRecord | null> {
    const token = this.#tokens.get(selector);
    return token && token.expiresAt > now ? { ...token } : null;
  }

  /**
   * Atomic because the whole compare-and-set runs synchronously, without an `await` in between.
   *
   * @example
   * ```ts
   * const swapped = await store.swapRememberValidator(selector, token.validatorHash, rotation);
   * ```
   */
  async swapRememberValidator(
    selector: string,
    expectedValidatorHash: string,
    rotation: RememberRotation,
  ): Promise<boolean> {
    const token = this.#tokens.get(selector);
    if (!token || !constantTimeEqual(expectedValidatorHash, token.validatorHash)) return false;
    token.validatorHash = rotation.validatorHash;
    token.previousValidatorHash = rotation.previousValidatorHash;
    token.rotatedAt = rotation.rotatedAt;
    token.rotatedBy = rotation.rotatedBy;
    return true;
  }

  /**
   * @example
   * ```ts
   * await store.deleteRememberToken(selector);
   * ```
   */
  async deleteRememberToken(selector: string): Promise<boolean> {
    return this.#removeToken(selector);
  }

  /**
   * @example
   * ```ts
   * const removed = await store.deleteUserRememberTokens("42");
   * ```
   */
  async deleteUserRememberTokens(userId: string): Promise<number> {
    const selectors = this.#userTokens.get(userId);
    if (!selectors) return 0;
    let deleted = 0;
    for (const selector of [...selectors]) {
      if (this.#removeToken(selector)) deleted++;
    }
    return deleted;
  }

  /**
   * Empties the sessions and their per-user index in one synchronous step (so atomically).
   *
   * @example
   * ```ts
   * const removed = await store.deleteAllSessions();
   * ```
   */
  async deleteAllSessions(): Promise<number> {
    const count = this.#sessions.size;
    this.#sessions.clear();
    this.#userSessions.clear();
    return count;
  }

  /**
   * Empties the remember-me tokens and their per-user index in one synchronous step.
   *
   * @example
   * ```ts
   * const removed = await store.deleteAllRememberTokens();
   * ```
   */
  async deleteAllRememberTokens(): Promise<number> {
    const count = this.#tokens.size;
    this.#tokens.clear();
    this.#userTokens.clear();
    return count;
  }

  /**
   * @example
   * ```ts
   * const { count } = await store.incrementCounter("account:alice", Date.now(), 900_000);
   * ```
   */
  async incrementCounter(key: string, now: number, ttlMs: number): Promise<CounterRecord> {
    return this.#counters.increment(key, now, ttlMs);
  }

  /**
   * @example
   * ```ts
   * const counter = await store.getCounter("address:203.0.113.7", Date.now());
   * ```
   */
  async getCounter(key: string, now: number): Promise<CounterRecord | null> {
    return this.#counters.get(key, now);
  }

  /**
   * @example
   * ```ts
   * await store.deleteCounter("account:alice");
   * ```
   */
  async deleteCounter(key: string): Promise<void> {
    this.#counters.delete(key);
  }

  /**
   * @example
   * ```ts
   * await store.createOneTimeToken({ ...record, expiresAt: Date.now() + 1_800_000 });
   * ```
   */
  async createOneTimeToken(token: OneTimeTokenRecord): Promise<void> {
    this.#oneTimeTokens.create(token);
  }

  /**
   * @example
   * ```ts
   * const pending = await store.findOneTimeToken(hashToken(token), Date.now());
   * ```
   */
  async findOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null> {
    return this.#oneTimeTokens.find(tokenHash, now);
  }

  /**
   * Atomic because the read and the delete run synchronously, without an `await` in between.
   *
   * @example
   * ```ts
   * const record = await store.consumeOneTimeToken(hashToken(token), Date.now());
   * ```
   */
  async consumeOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null> {
    return this.#oneTimeTokens.consume(tokenHash, now);
  }

  /**
   * @example
   * ```ts
   * const removed = await store.deleteUserOneTimeTokens("42", "password-reset");
   * ```
   */
  async deleteUserOneTimeTokens(userId: string, purpose: string | null): Promise<number> {
    return this.#oneTimeTokens.deleteUser(userId, purpose);
  }

  /**
   * @example
   * ```ts
   * const removed = await store.deleteExpired(Date.now());
   * ```
   */
  async deleteExpired(now: number): Promise<number> {
    return this.#sweep(now);
  }

  /**
   * Stops the sweep timer. The data stays readable.
   *
   * @example
   * ```ts
   * await store.close();
   * ```
   */
  async close(): Promise<void> {
    this.#stopSweep?.();
    this.#stopSweep = undefined;
  }

  #sweep(now: number): number {
    let removed = 0;
    for (const [id, session] of this.#sessions) {
      if (session.expiresAt <= now && this.#removeSession(id)) removed++;
    }
    for (const [selector, token] of this.#tokens) {
      if (token.expiresAt <= now && this.#removeToken(selector)) removed++;
    }
    return removed + this.#counters.sweep(now) + this.#oneTimeTokens.sweep(now);
  }

  #removeSession(id: string): boolean {
    const session = this.#sessions.get(id);
    if (!session) return false;
    this.#sessions.delete(id);
    removeFromIndex(this.#userSessions, session.userId, id);
    return true;
  }

  #removeToken(selector: string): boolean {
    const token = this.#tokens.get(selector);
    if (!token) return false;
    this.#tokens.delete(selector);
    removeFromIndex(this.#userTokens, token.userId, selector);
    return true;
  }
}
