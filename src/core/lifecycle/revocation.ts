/**
 * Revocation, written once: every way sessions end in bulk (a password change, "log out other
 * sessions", one session by handle, theft, an administrator's revocation of a user or of everyone)
 * goes through here, which is also the only code that emits `sessionsRevoked`.
 *
 * Order matters and is the same everywhere: the credential epoch first (so a login in flight
 * undoes itself, see epochs.ts), then remember-me tokens (so a restore in flight, which re-reads its
 * token after creating its session, ends that session), then sessions.
 *
 * @module
 */
import type { RequestView } from "../http.js";
import type { DeletedSessionCounts, SessionRecord } from "../store.js";
import type { AuthUser } from "../users.js";
import type { LifecycleDeps } from "./deps.js";
import { advanceEpoch } from "./epochs.js";
import { endSessionAndToken } from "./sessions.js";

/**
 * Why sessions were revoked, as `sessionsRevoked` reports it.
 *
 * @example
 * ```ts
 * const reason: RevocationReason = "password-change";
 * ```
 */
export type RevocationReason =
  | "password-change"
  | "password-reset"
  | "revoke-others"
  | "revoke-one"
  | "theft"
  | "admin";

/**
 * Ends every session (but `keepSessionId`) and every remember-me token of `userId`, forgets the
 * cached user and emits; resolves to the number of sessions ended.
 */
export async function revokeUser<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  userId: string,
  reason: RevocationReason,
  context: { request?: RequestView; keepSessionId?: string } = {},
): Promise<number> {
  const { store } = deps;
  await advanceEpoch(store, userId, deps.clock.now());
  await store.deleteUserRememberTokens(userId);
  const count = await store.deleteUserSessions(userId, context.keepSessionId);
  deps.userCache.forget(userId);
  const { request } = context;
  if (reason === "theft" && request) deps.events.emit("rememberTheft", { userId, request });
  deps.events.emit(
    "sessionsRevoked",
    request ? { userId, reason, count, request } : { userId, reason, count },
  );
  return count;
}

/** Ends one session of `userId` and the remember token it carries, and emits. */
export async function revokeSession<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  session: SessionRecord,
  request: RequestView,
): Promise<void> {
  await endSessionAndToken(deps, session);
  deps.events.emit("sessionsRevoked", { userId: session.userId, reason: "revoke-one", count: 1, request });
}

/**
 * Ends every session and remember-me token of every user (login failure counters stay, so locks
 * stay in force), clears the user cache and emits `allSessionsRevoked`.
 */
export async function revokeEveryone<U extends AuthUser>(
  deps: LifecycleDeps<U>,
): Promise<DeletedSessionCounts> {
  const { store } = deps;
  await advanceEpoch(store, null, deps.clock.now());
  const rememberTokens = await store.deleteAllRememberTokens();
  const sessions = await store.deleteAllSessions();
  deps.userCache.clear();
  const counts = { sessions, rememberTokens };
  deps.events.emit("allSessionsRevoked", { ...counts });
  return counts;
}
