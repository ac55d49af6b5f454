import { type Context, type Handler, Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { secureHeaders } from "hono/secure-headers";
import { unavailableStoreError } from "login-manager/adapter";
import { allowedHostsOnly, freshLoginRequired, loginManager, loginRequired } from "login-manager/hono";
import {
  type AppDeps,
  badPath,
  createWebApp,
  healthz,
  notFound,
  staticFile,
  type WebApp,
} from "../web/app.js";
import {
  BODY_LIMIT_BYTES,
  BodyError,
  type BodyHeaders,
  bodyKind,
  parseForm,
  parseJson,
} from "../web/body.js";
import { csrfFailurePage, errorResponse, isCsrfRefusal, storeUnavailable } from "../web/errors.js";
import { isBadRequestTarget } from "../web/http.js";
import { type Guard, ROUTES } from "../web/routes.js";
import { CSP_DIRECTIVES, FRAME_OPTIONS, HSTS, isHttpsRequest, REFERRER_POLICY } from "../web/security.js";
import { type AppEnv, errorRequest, requestUrl, send, webRequest } from "./http.js";

const GUARDS: Record<Guard, MiddlewareHandler | undefined> = {
  none: undefined,
  login: loginRequired,
  fresh: freshLoginRequired,
};

/**
 * Builds the reference app on Hono 4 (served by `@hono/node-server`): security headers
 * (`hono/secure-headers`), `/healthz` and static files (which never touch sessions or the
 * database), then the app's body rules, login-manager and the routes of `web/routes.ts`.
 *
 * @example
 * ```ts
 * serve({ fetch: createHonoApp(await createServices(parseConfig())).fetch, port: 5000 });
 * ```
 */
export function createHonoApp(deps: AppDeps): Hono<AppEnv> {
  return honoAppFor(createWebApp(deps), deps);
}

/**
 * {@link createHonoApp} on a framework-neutral app already built (the listener in `listener.ts`
 * shares it with its own error pages).
 *
 * @example
 * ```ts
 * const app = honoAppFor(createWebApp(deps), deps);
 * ```
 */
export function honoAppFor(web: WebApp, deps: AppDeps): Hono<AppEnv> {
  // strict: false makes `/login/` `/login`, as on Express and Fastify.
  const app = new Hono<AppEnv>({ strict: false });

  app.use(securityHeaders());
  app.use(async (c, next) => {
    await next();
    const socket = c.env.incoming?.socket as { encrypted?: boolean } | undefined;
    const https = isHttpsRequest(
      { encrypted: socket?.encrypted === true, header: (name) => c.req.header(name) },
      web.config.trustProxyHops,
    );
    if (https) c.res.headers.set("strict-transport-security", HSTS);
  });
  app.use(async (c, next) => {
    if (isBadRequestTarget(requestUrl(c))) return send(c, badPath(web, errorRequest(c)));
    await next();
  });
  app.get("/healthz", (c) => send(c, healthz()));
  app.get("/static/:file{.+}", (c) =>
    send(
      c,
      staticFile(web, { ...errorRequest(c), auth: undefined, ifNoneMatch: c.req.header("if-none-match") }),
    ),
  );

  // As on Express and Fastify: a body the app does not read is refused from its headers (415), then
  // another host gets login-manager's 400, and only then is the body read (413 past the limit).
  app.use(supportedBodiesOnly());
  app.use(allowedHostsOnly(deps.manager));
  app.use(readBody());
  // login-manager answers a failed CSRF check with plain text; browsers get the app's page instead.
  app.use(async (c, next) => {
    await next();
    if (c.req.method === "GET" || c.req.method === "HEAD" || c.req.method === "OPTIONS") return;
    const type = c.res.headers.get("content-type");
    if (c.res.status !== 403 || !type?.startsWith("text/plain")) return;
    const refusal = await c.res.clone().text();
    if (!isCsrfRefusal(c.res.status, type, refusal)) return;
    const page = csrfFailurePage(refusal);
    c.res = new Response(page.body, { status: page.status, headers: page.headers });
  });
  app.use(
    loginManager(deps.manager, {
      bodyLimitBytes: BODY_LIMIT_BYTES,
      onStoreUnavailable: (error, c) => send(c, storeUnavailable(web.logger, error, errorRequest(c))),
    }),
  );

  for (const route of ROUTES) {
    const guard = GUARDS[route.guard];
    const handler: Handler<AppEnv> = async (c) => send(c, await route.handler(web, webRequest(c)));
    if (guard) app.on(route.method, route.path, guard, handler);
    else app.on(route.method, route.path, handler);
  }
  app.notFound((c) => send(c, notFound(web, errorRequest(c))));
  // Hono hands every error to onError first; login-manager then replaces the answer to an unreachable
  // session store with its onStoreUnavailable's (above), which logs it: nothing to do here for those.
  app.onError((error, c) =>
    unavailableStoreError(error)
      ? c.body(null, 503)
      : send(c, errorResponse(web.render, web.logger, error, errorRequest(c))),
  );
  return app;
}

/** 415, from the headers alone, for a body the app does not read (`web/body.ts`). */
function supportedBodiesOnly(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const kind = bodyKind(bodyHeaders(c));
    if (kind instanceof BodyError) throw kind;
    await next();
  };
}

function bodyHeaders(c: Context): BodyHeaders {
  return {
    contentType: c.req.header("content-type"),
    contentEncoding: c.req.header("content-encoding"),
    contentLength: c.req.header("content-length"),
    transferEncoding: c.req.header("transfer-encoding"),
  };
}

/**
 * The app's body rules (`web/body.ts`), before login-manager reads the body for its CSRF check: 413
 * past 8 KiB or 100 form fields, 400 for malformed JSON (the media type was checked before). The
 * bytes are read once (Hono caches them, so login-manager's `parseBody()` / `json()` reuse them),
 * and parsed like on Express and Fastify into `c.var.body`.
 */
function readBody(): MiddlewareHandler<AppEnv> {
  const limit = bodyLimit({
    maxSize: BODY_LIMIT_BYTES,
    onError: () => {
      throw new BodyError(413, "body too large");
    },
  });
  return async (c, next) => {
    const kind = bodyKind(bodyHeaders(c));
    if (kind instanceof BodyError) throw kind;
    if (c.req.method === "GET" || c.req.method === "HEAD") {
      await next();
      return;
    }
    if (kind === "none") {
      // An empty body is no body: login-manager would try to parse an empty JSON one (400).
      if (c.req.header("content-type") !== undefined) {
        const headers = new Headers(c.req.raw.headers);
        headers.delete("content-type");
        c.req.raw = new Request(c.req.raw, { headers });
      }
      await next();
      return;
    }
    let bytes = new ArrayBuffer(0);
    await limit(c, async () => {
      bytes = await c.req.arrayBuffer();
    });
    // login-manager reads the body again (from Hono's cache), but first re-counts a chunked one
    // from the stream: give it a fresh stream of the same bytes.
    c.req.raw = new Request(c.req.raw, { body: bytes });
    const text = new TextDecoder().decode(bytes);
    c.set("body", kind === "form" ? parseForm(text) : parseJson(text));
    await next();
  };
}

/**
 * The app's security headers on Hono (`hono/secure-headers` with the policy of `web/security.ts`);
 * HSTS is added separately, only over HTTPS.
 *
 * @example
 * ```ts
 * app.use(securityHeaders());
 * ```
 */
export function securityHeaders(): MiddlewareHandler {
  return secureHeaders({
    contentSecurityPolicy: cspForHono(),
    referrerPolicy: REFERRER_POLICY,
    xFrameOptions: FRAME_OPTIONS,
    strictTransportSecurity: false,
    // A page's own value wins, as with helmet: `Referrer-Policy: no-referrer` on the token links' pages.
    overwrite: false,
  });
}

/** {@link CSP_DIRECTIVES} with the camel-case names `secureHeaders` takes (it writes them back in kebab case). */
function cspForHono(): Record<string, string[]> {
  const directives: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(CSP_DIRECTIVES)) {
    directives[name.replace(/-([a-z])/g, (_match, letter: string) => letter.toUpperCase())] = [...values];
  }
  return directives;
}
