import type { TLSSocket } from "node:tls";
import express, { type Express, type RequestHandler } from "express";
import helmet from "helmet";
import { freshLoginRequired, initApp, loginRequired } from "login-manager/express";
import {
  type AppDeps,
  badPath,
  createWebApp,
  type Handler,
  healthz,
  notFound,
  staticFile,
  type WebApp,
} from "../web/app.js";
import { BODY_LIMIT_BYTES } from "../web/body.js";
import { isBadRequestTarget, normalizePath } from "../web/http.js";
import { type Guard, ROUTES } from "../web/routes.js";
import { HSTS, helmetOptions, isHttpsRequest } from "../web/security.js";
import { errorHandler, friendlyCsrfFailures, storeUnavailable, supportedBodiesOnly } from "./errors.js";
import { errorRequest, send, webRequest } from "./http.js";

/** What {@link createExpressApp} is built from (see `createServices`). */
export type ExpressAppDeps = AppDeps;

const GUARDS: Record<Guard, RequestHandler[]> = {
  none: [],
  login: [loginRequired],
  fresh: [freshLoginRequired],
};

/**
 * Builds the reference app on Express 5: security headers (helmet), `/healthz` and static files
 * (which never touch sessions or the database), then login-manager and the routes of `web/routes.ts`.
 *
 * @example
 * ```ts
 * const services = await createServices(parseConfig());
 * createExpressApp(services).listen(5000);
 * ```
 */
export function createExpressApp(deps: AppDeps): Express {
  const web = createWebApp(deps);
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("case sensitive routing", true);

  app.use(securityHeaders(web));
  app.use((req, res, next) => {
    if (isBadRequestTarget(req.url)) {
      send(res, badPath(web, errorRequest(req)));
      return;
    }
    // Express matches the raw path; Fastify and Hono decode it first, so `/log%69n` is `/login` there.
    req.url = normalizePath(req.url);
    next();
  });
  app.get("/healthz", (_req, res) => send(res, healthz()));
  app.get("/static/*path", (req, res) => {
    send(
      res,
      staticFile(web, { ...errorRequest(req), auth: undefined, ifNoneMatch: req.get("if-none-match") }),
    );
  });

  app.use(friendlyCsrfFailures());
  app.use(supportedBodiesOnly());
  initApp(app, deps.manager, {
    bodyLimitBytes: BODY_LIMIT_BYTES,
    onStoreUnavailable: storeUnavailable(deps.logger),
  });

  for (const route of ROUTES) {
    const handlers = [...GUARDS[route.guard], handle(web, route.handler)];
    if (route.method === "GET") app.get(route.path, ...handlers);
    else app.post(route.path, ...handlers);
  }

  app.use((req, res) => send(res, notFound(web, errorRequest(req))));
  app.use(errorHandler(web));
  return app;
}

function handle(web: WebApp, handler: Handler): RequestHandler {
  return async (req, res) => {
    send(res, await handler(web, webRequest(req)));
  };
}

/** Helmet with a strict CSP (no inline code at all), no framing, and HSTS only over HTTPS. */
function securityHeaders(web: WebApp): RequestHandler[] {
  return [
    helmet(helmetOptions()),
    (req, res, next) => {
      const https = isHttpsRequest(
        { encrypted: Boolean((req.socket as TLSSocket).encrypted), header: (name) => req.get(name) },
        web.config.trustProxyHops,
      );
      if (https) res.setHeader("strict-transport-security", HSTS);
      next();
    },
  ];
}
