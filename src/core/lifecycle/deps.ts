import type { Clock } from "../clock.js";
import type { LoginManagerEvents, TypedEvents } from "../events.js";
import type { RememberMeSettings, SessionSettings } from "../settings.js";
import type { SessionStore } from "../store.js";
import type { UserCache } from "../user-cache.js";
import type { AuthUser } from "../users.js";

/**
 * What the session lifecycle works with: the store, the clock, its two option groups, the client
 * settings it fingerprints with, the events it emits and the user cache it evicts on revocation.
 *
 * @example
 * ```ts
 * const deps: LifecycleDeps<User> = { store, clock, session, rememberMe, trustProxyHops: 0, events, userCache };
 * ```
 */
export interface LifecycleDeps<U extends AuthUser> {
  readonly store: SessionStore;
  readonly clock: Clock;
  readonly session: SessionSettings;
  readonly rememberMe: RememberMeSettings;
  readonly trustProxyHops: number;
  readonly events: TypedEvents<LoginManagerEvents<U>>;
  readonly userCache: UserCache<U>;
}
