import type { ErrorRequestHandler, Request, RequestHandler, Response } from "express";
import type { Logger } from "pino";
import type { WebApp } from "../web/app.js";
import { BodyError, bodyKind } from "../web/body.js";
import {
  csrfFailurePage,
  errorResponse,
  isCsrfRefusal,
  storeUnavailable as storeUnavailableResponse,
} from "../web/errors.js";
import { errorRequest, send } from "./http.js";

/**
 * Turns the login-manager's plain-text CSRF refusal (403 "Forbidden: ...") into the app's HTML error
 * page, keeping the status and the reason. Mount it before `initApp`. JSON clients keep the library's
 * JSON reply.
 *
 * The library has no hook for this, so the response's `send` is wrapped for unsafe methods only.
 *
 * @example
 * ```ts
 * app.use(friendlyCsrfFailures());
 * initApp(app, manager);
 * ```
 */
export function friendlyCsrfFailures(): RequestHandler {
  return (req, res, next) => {
    if (req.method === "GET" || req.method === "HEAD" || req.method === "OPTIONS") {
      next();
      return;
    }
    const original = res.send;
    res.send = function sendFriendly(this: Response, body?: unknown) {
      res.send = original;
      if (isCsrfRefusal(res.statusCode, res.getHeader("content-type"), body)) {
        const page = csrfFailurePage(body as string);
        for (const [name, value] of Object.entries(page.headers)) res.setHeader(name, value);
        return original.call(this, page.body);
      }
      return original.call(this, body);
    };
    next();
  };
}

/**
 * Refuses, with 415 and before any byte is read, a body the app does not read (see `web/body.ts`):
 * login-manager's parsers would skip another media type, but the other frameworks would not.
 *
 * @example
 * ```ts
 * app.use(supportedBodiesOnly());
 * initApp(app, manager);
 * ```
 */
export function supportedBodiesOnly(): RequestHandler {
  return (req, _res, next) => {
    const kind = bodyKind({
      contentType: req.get("content-type"),
      contentEncoding: req.get("content-encoding"),
      contentLength: req.get("content-length"),
      transferEncoding: req.get("transfer-encoding"),
    });
    next(kind instanceof BodyError ? kind : undefined);
  };
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
    send(res, storeUnavailableResponse(logger, error, errorRequest(req)));
  };
}

/**
 * The last error handler (see `errorResponse` in `web/errors.ts`): 4xx from body parsing and URL
 * decoding keep their status, an unreachable backing server is a 503, anything else a logged 500.
 *
 * @example
 * ```ts
 * app.use(errorHandler(web));
 * ```
 */
export function errorHandler(web: WebApp): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      web.logger.error({ kind: "error", err: error, method: req.method, path: req.path }, "request failed");
      next(error);
      return;
    }
    send(res, errorResponse(web.render, web.logger, error, errorRequest(req)));
  };
}
