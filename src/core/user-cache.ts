import type { Clock } from "./clock.js";
import { type MaybePromise, settle } from "./maybe-promise.js";
import type { UserLoader } from "./settings.js";
import type { AuthUser } from "./users.js";

/**
 * Wraps a user loader with a small in-process cache (time-limited, size-limited, oldest dropped
 * first). With `ttlSeconds` 0 it is a pass-through.
 */
export class UserCache<U extends AuthUser> {
  readonly #entries = new Map<string, { user: U; expiresAt: number }>();
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #clock: Clock;

  constructor(ttlSeconds: number, maxEntries: number, clock: Clock) {
    this.#ttlMs = ttlSeconds * 1000;
    this.#maxEntries = maxEntries;
    this.#clock = clock;
  }

  /**
   * Returns the cached user or loads (and caches) it; a missing user is never cached. Answers
   * synchronously when it can (a cache hit, or a loader that returns a value rather than a promise),
   * so the per-request path does not create promises it does not need.
   */
  load(id: string, loader: UserLoader<U>): MaybePromise<U | null> {
    if (this.#ttlMs === 0) return settle(loader(id), orNull);
    const now = this.#clock.now();
    const cached = this.#entries.get(id);
    if (cached && cached.expiresAt > now) return cached.user;
    this.#entries.delete(id);
    return settle(loader(id), (loaded) => {
      const user = loaded ?? null;
      if (user) this.#remember(id, user, now);
      return user;
    });
  }

  /** Drops one user from the cache. */
  forget(id: string): void {
    this.#entries.delete(id);
  }

  /** Drops every user from the cache. */
  clear(): void {
    this.#entries.clear();
  }

  #remember(id: string, user: U, now: number): void {
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next();
      if (!oldest.done) this.#entries.delete(oldest.value);
    }
    this.#entries.set(id, { user, expiresAt: now + this.#ttlMs });
  }
}

function orNull<T>(value: T | null | undefined): T | null {
  return value ?? null;
}
