import type { HttpBindings } from "@hono/node-server";
import type { Context } from "hono";
import type { ContentfulStatusCode, StatusCode } from "hono/utils/http-status";
import type { ErrorRequest } from "../web/errors.js";
import type { WebRequest, WebResponse } from "../web/http.js";

/** The app's Hono environment: the Node request (`@hono/node-server`), and the body as `web/body.ts` parsed it. */
export interface AppEnv {
  Bindings: HttpBindings;
  Variables: { body: unknown };
}

/**
 * The request's path and query string as received (`/login?next=%2F`): the Node request's own URL
 * under `@hono/node-server` (`c.req.url` is a parsed, normalised absolute URL).
 */
export function requestUrl(c: Context): string {
  const raw = (c.env as Partial<HttpBindings> | undefined)?.incoming?.url;
  if (raw !== undefined) return raw;
  const url = new URL(c.req.url);
  return url.pathname + url.search;
}

/**
 * The framework-neutral view of a Hono request, for the route handlers in `web/`.
 *
 * @example
 * ```ts
 * return send(c, await handler(web, webRequest(c)));
 * ```
 */
export function webRequest(c: Context<AppEnv>): WebRequest {
  return { auth: c.var.auth, url: requestUrl(c), body: c.var.body, params: c.req.param() };
}

/**
 * What the error pages need to know about a Hono request (`c.var.auth` is unset when the body failed
 * to read, before login-manager ran).
 *
 * @example
 * ```ts
 * app.notFound((c) => send(c, notFound(web, errorRequest(c))));
 * ```
 */
export function errorRequest(c: Context): ErrorRequest {
  return { method: c.req.method, url: requestUrl(c), accept: c.req.header("accept"), auth: c.get("auth") };
}

/**
 * The Hono response for a {@link WebResponse}, keeping the headers already set on the context (the
 * cookies login-manager wrote).
 *
 * @example
 * ```ts
 * return send(c, { status: 303, headers: { location: "/" }, body: "" });
 * ```
 */
export function send(c: Context, response: WebResponse): Response {
  const status = response.status as StatusCode;
  if (response.body === "") return c.body(null, status, response.headers);
  return c.body(
    response.body as string | Uint8Array<ArrayBuffer>,
    status as ContentfulStatusCode,
    response.headers,
  );
}
