/**
 * A source of time in milliseconds since the epoch. Inject a fake one in tests instead of timing
 * with a real clock.
 *
 * @example
 * ```ts
 * let now = 0;
 * const clock: Clock = { now: () => now };
 * ```
 */
export interface Clock {
  now(): number;
}

/**
 * The real clock (`Date.now`).
 *
 * @example
 * ```ts
 * new LoginManager({ ..., clock: systemClock });
 * ```
 */
export const systemClock: Clock = { now: () => Date.now() };
