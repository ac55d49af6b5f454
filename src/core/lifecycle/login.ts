/**
 * The steps of a login's life that the request's own browser takes: log in, rotate the session id
 * (re-authentication, password change), log out, and "log out my other sessions".
 *
 * @module
 */
import type { RequestView } from "../http.js";
import type { SessionRecord } from "../store.js";
import type { AuthUser } from "../users.js";
import type { LifecycleDeps } from "./deps.js";
import { type CredentialSnapshot, epochsUnchanged, snapshotEpochs } from "./epochs.js";
import { type IssuedToken, issueToken } from "./remember.js";
import { revokeUser } from "./revocation.js";
import { type CreatedSession, createSession, endSessionAndToken, endSessionsOfToken } from "./sessions.js";

/**
 * What this browser holds before a step: its session, if any, and the remember token it carries.
 *
 * @example
 * ```ts
 * const held: HeldLogin = { session, rememberSelector: session?.rememberSelector ?? null, userId: "42" };
 * ```
 */
export interface HeldLogin {
  readonly session: SessionRecord | null;
  readonly rememberSelector: string | null;
  readonly userId: string | null;
}

/**
 * What a login asks for.
 *
 * @example
 * ```ts
 * const request: LoginRequest = { userId: "42", fresh: true, rememberSeconds: null, authMethods: "pwd:1000" };
 * ```
 */
export interface LoginRequest {
  readonly userId: string;
  readonly fresh: boolean;
  /** Lifetime of a remember-me token to issue with the session, or null for none. */
  readonly rememberSeconds: number | null;
  /** The methods proven and when, encoded for the session (see `auth-methods.ts`). */
  readonly authMethods: string;
  /** The epochs the credential check ran under; taken now when absent (see epochs.ts). */
  readonly snapshot?: CredentialSnapshot;
}

/**
 * A completed login: the new session and, when asked for, the new remember-me token.
 *
 * @example
 * ```ts
 * response.setCookie("session", started.created.cookieValue);
 * ```
 */
export interface StartedLogin {
  readonly created: CreatedSession;
  readonly token: IssuedToken | null;
}

/** Ends what this browser held: its session, its remember token and the token's other sessions. */
export async function endHeld<U extends AuthUser>(deps: LifecycleDeps<U>, held: HeldLogin): Promise<void> {
  const selector = held.session?.rememberSelector ?? held.rememberSelector;
  await Promise.all([
    held.session ? deps.store.deleteSession(held.session.id) : undefined,
    selector ? deps.store.deleteRememberToken(selector) : undefined,
  ]);
  // A parallel request may have restored a session from this token meanwhile: end it too.
  const userId = held.session?.userId ?? held.userId;
  if (selector && userId) await endSessionsOfToken(deps, userId, selector);
}

/**
 * Logs a user in on this browser: ends what it held, issues a token when asked, starts a session.
 * Resolves null, leaving nothing behind, when the user's sessions were revoked while the login ran
 * (a password change, "log out other sessions", an administrator): issue 16.1.
 */
export async function startLogin<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  request: RequestView,
  held: HeldLogin,
  login: LoginRequest,
): Promise<StartedLogin | null> {
  const snapshot = login.snapshot ?? (await snapshotEpochs(deps.store, login.userId, deps.clock.now()));
  await endHeld(deps, held);
  const token =
    login.rememberSeconds === null
      ? null
      : await issueToken(deps, request, login.userId, login.rememberSeconds);
  const created = await createSession(deps, request, {
    userId: login.userId,
    fresh: login.fresh,
    rememberSelector: token?.selector ?? null,
    authMethods: login.authMethods,
  });
  if (await epochsUnchanged(deps.store, snapshot, deps.clock.now())) return { created, token };
  await endSessionAndToken(deps, created.session);
  return null;
}

/**
 * Gives this browser a new session id (no fixation) with both timeouts restarted, and ends the old
 * one. Resolves null, leaving nothing behind, when the old session was revoked meanwhile: a
 * re-authentication must not revive a session a password change elsewhere has just ended.
 */
export async function rotateSession<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  request: RequestView,
  held: HeldLogin & { readonly userId: string },
  options: { readonly fresh: boolean; readonly keepRemember: boolean; readonly authMethods: string },
): Promise<CreatedSession | null> {
  const rememberSelector = options.keepRemember
    ? (held.session?.rememberSelector ?? held.rememberSelector)
    : null;
  const created = await createSession(deps, request, {
    userId: held.userId,
    fresh: options.fresh,
    rememberSelector,
    authMethods: options.authMethods,
  });
  if (!held.session || (await deps.store.deleteSession(held.session.id))) return created;
  await deps.store.deleteSession(created.session.id);
  return null;
}

/**
 * Ends every other session of the user and every remember-me token but this browser's, which is
 * replaced by a new one expiring when it would have. Resolves to the number of sessions ended and the
 * replacement token, if this browser had one.
 */
export async function endOtherSessions<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  request: RequestView,
  held: HeldLogin & { readonly userId: string },
): Promise<{ count: number; token: IssuedToken | null }> {
  const { store, clock } = deps;
  const now = clock.now();
  // Remember tokens outlive their sessions (a closed browser, an idle timeout), so the session list
  // misses some of them: revoke them all, then re-issue this browser's for its remaining lifetime.
  const ownSelector = held.session?.rememberSelector ?? held.rememberSelector;
  const ownToken = ownSelector ? await store.getRememberToken(ownSelector, now) : null;
  const count = await revokeUser(deps, held.userId, "revoke-others", {
    request,
    ...(held.session ? { keepSessionId: held.session.id } : {}),
  });
  if (!ownToken) {
    if (held.session?.rememberSelector)
      await store.updateSession(held.session.id, { rememberSelector: null });
    return { count, token: null };
  }
  const remainingSeconds = Math.max(1, Math.floor((ownToken.expiresAt - now) / 1000));
  const token = await issueToken(deps, request, held.userId, remainingSeconds);
  if (held.session) await store.updateSession(held.session.id, { rememberSelector: token.selector });
  return { count, token };
}
