/**
 * `login-manager/adapter`: what a framework adapter needs and an application does not. The Express,
 * Fastify and Hono adapters are built from these pieces alone, and so can a fourth one.
 *
 * An adapter does three things per request:
 * 1. builds a {@link RequestView} and a {@link ResponseView} of the framework's request and response
 *    ({@link NodeRequestView} for anything with Node's `method`/`headers`/`socket`; cookies go through
 *    {@link replaceSetCookie}, Vary through {@link mergeVary});
 * 2. calls `manager.admit(request, response)` once: an `AuthContext` means go on (attach it to the
 *    request and run the rest inside `manager.runInContext(auth, next)`), an {@link AuthReply} is sent
 *    as is (400 for another host, 403 for a failed CSRF check). The result is the value itself when
 *    no I/O was needed ({@link isPromiseLike} tells), so the common case makes no promise. A rejection
 *    carrying an unreachable store ({@link unavailableStoreError}) becomes `manager.storeUnavailable(view)`;
 * 3. answers its route guards with {@link guardReply}.
 *
 * @example
 * A minimal adapter for `node:http`:
 * ```ts
 * import { createServer, type ServerResponse } from "node:http";
 * import { AuthContext, type AuthUser, type LoginManager } from "login-manager";
 * import {
 *   type AuthReply, guardReply, isPromiseLike, mergeVary, NodeRequestView, replaceSetCookie,
 *   type ResponseView, unavailableStoreError,
 * } from "login-manager/adapter";
 *
 * function send(res: ServerResponse, reply: AuthReply): void {
 *   res.writeHead(reply.status, reply.headers);
 *   res.end(typeof reply.body === "string" ? reply.body : JSON.stringify(reply.body ?? ""));
 * }
 *
 * export function serve(manager: LoginManager, page: (auth: AuthContext<AuthUser>) => string) {
 *   return createServer((req, res) => {
 *     const view = new NodeRequestView({
 *       method: req.method ?? "GET", originalUrl: req.url ?? "/", headers: req.headers, socket: req.socket,
 *     });
 *     const response: ResponseView = {
 *       setCookie: (name, cookie) =>
 *         res.setHeader("set-cookie", replaceSetCookie(res.getHeader("set-cookie"), name, cookie)),
 *       setHeader: (name, value) => res.setHeader(name, value),
 *       appendVary: (field) => res.setHeader("vary", mergeVary(res.getHeader("vary"), field)),
 *     };
 *     const go = (result: AuthContext<AuthUser> | AuthReply): void => {
 *       if (!(result instanceof AuthContext)) return send(res, result);
 *       const refusal = guardReply(result, { fresh: false }); // every page here needs a login
 *       if (refusal) return send(res, refusal);
 *       manager.runInContext(result, () => res.end(page(result)));
 *     };
 *     const admitted = manager.admit(view, response);
 *     if (!isPromiseLike(admitted)) return go(admitted);
 *     admitted.then(go, (error: unknown) =>
 *       send(res, unavailableStoreError(error) ? manager.storeUnavailable(view) : { status: 500, headers: {} }),
 *     );
 *   });
 * }
 * ```
 *
 * @module
 */
export { guardReply } from "../core/auth-context.js";
export { clientAddress, isHttps } from "../core/client.js";
export { runWithAuth } from "../core/context.js";
export type { CookieAttributes } from "../core/cookies.js";
export { readCookies, replaceSetCookie, serializeCookie } from "../core/cookies.js";
export { unavailableStoreError } from "../core/errors.js";
export { FRESH_LOGIN, type GuardRequirement, LOGIN, stepUpRequirement } from "../core/guards.js";
export type { AuthReply, RequestView, ResponseView } from "../core/http.js";
export type { MaybePromise } from "../core/maybe-promise.js";
export { isPromiseLike } from "../core/maybe-promise.js";
export type { NodeStyleRequest } from "../core/node-request-view.js";
export { NodeRequestView } from "../core/node-request-view.js";
export { addressBucket } from "../core/throttle.js";
export { mergeVary } from "../core/vary.js";
