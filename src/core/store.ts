import type { MaybePromise } from "./maybe-promise.js";
import type { FactorStorage } from "./store-factors.js";

export type { FactorPatch, FactorRecord, FactorStorage } from "./store-factors.js";

/**
 * The session part of the store contract: server-side sessions, keyed by a random id. The store
 * never sees a raw token, only SHA-256 hashes (base64url) of the secret parts. Times are integer
 * milliseconds since the epoch from the manager's clock (never the database's), so fake clocks work.
 *
 * Rules every part follows (the conformance suites in `login-manager/testing` check them):
 * - A record whose `expiresAt` is at or before the `now` passed in is treated as absent.
 * - Methods that find nothing resolve to `null` / `0` / `false`; they reject only on a store failure,
 *   with a {@link StoreError} (`unavailable: true` when the server cannot be reached). They never
 *   throw synchronously; only `getSession` may answer without a promise.
 * - Returned records are copies: mutating them never changes stored state.
 * - No part holds a security rule. Theft detection, grace windows, revocation order and credential
 *   epochs live in the core's session lifecycle, on top of these primitives.
 *
 * @example
 * ```ts
 * const sessions: SessionStorage = new MemoryStore();
 * await sessions.createSession(record);
 * ```
 */
export interface SessionStorage {
  /** Inserts a new session. Ids are random and never reused. */
  createSession(session: SessionRecord): Promise<void>;
  /**
   * Returns the session with this id if it has not expired at `now`. The one read of every
   * authenticated request: a store that has the answer at hand (memory, SQLite) may return it
   * directly instead of a promise. Failures still come as a rejected promise, never a synchronous throw.
   */
  getSession(id: string, now: number): MaybePromise<SessionRecord | null>;
  /** Applies `patch` to an existing session; resolves false when it no longer exists. */
  updateSession(id: string, patch: SessionPatch): Promise<boolean>;
  /** Deletes one session; resolves true when it existed. */
  deleteSession(id: string): Promise<boolean>;
  /** Lists the user's sessions that have not expired at `now`, oldest first. */
  listUserSessions(userId: string, now: number): Promise<SessionRecord[]>;
  /** Deletes every session of the user except `exceptSessionId`; resolves to the number deleted. */
  deleteUserSessions(userId: string, exceptSessionId?: string): Promise<number>;
  /**
   * Deletes every session of every user; resolves to the number removed (expired ones no sweep had
   * removed yet may be counted). On a large store, delete in batches rather than in one statement
   * that locks everything for long.
   */
  deleteAllSessions(): Promise<number>;
}

/**
 * The remember-me part of the store contract. The cookie holds `<selector>.<validator>`; the store
 * keeps the selector and a SHA-256 of the validator. Rotation is a compare-and-swap
 * ({@link RememberTokenStorage.swapRememberValidator}); what a stale validator means (a sibling
 * request's race, or theft) is decided by the core, never by the store.
 *
 * @example
 * ```ts
 * const swapped = await store.swapRememberValidator(selector, token.validatorHash, rotation);
 * ```
 */
export interface RememberTokenStorage {
  /** Inserts a new remember-me token. */
  createRememberToken(token: RememberTokenRecord): Promise<void>;
  /** Returns the token with this selector if it has not expired at `now`. */
  getRememberToken(selector: string, now: number): Promise<RememberTokenRecord | null>;
  /**
   * Atomically: when the token `selector` exists and its `validatorHash` equals
   * `expectedValidatorHash`, writes the fields of `rotation` and resolves true; otherwise changes
   * nothing and resolves false. Of several concurrent callers expecting the same hash, exactly one
   * gets true.
   */
  swapRememberValidator(
    selector: string,
    expectedValidatorHash: string,
    rotation: RememberRotation,
  ): Promise<boolean>;
  /** Deletes one remember-me token; resolves true when it existed. */
  deleteRememberToken(selector: string): Promise<boolean>;
  /** Deletes every remember-me token of the user; resolves to the number deleted. */
  deleteUserRememberTokens(userId: string): Promise<number>;
  /** Deletes every remember-me token of every user; resolves to the number removed. */
  deleteAllRememberTokens(): Promise<number>;
}

/**
 * The counter part of the store contract: small expiring counters under string keys. The core
 * keeps login failure budgets in them (`account:…`, `address:…`) and each user's credential epoch
 * (`epoch:…`), which every revocation increments before it deletes anything.
 *
 * @example
 * ```ts
 * const record = await store.incrementCounter("account:alice", now, 3_600_000);
 * if (record.count >= 5) lock();
 * ```
 */
export interface CounterStorage {
  /**
   * Atomically adds one to the counter `key` and returns its new state. A counter whose `expiresAt`
   * has passed at `now` starts again from zero (`firstAt = now`). The stored `expiresAt` becomes
   * `max(existing expiresAt, now + ttlMs)`; `lastAt` becomes `now`.
   */
  incrementCounter(key: string, now: number, ttlMs: number): Promise<CounterRecord>;
  /** Returns the counter if it has not expired at `now`. */
  getCounter(key: string, now: number): Promise<CounterRecord | null>;
  /** Deletes the counter. */
  deleteCounter(key: string): Promise<void>;
}

/**
 * The one-time token part of the store contract: single-use tokens for a purpose (a password reset
 * link, an e-mail verification link, a magic link), kept as SHA-256 hashes only. What a token may do,
 * and whether the user's credentials changed since it was issued, is the core's business.
 *
 * @example
 * ```ts
 * const record = await store.consumeOneTimeToken(hashToken(token), now);
 * if (record?.purpose === "password-reset") resetPasswordOf(record.userId);
 * ```
 */
export interface OneTimeTokenStorage {
  /** Inserts a new token. Hashes are of random tokens and never reused. */
  createOneTimeToken(token: OneTimeTokenRecord): Promise<void>;
  /** Returns the token with this hash if it has not expired at `now`, without consuming it. */
  findOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null>;
  /**
   * Atomically deletes and returns the token with this hash if it has not expired at `now`; null
   * otherwise. Of several concurrent callers with the same hash, exactly one gets the record.
   */
  consumeOneTimeToken(tokenHash: string, now: number): Promise<OneTimeTokenRecord | null>;
  /** Deletes the user's tokens of `purpose` (of every purpose when null); resolves to the number deleted. */
  deleteUserOneTimeTokens(userId: string, purpose: string | null): Promise<number>;
}

/**
 * A one-time token: the link carries the token, the store keeps its hash.
 *
 * @example
 * ```ts
 * const record: OneTimeTokenRecord = { tokenHash, purpose: "password-reset", userId: "42", data: "",
 *   epoch: 3, createdAt: now, expiresAt: now + 1_800_000 };
 * ```
 */
export interface OneTimeTokenRecord {
  /** base64url SHA-256 of the token. */
  tokenHash: string;
  /** What the token is for, e.g. `"password-reset"`, `"email-verify"` (at most 64 characters). */
  purpose: string;
  userId: string;
  /** Data bound to the token, e.g. the address being verified (at most 1024 characters). */
  data: string;
  /** The user's credential epoch when the token was issued: a revocation since voids it. */
  epoch: number;
  createdAt: number;
  expiresAt: number;
}

/**
 * Housekeeping every store provides.
 *
 * @example
 * ```ts
 * setInterval(() => void store.deleteExpired(Date.now()), 3_600_000).unref();
 * ```
 */
export interface StoreMaintenance {
  /** Removes expired sessions, tokens and counters; resolves to the number of rows/keys removed. */
  deleteExpired(now: number): Promise<number>;
  /** Releases resources the store opened itself (not a pool or client the caller passed in). */
  close(): Promise<void>;
}

/**
 * A complete store: every part above, one-time tokens and second factors ({@link FactorStorage})
 * included. The four stores shipped (`login-manager/stores/memory`, `/sqlite`, `/postgres`,
 * `/redis`) implement it; so can yours, and `login-manager/testing` has a conformance suite per
 * part to prove it.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "login-manager/stores/memory";
 * const store: SessionStore = new MemoryStore();
 * ```
 */
export type SessionStore = SessionStorage &
  RememberTokenStorage &
  CounterStorage &
  OneTimeTokenStorage &
  FactorStorage &
  StoreMaintenance;

/** One entry per {@link SessionStore} method: TypeScript fails here when a part gains one. */
const EVERY_STORE_METHOD: Record<keyof SessionStore, true> = {
  createSession: true,
  getSession: true,
  updateSession: true,
  deleteSession: true,
  listUserSessions: true,
  deleteUserSessions: true,
  deleteAllSessions: true,
  createRememberToken: true,
  getRememberToken: true,
  swapRememberValidator: true,
  deleteRememberToken: true,
  deleteUserRememberTokens: true,
  deleteAllRememberTokens: true,
  incrementCounter: true,
  getCounter: true,
  deleteCounter: true,
  createOneTimeToken: true,
  findOneTimeToken: true,
  consumeOneTimeToken: true,
  deleteUserOneTimeTokens: true,
  createFactor: true,
  getFactor: true,
  listUserFactors: true,
  updateFactor: true,
  advanceFactorCounter: true,
  deleteFactor: true,
  deleteUserFactors: true,
  deleteExpired: true,
  close: true,
};

/**
 * The names of all {@link SessionStore} methods; `LoginManager` refuses at setup a store that lacks
 * any of them, instead of failing later in the request that first needs it.
 *
 * @example
 * ```ts
 * const missing = SESSION_STORE_METHODS.filter((name) => typeof Reflect.get(store, name) !== "function");
 * ```
 */
export const SESSION_STORE_METHODS: readonly (keyof SessionStore)[] = Object.freeze(
  Object.keys(EVERY_STORE_METHOD) as (keyof SessionStore)[],
);

/**
 * One server-side session. The cookie holds `<id>.<secret>`; the store keeps only `secretHash`.
 *
 * @example
 * ```ts
 * const session: SessionRecord = { id, secretHash, userId: "42", fresh: true, createdAt: now,
 *   lastSeenAt: now, expiresAt: now + 3_600_000, absoluteExpiresAt: now + 86_400_000,
 *   fingerprint: "…", userAgent: "Firefox", ipAddress: "127.0.0.1", rememberSelector: null,
 *   authMethods: `pwd:${now}` };
 * ```
 */
export interface SessionRecord {
  /** Public lookup id: base64url of at least 16 random bytes. */
  id: string;
  /** base64url SHA-256 of the secret half of the cookie. */
  secretHash: string;
  /** The logged-in user's id, as returned by `user.getId()`. */
  userId: string;
  /** False when restored from remember-me or after a fingerprint change in basic mode. */
  fresh: boolean;
  createdAt: number;
  /** Last time the session was touched (written at most once per touch interval). */
  lastSeenAt: number;
  /** When the session stops being valid: min(lastSeenAt + idle timeout, absoluteExpiresAt). */
  expiresAt: number;
  /** Hard end of the session, whatever the activity. */
  absoluteExpiresAt: number;
  /** Hash of the client fingerprint used by session protection; "" when protection is off. */
  fingerprint: string;
  /** User-Agent at login, truncated, for "your sessions" lists. */
  userAgent: string;
  /** Client address at login, for "your sessions" lists. */
  ipAddress: string;
  /** Selector of the remember-me token issued with or used to restore this session, if any. */
  rememberSelector: string | null;
  /**
   * How the user proved who they are, and when (RFC 8176 method names with millisecond times, written
   * and read by the core only): `"pwd:1733450000000 otp:1733450004000"`; "" for none recorded (a
   * session created before this field existed). At most 512 characters; opaque to the store.
   */
  authMethods: string;
}

/**
 * Fields of a session that may change after creation.
 *
 * @example
 * ```ts
 * await store.updateSession(id, { fresh: false });
 * ```
 */
export type SessionPatch = Partial<
  Pick<SessionRecord, "fresh" | "lastSeenAt" | "expiresAt" | "rememberSelector">
>;

/**
 * A remember-me token: the cookie holds `<selector>.<validator>`, the store keeps the selector and
 * a SHA-256 of the validator.
 *
 * @example
 * ```ts
 * const token: RememberTokenRecord = { selector, validatorHash, previousValidatorHash: null,
 *   rotatedAt: now, rotatedBy: fingerprint, userId: "42", createdAt: now, expiresAt: now + 30 * 86_400_000 };
 * ```
 */
export interface RememberTokenRecord {
  selector: string;
  validatorHash: string;
  /** The validator hash replaced by the last rotation (null before the first). */
  previousValidatorHash: string | null;
  /** When the token was last rotated (or created). */
  rotatedAt: number;
  /** Fingerprint (address and User-Agent hash) of the client that created or last rotated it. */
  rotatedBy: string;
  userId: string;
  createdAt: number;
  expiresAt: number;
}

/**
 * The fields {@link RememberTokenStorage.swapRememberValidator} writes.
 *
 * @example
 * ```ts
 * const rotation: RememberRotation = { validatorHash: hashToken(next), previousValidatorHash: presented,
 *   rotatedAt: now, rotatedBy: fingerprint };
 * ```
 */
export type RememberRotation = Pick<
  RememberTokenRecord,
  "validatorHash" | "previousValidatorHash" | "rotatedAt" | "rotatedBy"
>;

/**
 * An expiring counter (see {@link CounterStorage}).
 *
 * @example
 * ```ts
 * const record: CounterRecord = { key: "account:alice", count: 3, firstAt, lastAt, expiresAt };
 * ```
 */
export interface CounterRecord {
  key: string;
  count: number;
  /** When the counter last started from zero. */
  firstAt: number;
  /** When it was last incremented. */
  lastAt: number;
  expiresAt: number;
}

/**
 * What `manager.revokeAllSessions()` removed.
 *
 * @example
 * ```ts
 * const counts: DeletedSessionCounts = { sessions: 120, rememberTokens: 45 };
 * ```
 */
export interface DeletedSessionCounts {
  /** Sessions deleted. */
  sessions: number;
  /** Remember-me tokens deleted. */
  rememberTokens: number;
}
