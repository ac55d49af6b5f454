import { LoginManagerError } from "./errors.js";
import type { KeyRing } from "./signing.js";
import type { SessionRecord } from "./store.js";

const SESSION_HANDLE_PURPOSE = "session-handle";

/**
 * Options of `AuthContext.loginUser` (Flask-Login's `login_user` arguments).
 *
 * @example
 * ```ts
 * await auth.loginUser(user, { remember: true, durationSeconds: 7 * 86400 });
 * ```
 */
export interface LoginOptions {
  /** Also issue a remember-me cookie. @default false */
  remember?: boolean;
  /** Lifetime of that remember-me token. @default the manager's `rememberMe.durationSeconds` */
  durationSeconds?: number;
  /** Log in even an inactive user. @default false */
  force?: boolean;
  /** Mark the login fresh (password just checked). @default true */
  fresh?: boolean;
  /**
   * How the user proved who they are (RFC 8176 names, see `AuthMethodProof`), recorded in the
   * session. When the user has a second factor (TOTP or a passkey) and these name none, nobody is
   * logged in: a pending login waits for that factor (`AuthContext.completeLogin`). @default ["pwd"]
   */
  methods?: readonly string[];
  /**
   * The failure budget the second step of a pending login spends: the canonical account name
   * `attemptLogin` counts (it passes its own). @default the user's id
   */
  account?: string;
}

/**
 * A pending login (a right password; the second factor still to come), as
 * `AuthContext.pendingLogin` shows it.
 *
 * @example
 * ```ts
 * const pending = await req.auth.pendingLogin();
 * if (!pending) return res.redirect(303, "/login");
 * ```
 */
export interface PendingLogin {
  readonly userId: string;
  /** The account name whose failure budget the second step spends. */
  readonly account: string;
  /** Whether remember-me was asked for at the password step (honoured when the login completes). */
  readonly remember: boolean;
  /** When the pending login expires (milliseconds since the epoch). */
  readonly expiresAt: number;
}

/**
 * One of the user's sessions, as shown on an "active sessions" page. `handle` identifies it for
 * `AuthContext.revokeSession` without revealing the session id.
 *
 * @example
 * ```ts
 * for (const s of await auth.listSessions()) console.log(s.handle, s.userAgent, s.current);
 * ```
 */
export interface SessionInfo {
  handle: string;
  createdAt: Date;
  lastSeenAt: Date;
  userAgent: string;
  ipAddress: string;
  current: boolean;
  remembered: boolean;
}

/**
 * A session as {@link SessionInfo} shows it.
 *
 * @example
 * ```ts
 * const info = describeSession(session, handleOf(session.id), currentSessionId);
 * ```
 */
export function describeSession(
  session: SessionRecord,
  handle: string,
  currentId: string | undefined,
): SessionInfo {
  return {
    handle,
    createdAt: new Date(session.createdAt),
    lastSeenAt: new Date(session.lastSeenAt),
    userAgent: session.userAgent,
    ipAddress: session.ipAddress,
    current: session.id === currentId,
    remembered: session.rememberSelector !== null,
  };
}

/**
 * A session's handle for the session list: a keyed digest of its id, which it does not reveal.
 *
 * @example
 * ```ts
 * const handle = sessionHandle(keys, session.id);
 * ```
 */
export function sessionHandle(keys: KeyRing, sessionId: string): string {
  return keys.sign(SESSION_HANDLE_PURPOSE, sessionId).slice(0, 22);
}

/**
 * The one rule for ending sessions other than this one (ASVS 7.5.2): it needs a login confirmed with
 * a password on this session. Without it, a session restored from a stolen remember-me cookie (or
 * made stale by session protection) could log the owner out everywhere, one session at a time.
 * Throws, as `requireUser` does on an unguarded route: `freshLoginRequired` prevents the call.
 *
 * @example
 * ```ts
 * requireFreshLogin(auth.loginFresh(), "revokeOtherSessions");
 * ```
 */
export function requireFreshLogin(fresh: boolean, action: string): void {
  if (fresh) return;
  throw new LoginManagerError(
    "ERR_NOT_AUTHENTICATED",
    `${action}() ends other sessions, which needs a fresh login: guard the route with freshLoginRequired, which sends a session restored from remember-me (or made stale by session protection) to refreshView first`,
  );
}
