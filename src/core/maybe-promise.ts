/**
 * A value, or a promise of it. Used on the per-request path, where a store or user loader that has
 * the answer at hand (memory, SQLite, a cache hit) hands it back without a promise: each promise
 * costs a microtask and, once AsyncLocalStorage is in use on Node 20, a promise-hook call.
 *
 * @example
 * ```ts
 * const found: MaybePromise<SessionRecord | null> = store.getSession(id, Date.now());
 * const session = await found; // works for both
 * ```
 */
export type MaybePromise<T> = T | Promise<T>;

/**
 * True for a promise or any other thenable.
 *
 * @example
 * ```ts
 * const pending = manager.identify(requestView, responseView);
 * const auth = isPromiseLike(pending) ? await pending : pending;
 * ```
 */
export function isPromiseLike<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === "function";
}

/** Applies `then` to a value at once, or once a promise of it resolves (a rejection passes through). */
export function settle<T, R>(
  value: T | PromiseLike<T>,
  then: (value: T) => MaybePromise<R>,
): MaybePromise<R> {
  return isPromiseLike(value) ? Promise.resolve(value).then(then) : then(value);
}
