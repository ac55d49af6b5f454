/**
 * Every error login-manager throws carries a stable string `code`, so callers can branch without
 * matching on message text.
 *
 * @example
 * ```ts
 * try { currentUser(); } catch (error) {
 *   if (error instanceof LoginManagerError && error.code === "ERR_NO_REQUEST_CONTEXT") { ... }
 * }
 * ```
 */
export type LoginManagerErrorCode =
  | "ERR_CONFIGURATION"
  | "ERR_NO_REQUEST_CONTEXT"
  | "ERR_STORE"
  | "ERR_STORE_UNAVAILABLE"
  | "ERR_PASSWORD_TOO_LONG"
  | "ERR_PASSWORD_INVALID"
  | "ERR_NOT_AUTHENTICATED";

/**
 * Base class of every error thrown by login-manager.
 *
 * @example
 * ```ts
 * if (error instanceof LoginManagerError) console.error(error.code);
 * ```
 */
export class LoginManagerError extends Error {
  readonly code: LoginManagerErrorCode;

  constructor(code: LoginManagerErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/**
 * Thrown at setup when options are wrong. The message says what to change.
 *
 * @example
 * ```ts
 * new LoginManager({ secret: "short" }); // throws ConfigurationError: secret must be at least 32 characters ...
 * ```
 */
export class ConfigurationError extends LoginManagerError {
  constructor(message: string) {
    super("ERR_CONFIGURATION", message);
  }
}

/**
 * Thrown when a request-scoped helper such as `currentUser()` is called outside a request
 * handled by a login-manager adapter.
 *
 * @example
 * ```ts
 * currentUser(); // at module top level: throws NoRequestContextError
 * ```
 */
export class NoRequestContextError extends LoginManagerError {
  constructor(helper: string) {
    super(
      "ERR_NO_REQUEST_CONTEXT",
      `${helper}() was called outside a request. Call it inside a route handler or middleware that runs after the login-manager middleware (initApp / the plugin / the Hono middleware). With asyncContext: false the free helpers never work: use req.auth / request.auth / c.var.auth instead.`,
    );
  }
}

/**
 * A session store failed. `unavailable` is true when the backing server could not be reached, so
 * adapters answer 503 rather than treating the visitor as anonymous. The driver error is the `cause`.
 *
 * @example
 * ```ts
 * throw new StoreError("redis GET failed", { cause: error, unavailable: true });
 * ```
 */
export class StoreError extends LoginManagerError {
  readonly unavailable: boolean;

  constructor(message: string, options: { cause?: unknown; unavailable?: boolean } = {}) {
    super(options.unavailable ? "ERR_STORE_UNAVAILABLE" : "ERR_STORE", message, { cause: options.cause });
    this.unavailable = options.unavailable ?? false;
  }
}

/** How many `cause` links {@link unavailableStoreError} follows. */
const MAX_CAUSE_DEPTH = 4;

/**
 * The {@link StoreError} flagged `unavailable` that `error` is, or wraps through `cause` (up to four
 * levels), or undefined. The adapters use it on every error path, so an unreachable store answers
 * 503 (see their `onStoreUnavailable`) wherever it failed: identifying the request, or a call such as
 * `attemptLogin` or `logoutUser` inside a route handler. An app's own error handler can use it too.
 *
 * @example
 * ```ts
 * app.use((error, req, res, next) => {
 *   if (unavailableStoreError(error)) return res.status(503).set("retry-after", "5").send("Try again soon");
 *   next(error);
 * });
 * ```
 */
export function unavailableStoreError(error: unknown): StoreError | undefined {
  let current = error;
  for (let depth = 0; depth <= MAX_CAUSE_DEPTH && current instanceof Error; depth++) {
    if (current instanceof StoreError && current.unavailable) return current;
    current = current.cause;
  }
  return undefined;
}

/**
 * A password was rejected before hashing (too long in bytes, or not a string).
 *
 * @example
 * ```ts
 * await hashPassword("x".repeat(10_000)); // throws PasswordInputError (ERR_PASSWORD_TOO_LONG)
 * ```
 */
export class PasswordInputError extends LoginManagerError {}
