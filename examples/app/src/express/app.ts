import express, { type Express, type RequestHandler } from "express";
import helmet from "helmet";
import type { LoginManager } from "login-manager";
import { initApp } from "login-manager/express";
import type { PasswordHasher } from "login-manager/password";
import type { Logger } from "pino";
import { type CommonPasswords, loadCommonPasswords } from "../domain/common-passwords.js";
import type { AppConfig } from "../domain/config.js";
import { ReauthLimiter } from "../domain/reauth-limiter.js";
import type { User, UserRepository } from "../domain/users.js";
import { paths } from "../paths.js";
import type { RouteContext } from "./context.js";
import { errorHandler, friendlyCsrfFailures, notFound, storeUnavailable } from "./errors.js";
import { createRenderer } from "./render.js";
import { registerAccountRoutes } from "./routes-account.js";
import { registerAuthRoutes } from "./routes-auth.js";

/** What {@link createExpressApp} is built from (see `createServices`). */
export interface ExpressAppDeps {
  manager: LoginManager<User>;
  users: UserRepository;
  hasher: PasswordHasher;
  logger: Logger;
  config: AppConfig;
  /** Defaults to the bundled list of the 10,000 most common passwords. */
  commonPasswords?: CommonPasswords;
  /** Defaults to 5 wrong passwords per 15 minutes before a logged-in user is logged out. */
  reauthLimiter?: ReauthLimiter;
}

/** Largest form body accepted; bigger ones get 413. */
const BODY_LIMIT_BYTES = 8 * 1024;

/**
 * Builds the reference app on Express 5: security headers, `/healthz` and static files (which never
 * touch sessions or the database), then login-manager and the pages.
 *
 * @example
 * ```ts
 * const services = await createServices(parseConfig());
 * createExpressApp(services).listen(5000);
 * ```
 */
export function createExpressApp(deps: ExpressAppDeps): Express {
  const app = express();
  app.disable("x-powered-by");
  app.set("etag", false);
  app.set("trust proxy", deps.config.trustProxyHops === 0 ? false : deps.config.trustProxyHops);
  const render = createRenderer(paths.views);

  app.use(securityHeaders());
  app.get("/healthz", (_req, res) => {
    res.setHeader("cache-control", "no-store");
    res.type("text/plain").send("ok");
  });
  app.use("/static", express.static(paths.public, { index: false, maxAge: "1h" }));

  app.use(friendlyCsrfFailures(render));
  initApp(app, deps.manager, {
    bodyLimitBytes: BODY_LIMIT_BYTES,
    onStoreUnavailable: storeUnavailable(deps.logger),
  });

  const context: RouteContext = {
    services: {
      users: deps.users,
      hasher: deps.hasher,
      commonPasswords: deps.commonPasswords ?? loadCommonPasswords(),
    },
    manager: deps.manager,
    logger: deps.logger,
    config: deps.config,
    render,
    reauthLimiter: deps.reauthLimiter ?? new ReauthLimiter(),
  };
  registerAuthRoutes(app, context);
  registerAccountRoutes(app, context);

  app.use(notFound(render));
  app.use(errorHandler(render, deps.logger));
  return app;
}

/** Helmet with a strict CSP (no inline code at all), no framing, and HSTS only over HTTPS. */
function securityHeaders(): RequestHandler[] {
  return [
    helmet({
      contentSecurityPolicy: {
        useDefaults: false,
        directives: {
          "default-src": ["'self'"],
          "script-src": ["'self'"],
          "style-src": ["'self'"],
          "img-src": ["'self'", "data:"],
          "form-action": ["'self'"],
          "frame-ancestors": ["'none'"],
          "base-uri": ["'none'"],
          "object-src": ["'none'"],
        },
      },
      referrerPolicy: { policy: "same-origin" },
      xFrameOptions: { action: "deny" },
      strictTransportSecurity: false,
    }),
    (req, res, next) => {
      if (req.secure) res.setHeader("strict-transport-security", "max-age=31536000; includeSubDomains");
      next();
    },
  ];
}
