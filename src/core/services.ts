import type { Clock } from "./clock.js";
import type { LoginManagerEvents, TypedEvents } from "./events.js";
import type { Guards } from "./guards.js";
import type { SessionLifecycle } from "./lifecycle/index.js";
import type { ResolvedOptions } from "./settings.js";
import type { KeyRing } from "./signing.js";
import type { LoginThrottle } from "./throttle.js";
import type { UserSource } from "./user-source.js";
import type { AuthUser } from "./users.js";

/**
 * The collaborators a request's context delegates to, built once per manager. The context holds
 * these, never the manager itself.
 *
 * @example
 * ```ts
 * const services: RequestServices<User> = { options, lifecycle, users, events, keys, throttle, guards, clock };
 * ```
 */
export interface RequestServices<U extends AuthUser> {
  readonly options: ResolvedOptions<U>;
  readonly lifecycle: SessionLifecycle<U>;
  readonly users: UserSource<U>;
  readonly events: TypedEvents<LoginManagerEvents<U>>;
  readonly keys: KeyRing;
  readonly throttle: LoginThrottle;
  readonly guards: Guards<U>;
  readonly clock: Clock;
}
