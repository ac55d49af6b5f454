import type { MaybePromise } from "./maybe-promise.js";

/**
 * The session store contract. A store keeps server-side sessions, remember-me tokens and login
 * failure counters. It never sees a raw token: only SHA-256 hashes (base64url strings) of the
 * secret parts. All times are integer milliseconds since the epoch, taken from the manager's clock
 * (never from the database's clock), so fake clocks work in tests.
 *
 * Rules every implementation follows (the conformance suite in `login-manager/testing` checks them):
 * - A record whose `expiresAt` is at or before the `now` passed in is treated as absent.
 * - Methods that find nothing resolve to `null` / `0` / `false`; they reject only on a store failure,
 *   with a {@link StoreError} (`unavailable: true` when the server cannot be reached). They never
 *   throw synchronously; only `getSession` may answer without a promise.
 * - Returned records are copies: mutating them never changes stored state.
 * - `rotateRememberToken` and `incrementFailures` are atomic on the server.
 *
 * @example
 * ```ts
 * import { MemoryStore } from "login-manager/stores/memory";
 * const store: SessionStore = new MemoryStore();
 * ```
 */
export interface SessionStore {
  /** Inserts a new session. Ids are random and never reused. */
  createSession(session: SessionRecord): Promise<void>;
  /**
   * Returns the session with this id if it has not expired at `now`. The one read of every
   * authenticated request: a store that has the answer at hand (memory, SQLite) may return it
   * directly instead of a promise, which spares a promise per request. Failures still come as a
   * rejected promise, never as a synchronous throw.
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

  /** Inserts a new remember-me token. */
  createRememberToken(token: RememberTokenRecord): Promise<void>;
  /** Returns the token with this selector if it has not expired at `now`. */
  getRememberToken(selector: string, now: number): Promise<RememberTokenRecord | null>;
  /**
   * Atomically rotates a remember-me token (see {@link RotateRememberInput}). Exactly one of several
   * concurrent callers presenting the same current validator gets `rotated`.
   */
  rotateRememberToken(input: RotateRememberInput): Promise<RotateRememberResult>;
  /** Deletes one remember-me token; resolves true when it existed. */
  deleteRememberToken(selector: string): Promise<boolean>;
  /** Deletes every remember-me token of the user; resolves to the number deleted. */
  deleteUserRememberTokens(userId: string): Promise<number>;

  /**
   * Deletes every session and every remember-me token of every user ("log everyone out", ASVS
   * 7.4.5), and nothing else: login failure counters stay, so account and address locks stay in
   * force. Resolves to the numbers of records removed, which may include expired ones no sweep had
   * removed yet.
   *
   * Every session and token that existed when the call started is gone when it resolves; records
   * created while it runs (a login in flight) may survive. Delete the remember-me tokens before the
   * sessions, or atomically: a remember-me restore running at the same time re-reads its token after
   * creating its session and ends that session when the token is gone. On a large store, delete in
   * batches rather than in one statement that locks everything for long.
   *
   * @example
   * ```ts
   * const { sessions, rememberTokens } = await store.deleteAllSessions();
   * ```
   */
  deleteAllSessions(): Promise<DeletedSessionCounts>;

  /**
   * Atomically adds one failure to the counter `key` and returns the new state. A counter whose
   * `expiresAt` has passed starts again from zero. The stored `expiresAt` becomes
   * `max(existing expiresAt, now + ttlMs)`.
   */
  incrementFailures(key: string, now: number, ttlMs: number): Promise<FailureRecord>;
  /** Returns the counter if it has not expired at `now`. */
  getFailures(key: string, now: number): Promise<FailureRecord | null>;
  /** Deletes the counter. */
  resetFailures(key: string): Promise<void>;

  /** Removes expired sessions, tokens and counters; resolves to the number of rows/keys removed. */
  deleteExpired(now: number): Promise<number>;
  /** Releases resources the store opened itself (not a pool or client the caller passed in). */
  close(): Promise<void>;
}

/** One entry per {@link SessionStore} method: TypeScript fails here when the interface gains one. */
const EVERY_STORE_METHOD: Record<keyof SessionStore, true> = {
  createSession: true,
  getSession: true,
  updateSession: true,
  deleteSession: true,
  listUserSessions: true,
  deleteUserSessions: true,
  createRememberToken: true,
  getRememberToken: true,
  rotateRememberToken: true,
  deleteRememberToken: true,
  deleteUserRememberTokens: true,
  deleteAllSessions: true,
  incrementFailures: true,
  getFailures: true,
  resetFailures: true,
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
 * What {@link SessionStore.deleteAllSessions} (and `manager.revokeAllSessions()`) removed.
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

/**
 * One server-side session. The cookie holds `<id>.<secret>`; the store keeps only `secretHash`.
 *
 * @example
 * ```ts
 * const session: SessionRecord = { id, secretHash, userId: "42", fresh: true, createdAt: now,
 *   lastSeenAt: now, expiresAt: now + 3_600_000, absoluteExpiresAt: now + 86_400_000,
 *   fingerprint: "…", userAgent: "Firefox", ipAddress: "127.0.0.1", rememberSelector: null };
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
  Pick<SessionRecord, "fresh" | "lastSeenAt" | "expiresAt" | "fingerprint" | "rememberSelector">
>;

/**
 * A remember-me token: the cookie holds `<selector>.<validator>`, the store keeps the selector and
 * a SHA-256 of the validator.
 *
 * @example
 * ```ts
 * const token: RememberTokenRecord = { selector, validatorHash, previousValidatorHash: null,
 *   rotatedAt: now, userId: "42", createdAt: now, expiresAt: now + 30 * 86_400_000 };
 * ```
 */
export interface RememberTokenRecord {
  selector: string;
  validatorHash: string;
  /** The validator hash replaced by the last rotation, accepted (without rotating) for a short grace. */
  previousValidatorHash: string | null;
  /** When the token was last rotated (or created). */
  rotatedAt: number;
  userId: string;
  createdAt: number;
  expiresAt: number;
}

/**
 * Input of {@link SessionStore.rotateRememberToken}. The store compares hashes with a constant-time
 * comparison and, atomically:
 * - token absent or expired at `now`: `{ outcome: "unknown" }`, nothing changes;
 * - `presentedValidatorHash` equals the current hash: sets `validatorHash = newValidatorHash`,
 *   `previousValidatorHash = presentedValidatorHash`, `rotatedAt = now`, and, when `newExpiresAt`
 *   is given, `expiresAt = newExpiresAt`; returns `{ outcome: "rotated", token }` (the updated record);
 * - it equals `previousValidatorHash` and `now - rotatedAt <= graceMs`: `{ outcome: "grace", token }`
 *   with nothing changed (a parallel request from the same browser lost the race);
 * - anything else: `{ outcome: "mismatch", token }` with nothing changed. The manager treats this
 *   as theft and revokes every session and token of `token.userId`.
 *
 * @example
 * ```ts
 * const result = await store.rotateRememberToken({ selector, presentedValidatorHash, newValidatorHash, now, graceMs: 10_000 });
 * ```
 */
export interface RotateRememberInput {
  selector: string;
  presentedValidatorHash: string;
  newValidatorHash: string;
  now: number;
  graceMs: number;
  newExpiresAt?: number;
}

/**
 * Result of {@link SessionStore.rotateRememberToken}.
 *
 * @example
 * ```ts
 * if (result.outcome === "mismatch") await revokeEverything(result.token.userId);
 * ```
 */
export type RotateRememberResult =
  | { outcome: "unknown" }
  | { outcome: "rotated" | "grace" | "mismatch"; token: RememberTokenRecord };

/**
 * A login failure counter (per account or per client address).
 *
 * @example
 * ```ts
 * const record = await store.incrementFailures("account:alice", now, 3_600_000);
 * if (record.count >= 5) lock();
 * ```
 */
export interface FailureRecord {
  key: string;
  count: number;
  firstFailureAt: number;
  lastFailureAt: number;
  expiresAt: number;
}
