import type { TLSSocket } from "node:tls";
import type { FastifyReply, FastifyRequest } from "fastify";
import type { ErrorRequest } from "../web/errors.js";
import type { WebRequest, WebResponse } from "../web/http.js";

/**
 * A request header as one string (the first value of a repeated one).
 *
 * @example
 * ```ts
 * header(request, "accept"); // "text/html,..."
 * ```
 */
export function header(request: FastifyRequest, name: string): string | undefined {
  const value = request.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** True when the connection itself is TLS. */
export function encrypted(request: FastifyRequest): boolean {
  return Boolean((request.socket as TLSSocket).encrypted);
}

/**
 * The framework-neutral view of a Fastify request, for the route handlers in `web/`.
 *
 * @example
 * ```ts
 * return send(reply, await handler(web, webRequest(request)));
 * ```
 */
export function webRequest(request: FastifyRequest): WebRequest {
  return {
    auth: request.auth,
    url: request.url,
    body: request.body,
    params: request.params as Record<string, string>,
  };
}

/**
 * What the error pages need to know about a Fastify request (`request.auth` is null before the
 * login-manager hook ran, e.g. for a body that failed to parse).
 *
 * @example
 * ```ts
 * return send(reply, notFound(web, errorRequest(request)));
 * ```
 */
export function errorRequest(request: FastifyRequest): ErrorRequest {
  return {
    method: request.method,
    url: request.url,
    accept: header(request, "accept"),
    auth: request.auth ?? undefined,
  };
}

/**
 * Sends a {@link WebResponse} with Fastify: status, headers, then the body (none for redirects and 304s).
 *
 * @example
 * ```ts
 * return send(reply, { status: 303, headers: { location: "/" }, body: "" });
 * ```
 */
export function send(reply: FastifyReply, response: WebResponse): FastifyReply {
  reply.code(response.status);
  for (const [name, value] of Object.entries(response.headers)) reply.header(name, value);
  if (response.body === "") return reply.send();
  return reply.send(typeof response.body === "string" ? response.body : toBuffer(response.body));
}

function toBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
