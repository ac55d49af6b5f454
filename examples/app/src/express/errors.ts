import type { ErrorRequestHandler, Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";
import { isServiceUnavailable } from "../domain/users.js";
import type { RenderPage } from "./render.js";

const MESSAGES: Record<number, { title: string; message: string }> = {
  400: {
    title: "Bad request",
    message: "The request could not be understood. Please go back and try again.",
  },
  403: {
    title: "Form expired",
    message: "The form has expired or was sent from another site. Go back, reload the page and try again.",
  },
  404: { title: "Page not found", message: "There is no page at this address." },
  405: { title: "Not allowed", message: "This page does not accept that kind of request." },
  413: { title: "Too much data", message: "That was more data than this form accepts." },
  415: { title: "Unsupported format", message: "The form was sent in a format this site does not accept." },
  503: {
    title: "Temporarily unavailable",
    message: "The service is temporarily unavailable. Please try again in a moment.",
  },
  500: {
    title: "Something went wrong",
    message: "Sorry, something went wrong on our side. Please try again.",
  },
};

function describe(status: number): { title: string; message: string } {
  return MESSAGES[status] ?? (status < 500 ? (MESSAGES[400] as never) : (MESSAGES[500] as never));
}

/**
 * Turns the login-manager's plain-text CSRF refusal (403 "Forbidden: ...") into the app's HTML error
 * page, keeping the status. Mount it before `initApp`. JSON clients keep the library's JSON reply.
 *
 * The library has no hook for this, so the response's `send` is wrapped for unsafe methods only.
 *
 * @example
 * ```ts
 * app.use(friendlyCsrfFailures(render));
 * initApp(app, manager);
 * ```
 */
export function friendlyCsrfFailures(render: RenderPage): RequestHandler {
  return (req, res, next) => {
    if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") {
      next();
      return;
    }
    const send = res.send;
    res.send = function sendFriendly(this: Response, body?: unknown) {
      res.send = send;
      const plain = String(res.getHeader("content-type") ?? "").startsWith("text/plain");
      if (res.statusCode === 403 && plain && typeof body === "string" && body.startsWith("Forbidden:")) {
        render(req, res, 403, "error", { status: 403, ...describe(403) });
        return res;
      }
      return send.call(this, body);
    };
    next();
  };
}

/**
 * The 404 page for every path no route answered.
 *
 * @example
 * ```ts
 * app.use(notFound(render));
 * ```
 */
export function notFound(render: RenderPage): RequestHandler {
  return (req, res) => {
    render(req, res, 404, "error", { status: 404, ...describe(404) });
  };
}

/** Seconds a client is asked to wait (`Retry-After`) when a backing server is down. */
const RETRY_AFTER_SECONDS = "5";

/**
 * The 503 answer when the session store or the user database cannot be reached: JSON for API
 * clients, otherwise a self-contained page without the nav bar, so it looks neither logged in nor
 * logged out. `Retry-After` and `Cache-Control: no-store`; no error text reaches the client.
 *
 * @example
 * ```ts
 * initApp(app, manager, { onStoreUnavailable: (error, req, res) => serviceUnavailable(req, res) });
 * ```
 */
export function serviceUnavailable(req: Request, res: Response): void {
  const { title, message } = describe(503);
  res.status(503);
  res.setHeader("retry-after", RETRY_AFTER_SECONDS);
  res.setHeader("cache-control", "no-store");
  if (req.accepts(["html", "json"]) === "json") {
    res.json({ error: "service_unavailable", message });
    return;
  }
  res.type("html").send(`<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title} · login-manager demo</title>
  <meta name="color-scheme" content="light dark">
  <link rel="stylesheet" href="/static/style.css">
</head>
<body>
  <main id="main" class="container narrow">
    <section class="auth-card card error-page">
      <p class="eyebrow">Error 503</p>
      <h1>${title}</h1>
      <p>${message}</p>
      <div class="actions"><a class="button button-primary" href="/">Try again</a></div>
    </section>
  </main>
</body>
</html>
`);
}

/**
 * The answer to give when the login-manager middleware cannot reach the session store (or the user
 * loader cannot reach the user database): the app's 503, logged as a warning without a stack.
 *
 * @example
 * ```ts
 * initApp(app, manager, { onStoreUnavailable: storeUnavailable(logger) });
 * ```
 */
export function storeUnavailable(logger: Logger): (error: Error, req: Request, res: Response) => void {
  return (error, req, res) => {
    logger.warn(
      { kind: "unavailable", err: error.message, method: req.method, path: req.path },
      "store unavailable",
    );
    serviceUnavailable(req, res);
  };
}

/**
 * The last error handler: client errors from body parsing and URL decoding (`status` 4xx, e.g. 400
 * malformed body, 413 too large, 415 unsupported charset) keep their status; an unreachable session
 * store or user database is a 503 ({@link serviceUnavailable}); anything else is a logged, generic
 * 500 page. No stack or error text ever reaches the client.
 *
 * @example
 * ```ts
 * app.use(errorHandler(render, logger));
 * ```
 */
export function errorHandler(render: RenderPage, logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (isServiceUnavailable(error) && !res.headersSent) {
      logger.warn(
        { kind: "unavailable", err: (error as Error).message, method: req.method, path: req.path },
        "backing server unavailable",
      );
      serviceUnavailable(req, res);
      return;
    }
    const candidate = (error as { status?: unknown; statusCode?: unknown } | null) ?? {};
    const raw = typeof candidate.status === "number" ? candidate.status : candidate.statusCode;
    const status = typeof raw === "number" && raw >= 400 && raw < 500 ? raw : 500;
    if (status === 500)
      logger.error({ kind: "error", err: error, method: req.method, path: req.path }, "request failed");
    if (res.headersSent) {
      next(error);
      return;
    }
    const { title, message } = describe(status);
    if (req.accepts(["html", "json"]) === "json") {
      res.status(status).setHeader("cache-control", "no-store");
      res.json({ error: title, message });
      return;
    }
    try {
      render(req, res, status, "error", { title, message, status });
    } catch (renderError) {
      logger.error({ kind: "error", err: renderError }, "error page failed");
      res.status(status).type("text/plain").send(message);
    }
  };
}
