import { AuthContext, type LoadedState } from "./auth-context.js";
import { isHttps, wantsJson } from "./client.js";
import { runWithAuth } from "./context.js";
import { readCookies } from "./cookies.js";
import { checkCsrf, describeCsrfFailure, isSafeMethod } from "./csrf.js";
import { ConfigurationError } from "./errors.js";
import type { Listener, LoginManagerEvents } from "./events.js";
import { TypedEvents } from "./events.js";
import { HostPolicy } from "./hosts.js";
import type { AuthReply, RequestView, ResponseView } from "./http.js";
import type { ManagerCore } from "./internals.js";
import type { CookieDecisions } from "./loader.js";
import { loadRequestUser } from "./loader.js";
import { type MaybePromise, settle } from "./maybe-promise.js";
import type {
  LoginManagerOptions,
  ReplyHandler,
  RequestLoader,
  ResolvedOptions,
  UserLoader,
} from "./options.js";
import { resolveOptions } from "./options.js";
import { loginUrl, makeNextParam } from "./redirects.js";
import { KeyRing } from "./signing.js";
import { LoginThrottle } from "./throttle.js";
import { UserCache } from "./user-cache.js";
import type { AuthUser } from "./users.js";

/**
 * The heart of login-manager, like Flask-Login's `LoginManager`: holds the options, the user
 * loader and the events, and turns each request into an {@link AuthContext}. Framework adapters
 * (`login-manager/express`, `/fastify`, `/hono`) call {@link LoginManager.authenticate} and the guard
 * methods; applications mostly configure it and listen to its events.
 *
 * @example
 * ```ts
 * import { LoginManager } from "login-manager";
 * import { SqliteStore } from "login-manager/stores/sqlite";
 *
 * const manager = new LoginManager<User>({
 *   secret: process.env.SECRET_KEY!,
 *   store: new SqliteStore({ database: "data/app.db" }),
 *   loginView: "/login",
 * });
 * manager.userLoader((id) => users.findById(id));
 * manager.on("loggedIn", ({ user }) => console.log("login", user.getId()));
 * ```
 */
export class LoginManager<U extends AuthUser = AuthUser> {
  /** The validated, frozen options. */
  readonly options: ResolvedOptions<U>;
  readonly #events = new TypedEvents<LoginManagerEvents<U>>();
  readonly #core: ManagerCore<U> & {
    userLoader: UserLoader<U> | undefined;
    requestLoader: RequestLoader<U> | undefined;
  };
  readonly #cookieNames: { plain: readonly string[]; secure: readonly string[] };
  readonly #hosts: HostPolicy;

  constructor(options: LoginManagerOptions<U>) {
    this.options = resolveOptions(options);
    this.#hosts = new HostPolicy(this.options);
    this.#core = {
      options: this.options,
      keys: new KeyRing(this.options.secrets),
      events: this.#events,
      throttle: new LoginThrottle(this.options.store, this.options),
      userLoader: this.options.userLoader,
      requestLoader: this.options.requestLoader,
      userCache: new UserCache(
        this.options.userCacheSeconds,
        this.options.userCacheMaxEntries,
        this.options.clock,
      ),
      manager: this,
    };
    const { sessionCookieName, rememberCookieName, csrfCookieName, flashCookieName } = this.options;
    const plain = [sessionCookieName, rememberCookieName, csrfCookieName, flashCookieName];
    this.#cookieNames = { plain, secure: plain.map((name) => `__Host-${name}`) };
  }

  /** Registers the user loader (Flask-Login's `@login_manager.user_loader`); returns it. */
  userLoader<F extends UserLoader<U>>(loader: F): F {
    if (typeof loader !== "function")
      throw new ConfigurationError("userLoader(fn) needs a function (id) => user | null");
    this.#core.userLoader = loader;
    return loader;
  }

  /** Registers the request loader (Flask-Login's `@login_manager.request_loader`); returns it. */
  requestLoader<F extends RequestLoader<U>>(loader: F): F {
    if (typeof loader !== "function")
      throw new ConfigurationError("requestLoader(fn) needs a function (request) => user | null");
    this.#core.requestLoader = loader;
    return loader;
  }

  /**
   * Ends every session and remember-me token of a user, from anywhere (an admin action, an account
   * being disabled or deleted: ASVS 7.4.2 / 7.4.5). Resolves to the number of sessions ended.
   */
  async revokeUserSessions(userId: string): Promise<number> {
    const { store } = this.options;
    const [count] = await Promise.all([
      store.deleteUserSessions(userId),
      store.deleteUserRememberTokens(userId),
    ]);
    this.#core.userCache.forget(userId);
    this.#events.emit("sessionsRevoked", { userId, reason: "admin", count });
    return count;
  }

  /**
   * Ends every session and remember-me token of every user, from anywhere (an administrator's "log
   * everyone out", e.g. after a breach or a leaked secret: ASVS 7.4.5). Login failure counters are
   * kept, so account and address locks stay in force. Clears this process's user cache and emits
   * `allSessionsRevoked`. Resolves to the numbers removed (see `SessionStore.deleteAllSessions`).
   *
   * @example
   * ```ts
   * const { sessions, rememberTokens } = await manager.revokeAllSessions();
   * ```
   */
  async revokeAllSessions(): Promise<{ sessions: number; rememberTokens: number }> {
    const counts = await this.options.store.deleteAllSessions();
    this.#core.userCache.clear();
    this.#events.emit("allSessionsRevoked", { ...counts });
    return counts;
  }

  /** Drops a user from this process's user cache (see `userCacheSeconds`), e.g. after editing them. */
  forgetUser(userId: string): void {
    this.#core.userCache.forget(userId);
  }

  /** Subscribes to an event; returns a function that unsubscribes. */
  on<K extends keyof LoginManagerEvents<U>>(
    event: K,
    listener: Listener<LoginManagerEvents<U>[K]>,
  ): () => void {
    return this.#events.on(event, listener);
  }

  /** Unsubscribes a listener added with {@link LoginManager.on}. */
  off<K extends keyof LoginManagerEvents<U>>(event: K, listener: Listener<LoginManagerEvents<U>[K]>): void {
    this.#events.off(event, listener);
  }

  /**
   * Identifies the request's user from its cookies (or the request loader) and returns its
   * context. Rejects only when the store fails (a {@link StoreError}); bad cookies mean anonymous.
   *
   * @example
   * ```ts
   * const auth = await manager.authenticate(requestView, responseView);
   * if (auth.isAuthenticated) console.log(auth.user?.getId());
   * ```
   */
  async authenticate(request: RequestView, response: ResponseView): Promise<AuthContext<U>> {
    return this.identify(request, response);
  }

  /**
   * {@link LoginManager.authenticate} for adapters on the per-request path: returns the context
   * itself when it is known without waiting (memory or SQLite store, a synchronous user loader or a
   * user-cache hit, no touch due), otherwise a promise of it. Each promise spared is a microtask
   * and, on Node 20 with AsyncLocalStorage in use, a promise-hook call. It never throws: failures
   * (a {@link StoreError}, a throwing user loader) come as a rejected promise.
   *
   * @example
   * ```ts
   * const pending = manager.identify(requestView, responseView);
   * const auth = isPromiseLike(pending) ? await pending : pending;
   * ```
   */
  identify(request: RequestView, response: ResponseView): MaybePromise<AuthContext<U>> {
    try {
      if (!this.#core.userLoader && !this.#core.requestLoader) {
        throw new ConfigurationError(
          "Missing userLoader or requestLoader: pass userLoader in the LoginManager options or call manager.userLoader((id) => findUser(id))",
        );
      }
      const https = isHttps(request, this.options.trustProxyHops);
      const secureNames =
        this.options.cookieSecure === true || (this.options.cookieSecure === "auto" && https);
      const names = secureNames ? this.#cookieNames.secure : this.#cookieNames.plain;
      const header = request.header("cookie");
      const cookies = readCookies(header, names);
      const decisions: CookieDecisions = { clearSession: false, clearRemember: false };
      const loaded = loadRequestUser(this.#core, request, header, names, cookies, decisions);
      return settle(loaded, (state) => this.#contextFor(request, response, cookies, state, decisions, https));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  #contextFor(
    request: RequestView,
    response: ResponseView,
    cookies: Map<string, string>,
    loaded: LoadedState<U>,
    decisions: CookieDecisions,
    https: boolean,
  ): AuthContext<U> {
    const auth = new AuthContext(this.#core, request, response, cookies, loaded, https);
    auth.applyLoaderCookies(decisions);
    if (loaded.user) {
      // Pages for a logged-in user must not be kept by shared or browser caches (ASVS 14.3.2).
      response.setHeader("cache-control", "no-store");
      if (response.appendVary) response.appendVary("Cookie");
      else response.setHeader("vary", "Cookie");
    }
    return auth;
  }

  /** Runs `fn` with `auth` as the current context, so `currentUser()` and friends work inside it. */
  runInContext<T>(auth: AuthContext<U>, fn: () => T): T {
    return this.options.asyncContext ? runWithAuth(auth, fn) : fn();
  }

  /**
   * The Host check (`allowedHosts`): null when the app answers for the request's host, otherwise a
   * 400 reply naming no host. Adapters call it first, before {@link LoginManager.identify}, so a
   * refused request reads no session and gets no cookie.
   *
   * @example
   * ```ts
   * const refusal = manager.checkHost(requestView);
   * if (refusal) return send(refusal);
   * ```
   */
  checkHost(request: RequestView): AuthReply | null {
    return this.#hosts.check(request);
  }

  /**
   * The CSRF check for unsafe methods (POST, PUT, PATCH, DELETE): null when the request may go on,
   * otherwise a 403 reply that says which check failed ({@link describeCsrfFailure}): text, or JSON
   * with the `reason` for API clients. Needs the form body parsed first when the token comes in a form field.
   */
  checkCsrf(auth: AuthContext<U>): AuthReply | null {
    const { request } = auth;
    if (!this.options.csrfProtection || isSafeMethod(request.method) || this.options.csrfSkip?.(request))
      return null;
    const names = { fieldName: this.options.csrfFieldName, headerName: this.options.csrfHeaderName };
    const failure = checkCsrf(request, {
      keys: this.#core.keys,
      cookieValue: auth.csrfCookieValue,
      expectedOrigin: this.#hosts.expectedOrigin(request),
      trustedOrigins: this.options.trustedOrigins,
      ...names,
    });
    if (!failure) return null;
    this.#events.emit("csrfFailed", { reason: failure, request });
    const custom = this.options.csrfFailureHandler?.(request, failure);
    if (custom) return custom;
    const message = describeCsrfFailure(failure, names);
    return wantsJson(request)
      ? { status: 403, headers: {}, body: { error: "csrf_failed", reason: failure, message } }
      : { status: 403, headers: {}, body: `Forbidden: ${message}` };
  }

  /**
   * What `loginRequired` / `freshLoginRequired` do: null when the request may go on, otherwise the
   * reply for an anonymous visitor or a stale login. OPTIONS requests always pass.
   */
  guard(auth: AuthContext<U>, requirement: { fresh: boolean }): AuthReply | null {
    if (auth.request.method === "OPTIONS") return null;
    if (!auth.isAuthenticated) return this.unauthorized(auth);
    if (requirement.fresh && !auth.loginFresh()) return this.needsRefresh(auth);
    return null;
  }

  /** The reply for an anonymous visitor on a protected route (Flask-Login's `unauthorized()`). */
  unauthorized(auth: AuthContext<U>): AuthReply {
    this.#events.emit("unauthorized", { request: auth.request });
    const { loginView, loginMessage, loginMessageCategory, unauthorizedHandler } = this.options;
    return this.#denyReply(
      auth,
      unauthorizedHandler,
      loginView,
      loginMessage,
      loginMessageCategory,
      "unauthorized",
    );
  }

  /** The reply for a stale login on a fresh-only route (Flask-Login's `needs_refresh()`). */
  needsRefresh(auth: AuthContext<U>): AuthReply {
    this.#events.emit("needsRefresh", { request: auth.request });
    const { refreshView, needsRefreshMessage, needsRefreshMessageCategory, needsRefreshHandler } =
      this.options;
    return this.#denyReply(
      auth,
      needsRefreshHandler,
      refreshView,
      needsRefreshMessage,
      needsRefreshMessageCategory,
      "needs_refresh",
    );
  }

  /** The reply when the session store cannot be reached: 503 with Retry-After, never "anonymous". */
  storeUnavailable(request: RequestView): AuthReply {
    const message = "The service is temporarily unavailable. Please try again in a moment.";
    const headers = { "retry-after": "5", "cache-control": "no-store" };
    return wantsJson(request)
      ? { status: 503, headers, body: { error: "service_unavailable", message } }
      : { status: 503, headers, body: message };
  }

  #denyReply(
    auth: AuthContext<U>,
    handler: ReplyHandler | undefined,
    view: string | null,
    message: string | null,
    category: string,
    error: string,
  ): AuthReply {
    const custom = handler?.(auth.request);
    if (custom) return custom;
    const headers = { "cache-control": "no-store" };
    if (!view || wantsJson(auth.request)) {
      return { status: 401, headers, body: { error, message: message ?? "Authentication required." } };
    }
    if (message) auth.flash(message, category);
    const location = loginUrl(view, makeNextParam(view, returnUrl(auth, view)), this.options.nextField);
    return { status: 302, headers: { ...headers, location } };
  }
}

/**
 * What `next` should bring the user back to: the path as received, or, when the view is an absolute
 * URL, this request's full URL (its own origin, as the CSRF check sees it), so that a login page on
 * another origin can send the user back here. `makeNextParam` then keeps only the path if the view
 * is on this origin after all. A missing or malformed Host falls back to the path.
 */
function returnUrl<U extends AuthUser>(auth: AuthContext<U>, view: string): string {
  const { url } = auth.request;
  if (!/^https?:\/\//i.test(view) || !url.startsWith("/")) return url;
  const origin = auth.requestOrigin;
  return origin ? `${origin}${url}` : url;
}
