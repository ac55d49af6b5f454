/**
 * Sessions: create, read (with session protection and the once-a-minute touch), rotate, end.
 *
 * @module
 */
import { clientAddress, clientFingerprint, userAgent } from "../client.js";
import type { RequestView } from "../http.js";
import { type MaybePromise, settle } from "../maybe-promise.js";
import type { SessionRecord, SessionStore } from "../store.js";
import { constantTimeEqual, hashToken, randomToken } from "../tokens.js";
import type { AuthUser } from "../users.js";
import type { LifecycleDeps } from "./deps.js";

/**
 * A session just stored, with the cookie value (`<id>.<secret>`) only the client will ever hold.
 *
 * @example
 * ```ts
 * response.setCookie("session", created.cookieValue);
 * ```
 */
export interface CreatedSession {
  readonly session: SessionRecord;
  readonly cookieValue: string;
}

/**
 * What starting a session needs besides the request.
 *
 * @example
 * ```ts
 * const init: SessionInit = { userId: "42", fresh: true, rememberSelector: null, authMethods: "pwd:1000" };
 * ```
 */
export interface SessionInit {
  readonly userId: string;
  readonly fresh: boolean;
  readonly rememberSelector: string | null;
  /** The methods proven and when, encoded (see `auth-methods.ts`). */
  readonly authMethods: string;
}

/** The fingerprint session protection and the remember-me grace compare: address and User-Agent. */
export function fingerprintOf<U extends AuthUser>(deps: LifecycleDeps<U>, request: RequestView): string {
  return clientFingerprint(clientAddress(request, deps.trustProxyHops), userAgent(request));
}

/** Stores a new session for `init.userId`. */
export async function createSession<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  request: RequestView,
  init: SessionInit,
): Promise<CreatedSession> {
  const now = deps.clock.now();
  const secret = randomToken();
  const address = clientAddress(request, deps.trustProxyHops);
  const agent = userAgent(request);
  const absoluteExpiresAt = now + deps.session.absoluteTimeoutSeconds * 1000;
  const session: SessionRecord = {
    id: randomToken(),
    secretHash: hashToken(secret),
    userId: init.userId,
    fresh: init.fresh,
    createdAt: now,
    lastSeenAt: now,
    expiresAt: Math.min(now + deps.session.idleTimeoutSeconds * 1000, absoluteExpiresAt),
    absoluteExpiresAt,
    fingerprint: deps.session.protection ? clientFingerprint(address, agent) : "",
    userAgent: agent,
    ipAddress: address,
    rememberSelector: init.rememberSelector,
    authMethods: init.authMethods,
  };
  await deps.store.createSession(session);
  return { session, cookieValue: `${session.id}.${secret}` };
}

/**
 * The session a cookie's `<id>.<secret>` names, if it exists and the secret matches; "dead"
 * otherwise. The one store read of an authenticated request; synchronous when the store is.
 */
export function findSession<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  id: string,
  secret: string,
  now: number,
): MaybePromise<SessionRecord | "dead"> {
  return settle(deps.store.getSession(id, now), (session) =>
    session && constantTimeEqual(hashToken(secret), session.secretHash) ? session : "dead",
  );
}

/** True when session protection has nothing to do: off, an unfingerprinted session, or a match. */
export function fingerprintMatches<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  request: RequestView,
  session: SessionRecord,
): boolean {
  if (!deps.session.protection || session.fingerprint === "") return true;
  return fingerprintOf(deps, request) === session.fingerprint;
}

/**
 * Acts on a fingerprint mismatch: basic marks the session not fresh, strong ends it and its
 * remember token (whose cookie, if this request holds it, is then found dead).
 */
export async function protectSession<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  request: RequestView,
  session: SessionRecord,
): Promise<"kept" | "ended"> {
  const mode = deps.session.protection;
  if (!mode) return "kept";
  deps.events.emit("sessionProtected", { userId: session.userId, mode, request });
  if (mode === "basic") {
    if (session.fresh) await deps.store.updateSession(session.id, { fresh: false });
    session.fresh = false;
    return "kept";
  }
  await endSessionAndToken(deps, session);
  return "ended";
}

/** True when the session's activity is due to be recorded. */
export function touchDue<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  session: SessionRecord,
  now: number,
): boolean {
  return now - session.lastSeenAt >= deps.session.touchIntervalSeconds * 1000;
}

/** Touches being written, per store and session id (see touchSession). */
const pendingTouches = new WeakMap<
  SessionStore,
  Map<string, Promise<{ lastSeenAt: number; expiresAt: number }>>
>();

/**
 * Records activity once per touch interval. Requests of the same session that arrive while its
 * touch is being written wait for that write instead of each writing the same thing: without this,
 * every request in flight when the interval runs out (dozens on a busy session) writes to the store.
 */
export async function touchSession<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  session: SessionRecord,
  now: number,
): Promise<void> {
  const { store } = deps;
  let pending = pendingTouches.get(store);
  if (!pending) {
    pending = new Map();
    pendingTouches.set(store, pending);
  }
  let touch = pending.get(session.id);
  if (!touch) {
    const expiresAt = Math.min(now + deps.session.idleTimeoutSeconds * 1000, session.absoluteExpiresAt);
    touch = store
      .updateSession(session.id, { lastSeenAt: now, expiresAt })
      .then(() => ({ lastSeenAt: now, expiresAt }));
    const settled = () => pending.delete(session.id);
    touch.then(settled, settled);
    pending.set(session.id, touch);
  }
  const touched = await touch;
  session.lastSeenAt = touched.lastSeenAt;
  session.expiresAt = touched.expiresAt;
}

/** Ends one session and the remember token it carries. */
export async function endSessionAndToken<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  session: SessionRecord,
): Promise<void> {
  await Promise.all([
    deps.store.deleteSession(session.id),
    session.rememberSelector ? deps.store.deleteRememberToken(session.rememberSelector) : undefined,
  ]);
}

/**
 * Deletes the user's sessions that carry the remember token `selector`, except `keepSessionId`.
 * Keeps one live session per remember token, and lets logout end a session that a parallel request
 * was restoring from the same token at that moment.
 */
export async function endSessionsOfToken<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  userId: string,
  selector: string,
  keepSessionId?: string,
): Promise<void> {
  const sessions = await deps.store.listUserSessions(userId, deps.clock.now());
  const doomed = sessions.filter(
    (session) => session.rememberSelector === selector && session.id !== keepSessionId,
  );
  await Promise.all(doomed.map((session) => deps.store.deleteSession(session.id)));
}
