import { isConnectionError } from "../../core/connection-errors.js";
import { StoreError } from "../../core/errors.js";

// node-redis and ioredis error classes whose name says the connection is gone.
const UNAVAILABLE_CLASSES = new Set([
  "ClientClosedError",
  "ClientOfflineError",
  "ConnectionTimeoutError",
  "SocketTimeoutError",
  "SocketClosedUnexpectedlyError",
  "ReconnectStrategyError",
  "DisconnectsClientError",
  "MaxRetriesPerRequestError",
  // node-redis' command timeout: v5's has no message (v6's TimeoutReadError says "Command timed out").
  "TimeoutError",
]);

// Messages of the same conditions (class names do not survive bundlers that mangle names), plus
// ioredis' offline-queue and command-timeout errors, which have no class of their own.
const UNAVAILABLE_MESSAGES =
  /The client is closed|The client is offline|Connection timeout|Socket closed unexpectedly|Socket timeout|Connection is closed|Stream isn't writeable|max retries per request|Command timed out|Disconnects client/i;

// Server replies meaning "cannot serve right now" rather than "bad command".
const UNAVAILABLE_REPLIES = /^(LOADING|MASTERDOWN|CLUSTERDOWN|TRYAGAIN|BUSY|READONLY|NOREPLICAS)\b/;

/**
 * True when `error` (or an error it wraps) means Redis could not be reached, as opposed to a
 * command error.
 *
 * @example
 * ```ts
 * isUnavailable(new Error("The client is closed")); // true
 * ```
 */
export function isUnavailable(error: unknown): boolean {
  // node-redis' ReconnectStrategyError keeps the socket error that made it give up.
  return isConnectionError(error, isRedisUnavailable, (outer) => [
    (outer as { socketError?: unknown }).socketError,
  ]);
}

function isRedisUnavailable(error: Error): boolean {
  if (UNAVAILABLE_CLASSES.has(error.constructor.name) || UNAVAILABLE_CLASSES.has(error.name)) return true;
  return UNAVAILABLE_MESSAGES.test(error.message) || UNAVAILABLE_REPLIES.test(error.message);
}

/**
 * Wraps a client error in a {@link StoreError}, flagged `unavailable` for connection failures. A
 * `hint` (such as "the client has not connected yet") is added to an unavailable error's message.
 *
 * @example
 * ```ts
 * try { await send(["GET", key]); } catch (error) { throw toStoreError("getSession", error); }
 * ```
 */
export function toStoreError(operation: string, error: unknown, hint?: string): StoreError {
  if (error instanceof StoreError) return error;
  const unavailable = isUnavailable(error);
  const reason = error instanceof Error ? error.message : String(error);
  const message = unavailable
    ? `RedisStore.${operation}: Redis is unavailable (${hint ? `${hint}; ` : ""}${reason})`
    : `RedisStore.${operation} failed: ${reason}`;
  return new StoreError(message, { cause: error, unavailable });
}
