import type { Context, MiddlewareHandler, Next } from "hono";
import { bodyLimit } from "hono/body-limit";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode, StatusCode } from "hono/utils/http-status";
import { managerOf } from "../core/auth-context.js";
import type {
  AuthContext,
  AuthReply,
  LoginManager,
  RegisteredUser,
  RequestView,
  ResponseView,
} from "../index.js";
import { ConfigurationError, isPromiseLike, mergeVary, replaceSetCookie, StoreError } from "../index.js";

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
  /** Custom answer when the session store is unreachable. @default a 503 with Retry-After */
  onStoreUnavailable?: (error: StoreError, c: Context) => Response | Promise<Response>;
}

/**
 * The Hono 4 middleware (for `@hono/node-server`): identifies the user on every request, checks CSRF
 * on unsafe methods, and makes `c.var.auth` and `currentUser()` available to later middleware and
 * handlers. Form, multipart and JSON bodies are read first (within `bodyLimitBytes`) through
 * `c.req.parseBody()` / `c.req.json()`, which cache, so handlers can read the body again.
 *
 * Body errors are thrown as `HTTPException`s (413 / 400), which Hono's default error handler turns
 * into responses; a custom `app.onError` should return `err.getResponse()` for them.
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
    if (hasNoBody(c)) return identifyThenNext(manager, options, c, next, undefined);
    return readBody(c, limitBody).then((body) => identifyThenNext(manager, options, c, next, body));
  };
}

function identifyThenNext<U extends RegisteredUser>(
  manager: LoginManager<U>,
  options: HonoAdapterOptions,
  c: Context,
  next: Next,
  body: Record<string, unknown> | undefined,
): Promise<Response | undefined> {
  const request = new HonoRequestView(c, body);
  const cookies = new ResponseCookies(c);
  const identified = manager.identify(request, cookies);
  if (!isPromiseLike(identified)) return admit(manager, c, next, cookies, identified);
  return identified.then(
    (auth) => admit(manager, c, next, cookies, auth),
    async (error: unknown) => {
      if (!(error instanceof StoreError) || !error.unavailable) throw error;
      if (options.onStoreUnavailable) return options.onStoreUnavailable(error, c);
      return sendReply(c, manager.storeUnavailable(request));
    },
  );
}

/**
 * Attaches the context, checks CSRF, runs the rest inside the context, then writes the cookies and
 * the Vary field into the response.
 */
function admit<U extends RegisteredUser>(
  manager: LoginManager<U>,
  c: Context,
  next: Next,
  cookies: ResponseCookies,
  auth: AuthContext<U>,
): Promise<Response | undefined> {
  c.set("auth", auth as unknown as AuthContext<RegisteredUser>);
  const csrfReply = manager.checkCsrf(auth);
  if (csrfReply) {
    c.res = sendReply(c, csrfReply);
    cookies.flush();
    return Promise.resolve(c.res);
  }
  return manager.runInContext(auth, next).then(() => {
    cookies.flush();
    return undefined;
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
  return guard(c, next, false);
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
  return guard(c, next, true);
};

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
function guard(c: Context, next: Next, fresh: boolean): Promise<Response | undefined> {
  const auth = c.get("auth") as AuthContext<RegisteredUser> | undefined;
  const manager = managerOf(auth);
  if (!auth || !manager) {
    return Promise.reject(
      new ConfigurationError(
        "loginRequired needs the login-manager middleware: app.use(loginManager(manager)) before your routes",
      ),
    );
  }
  const reply = manager.guard(auth as unknown as AuthContext<never>, { fresh });
  if (reply) return Promise.resolve(sendReply(c, reply));
  return next() as Promise<undefined>;
}

function hasNoBody(c: Context): boolean {
  const method = c.req.method;
  return method === "GET" || method === "HEAD";
}

const BODY_TYPES = new Set(["application/x-www-form-urlencoded", "multipart/form-data", "application/json"]);

/** Reads a form, multipart or JSON body within the limit; the parsed object, or undefined. */
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
      parsed = type === "application/json" ? await c.req.json() : await c.req.parseBody();
    } catch (cause) {
      throw new HTTPException(400, { message: "Malformed request body", cause });
    }
  });
  return parsed !== null && typeof parsed === "object" ? (parsed as Record<string, unknown>) : undefined;
}

interface NodeBindings {
  incoming?: { url?: string; socket?: { remoteAddress?: string; encrypted?: boolean } };
  outgoing?: NodeOutgoing;
  server?: NodeBindings;
}

interface NodeOutgoing {
  readonly headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  getHeader(name: string): unknown;
}

/** The Node `ServerResponse` under @hono/node-server (`c.env.outgoing`), when there is one. */
function nodeResponse(c: Context): NodeOutgoing | undefined {
  const env = c.env as NodeBindings | undefined;
  const outgoing = (env?.server ?? env)?.outgoing;
  return typeof outgoing?.setHeader === "function" ? outgoing : undefined;
}

/**
 * The core's view of a Hono request. A class rather than an object literal with a `get url()`: a
 * literal accessor gives every request its own hidden class, whose descriptors live in old space and
 * keep the closure (and through it the whole request) alive until a full garbage collection. Under
 * load that promoted about 4 KiB per request and cost more CPU than the rest of the adapter.
 */
class HonoRequestView implements RequestView {
  readonly method: string;
  readonly remoteAddress: string | undefined;
  readonly encrypted: boolean;
  readonly #c: Context;
  readonly #body: Record<string, unknown> | undefined;
  readonly #incomingUrl: string | undefined;
  #url: string | undefined;

  constructor(c: Context, body: Record<string, unknown> | undefined) {
    // @hono/node-server passes the Node request as `c.env.incoming` (getConnInfo reads the same).
    const env = c.env as NodeBindings | undefined;
    const incoming = (env?.server ?? env)?.incoming;
    this.method = c.req.method;
    this.remoteAddress = incoming?.socket?.remoteAddress;
    this.encrypted = incoming?.socket?.encrypted === true;
    this.#c = c;
    this.#body = body;
    this.#incomingUrl = incoming?.url;
  }

  /** The path and query as received, like Express's `originalUrl`; read only to build a login redirect. */
  get url(): string {
    if (this.#url === undefined)
      this.#url = this.#incomingUrl?.startsWith("/") ? this.#incomingUrl : pathOf(this.#c);
    return this.#url;
  }

  header(name: string): string | undefined {
    return this.#c.req.header(name);
  }

  formField(name: string): unknown {
    const body = this.#body;
    return body && Object.hasOwn(body, name) ? body[name] : undefined;
  }
}

/** Path and query of the Fetch request, for runtimes other than @hono/node-server. */
function pathOf(c: Context): string {
  const parsed = new URL(c.req.url);
  return parsed.pathname + parsed.search;
}

/** The core's view of the Hono response: its own methods, no per-request closures or Map until a cookie is set. */
class ResponseCookies implements ResponseView {
  readonly #c: Context;
  /** The Node response under @hono/node-server, looked up once per request. */
  readonly #outgoing: NodeOutgoing | undefined;
  #pending: Map<string, string> | undefined;
  /** Off Node only: the Vary fields to merge into the finished response. */
  #vary: string | undefined;
  /** Off Node only: headers the finished response gets unless it has its own. */
  #defaults: Map<string, string> | undefined;
  #flushed = false;

  constructor(c: Context) {
    this.#c = c;
    this.#outgoing = nodeResponse(c);
  }

  setCookie(name: string, serialized: string): void {
    this.#pending ??= new Map();
    this.#pending.delete(name);
    this.#pending.set(name, serialized);
    if (this.#flushed) this.flush();
  }

  setHeader(name: string, value: string): void {
    const outgoing = this.#outgoing;
    // On the Node response the header survives whatever Response the handler returns (even a raw
    // `new Response()`), and Hono's own fast path for header-less responses stays open.
    if (outgoing && !outgoing.headersSent) {
      outgoing.setHeader(name, value);
      return;
    }
    this.#c.header(name, value);
    // A Response the handler builds itself does not carry c.header()'s headers: give it ours after
    // next() unless it has its own.
    this.#defaults ??= new Map();
    this.#defaults.set(name, value);
    if (this.#flushed) this.#completeResponse();
  }

  appendVary(field: string): void {
    const outgoing = this.#outgoing;
    if (outgoing) {
      // Behind @hono/node-server: on the Node response, merged with what is there. A Vary on the
      // Response Hono sends replaces it at writeHead; merging into that Response instead would read
      // its headers, which takes every logged-in response off the server's fast path (measured:
      // about 11 µs more server CPU per request, Hono /protected 0.59x -> 0.49x of /hello).
      if (!outgoing.headersSent) outgoing.setHeader("vary", mergeVary(outgoing.getHeader("vary"), field));
      return;
    }
    this.#vary = mergeVary(this.#vary, field);
    if (this.#flushed) this.#completeResponse();
  }

  /**
   * Writes the pending cookies (appended before the response exists, merged into it after) and,
   * once the response exists and off Node, the headers it lacks and the Vary fields.
   */
  flush(): void {
    const c = this.#c;
    this.#flushed = c.finalized;
    if (c.finalized) this.#completeResponse();
    if (this.#pending === undefined || this.#pending.size === 0) return;
    let list: string[] = c.finalized ? c.res.headers.getSetCookie() : [];
    for (const [name, serialized] of this.#pending) list = replaceSetCookie(list, name, serialized);
    this.#pending.clear();
    if (c.finalized) c.header("set-cookie", undefined);
    for (const cookie of list) c.header("set-cookie", cookie, { append: true });
  }

  /**
   * Off Node: gives the finished response the headers it lacks and adds the Vary fields, keeping what
   * the handler or an earlier middleware put there. Done after next(), because a Response the handler
   * builds itself skips c.header(), and its c.header("Vary", ...) replaces.
   */
  #completeResponse(): void {
    if (this.#vary === undefined && this.#defaults === undefined) return;
    const headers = this.#c.res.headers;
    const updates: [string, string][] = [];
    for (const [name, value] of this.#defaults ?? []) if (!headers.has(name)) updates.push([name, value]);
    const current = headers.get("vary");
    const merged = this.#vary === undefined ? null : mergeVary(current, this.#vary);
    if (merged !== null && merged !== current) updates.push(["vary", merged]);
    for (const [name, value] of updates) {
      try {
        headers.set(name, value);
      } catch {
        // A Response from fetch() has immutable headers; c.header() copies the Response first.
        this.#c.header(name, value);
      }
    }
  }
}
