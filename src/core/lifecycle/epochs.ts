/**
 * Credential epochs: how a login racing a revocation loses (issue 16.1). Every revocation (a
 * password change, "log out other sessions", `revokeUserSessions`, `revokeAllSessions`, theft)
 * increments counters in the store BEFORE it deletes anything: `epoch:any` first, then the user's
 * epoch (or `epoch:all`). A login snapshots the epochs before the password is verified and checks
 * them again after its session and token exist; a changed epoch undoes them. Whatever the
 * interleaving, either the revocation's deletions see the new records or the login's re-read sees
 * the new epoch.
 *
 * The user's id is only known once the password checked out, so the snapshot is taken in two steps:
 * `epoch:any` before verification, the user's and the global epoch after it, then `epoch:any` again.
 * Unchanged, it proves no revocation of anyone ran in between, so the user's epoch read after
 * verification is the one that held before it.
 *
 * @module
 */
import type { SessionStore } from "../store.js";
import { hashToken } from "../tokens.js";

/** Epoch counters outlive every token they guard (remember-me tokens last 30 days by default). */
const EPOCH_TTL_MS = 400 * 86_400_000;
const ANY_KEY = "epoch:any";
const ALL_KEY = "epoch:all";

/**
 * The epochs a login was checked under.
 *
 * @example
 * ```ts
 * const snapshot: CredentialSnapshot = { userId: "42", user: 3, all: 0 };
 * ```
 */
export interface CredentialSnapshot {
  readonly userId: string;
  readonly user: number;
  readonly all: number;
}

/** The counter key of a user's epoch: hashed, so any user id gives a short key. */
function userKey(userId: string): string {
  return `epoch:user:${hashToken(userId)}`;
}

async function read(store: SessionStore, key: string, now: number): Promise<number> {
  return (await store.getCounter(key, now))?.count ?? 0;
}

/**
 * The count of revocations of anyone (`epoch:any`), read before a secret is verified.
 *
 * @example
 * ```ts
 * const before = await readRevocationCount(store, now);
 * ```
 */
export function readRevocationCount(store: SessionStore, now: number): Promise<number> {
  return read(store, ANY_KEY, now);
}

/**
 * The user's and the global epoch, read one after the other.
 *
 * @example
 * ```ts
 * const snapshot = await snapshotEpochs(store, "42", now);
 * ```
 */
export async function snapshotEpochs(
  store: SessionStore,
  userId: string,
  now: number,
): Promise<CredentialSnapshot> {
  const [user, all] = await Promise.all([read(store, userKey(userId), now), read(store, ALL_KEY, now)]);
  return { userId, user, all };
}

/**
 * The snapshot of a check that began when `epoch:any` was `before`, or null when some revocation ran
 * since (the caller verifies again). Reads the user's epochs first and `epoch:any` last: revocations
 * increment in the other order.
 *
 * @example
 * ```ts
 * const snapshot = await snapshotSince(store, user.getId(), before, now);
 * if (!snapshot) return verifyAgain();
 * ```
 */
export async function snapshotSince(
  store: SessionStore,
  userId: string,
  before: number,
  now: number,
): Promise<CredentialSnapshot | null> {
  const snapshot = await snapshotEpochs(store, userId, now);
  return (await readRevocationCount(store, now)) === before ? snapshot : null;
}

/**
 * True when no revocation of the snapshot's user (or of everyone) ran since it was taken.
 *
 * @example
 * ```ts
 * if (!(await epochsUnchanged(store, snapshot, now))) await undo();
 * ```
 */
export async function epochsUnchanged(
  store: SessionStore,
  snapshot: CredentialSnapshot,
  now: number,
): Promise<boolean> {
  const current = await snapshotEpochs(store, snapshot.userId, now);
  return current.user === snapshot.user && current.all === snapshot.all;
}

/**
 * Marks a revocation of `userId` (or, with null, of everyone) before anything is deleted.
 *
 * @example
 * ```ts
 * await advanceEpoch(store, userId, now);
 * await store.deleteUserRememberTokens(userId);
 * ```
 */
export async function advanceEpoch(store: SessionStore, userId: string | null, now: number): Promise<void> {
  await store.incrementCounter(ANY_KEY, now, EPOCH_TTL_MS);
  await store.incrementCounter(userId === null ? ALL_KEY : userKey(userId), now, EPOCH_TTL_MS);
}
