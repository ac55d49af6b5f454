/**
 * The Node request listener of the Hono app. @hono/node-server answers some requests itself, before
 * the app sees them: those it cannot turn into a Fetch `Request` (a request-target of `*`, a
 * backslash in the path, a missing or malformed Host). Its own answer is a bare 400 without the
 * app's security headers; here the app's 400 page answers them instead, with the headers every other
 * response has (HSTS aside: node-server passes on only the error, not the request that came over HTTPS).
 *
 * @module
 */
import type { RequestListener } from "node:http";
import { getRequestListener, RequestError } from "@hono/node-server";
import { Hono } from "hono";
import { type AppDeps, badPath, createWebApp, type WebApp } from "../web/app.js";
import { errorResponse } from "../web/errors.js";
import { honoAppFor, securityHeaders } from "./app.js";
import { send } from "./http.js";

/**
 * The Hono app as a Node request listener, whose requests @hono/node-server refuses get the app's
 * 400 page with its security headers.
 *
 * @example
 * ```ts
 * http.createServer(createHonoListener(services)).listen(5000);
 * ```
 */
export function createHonoListener(deps: AppDeps): RequestListener {
  const web = createWebApp(deps);
  const app = honoAppFor(web, deps);
  const refusals = refusalPages(web);
  return getRequestListener(app.fetch, {
    errorHandler: (error) => refusals.fetch(new Request("http://localhost/"), { error }),
  });
}

/**
 * A one-route app that renders the answer to a request node-server could not read: the 400 page for
 * its `RequestError`, the logged 500 page for anything else.
 */
function refusalPages(web: WebApp): Hono<{ Bindings: { error: unknown } }> {
  const pages = new Hono<{ Bindings: { error: unknown } }>();
  pages.use(securityHeaders());
  pages.all("*", (c) => {
    const request = { method: "GET", url: "/", accept: undefined, auth: undefined };
    const { error } = c.env;
    return send(
      c,
      error instanceof RequestError
        ? badPath(web, request)
        : errorResponse(web.render, web.logger, error, request),
    );
  });
  return pages;
}
