import type {
  FastifyError,
  FastifyInstance,
  FastifyPluginCallback,
  FastifyReply,
  FastifyRequest,
  HookHandlerDoneFunction,
  preHandlerHookHandler,
} from "fastify";
import fp from "fastify-plugin";
import {
  type AuthReply,
  FRESH_LOGIN,
  type GuardRequirement,
  guardReply,
  isPromiseLike,
  LOGIN,
  type MaybePromise,
  mergeVary,
  NodeRequestView,
  type RequestView,
  type ResponseView,
  replaceSetCookie,
  stepUpRequirement,
  unavailableStoreError,
} from "../adapter/index.js";
import type { LoginManager, Register, RegisteredUser, StoreError } from "../index.js";
import { AuthContext, ConfigurationError } from "../index.js";

declare module "fastify" {
  interface FastifyRequest {
    /**
     * login-manager's context for this request: the user, login/logout, CSRF token, flashes. Set by
     * the plugin's `preHandler` hook, so it is available in route-level `preHandler` hooks and in
     * handlers (it is `null` in `onRequest` / `preParsing` / `preValidation` hooks).
     */
    auth: AuthContext<RegisteredUser>;
  }
}

/**
 * Options of the Fastify plugin ({@link loginManagerPlugin}).
 *
 * @example
 * ```ts
 * await app.register(loginManagerPlugin, {
 *   manager,
 *   onStoreUnavailable: (_error, _request, reply) => reply.code(503).send("Back in a minute"),
 * });
 * ```
 */
export interface FastifyAdapterOptions {
  /**
   * The configured {@link LoginManager}. Any user type is accepted (`LoginManager` is invariant in it);
   * `request.auth` is typed through {@link Register}.
   */
  // biome-ignore lint/suspicious/noExplicitAny: Fastify plugin options cannot carry a per-call type parameter
  manager: LoginManager<any>;
  /**
   * Custom answer when the session store is unreachable, while identifying the request or in a route
   * handler (`attemptLogin`, `logoutUser`, ...); it must send a reply.
   * @default a 503 with Retry-After (text, or JSON for API clients)
   */
  onStoreUnavailable?: (error: StoreError, request: FastifyRequest, reply: FastifyReply) => unknown;
}

const plugin: FastifyPluginCallback<FastifyAdapterOptions> = (fastify, options, done) => {
  const { manager } = options;
  if (!manager || typeof manager.admit !== "function") {
    done(new ConfigurationError("login-manager/fastify: register the plugin with { manager }"));
    return;
  }
  fastify.decorateRequest("auth", null as unknown as AuthContext<RegisteredUser>);
  fastify.decorateRequest(VIEW, null);
  // The Host check comes first, before Fastify reads the body: another host gets 400 (allowedHosts).
  // Its request view is kept for the preHandler hook (one view per request).
  fastify.addHook("onRequest", function loginManagerHostCheck(request, reply, done) {
    const view = requestView(request);
    (request as ViewCarrier)[VIEW] = view;
    const refusal = manager.checkHost(view);
    if (refusal) sendReply(reply, refusal);
    else done();
  });
  // Every route registered from here on, here or in a child plugin, answers an unreachable store
  // itself before its error reaches the app's error handler (or Fastify's, which would send the
  // store's message).
  fastify.addHook("onRoute", function answerStoreErrors(route) {
    route.errorHandler = storeErrorsFirst(manager, options, route.errorHandler);
  });
  // One preHandler hook does everything: it runs after Fastify parsed the body (the CSRF check reads
  // the `_csrf` field), and it is the last plugin-level hook before route-level preHandlers and the
  // handler, which Fastify calls synchronously from `done`, so entering the AsyncLocalStorage context
  // around `done` puts all of them inside it (`currentUser()` works there, also after an await).
  fastify.addHook("preHandler", function loginManagerHook(request, reply, next) {
    let admitted: MaybePromise<AuthContext<RegisteredUser> | null>;
    try {
      admitted = admit(manager, options, request, reply);
    } catch (error) {
      next(error as Error);
      return;
    }
    if (!isPromiseLike(admitted)) {
      if (admitted) manager.runInContext(admitted, next);
      return;
    }
    admitted.then(
      (auth) => {
        if (auth) manager.runInContext(auth, next);
      },
      (error: unknown) => next(error as Error),
    );
  });
  done();
};

/**
 * The Fastify 5 plugin: answers 400 to a request for a host not in `allowedHosts` (an `onRequest`
 * hook, before the body is read), identifies the user on every request (session cookie, then
 * remember-me cookie, then the request loader), checks CSRF on unsafe methods, and makes `request.auth` and
 * `currentUser()` available to route `preHandler` hooks and handlers. Wrapped with fastify-plugin
 * (name `"login-manager"`), so its hook applies to the context it is registered in and all children.
 *
 * It reads cookies from the Cookie header and writes them itself, so `@fastify/cookie` is not needed.
 * Register `@fastify/formbody` for HTML forms (the CSRF token comes in the `_csrf` field) and keep
 * Fastify's `bodyLimit` small (e.g. `Fastify({ bodyLimit: 16384 })`) since bodies are parsed before
 * the CSRF check. A store outage answers 503 (see {@link FastifyAdapterOptions.onStoreUnavailable}),
 * also when a route handler's call fails: each route declared once the plugin has loaded gets an
 * error handler that answers an unavailable {@link StoreError} and passes every other error on to the
 * route's own `errorHandler`, if any, then to the app's (`setErrorHandler`). So `await` the
 * registration before declaring routes, as below: a route declared while the plugin is still queued
 * has `request.auth`, but its handler's store outage reaches the app's error handler.
 *
 * For a logged-in user it sets `Cache-Control: no-store` and adds `Cookie` to the Vary header,
 * keeping the fields set earlier (an `onRequest` hook, `@fastify/cors`). Fastify's `reply.header()`
 * replaces a header (it appends only Set-Cookie), so `reply.header("vary", "Accept")` in a handler
 * drops `Cookie`; add to it instead: `reply.header("vary", mergeVary(reply.getHeader("vary"), "Accept"))`
 * (`mergeVary` from `login-manager`).
 *
 * @example
 * ```ts
 * import Fastify from "fastify";
 * import formbody from "@fastify/formbody";
 * import { loginManagerPlugin, loginRequired } from "login-manager/fastify";
 *
 * const app = Fastify({ bodyLimit: 16_384 });
 * await app.register(formbody);
 * await app.register(loginManagerPlugin, { manager });
 * app.get("/protected", { preHandler: loginRequired }, async (request) => `Hi ${request.auth.requireUser().getId()}`);
 * ```
 */
export const loginManagerPlugin = fp(plugin, { name: "login-manager", fastify: "5.x" });

export default loginManagerPlugin;

/**
 * Route `preHandler` guard: anonymous visitors are redirected to the login view (or get 401 JSON),
 * like Flask-Login's `@login_required`. OPTIONS requests pass.
 *
 * @example
 * ```ts
 * app.get("/protected", { preHandler: loginRequired }, async () => "secret");
 * ```
 */
export const loginRequired: preHandlerHookHandler = function loginRequired(request, reply, done) {
  guard(request, reply, done, LOGIN);
};

/**
 * Route `preHandler` guard for sensitive actions: also requires a fresh login (password entered on
 * this session, not restored from remember-me), like Flask-Login's `@fresh_login_required`.
 *
 * @example
 * ```ts
 * app.post("/account/password", { preHandler: freshLoginRequired }, changePassword);
 * ```
 */
export const freshLoginRequired: preHandlerHookHandler = function freshLoginRequired(request, reply, done) {
  guard(request, reply, done, FRESH_LOGIN);
};

/**
 * Route guard for step-up: a login whose session proved a second factor (TOTP, a recovery code, a
 * passkey), within the last `withinSeconds` when given; otherwise the needs-refresh reply (the
 * refresh view, where the user proves it again), as {@link freshLoginRequired} answers a stale login.
 *
 * @example
 * ```ts
 * app.post("/account/delete", { preHandler: secondFactorRequired({ withinSeconds: 600 }) }, deleteAccount);
 * ```
 */
export function secondFactorRequired(options: { withinSeconds?: number } = {}): preHandlerHookHandler {
  const requirement = stepUpRequirement(options);
  return function secondFactorRequired(request, reply, done) {
    guard(request, reply, done, requirement);
  };
}

/**
 * Sends a framework-neutral {@link AuthReply} with Fastify (redirect, JSON or text). A string body
 * is text/plain unless the reply's headers carry a content-type (a custom HTML page). JSON bodies are
 * serialised here, so a route's response schema never reshapes them.
 *
 * @example
 * ```ts
 * return sendReply(reply, { status: 401, headers: {}, body: { error: "unauthorized" } });
 * ```
 */
export function sendReply(reply: FastifyReply, authReply: AuthReply): FastifyReply {
  reply.code(authReply.status);
  for (const [name, value] of Object.entries(authReply.headers)) reply.header(name, value);
  if (authReply.body === undefined) return reply.send();
  if (typeof authReply.body === "string") {
    if (!reply.hasHeader("content-type")) reply.type("text/plain; charset=utf-8");
    return reply.send(authReply.body);
  }
  return reply.type("application/json; charset=utf-8").send(JSON.stringify(authReply.body));
}

/** Shared, so that no options object is made per request. */
const HOST_CHECKED = Object.freeze({ hostChecked: true });

/** The request decoration holding the view the `onRequest` hook made. */
const VIEW = Symbol("login-manager request view");
type ViewCarrier = FastifyRequest & { [VIEW]: RequestView | null };

/**
 * One `manager.admit` (the `onRequest` hook already checked the Host): the context, attached to the
 * request, or null when a reply was sent instead (the manager's 403, or the 503 for an unreachable
 * store). Synchronous when the manager answers synchronously (see `LoginManager.identify`); failures
 * other than an unreachable store reject.
 */
function admit<U extends RegisteredUser>(
  manager: LoginManager<U>,
  options: FastifyAdapterOptions,
  request: FastifyRequest,
  reply: FastifyReply,
): MaybePromise<AuthContext<U> | null> {
  const view = (request as ViewCarrier)[VIEW] ?? requestView(request);
  const admitted = manager.admit(view, responseView(reply), HOST_CHECKED);
  if (!isPromiseLike(admitted)) return proceed(request, reply, admitted);
  return admitted.then(
    (result) => proceed(request, reply, result),
    async (error: unknown) => {
      const storeError = unavailableStoreError(error);
      if (!storeError) throw error;
      await answerStoreUnavailable(manager, options, storeError, request, reply);
      return null;
    },
  );
}

/** Attaches the context to the request and returns it, or sends the manager's reply and returns null. */
function proceed<U extends RegisteredUser>(
  request: FastifyRequest,
  reply: FastifyReply,
  result: AuthContext<U> | AuthReply,
): AuthContext<U> | null {
  if (!(result instanceof AuthContext)) {
    sendReply(reply, result);
    return null;
  }
  request.auth = result as unknown as AuthContext<RegisteredUser>;
  return result;
}

type RouteErrorHandler = (
  this: FastifyInstance,
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
) => unknown;

/**
 * A route's error handler: an unreachable store gets the 503, any other error goes to the route's own
 * handler, or is thrown on to the next one up (the app's, or Fastify's default).
 */
function storeErrorsFirst<U extends RegisteredUser>(
  manager: LoginManager<U>,
  options: FastifyAdapterOptions,
  own: RouteErrorHandler | undefined,
): RouteErrorHandler {
  return function loginManagerStoreErrors(this: FastifyInstance, error, request, reply) {
    const storeError = unavailableStoreError(error);
    if (storeError && !reply.sent)
      return answerStoreUnavailable(manager, options, storeError, request, reply);
    if (own) return own.call(this, error, request, reply);
    throw error;
  };
}

/** The one answer to an unreachable store: the app's `onStoreUnavailable`, or the manager's 503. */
function answerStoreUnavailable<U extends RegisteredUser>(
  manager: LoginManager<U>,
  options: FastifyAdapterOptions,
  error: StoreError,
  request: FastifyRequest,
  reply: FastifyReply,
): unknown {
  if (options.onStoreUnavailable) return options.onStoreUnavailable(error, request, reply);
  return sendReply(reply, manager.storeUnavailable(requestView(request)));
}

function guard(
  request: FastifyRequest,
  reply: FastifyReply,
  done: HookHandlerDoneFunction,
  requirement: GuardRequirement,
) {
  const authReply = guardReply(request.auth, requirement);
  if (authReply === undefined) {
    done(
      new ConfigurationError(
        "loginRequired needs the login-manager plugin: await app.register(loginManagerPlugin, { manager }) before your routes",
      ),
    );
    return;
  }
  if (authReply) sendReply(reply, authReply);
  else done();
}

function requestView(request: FastifyRequest): RequestView {
  return new NodeRequestView(request);
}

function responseView(reply: FastifyReply): ResponseView {
  return new FastifyResponseView(reply);
}

class FastifyResponseView implements ResponseView {
  readonly #reply: FastifyReply;

  constructor(reply: FastifyReply) {
    this.#reply = reply;
  }

  setCookie(name: string, serialized: string): void {
    // reply.header() appends to an existing Set-Cookie, so remove it before writing the new list.
    const cookies = replaceSetCookie(this.#reply.getHeader("set-cookie"), name, serialized);
    this.#reply.removeHeader("set-cookie");
    this.#reply.header("set-cookie", cookies);
  }

  setHeader(name: string, value: string): void {
    this.#reply.header(name, value);
  }

  appendVary(field: string): void {
    // reply.getHeader() also sees a Vary set on reply.raw.
    this.#reply.header("vary", mergeVary(this.#reply.getHeader("vary"), field));
  }
}
