import type { Context, MiddlewareHandler, Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode, StatusCode } from "hono/utils/http-status";
import {
  type AuthReply,
  FRESH_LOGIN,
  type GuardRequirement,
  guardReply,
  isPromiseLike,
  LOGIN,
  type RequestView,
  stepUpRequirement,
  unavailableStoreError,
} from "../adapter/index.js";
import type { LoginManager, RegisteredUser, StoreError } from "../index.js";
import { AuthContext, ConfigurationError } from "../index.js";
import { HonoRequestView, ResponseCookies } from "./views.js";

declare module "hono" {
  interface ContextVariableMap {
    /** login-manager's context for this request: the user, login/logout, CSRF token, flashes. */
    auth: AuthContext<RegisteredUser>;
  }
}

/**
 * Options of {@link loginManager}.
 *
 * @example
 * ```ts
 * app.use(loginManager(manager, { bodyLimitBytes: 8 * 1024 }));
 * ```
 */
export interface HonoAdapterOptions {
  /**
   * Largest urlencoded, multipart or JSON body the middleware reads (the CSRF check needs the
   * `_csrf` field); a bigger one throws an `HTTPException` 413, a malformed one a 400.
   * @default 16384
   */
  bodyLimitBytes?: number;
  /**
   * Custom answer when the session store is unreachable, while identifying the request or in a route
   * handler (`attemptLogin`, `logoutUser`, ...). @default a 503 with Retry-After (text, or JSON for API clients)
   */
  onStoreUnavailable?: (error: StoreError, c: Context) => Response | Promise<Response>;
}

/**
 * The Hono 4 middleware (for `@hono/node-server`): answers 400 to a request for a host not in
 * `allowedHosts` (before reading the body), identifies the user on every request, checks CSRF
 * on unsafe methods, and makes `c.var.auth` and `currentUser()` available to later middleware and
 * handlers. Form, multipart and JSON bodies are read first (within `bodyLimitBytes`) through
 * `c.req.formData()` / `c.req.json()`, which cache, so handlers can read the body again (with
 * `c.req.parseBody()` too). A repeated form field is kept with all its values, so a repeated
 * `_csrf` is refused as on Express and Fastify.
 *
 * Body errors are thrown as `HTTPException`s (413 / 400), which Hono's default error handler turns
 * into responses; a custom `app.onError` should return `err.getResponse()` for them.
 *
 * An unreachable session store answers 503 (`onStoreUnavailable`), also when a later handler's call
 * fails (`attemptLogin`, `logoutUser`, ...): Hono hands that error to `app.onError` first, then the
 * middleware replaces the answer with the 503.
 *
 * For a logged-in user it sets `Cache-Control: no-store` and adds `Cookie` to the Vary header.
 * Behind `@hono/node-server` both go on the Node response (`c.env.outgoing`), merged with a Vary
 * already there, so that Hono's fast path for responses without headers stays open; a Vary on the
 * Response that Hono sends (from `c.header("Vary", ...)`, `hono/cors`, a returned `Response`)
 * replaces that one when Node writes the head, `Cookie` included. `no-store` still keeps the page out
 * of shared caches then; add `Cookie` yourself where it matters (`mergeVary` from `login-manager`).
 * On other runtimes `Cookie` is merged into the finished response, keeping the app's Vary fields.
 *
 * @example
 * ```ts
 * import { Hono } from "hono";
 * import { loginManager, loginRequired } from "login-manager/hono";
 *
 * const app = new Hono();
 * app.get("/healthz", (c) => c.text("ok"));
 * app.use(loginManager(manager));
 * app.get("/protected", loginRequired, (c) => c.text(`Hi ${c.var.auth.requireUser().getId()}`));
 * ```
 */
export function loginManager<U extends RegisteredUser>(
  manager: LoginManager<U>,
  options: HonoAdapterOptions = {},
): MiddlewareHandler {
  const limit = options.bodyLimitBytes ?? 16_384;
  if (!Number.isInteger(limit) || limit < 1)
    throw new ConfigurationError("bodyLimitBytes must be a positive whole number");
  const limitBody = bodyLimit({
    maxSize: limit,
    onError: () => {
      throw new HTTPException(413, { message: "Payload Too Large" });
    },
  });
  // Not async: a GET or HEAD whose user the manager knows at once (memory or SQLite store) makes one
  // promise here, next()'s continuation, instead of one per await.
  return function loginManagerMiddleware(c, next) {
    // A GET or HEAD Request never has a body (the Fetch API refuses one): skip readBody, which would
    // make @hono/node-server build a full Request object just to find that out.
    if (hasNoBody(c))
      return admitThenNext(manager, options, c, next, new HonoRequestView(c, undefined), false);
    // The Host check first, before the body is read: another host gets 400 (allowedHosts).
    const refused = hostRefusal(manager, c, new HonoRequestView(c, undefined));
    if (refused) return Promise.resolve(refused);
    return readBody(c, limitBody).then((body) =>
      admitThenNext(manager, options, c, next, new HonoRequestView(c, body), true),
    );
  };
}

/**
 * The Host check of {@link loginManager} on its own, for middleware that must run before it and reads
 * the body (an app's own body parser or validator): a request for a host not in `allowedHosts` gets
 * the same 400 here, before that middleware reads a byte. `loginManager()` checks again, which costs
 * a map lookup.
 *
 * @example
 * ```ts
 * app.use(allowedHostsOnly(manager));
 * app.use(validator("form", schema));
 * app.use(loginManager(manager));
 * ```
 */
export function allowedHostsOnly<U extends RegisteredUser>(manager: LoginManager<U>): MiddlewareHandler {
  return function loginManagerHostCheck(c, next) {
    const refused = hostRefusal(manager, c, new HonoRequestView(c, undefined));
    return refused ? Promise.resolve(refused) : next();
  };
}

/** The Host check's 400, made the response, or undefined when the host is allowed. */
function hostRefusal<U extends RegisteredUser>(
  manager: LoginManager<U>,
  c: Context,
  view: RequestView,
): Response | undefined {
  const refusal = manager.checkHost(view);
  if (!refusal) return undefined;
  c.res = sendReply(c, refusal);
  return c.res;
}

/** Shared, so that no options object is made per request. */
const HOST_CHECKED = Object.freeze({ hostChecked: true });

/** One `manager.admit` (Host check unless `hostChecked`, identification, CSRF check), then the rest. */
function admitThenNext<U extends RegisteredUser>(
  manager: LoginManager<U>,
  options: HonoAdapterOptions,
  c: Context,
  next: Next,
  request: HonoRequestView,
  hostChecked: boolean,
): Promise<Response | undefined> {
  const cookies = new ResponseCookies(c);
  const admitted = manager.admit(request, cookies, hostChecked ? HOST_CHECKED : undefined);
  if (!isPromiseLike(admitted)) return proceed(manager, options, c, next, cookies, admitted);
  return admitted.then(
    (result) => proceed(manager, options, c, next, cookies, result),
    async (error: unknown) => {
      const storeError = unavailableStoreError(error);
      if (!storeError) throw error;
      return answerStoreUnavailable(manager, options, storeError, c, request);
    },
  );
}

/** The one answer to an unreachable store: the app's `onStoreUnavailable`, or the manager's 503. */
function answerStoreUnavailable<U extends RegisteredUser>(
  manager: LoginManager<U>,
  options: HonoAdapterOptions,
  error: StoreError,
  c: Context,
  request: RequestView,
): Response | Promise<Response> {
  if (options.onStoreUnavailable) return options.onStoreUnavailable(error, c);
  return sendReply(c, manager.storeUnavailable(request));
}

/**
 * After a handler failed because the store is unreachable, replaces what `app.onError` answered with
 * the 503. The old response goes first, or Hono would copy its headers into the new one.
 */
async function replaceWithStoreUnavailable<U extends RegisteredUser>(
  manager: LoginManager<U>,
  options: HonoAdapterOptions,
  error: StoreError,
  c: Context,
  request: RequestView,
): Promise<void> {
  c.res = undefined;
  c.res = await answerStoreUnavailable(manager, options, error, c, request);
}

/**
 * Sends the manager's reply, or attaches the context and runs the rest inside it (answering an
 * unreachable store there with the 503); then writes the cookies and the Vary field into the response.
 */
function proceed<U extends RegisteredUser>(
  manager: LoginManager<U>,
  options: HonoAdapterOptions,
  c: Context,
  next: Next,
  cookies: ResponseCookies,
  result: AuthContext<U> | AuthReply,
): Promise<Response | undefined> {
  if (!(result instanceof AuthContext)) {
    c.res = sendReply(c, result);
    cookies.flush();
    return Promise.resolve(c.res);
  }
  c.set("auth", result as unknown as AuthContext<RegisteredUser>);
  return manager.runInContext(result, next).then(() => {
    const storeError = unavailableStoreError(c.error);
    if (!storeError) {
      cookies.flush();
      return undefined;
    }
    return replaceWithStoreUnavailable(manager, options, storeError, c, result.request).then(() => {
      cookies.flush();
      return undefined;
    });
  });
}

/**
 * Route guard: anonymous visitors are redirected to the login view (or get 401 JSON), like
 * Flask-Login's `@login_required`. OPTIONS requests pass.
 *
 * @example
 * ```ts
 * app.get("/protected", loginRequired, (c) => c.text("secret"));
 * ```
 */
export const loginRequired: MiddlewareHandler = function loginRequired(c, next) {
  return guard(c, next, LOGIN);
};

/**
 * Route guard for sensitive actions: also requires a fresh login (password entered on this session,
 * not restored from remember-me), like Flask-Login's `@fresh_login_required`.
 *
 * @example
 * ```ts
 * app.post("/account/password", freshLoginRequired, changePassword);
 * ```
 */
export const freshLoginRequired: MiddlewareHandler = function freshLoginRequired(c, next) {
  return guard(c, next, FRESH_LOGIN);
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
export function secondFactorRequired(options: { withinSeconds?: number } = {}): MiddlewareHandler {
  const requirement = stepUpRequirement(options);
  return function secondFactorRequired(c, next) {
    return guard(c, next, requirement);
  };
}

/**
 * Builds the Hono response for a framework-neutral {@link AuthReply} (redirect, JSON or text). A
 * string body is text/plain unless the reply's headers carry a content-type (a custom HTML page).
 *
 * @example
 * ```ts
 * return sendReply(c, { status: 401, headers: {}, body: { error: "unauthorized" } });
 * ```
 */
export function sendReply(c: Context, reply: AuthReply): Response {
  if (reply.body === undefined) return c.body(null, reply.status as StatusCode, reply.headers);
  const status = reply.status as ContentfulStatusCode;
  if (typeof reply.body === "string") return c.text(reply.body, status, reply.headers);
  return c.json(reply.body as object, status, reply.headers);
}

/**
 * Not an async function: the common case hands back `next()`'s own promise instead of wrapping it in
 * another one (every promise pays AsyncLocalStorage's hook inside the request context).
 */
function guard(c: Context, next: Next, requirement: GuardRequirement): Promise<Response | undefined> {
  const reply = guardReply(c.get("auth"), requirement);
  if (reply === undefined) {
    return Promise.reject(
      new ConfigurationError(
        "loginRequired needs the login-manager middleware: app.use(loginManager(manager)) before your routes",
      ),
    );
  }
  if (reply) return Promise.resolve(sendReply(c, reply));
  return next() as Promise<undefined>;
}

function hasNoBody(c: Context): boolean {
  const method = c.req.method;
  return method === "GET" || method === "HEAD";
}

const BODY_TYPES = new Set(["application/x-www-form-urlencoded", "multipart/form-data", "application/json"]);

/**
 * Reads a form, multipart or JSON body within the limit; the parsed object, or undefined. A repeated
 * form field becomes an array of its values, as Express's and Fastify's form parsers make it (so a
 * repeated `_csrf` is refused on all three), without changing what `c.req.parseBody()` gives handlers.
 */
async function readBody(
  c: Context,
  limitBody: MiddlewareHandler,
): Promise<Record<string, unknown> | undefined> {
  // The header first: touching `raw.body` makes @hono/node-server build a full Request.
  const type = c.req.header("content-type")?.split(";")[0]?.trim().toLowerCase() ?? "";
  if (!BODY_TYPES.has(type) || !c.req.raw.body) return undefined;
  let parsed: unknown;
  await limitBody(c, async () => {
    try {
      parsed = type === "application/json" ? await c.req.json() : fieldsOf(await c.req.formData());
    } catch (cause) {
      throw new HTTPException(400, { message: "Malformed request body", cause });
    }
  });
  return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
}

/** A form's fields by name: a value, or the array of values of a repeated field. */
function fieldsOf(form: FormData): Record<string, unknown> {
  const fields: Record<string, unknown> = Object.create(null);
  form.forEach((value, name) => {
    const earlier = fields[name];
    if (earlier === undefined) fields[name] = value;
    else if (Array.isArray(earlier)) earlier.push(value);
    else fields[name] = [earlier, value];
  });
  return fields;
}
