import { AuthContext } from "./auth-context.js";
import { isHttps, wantsJson } from "./client.js";
import { runWithAuth } from "./context.js";
import { pendingCookieName } from "./cookie-jar.js";
import { readCookies } from "./cookies.js";
import { checkCsrf, describeCsrfFailure, isSafeMethod } from "./csrf.js";
import { ConfigurationError } from "./errors.js";
import type { Listener, LoginManagerEvents } from "./events.js";
import { TypedEvents } from "./events.js";
import { Guards } from "./guards.js";
import { HostPolicy } from "./hosts.js";
import type { AuthReply, RequestView, ResponseView } from "./http.js";
import { type OneTimeGrant, type OneTimeIssue, SessionLifecycle } from "./lifecycle/index.js";
import { loadRequestUser } from "./loader.js";
import type { LoadedState } from "./login-state.js";
import { isPromiseLike, type MaybePromise, settle } from "./maybe-promise.js";
import { type LoginManagerOptions, resolveOptions } from "./options.js";
import type { RequestServices } from "./services.js";
import type { RequestLoader, ResolvedOptions, UserLoader } from "./settings.js";
import { KeyRing } from "./signing.js";
import type { DeletedSessionCounts } from "./store.js";
import { LoginThrottle } from "./throttle.js";
import { UserCache } from "./user-cache.js";
import { UserSource } from "./user-source.js";
import type { AuthUser } from "./users.js";

/**
 * The heart of login-manager, like Flask-Login's `LoginManager`: holds the options, the user
 * loader and the events, and turns each request into an {@link AuthContext}. Framework adapters
 * (`login-manager/express`, `/fastify`, `/hono`) call {@link LoginManager.admit} once per request;
 * applications mostly configure it and listen to its events.
 *
 * @example
 * ```ts
 * import { LoginManager } from "login-manager";
 * import { SqliteStore } from "login-manager/stores/sqlite";
 *
 * const manager = new LoginManager<User>({
 *   secret: process.env.SECRET_KEY!,
 *   store: new SqliteStore({ database: "data/app.db" }),
 *   views: { loginView: "/login" },
 * });
 * manager.userLoader((id) => users.findById(id));
 * manager.on("loggedIn", ({ user }) => console.log("login", user.getId()));
 * ```
 */
export class LoginManager<U extends AuthUser = AuthUser> {
  /** The validated, frozen options, grouped by concern. */
  readonly options: ResolvedOptions<U>;
  readonly #events = new TypedEvents<LoginManagerEvents<U>>();
  readonly #services: RequestServices<U>;
  readonly #cookieNames: { plain: readonly string[]; secure: readonly string[] };
  readonly #hosts: HostPolicy;

  constructor(options: LoginManagerOptions<U>) {
    const resolved = resolveOptions(options);
    this.options = resolved;
    this.#hosts = new HostPolicy(resolved.network);
    const userCache = new UserCache<U>(
      resolved.userCache.ttlSeconds,
      resolved.userCache.maxEntries,
      resolved.clock,
    );
    const events = this.#events;
    this.#services = {
      options: resolved,
      lifecycle: new SessionLifecycle<U>({
        store: resolved.store,
        clock: resolved.clock,
        session: resolved.session,
        rememberMe: resolved.rememberMe,
        trustProxyHops: resolved.network.trustProxyHops,
        events,
        userCache,
      }),
      users: new UserSource(userCache, resolved.userLoader, resolved.requestLoader),
      events,
      keys: new KeyRing(resolved.secrets),
      throttle: new LoginThrottle(resolved.store, resolved.throttle),
      guards: new Guards(resolved.views, events),
      clock: resolved.clock,
    };
    const { sessionName, rememberName, csrfName, flashName } = resolved.cookies;
    const plain = [sessionName, rememberName, csrfName, flashName, pendingCookieName(sessionName)];
    this.#cookieNames = { plain, secure: plain.map((name) => `__Host-${name}`) };
  }

  /** Registers the user loader (Flask-Login's `@login_manager.user_loader`); returns it. */
  userLoader<F extends UserLoader<U>>(loader: F): F {
    if (typeof loader !== "function")
      throw new ConfigurationError("userLoader(fn) needs a function (id) => user | null");
    this.#services.users.setUserLoader(loader);
    return loader;
  }

  /** Registers the request loader (Flask-Login's `@login_manager.request_loader`); returns it. */
  requestLoader<F extends RequestLoader<U>>(loader: F): F {
    if (typeof loader !== "function")
      throw new ConfigurationError("requestLoader(fn) needs a function (request) => user | null");
    this.#services.users.setRequestLoader(loader);
    return loader;
  }

  /**
   * Ends every session and remember-me token of a user, from anywhere (an admin action, an account
   * being disabled or deleted: ASVS 7.4.2 / 7.4.5), logins still in flight included. Resolves to the
   * number of sessions ended.
   *
   * @example
   * ```ts
   * await manager.revokeUserSessions(user.getId());
   * ```
   */
  revokeUserSessions(userId: string, options?: { reason?: "admin" | "password-reset" }): Promise<number> {
    return this.#services.lifecycle.revokeUser(userId, options?.reason ?? "admin");
  }

  /**
   * Issues a one-time token for a purpose (`"password-reset"`, `"email-verify"`, ...) and a user; only
   * its hash is stored. Any revocation of the user's sessions before it is used (a password change by
   * any path) voids it. Put the token in a link built from configuration, never from the Host header.
   *
   * @example
   * ```ts
   * const token = await manager.issueOneTimeToken({ purpose: "password-reset", userId: user.getId(), ttlSeconds: 1800 });
   * const link = `${config.baseUrl}/password/reset?token=${encodeURIComponent(token)}`;
   * ```
   */
  issueOneTimeToken(issue: OneTimeIssue): Promise<string> {
    return this.#services.lifecycle.issueOneTime(issue);
  }

  /**
   * What a valid one-time token of `purpose` grants, without consuming it (for the GET that shows a
   * form: mail scanners fetch links); null for an unknown, expired, used or voided token.
   *
   * @example
   * ```ts
   * const grant = await manager.peekOneTimeToken("password-reset", req.query.token);
   * ```
   */
  peekOneTimeToken(purpose: string, token: string): Promise<OneTimeGrant | null> {
    return this.#services.lifecycle.peekOneTime(purpose, token);
  }

  /**
   * Consumes a valid one-time token of `purpose`, once (of concurrent uses, exactly one wins), and
   * returns what it grants; null as for {@link LoginManager.peekOneTimeToken}.
   *
   * @example
   * ```ts
   * const grant = await manager.consumeOneTimeToken("password-reset", req.body.token);
   * if (!grant) return res.status(400).send("This link has expired or was used.");
   * ```
   */
  consumeOneTimeToken(purpose: string, token: string): Promise<OneTimeGrant | null> {
    return this.#services.lifecycle.consumeOneTime(purpose, token);
  }

  /**
   * Deletes a user's outstanding one-time tokens of `purpose` (every purpose when null).
   *
   * @example
   * ```ts
   * await manager.revokeOneTimeTokens(user.getId(), "email-verify");
   * ```
   */
  revokeOneTimeTokens(userId: string, purpose: string | null): Promise<number> {
    return this.#services.lifecycle.revokeOneTime(userId, purpose);
  }

  /**
   * Ends every session and remember-me token of every user, from anywhere (an administrator's "log
   * everyone out", e.g. after a breach or a leaked secret: ASVS 7.4.5), logins still in flight
   * included. Login failure counters are kept, so account and address locks stay in force. Clears
   * this process's user cache and emits `allSessionsRevoked`.
   *
   * @example
   * ```ts
   * const { sessions, rememberTokens } = await manager.revokeAllSessions();
   * ```
   */
  revokeAllSessions(): Promise<DeletedSessionCounts> {
    return this.#services.lifecycle.revokeEveryone();
  }

  /** Drops a user from this process's user cache (see `userCache.ttlSeconds`), e.g. after editing them. */
  forgetUser(userId: string): void {
    this.#services.users.cache.forget(userId);
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
   * context. Rejects only when the store fails (a `StoreError`); bad cookies mean anonymous.
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
   * {@link LoginManager.authenticate} without a promise when none is needed: the context itself
   * when it is known without waiting (memory or SQLite store, a synchronous user loader or a
   * user-cache hit, no touch due), otherwise a promise of it. Never throws: failures come as a
   * rejected promise.
   *
   * @example
   * ```ts
   * const pending = manager.identify(requestView, responseView);
   * const auth = pending instanceof Promise ? await pending : pending;
   * ```
   */
  identify(request: RequestView, response: ResponseView): MaybePromise<AuthContext<U>> {
    try {
      this.#services.users.assertConfigured();
      const { trustProxyHops } = this.options.network;
      const https = isHttps(request, trustProxyHops);
      const { secure } = this.options.cookies;
      const names =
        secure === true || (secure === "auto" && https) ? this.#cookieNames.secure : this.#cookieNames.plain;
      const header = request.header("cookie");
      const cookies = readCookies(header, names);
      const loaded = loadRequestUser(this.#services, request, header, names, cookies);
      return settle(loaded, (state) => this.#contextFor(request, response, cookies, state, https));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * The one call an adapter makes per request: the Host check (`network.allowedHosts`), then the
   * user's identification, then the CSRF check on unsafe methods. Resolves to the request's context
   * when it may go on, or to the reply to send instead (a 400 for another host, a 403 for a failed
   * CSRF check). Synchronous when identification is (see {@link LoginManager.identify}); rejects with
   * a `StoreError` when the store cannot be reached. Pass `hostChecked` when {@link LoginManager.checkHost}
   * already ran for this request (Fastify runs it before the body is read).
   *
   * @example
   * ```ts
   * const admitted = manager.admit(requestView, responseView);
   * const result = admitted instanceof Promise ? await admitted : admitted;
   * if (result instanceof AuthContext) next(); else send(result);
   * ```
   */
  admit(
    request: RequestView,
    response: ResponseView,
    options?: { hostChecked?: boolean },
  ): MaybePromise<AuthContext<U> | AuthReply> {
    if (!options?.hostChecked) {
      const refusal = this.#hosts.check(request);
      if (refusal) return refusal;
    }
    const identified = this.identify(request, response);
    if (!isPromiseLike(identified)) return this.#csrfReply(identified) ?? identified;
    return identified.then((auth) => this.#csrfReply(auth) ?? auth);
  }

  /** Runs `fn` with `auth` as the current context, so `currentUser()` and friends work inside it. */
  runInContext<T>(auth: AuthContext<U>, fn: () => T): T {
    return this.options.asyncContext ? runWithAuth(auth, fn) : fn();
  }

  /**
   * The Host check alone (`network.allowedHosts`): null when the app answers for the request's host,
   * otherwise a 400 reply naming no host. For adapters that check the host before reading a body.
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
   * The reply when the session store cannot be reached: 503 with Retry-After, never "anonymous".
   *
   * @example
   * ```ts
   * if (unavailableStoreError(error)) send(manager.storeUnavailable(requestView));
   * ```
   */
  storeUnavailable(request: RequestView): AuthReply {
    const message = "The service is temporarily unavailable. Please try again in a moment.";
    const headers = { "retry-after": "5", "cache-control": "no-store" };
    return wantsJson(request)
      ? { status: 503, headers, body: { error: "service_unavailable", message } }
      : { status: 503, headers, body: message };
  }

  #contextFor(
    request: RequestView,
    response: ResponseView,
    cookies: Map<string, string>,
    loaded: LoadedState<U>,
    https: boolean,
  ): AuthContext<U> {
    const auth = new AuthContext(this.#services, request, response, cookies, loaded, https);
    if (loaded.user) {
      // Pages for a logged-in user must not be kept by shared or browser caches (ASVS 14.3.2).
      response.setHeader("cache-control", "no-store");
      if (response.appendVary) response.appendVary("Cookie");
      else response.setHeader("vary", "Cookie");
    }
    return auth;
  }

  /**
   * The CSRF check for unsafe methods (POST, PUT, PATCH, DELETE): null when the request may go on,
   * otherwise a 403 reply that says which check failed: text, or JSON with the `reason` for API
   * clients. Needs the form body parsed first when the token comes in a form field.
   */
  #csrfReply(auth: AuthContext<U>): AuthReply | null {
    const { request } = auth;
    const settings = this.options.csrf;
    if (!settings.enabled || isSafeMethod(request.method) || settings.skip?.(request)) return null;
    const names = { fieldName: settings.fieldName, headerName: settings.headerName };
    const failure = checkCsrf(request, {
      keys: this.#services.keys,
      cookieValue: auth.csrfCookieValue,
      expectedOrigin: this.#hosts.expectedOrigin(request),
      trustedOrigins: settings.trustedOrigins,
      ...names,
    });
    if (!failure) return null;
    this.#events.emit("csrfFailed", { reason: failure, request });
    const custom = settings.onFailure?.(request, failure);
    if (custom) return custom;
    const message = describeCsrfFailure(failure, names);
    return wantsJson(request)
      ? { status: 403, headers: {}, body: { error: "csrf_failed", reason: failure, message } }
      : { status: 403, headers: {}, body: `Forbidden: ${message}` };
  }
}
