/**
 * The session lifecycle: the only code that calls the session and remember-token parts of the
 * store. One method per step: find and protect and touch a session (the per-request read), restore
 * from remember-me, log in, rotate, log out, list, and revoke one, the others, a user or everyone.
 * Requests reach it through their `AuthContext`; the manager uses it for the revocations an app
 * makes outside a request.
 *
 * @module
 */
import type { RequestView } from "../http.js";
import type { MaybePromise } from "../maybe-promise.js";
import type { DeletedSessionCounts, SessionRecord } from "../store.js";
import type { AuthUser } from "../users.js";
import type { LifecycleDeps } from "./deps.js";
import { type CredentialSnapshot, readRevocationCount, snapshotSince } from "./epochs.js";
import {
  endHeld,
  endOtherSessions,
  type HeldLogin,
  type LoginRequest,
  rotateSession,
  type StartedLogin,
  startLogin,
} from "./login.js";
import {
  consumeOneTimeToken,
  issueOneTimeToken,
  type OneTimeGrant,
  type OneTimeIssue,
  peekOneTimeToken,
  revokeOneTimeTokens,
} from "./one-time.js";
import {
  consumePendingLogin,
  findPendingLogin,
  hasSecondFactor,
  type PendingLoginRecord,
  startPendingLogin,
} from "./pending.js";
import type { IssuedToken } from "./remember.js";
import { type Restored, restoreFromToken } from "./restore.js";
import { type RevocationReason, revokeEveryone, revokeSession, revokeUser } from "./revocation.js";
import {
  type CreatedSession,
  endSessionAndToken,
  findSession,
  fingerprintMatches,
  protectSession,
  touchDue,
  touchSession,
} from "./sessions.js";

export type { LifecycleDeps } from "./deps.js";
export type { CredentialSnapshot } from "./epochs.js";
export type { HeldLogin, LoginRequest, StartedLogin } from "./login.js";
export type { OneTimeGrant, OneTimeIssue } from "./one-time.js";
export type { PendingLoginRecord } from "./pending.js";
export type { IssuedToken } from "./remember.js";
export type { Restored } from "./restore.js";
export type { RevocationReason } from "./revocation.js";
export type { CreatedSession } from "./sessions.js";

/**
 * The session lifecycle of one manager (see the module comment).
 *
 * @example
 * ```ts
 * const lifecycle = new SessionLifecycle(deps);
 * const ended = await lifecycle.revokeUser("42", "admin");
 * ```
 */
export class SessionLifecycle<U extends AuthUser> {
  readonly #deps: LifecycleDeps<U>;

  constructor(deps: LifecycleDeps<U>) {
    this.#deps = deps;
  }

  /** The clock's time, for callers that pass `now` to the per-request steps. */
  now(): number {
    return this.#deps.clock.now();
  }

  /** The session `<id>.<secret>` names, or "dead"; synchronous when the store answers so. */
  findSession(id: string, secret: string, now: number): MaybePromise<SessionRecord | "dead"> {
    return findSession(this.#deps, id, secret, now);
  }

  /** True when session protection has nothing to do for this request. */
  fingerprintMatches(request: RequestView, session: SessionRecord): boolean {
    return fingerprintMatches(this.#deps, request, session);
  }

  /** Applies session protection to a session whose client changed. */
  protect(request: RequestView, session: SessionRecord): Promise<"kept" | "ended"> {
    return protectSession(this.#deps, request, session);
  }

  /** True when the session's activity is due to be written. */
  touchDue(session: SessionRecord, now: number): boolean {
    return touchDue(this.#deps, session, now);
  }

  /** Writes the session's activity (once per interval, shared by concurrent requests). */
  touch(session: SessionRecord, now: number): Promise<void> {
    return touchSession(this.#deps, session, now);
  }

  /** Ends a session whose user no longer loads, and its remember token. */
  endOrphan(session: SessionRecord): Promise<void> {
    return endSessionAndToken(this.#deps, session);
  }

  /** Restores a login from a remember-me cookie's two halves, or "dead". */
  restore(
    request: RequestView,
    selector: string,
    validator: string,
    loadUser: (userId: string) => Promise<U | null>,
  ): Promise<Restored<U> | "dead"> {
    return restoreFromToken(this.#deps, request, selector, validator, loadUser);
  }

  /** Counts revocations of anyone: read before a secret is verified (see epochs.ts). */
  revocationCount(): Promise<number> {
    return readRevocationCount(this.#deps.store, this.now());
  }

  /** The epochs a check that began at revocation count `before` ran under, or null if it must run again. */
  snapshotSince(userId: string, before: number): Promise<CredentialSnapshot | null> {
    return snapshotSince(this.#deps.store, userId, before, this.now());
  }

  /** Logs a user in on this browser; null when a revocation raced the login (nothing is left). */
  login(request: RequestView, held: HeldLogin, login: LoginRequest): Promise<StartedLogin | null> {
    return startLogin(this.#deps, request, held, login);
  }

  /** A new session id for this browser's login; null when its session was revoked meanwhile. */
  rotate(
    request: RequestView,
    held: HeldLogin & { readonly userId: string },
    options: { readonly fresh: boolean; readonly keepRemember: boolean; readonly authMethods: string },
  ): Promise<CreatedSession | null> {
    return rotateSession(this.#deps, request, held, options);
  }

  /** Logs this browser out: its session, its remember token and that token's sessions. */
  logout(held: HeldLogin): Promise<void> {
    return endHeld(this.#deps, held);
  }

  /** The user's sessions that have not expired, oldest first. */
  list(userId: string): Promise<SessionRecord[]> {
    return this.#deps.store.listUserSessions(userId, this.now());
  }

  /** Ends one of the user's sessions (and its token) and emits `sessionsRevoked`. */
  revokeOne(session: SessionRecord, request: RequestView): Promise<void> {
    return revokeSession(this.#deps, session, request);
  }

  /** Ends every other session and token of this browser's user; re-issues this browser's token. */
  revokeOthers(
    request: RequestView,
    held: HeldLogin & { readonly userId: string },
  ): Promise<{ count: number; token: IssuedToken | null }> {
    return endOtherSessions(this.#deps, request, held);
  }

  /** Ends every session (but `keepSessionId`) and token of a user; resolves to the sessions ended. */
  revokeUser(
    userId: string,
    reason: RevocationReason,
    context?: { request?: RequestView; keepSessionId?: string },
  ): Promise<number> {
    return revokeUser(this.#deps, userId, reason, context);
  }

  /** Ends every session and token of every user. */
  revokeEveryone(): Promise<DeletedSessionCounts> {
    return revokeEveryone(this.#deps);
  }

  /** Issues a one-time token (password reset, e-mail verification) bound to the user's epoch. */
  issueOneTime(issue: OneTimeIssue): Promise<string> {
    return issueOneTimeToken(this.#deps, issue);
  }

  /** The grant of a valid one-time token, without consuming it. */
  peekOneTime(purpose: string, token: string): Promise<OneTimeGrant | null> {
    return peekOneTimeToken(this.#deps, purpose, token);
  }

  /** Consumes a valid one-time token once and returns its grant. */
  consumeOneTime(purpose: string, token: string): Promise<OneTimeGrant | null> {
    return consumeOneTimeToken(this.#deps, purpose, token);
  }

  /** Deletes a user's outstanding one-time tokens of a purpose (all when null). */
  revokeOneTime(userId: string, purpose: string | null): Promise<number> {
    return revokeOneTimeTokens(this.#deps, userId, purpose);
  }

  /** Whether the user has a second factor (TOTP or a passkey). */
  hasSecondFactor(userId: string): Promise<boolean> {
    return hasSecondFactor(this.#deps, userId);
  }

  /** Stores a pending login (a right password, the second factor to come); returns its cookie value. */
  startPending(pending: Omit<PendingLoginRecord, "expiresAt">): Promise<string> {
    return startPendingLogin(this.#deps, pending);
  }

  /** The valid pending login a cookie names, not consumed. */
  findPending(cookieValue: string): Promise<PendingLoginRecord | null> {
    return findPendingLogin(this.#deps, cookieValue);
  }

  /** Consumes a pending login once. */
  consumePending(cookieValue: string): Promise<PendingLoginRecord | null> {
    return consumePendingLogin(this.#deps, cookieValue);
  }
}
