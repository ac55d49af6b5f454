import type { LoginManager } from "login-manager";
import type { PasswordHasher } from "login-manager/password";
import type { Logger } from "pino";
import type { AccountServices } from "../domain/accounts.js";
import type { BreachedPasswords } from "../domain/breached-passwords.js";
import { type CommonPasswords, loadCommonPasswords } from "../domain/common-passwords.js";
import type { AppConfig } from "../domain/config.js";
import type { Mailer, OutboxMailer } from "../domain/mailer.js";
import { LogNotifier, type Notifier } from "../domain/notifier.js";
import type { Recovery } from "../domain/recovery.js";
import { createSecondFactors, type SecondFactorServices } from "../domain/second-factors.js";
import type { User, UserRepository } from "../domain/users.js";
import { paths } from "../paths.js";
import { describeStatus, type ErrorRequest, errorPage } from "./errors.js";
import type { WebRequest, WebResponse } from "./http.js";
import { createRenderer, type RenderPage } from "./pages.js";
import { loadStaticFiles, type StaticFiles } from "./static.js";

/** What every framework's app is built from (see `createServices`). */
export interface AppDeps {
  manager: LoginManager<User>;
  users: UserRepository;
  hasher: PasswordHasher;
  logger: Logger;
  config: AppConfig;
  /** Defaults to the bundled list of the 10,000 most common passwords. */
  commonPasswords?: CommonPasswords;
  /** The breached-password check; none (the default) skips it. */
  breachedPasswords?: BreachedPasswords | undefined;
  /** Tells users about credential changes; defaults to a {@link LogNotifier} on `logger`. */
  notifier?: Notifier;
  /** Sends the app's own mails (the notice of an address change). */
  mailer: Mailer;
  /** The development outbox, listed at `/dev/outbox`; none (404 there) with SMTP or in production. */
  outbox?: OutboxMailer | undefined;
  /** Password reset and e-mail verification. */
  recovery: Recovery;
  /** TOTP, recovery codes and passkeys; made on `manager` and `users` when not given. */
  secondFactors?: SecondFactorServices | undefined;
}

/** The framework-neutral app: what the route handlers and error pages use. */
export interface WebApp {
  services: AccountServices;
  manager: LoginManager<User>;
  logger: Logger;
  config: AppConfig;
  render: RenderPage;
  staticFiles: StaticFiles;
  notifier: Notifier;
  mailer: Mailer;
  outbox: OutboxMailer | undefined;
  recovery: Recovery;
  /** TOTP, recovery codes and passkeys. */
  mfa: SecondFactorServices;
}

/** A route handler: the same function serves the route on Express, Fastify and Hono. */
export type Handler = (app: WebApp, request: WebRequest) => WebResponse | Promise<WebResponse>;

/**
 * Builds the framework-neutral part of the app: templates, static files, account use cases.
 *
 * @example
 * ```ts
 * const web = createWebApp(await createServices(parseConfig()));
 * ```
 */
export function createWebApp(deps: AppDeps): WebApp {
  return {
    services: {
      users: deps.users,
      hasher: deps.hasher,
      commonPasswords: deps.commonPasswords ?? loadCommonPasswords(),
      breachedPasswords: deps.breachedPasswords,
    },
    manager: deps.manager,
    logger: deps.logger,
    config: deps.config,
    render: createRenderer(paths.views),
    staticFiles: loadStaticFiles(paths.public),
    notifier: deps.notifier ?? new LogNotifier(deps.logger),
    mailer: deps.mailer,
    outbox: deps.outbox,
    recovery: deps.recovery,
    mfa: deps.secondFactors ?? createSecondFactors(deps.manager, deps.users, deps.config, deps.logger),
  };
}

/**
 * `GET /healthz`: `ok`, for load balancers. Mounted before login-manager, so it never touches
 * sessions or the database.
 *
 * @example
 * ```ts
 * app.get("/healthz", (_req, res) => send(res, healthz()));
 * ```
 */
export function healthz(): WebResponse {
  return {
    status: 200,
    headers: { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store" },
    body: "ok",
  };
}

/**
 * `GET /static/*`: a file of `public/`, or the 404 page (without a user: static files never touch
 * sessions).
 *
 * @example
 * ```ts
 * app.get("/static/*", (c) => toResponse(c, staticFile(web, errorRequest(c))));
 * ```
 */
export function staticFile(
  app: WebApp,
  request: ErrorRequest & { ifNoneMatch: string | undefined },
): WebResponse {
  return (
    app.staticFiles.serve(request.url, request.ifNoneMatch) ?? notFound(app, { ...request, auth: undefined })
  );
}

/**
 * The 400 page for a request-target the frameworks would not agree on ({@link isBadRequestTarget}:
 * `*`, a path that cannot be percent-decoded, a backslash or a dot segment), answered before routing
 * and login-manager (so without a user).
 *
 * @example
 * ```ts
 * if (isBadRequestTarget(req.originalUrl)) return send(res, badPath(web, errorRequest(req)));
 * ```
 */
export function badPath(app: WebApp, request: ErrorRequest): WebResponse {
  return errorPage(app.render, app.logger, 400, { ...request, auth: undefined });
}

/**
 * The 404 page for every path no route answered (a page, also for API clients).
 *
 * @example
 * ```ts
 * app.use((req, res) => send(res, notFound(web, errorRequest(req))));
 * ```
 */
export function notFound(app: WebApp, request: ErrorRequest): WebResponse {
  const { title, message } = describeStatus(404);
  return app.render(request.auth, request.url, 404, "error", { title, message, status: 404 });
}
