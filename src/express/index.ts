import type {
  Application,
  ErrorRequestHandler,
  NextFunction,
  Request,
  RequestHandler,
  Response,
} from "express";
import express from "express";
import {
  type AuthReply,
  FRESH_LOGIN,
  type GuardRequirement,
  guardReply,
  isPromiseLike,
  LOGIN,
  mergeVary,
  NodeRequestView,
  type RequestView,
  type ResponseView,
  replaceSetCookie,
  stepUpRequirement,
  unavailableStoreError,
} from "../adapter/index.js";
import type { LoginManager, RegisteredUser, StoreError } from "../index.js";
import { AuthContext, ConfigurationError } from "../index.js";

declare global {
  namespace Express {
    interface Request {
      /** login-manager's context for this request: the user, login/logout, CSRF token, flashes. */
      auth: AuthContext<RegisteredUser>;
    }
  }
}

/**
 * Options of {@link initApp} and {@link loginManagerMiddleware}.
 *
 * @example
 * ```ts
 * initApp(app, manager, { bodyLimitBytes: 8 * 1024 });
 * ```
 */
export interface ExpressAdapterOptions {
  /** Largest urlencoded or JSON body parsed by initApp; bigger bodies get 413. @default 16384 */
  bodyLimitBytes?: number;
  /**
   * Custom answer when the session store is unreachable, while identifying the request or in a route
   * handler (`attemptLogin`, `logoutUser`, ...). @default a 503 with Retry-After (text, or JSON for API clients)
   */
  onStoreUnavailable?: (error: StoreError, req: Request, res: Response) => void;
}

/**
 * Mounts login-manager on an Express 5 app: the Host check (`allowedHosts`: another host gets 400
 * before any body is read), small-limit urlencoded and JSON body parsers (the CSRF check reads the
 * `_csrf` field), then {@link loginManagerMiddleware}'s work. Mount it before your routes; routes that
 * must not touch sessions (health checks, static files) go before it.
 *
 * @example
 * ```ts
 * const app = express();
 * app.get("/healthz", (_req, res) => res.send("ok"));
 * initApp(app, manager);
 * app.get("/protected", loginRequired, (req, res) => res.send(`Hi ${req.auth.requireUser().getId()}`));
 * ```
 */
export function initApp<U extends RegisteredUser>(
  app: Application,
  manager: LoginManager<U>,
  options: ExpressAdapterOptions = {},
): void {
  const limit = options.bodyLimitBytes ?? 16_384;
  if (!Number.isInteger(limit) || limit < 1)
    throw new ConfigurationError("bodyLimitBytes must be a positive whole number");
  const parseForm = express.urlencoded({ extended: false, limit, parameterLimit: 100 });
  const parseJson = express.json({ limit });
  const admit = admitMiddleware(manager, options);
  // One layer instead of three: every Express layer costs a router dispatch on every request, and
  // most requests (GET, HEAD) have no body for the parsers to read.
  const parseThenAdmit = async (req: Request, res: Response, next: NextFunction, view: NodeRequestView) => {
    const error = (await runParser(parseForm, req, res)) ?? (await runParser(parseJson, req, res));
    if (error) return next(error);
    return admit(req, res, next, view, true);
  };
  // Not async itself: a request without a body gets admit()'s own promise, if any, not a second one
  // wrapping it (every promise pays AsyncLocalStorage's hook on Node 20).
  app.use(function loginManagerWithBodies(req: Request, res: Response, next: NextFunction) {
    const view = new NodeRequestView(req);
    if (!mayHaveBody(req)) return admit(req, res, next, view, false);
    // The Host check before the parsers read a byte; admit() then skips it.
    if (refuseHost(manager, view, res)) return;
    return parseThenAdmit(req, res, next, view);
  });
}

/** Answers the Host check's 400 when the host is not allowed; true when it did. */
function refuseHost<U extends RegisteredUser>(
  manager: LoginManager<U>,
  view: RequestView,
  res: Response,
): boolean {
  const refusal = manager.checkHost(view);
  if (refusal) sendReply(res, refusal);
  return refusal !== null;
}

/** Runs a body-parser middleware; resolves to the error it passed on, if any. */
function runParser(parser: RequestHandler, req: Request, res: Response): Promise<unknown> {
  return new Promise((resolve) => {
    void parser(req, res, (error?: unknown) => resolve(error ?? undefined));
  });
}

/** What body-parser itself checks before reading: a body is announced by either header. */
function mayHaveBody(req: Request): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/**
 * The middleware that checks the Host (`allowedHosts`: another host gets 400), identifies the user on
 * every request, checks CSRF on unsafe methods, and makes `req.auth` and `currentUser()` available to
 * later handlers. Put a body parser before it when forms carry the CSRF token in a field
 * ({@link initApp} does both, and checks the Host before parsing).
 *
 * An unreachable session store answers 503 (`onStoreUnavailable`), also when a route handler's call
 * fails (`attemptLogin`, `logoutUser`, `listSessions`, ...): on its first request the middleware adds
 * an error handler to `req.app`, in front of the error handlers that end the app's stack, which
 * answers an unavailable {@link StoreError} and passes every other error on with `next(error)`.
 *
 * For a logged-in user it sets `Cache-Control: no-store` and adds `Cookie` to the Vary header,
 * keeping the fields already there. A handler adds its own field with `res.vary("Accept")` or
 * `res.append("Vary", "Accept")`; `res.setHeader("Vary", ...)` and `res.set("Vary", ...)` replace the
 * whole header, `Cookie` included.
 *
 * @example
 * ```ts
 * app.use(express.urlencoded({ extended: false, limit: "16kb" }));
 * app.use(loginManagerMiddleware(manager));
 * ```
 */
export function loginManagerMiddleware<U extends RegisteredUser>(
  manager: LoginManager<U>,
  options: ExpressAdapterOptions = {},
): RequestHandler {
  const admit = admitMiddleware(manager, options);
  return function loginManager(req: Request, res: Response, next: NextFunction): void | Promise<void> {
    return admit(req, res, next, new NodeRequestView(req), false);
  };
}

type AdmitMiddleware = (
  req: Request,
  res: Response,
  next: NextFunction,
  view: NodeRequestView,
  hostChecked: boolean,
) => void | Promise<void>;

/** Shared, so that the common case allocates no options object. */
const HOST_CHECKED = Object.freeze({ hostChecked: true });

/**
 * {@link loginManagerMiddleware}'s work with the request's view already made: one `manager.admit`
 * (Host check unless `hostChecked`, identification, CSRF check), then the rest of the stack inside
 * the request's context, or the manager's reply.
 */
function admitMiddleware<U extends RegisteredUser>(
  manager: LoginManager<U>,
  options: ExpressAdapterOptions,
): AdmitMiddleware {
  const storeErrors = storeErrorHandler(manager, options);
  let storeErrorsMounted = false;
  // Not async: when the manager answers synchronously (memory or SQLite store) no promise is made.
  return function loginManager(req, res, next, view, hostChecked) {
    if (!storeErrorsMounted) {
      // On the first request: by then the app's routes and error handlers are in place.
      storeErrorsMounted = true;
      mountBeforeErrorHandlers(req.app, storeErrors);
    }
    const admitted = manager.admit(view, responseView(res), hostChecked ? HOST_CHECKED : undefined);
    if (!isPromiseLike(admitted)) return proceed(manager, req, res, next, admitted);
    return admitted.then(
      (result) => proceed(manager, req, res, next, result),
      (error: unknown) => handleAdmitError(manager, error, req, res, next, options),
    );
  };
}

/** Sends the manager's reply, or attaches the context and runs the rest of the stack inside it. */
function proceed<U extends RegisteredUser>(
  manager: LoginManager<U>,
  req: Request,
  res: Response,
  next: NextFunction,
  result: AuthContext<U> | AuthReply,
): void {
  if (!(result instanceof AuthContext)) {
    sendReply(res, result);
    return;
  }
  req.auth = result as unknown as AuthContext<RegisteredUser>;
  manager.runInContext(result, next);
}

/**
 * Route guard: anonymous visitors are redirected to the login view (or get 401 JSON), like
 * Flask-Login's `@login_required`. OPTIONS requests pass.
 *
 * @example
 * ```ts
 * app.get("/protected", loginRequired, (req, res) => res.render("protected"));
 * ```
 */
export const loginRequired: RequestHandler = function loginRequired(req, res, next) {
  guard(req, res, next, LOGIN);
};

/**
 * Route guard for sensitive actions: also requires a fresh login (password entered on this
 * session, not restored from remember-me), like Flask-Login's `@fresh_login_required`.
 *
 * @example
 * ```ts
 * app.post("/account/password", freshLoginRequired, changePassword);
 * ```
 */
export const freshLoginRequired: RequestHandler = function freshLoginRequired(req, res, next) {
  guard(req, res, next, FRESH_LOGIN);
};

/**
 * Route guard for step-up: a login whose session proved a second factor (TOTP, a recovery code, a
 * passkey), within the last `withinSeconds` when given; otherwise the needs-refresh reply (the
 * refresh view, where the user proves it again), as {@link freshLoginRequired} answers a stale login.
 *
 * @example
 * ```ts
 * app.post("/account/delete", secondFactorRequired({ withinSeconds: 600 }), deleteAccount);
 * ```
 */
export function secondFactorRequired(options: { withinSeconds?: number } = {}): RequestHandler {
  const requirement = stepUpRequirement(options);
  return function secondFactorRequired(req, res, next) {
    guard(req, res, next, requirement);
  };
}

/**
 * Sends a framework-neutral {@link AuthReply} with Express (redirect, JSON or text).
 *
 * @example
 * ```ts
 * sendReply(res, { status: 401, headers: {}, body: { error: "unauthorized" } });
 * ```
 */
export function sendReply(res: Response, reply: AuthReply): void {
  res.status(reply.status);
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  if (reply.body === undefined) res.end();
  else if (typeof reply.body === "string") {
    if (!res.getHeader("content-type")) res.type("text/plain");
    res.send(reply.body);
  } else res.json(reply.body);
}

function guard(req: Request, res: Response, next: NextFunction, requirement: GuardRequirement): void {
  const reply = guardReply(req.auth, requirement);
  if (reply === undefined) {
    next(
      new ConfigurationError(
        "loginRequired needs the login-manager middleware: call initApp(app, manager) before your routes",
      ),
    );
    return;
  }
  if (reply) sendReply(res, reply);
  else next();
}

function handleAdmitError<U extends RegisteredUser>(
  manager: LoginManager<U>,
  error: unknown,
  req: Request,
  res: Response,
  next: NextFunction,
  options: ExpressAdapterOptions,
): void {
  const storeError = unavailableStoreError(error);
  if (storeError) answerStoreUnavailable(manager, options, storeError, req, res);
  else next(error);
}

/** The error middleware that answers an unreachable store thrown by a route handler. */
function storeErrorHandler<U extends RegisteredUser>(
  manager: LoginManager<U>,
  options: ExpressAdapterOptions,
): ErrorRequestHandler {
  return function loginManagerStoreErrors(error: unknown, req: Request, res: Response, next: NextFunction) {
    const storeError = unavailableStoreError(error);
    if (!storeError || res.headersSent) {
      next(error);
      return;
    }
    // The handler may have chosen a type for the answer it could not finish.
    res.removeHeader("content-type");
    res.removeHeader("content-length");
    answerStoreUnavailable(manager, options, storeError, req, res);
  };
}

/** The one answer to an unreachable store: the app's `onStoreUnavailable`, or the manager's 503. */
function answerStoreUnavailable<U extends RegisteredUser>(
  manager: LoginManager<U>,
  options: ExpressAdapterOptions,
  error: StoreError,
  req: Request,
  res: Response,
): void {
  if (options.onStoreUnavailable) options.onStoreUnavailable(error, req, res);
  else sendReply(res, manager.storeUnavailable(requestView(req)));
}

/**
 * Adds `handler` to the app just before the error handlers that end its stack (or last), so it sees
 * a route's error before the app's own catch-all does. Express has no hook for this: `app.use()`
 * appends the layer, which is then moved. Should the router's stack not be an array, it stays last.
 */
function mountBeforeErrorHandlers(app: Application, handler: ErrorRequestHandler): void {
  app.use(handler);
  const stack = (app as { router?: { stack?: unknown } }).router?.stack;
  if (!Array.isArray(stack)) return;
  const layer: unknown = stack.pop();
  let at = stack.length;
  while (at > 0 && isErrorLayer(stack[at - 1])) at--;
  stack.splice(at, 0, layer);
}

/** Express calls a layer with an error only when its function takes four arguments. */
function isErrorLayer(layer: unknown): boolean {
  const handle = (layer as { handle?: unknown } | null)?.handle;
  return typeof handle === "function" && handle.length === 4;
}

function requestView(req: Request): RequestView {
  return new NodeRequestView(req);
}

function responseView(res: Response): ResponseView {
  return new ExpressResponseView(res);
}

class ExpressResponseView implements ResponseView {
  readonly #res: Response;

  constructor(res: Response) {
    this.#res = res;
  }

  setCookie(name: string, serialized: string): void {
    this.#res.setHeader("set-cookie", replaceSetCookie(this.#res.getHeader("set-cookie"), name, serialized));
  }

  setHeader(name: string, value: string): void {
    this.#res.setHeader(name, value);
  }

  appendVary(field: string): void {
    this.#res.setHeader("vary", mergeVary(this.#res.getHeader("vary"), field));
  }
}
