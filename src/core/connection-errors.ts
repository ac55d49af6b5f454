/** Socket error codes that mean "the server cannot be reached right now", whatever the driver. */
const NETWORK_CODES = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
]);

const MAX_DEPTH = 4;

/**
 * True when `error`, or an error it wraps (`cause`, the members of an `AggregateError` from Node's
 * happy-eyeballs connect, and any `nested` errors a driver keeps), has a socket error code or
 * matches the driver's own `isDriverUnavailable` test. Stores use it to flag a {@link StoreError}
 * as `unavailable` (503) rather than a plain failure (500).
 *
 * @example
 * ```ts
 * isConnectionError(error, (e) => /Connection terminated/.test(e.message));
 * ```
 */
export function isConnectionError(
  error: unknown,
  isDriverUnavailable: (error: Error) => boolean,
  nested: (error: Error) => unknown[] = () => [],
  depth = 0,
): boolean {
  if (!(error instanceof Error) || depth > MAX_DEPTH) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === "string" && NETWORK_CODES.has(code)) return true;
  if (isDriverUnavailable(error)) return true;
  const inner = [error.cause, ...(error instanceof AggregateError ? error.errors : []), ...nested(error)];
  return inner.some((candidate) => isConnectionError(candidate, isDriverUnavailable, nested, depth + 1));
}
