/**
 * Counts wrong passwords typed by an already logged-in user (re-authentication, password change).
 * Past the limit the app ends the session, so a stolen remember-me cookie buys few guesses. Kept in
 * memory: a restart forgets the counts, which only gives back a handful of guesses.
 *
 * @example
 * ```ts
 * const limiter = new ReauthLimiter({ maxFailures: 5, windowSeconds: 900 });
 * if (limiter.recordFailure(user.getId())) await req.auth.logoutUser();
 * ```
 */
export class ReauthLimiter {
  readonly #failures = new Map<string, { count: number; firstAt: number }>();
  readonly #maxFailures: number;
  readonly #windowMs: number;
  readonly #now: () => number;

  constructor(options: { maxFailures?: number; windowSeconds?: number; now?: () => number } = {}) {
    this.#maxFailures = options.maxFailures ?? 5;
    this.#windowMs = (options.windowSeconds ?? 900) * 1000;
    this.#now = options.now ?? Date.now;
  }

  /** Counts one wrong password; true when the user has now reached the limit. */
  recordFailure(userId: string): boolean {
    const now = this.#now();
    const entry = this.#failures.get(userId);
    const current = entry && now - entry.firstAt < this.#windowMs ? entry : { count: 0, firstAt: now };
    current.count += 1;
    this.#failures.set(userId, current);
    if (this.#failures.size > 10_000) this.#sweep(now);
    if (current.count < this.#maxFailures) return false;
    this.#failures.delete(userId);
    return true;
  }

  /** Forgets the user's failures (after a correct password). */
  reset(userId: string): void {
    this.#failures.delete(userId);
  }

  #sweep(now: number): void {
    for (const [key, entry] of this.#failures) {
      if (now - entry.firstAt >= this.#windowMs) this.#failures.delete(key);
    }
  }
}
