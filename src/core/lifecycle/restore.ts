/**
 * Restoring a login from a remember-me cookie: use the token (rotate, grace, or theft), then give the
 * browser a new session that is not fresh.
 *
 * @module
 */
import type { RequestView } from "../http.js";
import type { AuthUser } from "../users.js";
import type { LifecycleDeps } from "./deps.js";
import { useToken } from "./remember.js";
import { revokeUser } from "./revocation.js";
import { type CreatedSession, createSession, endSessionsOfToken } from "./sessions.js";

/**
 * A login restored from a remember-me cookie. `created` and `rememberCookie` are absent in the grace
 * case: a sibling request of the same client already rotated the token and holds the new session.
 *
 * @example
 * ```ts
 * if (restored.created) response.setCookie("session", restored.created.cookieValue);
 * ```
 */
export interface Restored<U extends AuthUser> {
  readonly user: U;
  readonly created?: CreatedSession;
  readonly rememberCookie?: { readonly value: string; readonly maxAgeSeconds: number };
}

/**
 * Restores the login a remember-me cookie (`<selector>.<validator>`) stands for, or resolves "dead":
 * unknown token, theft (every session and token of the user ended), a user that no longer loads (its
 * token deleted), or a token revoked while the session was being created.
 */
export async function restoreFromToken<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  request: RequestView,
  selector: string,
  validator: string,
  loadUser: (userId: string) => Promise<U | null>,
): Promise<Restored<U> | "dead"> {
  const use = await useToken(deps, request, selector, validator);
  if (use.outcome === "unknown") return "dead";
  if (use.outcome === "theft") {
    await revokeUser(deps, use.token.userId, "theft", { request });
    return "dead";
  }
  const user = await loadUser(use.token.userId);
  if (!user) {
    await deps.store.deleteRememberToken(selector);
    return "dead";
  }
  if (use.outcome === "grace") return { user };
  const now = deps.clock.now();
  const created = await createSession(deps, request, {
    userId: user.getId(),
    fresh: false,
    rememberSelector: selector,
    // Nothing was proven in this session: the token stands for a login made earlier, so guards that
    // need a recent factor send the user to re-authenticate, as a stale login does.
    authMethods: "",
  });
  // A remember token restores a session when the browser lost its previous one, so an older session
  // of the same token is dead weight or held by whoever copied the cookies: end it. The token is read
  // back after the session exists: if a revocation or a parallel logout deleted it meanwhile, this
  // session must not outlive it (both delete tokens before sessions).
  const [stillValid] = await Promise.all([
    deps.store.getRememberToken(selector, now),
    endSessionsOfToken(deps, created.session.userId, selector, created.session.id),
  ]);
  if (!stillValid) {
    await deps.store.deleteSession(created.session.id);
    return "dead";
  }
  deps.events.emit("loadedFromCookie", { user, request });
  const maxAgeSeconds = Math.floor((use.token.expiresAt - now) / 1000);
  return { user, created, rememberCookie: { value: use.cookieValue, maxAgeSeconds } };
}
