import type { LoginManagerEvents, TypedEvents } from "./events.js";
import type { LoginManager } from "./manager.js";
import type { RequestLoader, ResolvedOptions, UserLoader } from "./options.js";
import type { KeyRing } from "./signing.js";
import type { LoginThrottle } from "./throttle.js";
import type { UserCache } from "./user-cache.js";
import type { AuthUser } from "./users.js";

/** What request-scoped code needs from its manager. Not exported from the package. */
export interface ManagerCore<U extends AuthUser> {
  readonly options: ResolvedOptions<U>;
  readonly keys: KeyRing;
  readonly events: TypedEvents<LoginManagerEvents<U>>;
  readonly throttle: LoginThrottle;
  /** Registered through the options or `manager.userLoader(fn)`. */
  readonly userLoader: UserLoader<U> | undefined;
  readonly requestLoader: RequestLoader<U> | undefined;
  readonly userCache: UserCache<U>;
  /** The manager itself, for adapters that hold only a request's context (see `managerOf`). */
  readonly manager: LoginManager<U>;
}
