import type { Clock } from "../../core/clock.js";
import { systemClock } from "../../core/clock.js";
import { ConfigurationError } from "../../core/errors.js";

/**
 * Starts the unref'd timer that calls `sweep(clock.now())` every `sweepIntervalSeconds` (it never
 * keeps the process alive), or returns undefined when no interval is set. Refuses a non-positive or
 * non-finite interval with a {@link ConfigurationError} naming the option. Returns the function that
 * stops the timer.
 *
 * @example
 * ```ts
 * const stopSweep = startSweepTimer(60, undefined, (now) => store.deleteExpired(now));
 * stopSweep?.();
 * ```
 */
export function startSweepTimer(
  sweepIntervalSeconds: number | undefined,
  clock: Clock | undefined,
  sweep: (now: number) => unknown,
): (() => void) | undefined {
  if (sweepIntervalSeconds === undefined) return undefined;
  if (!Number.isFinite(sweepIntervalSeconds) || sweepIntervalSeconds <= 0) {
    throw new ConfigurationError(
      `MemoryStore: sweepIntervalSeconds must be a positive number of seconds (got ${String(sweepIntervalSeconds)}); omit it to disable sweeping.`,
    );
  }
  const time = clock ?? systemClock;
  const timer = setInterval(() => {
    sweep(time.now());
  }, sweepIntervalSeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
