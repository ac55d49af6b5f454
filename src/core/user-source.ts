import { ConfigurationError } from "./errors.js";
import type { RequestView } from "./http.js";
import { type MaybePromise, settle } from "./maybe-promise.js";
import type { RequestLoader, UserLoader } from "./settings.js";
import type { UserCache } from "./user-cache.js";
import type { AuthUser } from "./users.js";

/**
 * Where users come from: the app's user loader (through the user cache) and request loader, which
 * may be given in the options or registered later (`manager.userLoader(fn)`).
 *
 * @example
 * ```ts
 * const users = new UserSource(cache, (id) => db.findUser(id), undefined);
 * const user = await users.load("42");
 * ```
 */
export class UserSource<U extends AuthUser> {
  readonly cache: UserCache<U>;
  #userLoader: UserLoader<U> | undefined;
  #requestLoader: RequestLoader<U> | undefined;

  constructor(
    cache: UserCache<U>,
    userLoader: UserLoader<U> | undefined,
    requestLoader: RequestLoader<U> | undefined,
  ) {
    this.cache = cache;
    this.#userLoader = userLoader;
    this.#requestLoader = requestLoader;
  }

  /** True when a session's user can be loaded at all (a user loader is registered). */
  get canLoadSessions(): boolean {
    return this.#userLoader !== undefined;
  }

  /** Throws at the first request when neither loader was ever registered: the fix is in the message. */
  assertConfigured(): void {
    if (this.#userLoader || this.#requestLoader) return;
    throw new ConfigurationError(
      "Missing userLoader or requestLoader: pass userLoader in the LoginManager options or call manager.userLoader((id) => findUser(id))",
    );
  }

  /** Registers the user loader. */
  setUserLoader(loader: UserLoader<U>): void {
    this.#userLoader = loader;
  }

  /** Registers the request loader. */
  setRequestLoader(loader: RequestLoader<U>): void {
    this.#requestLoader = loader;
  }

  /** Loads (or takes from the cache) the user with this id; null when none (or no loader). */
  load(id: string): MaybePromise<U | null> {
    const loader = this.#userLoader;
    return loader ? this.cache.load(id, loader) : null;
  }

  /** {@link UserSource.load}, always as a promise. */
  async loadAsync(id: string): Promise<U | null> {
    return this.load(id);
  }

  /** The user the request loader finds for this request, or null (also without a request loader). */
  fromRequest(request: RequestView): MaybePromise<U | null> {
    const loader = this.#requestLoader;
    return loader ? settle(loader(request), (user) => user ?? null) : null;
  }
}
