import type { Socket } from "node:net";
import type { TLSSocket } from "node:tls";
import type { RequestView } from "./http.js";

/**
 * What Express's and Fastify's request objects both offer: Node's method, headers and socket, the
 * path as received (`originalUrl`) and the body the framework parsed.
 *
 * @example
 * ```ts
 * const source: NodeStyleRequest = req; // an Express Request or a FastifyRequest
 * ```
 */
export interface NodeStyleRequest {
  readonly method: string;
  readonly originalUrl: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly socket: Socket;
  readonly body?: unknown;
}

/**
 * The {@link RequestView} of the Express and Fastify adapters. A class rather than an object of
 * closures: one allocation per request instead of three.
 *
 * @example
 * ```ts
 * const view = new NodeRequestView(req);
 * view.header("cookie");
 * ```
 */
export class NodeRequestView implements RequestView {
  readonly method: string;
  readonly url: string;
  readonly remoteAddress: string | undefined;
  readonly encrypted: boolean;
  readonly #request: NodeStyleRequest;

  constructor(request: NodeStyleRequest) {
    this.method = request.method;
    this.url = request.originalUrl;
    this.remoteAddress = request.socket.remoteAddress;
    this.encrypted = Boolean((request.socket as TLSSocket).encrypted);
    this.#request = request;
  }

  header(name: string): string | undefined {
    const value = this.#request.headers[name];
    return Array.isArray(value) ? value[0] : value;
  }

  formField(name: string): unknown {
    const body: unknown = this.#request.body;
    return body !== null && typeof body === "object" && Object.hasOwn(body, name)
      ? (body as Record<string, unknown>)[name]
      : undefined;
  }
}
