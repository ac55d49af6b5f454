import type { Request, Response } from "express";
import type { ErrorRequest } from "../web/errors.js";
import type { WebRequest, WebResponse } from "../web/http.js";

/**
 * The framework-neutral view of an Express request, for the route handlers in `web/`.
 *
 * @example
 * ```ts
 * send(res, await handler(web, webRequest(req)));
 * ```
 */
export function webRequest(req: Request): WebRequest {
  return {
    auth: req.auth,
    url: req.originalUrl,
    body: req.body,
    params: req.params as Record<string, string>,
  };
}

/**
 * What the error pages need to know about an Express request (`req.auth` is missing when the body
 * failed to parse, before login-manager ran).
 *
 * @example
 * ```ts
 * send(res, notFound(web, errorRequest(req)));
 * ```
 */
export function errorRequest(req: Request): ErrorRequest {
  return {
    method: req.method,
    url: req.originalUrl,
    accept: req.get("accept"),
    auth: req.auth as Request["auth"] | undefined,
  };
}

/**
 * Sends a {@link WebResponse} with Express: status, headers, then the body (none for redirects and 304s).
 *
 * @example
 * ```ts
 * send(res, { status: 303, headers: { location: "/" }, body: "" });
 * ```
 */
export function send(res: Response, response: WebResponse): void {
  res.status(response.status);
  for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  if (response.body === "") res.end();
  else res.send(typeof response.body === "string" ? response.body : toBuffer(response.body));
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
