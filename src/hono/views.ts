/**
 * The core's views of a Hono request and response (`RequestView`, `ResponseView`), built once per
 * request by the middleware in `index.ts`. Behind `@hono/node-server` they read and write the Node
 * request and response underneath; elsewhere, the Fetch objects.
 *
 * @module
 */
import type { Context } from "hono";
import type { RequestView, ResponseView } from "../adapter/index.js";
import { mergeVary, replaceSetCookie } from "../adapter/index.js";

interface NodeBindings {
  incoming?: { url?: string; socket?: { remoteAddress?: string; encrypted?: boolean } };
  outgoing?: NodeOutgoing;
  server?: NodeBindings;
}

interface NodeOutgoing {
  readonly headersSent: boolean;
  setHeader(name: string, value: string): unknown;
  getHeader(name: string): unknown;
}

/** The Node `ServerResponse` under @hono/node-server (`c.env.outgoing`), when there is one. */
function nodeResponse(c: Context): NodeOutgoing | undefined {
  const env = c.env as NodeBindings | undefined;
  const outgoing = (env?.server ?? env)?.outgoing;
  return typeof outgoing?.setHeader === "function" ? outgoing : undefined;
}

/**
 * The core's view of a Hono request. A class rather than an object literal with a `get url()`: a
 * literal accessor gives every request its own hidden class, whose descriptors live in old space and
 * keep the closure (and through it the whole request) alive until a full garbage collection. Under
 * load that promoted about 4 KiB per request and cost more CPU than the rest of the adapter.
 */
export class HonoRequestView implements RequestView {
  readonly method: string;
  readonly remoteAddress: string | undefined;
  readonly encrypted: boolean;
  readonly #c: Context;
  readonly #body: Record<string, unknown> | undefined;
  readonly #incomingUrl: string | undefined;
  #url: string | undefined;

  constructor(c: Context, body: Record<string, unknown> | undefined) {
    // @hono/node-server passes the Node request as `c.env.incoming` (getConnInfo reads the same).
    const env = c.env as NodeBindings | undefined;
    const incoming = (env?.server ?? env)?.incoming;
    this.method = c.req.method;
    this.remoteAddress = incoming?.socket?.remoteAddress;
    this.encrypted = incoming?.socket?.encrypted === true;
    this.#c = c;
    this.#body = body;
    this.#incomingUrl = incoming?.url;
  }

  /** The path and query as received, like Express's `originalUrl`; read only to build a login redirect. */
  get url(): string {
    if (this.#url === undefined)
      this.#url = this.#incomingUrl?.startsWith("/") ? this.#incomingUrl : pathOf(this.#c);
    return this.#url;
  }

  header(name: string): string | undefined {
    const value = this.#c.req.header(name);
    // A Fetch Request may come without a Host header (`app.request()`, some runtimes): its URL has it.
    if (value === undefined && name === "host") return new URL(this.#c.req.url).host;
    return value;
  }

  formField(name: string): unknown {
    const body = this.#body;
    return body && Object.hasOwn(body, name) ? body[name] : undefined;
  }
}

/** Path and query of the Fetch request, for runtimes other than @hono/node-server. */
function pathOf(c: Context): string {
  const parsed = new URL(c.req.url);
  return parsed.pathname + parsed.search;
}

/** The core's view of the Hono response: its own methods, no per-request closures or Map until a cookie is set. */
export class ResponseCookies implements ResponseView {
  readonly #c: Context;
  /** The Node response under @hono/node-server, looked up once per request. */
  readonly #outgoing: NodeOutgoing | undefined;
  #pending: Map<string, string> | undefined;
  /** Off Node only: the Vary fields to merge into the finished response. */
  #vary: string | undefined;
  /** Off Node only: headers the finished response gets unless it has its own. */
  #defaults: Map<string, string> | undefined;
  #flushed = false;

  constructor(c: Context) {
    this.#c = c;
    this.#outgoing = nodeResponse(c);
  }

  setCookie(name: string, serialized: string): void {
    this.#pending ??= new Map();
    this.#pending.delete(name);
    this.#pending.set(name, serialized);
    if (this.#flushed) this.flush();
  }

  setHeader(name: string, value: string): void {
    const outgoing = this.#outgoing;
    // On the Node response the header survives whatever Response the handler returns (even a raw
    // `new Response()`), and Hono's own fast path for header-less responses stays open.
    if (outgoing && !outgoing.headersSent) {
      outgoing.setHeader(name, value);
      return;
    }
    this.#c.header(name, value);
    // A Response the handler builds itself does not carry c.header()'s headers: give it ours after
    // next() unless it has its own.
    this.#defaults ??= new Map();
    this.#defaults.set(name, value);
    if (this.#flushed) this.#completeResponse();
  }

  appendVary(field: string): void {
    const outgoing = this.#outgoing;
    if (outgoing) {
      // Behind @hono/node-server: on the Node response, merged with what is there. A Vary on the
      // Response Hono sends replaces it at writeHead; merging into that Response instead would read
      // its headers, which takes every logged-in response off the server's fast path (measured:
      // about 11 µs more server CPU per request, Hono /protected 0.59x -> 0.49x of /hello).
      if (!outgoing.headersSent) outgoing.setHeader("vary", mergeVary(outgoing.getHeader("vary"), field));
      return;
    }
    this.#vary = mergeVary(this.#vary, field);
    if (this.#flushed) this.#completeResponse();
  }

  /**
   * Writes the pending cookies (appended before the response exists, merged into it after) and,
   * once the response exists and off Node, the headers it lacks and the Vary fields.
   */
  flush(): void {
    const c = this.#c;
    this.#flushed = c.finalized;
    if (c.finalized) this.#completeResponse();
    if (this.#pending === undefined || this.#pending.size === 0) return;
    let list: string[] = c.finalized ? c.res.headers.getSetCookie() : [];
    for (const [name, serialized] of this.#pending) list = replaceSetCookie(list, name, serialized);
    this.#pending.clear();
    if (c.finalized) c.header("set-cookie", undefined);
    for (const cookie of list) c.header("set-cookie", cookie, { append: true });
  }

  /**
   * Off Node: gives the finished response the headers it lacks and adds the Vary fields, keeping what
   * the handler or an earlier middleware put there. Done after next(), because a Response the handler
   * builds itself skips c.header(), and its c.header("Vary", ...) replaces.
   */
  #completeResponse(): void {
    if (this.#vary === undefined && this.#defaults === undefined) return;
    const headers = this.#c.res.headers;
    const updates: [string, string][] = [];
    for (const [name, value] of this.#defaults ?? []) if (!headers.has(name)) updates.push([name, value]);
    const current = headers.get("vary");
    const merged = this.#vary === undefined ? null : mergeVary(current, this.#vary);
    if (merged !== null && merged !== current) updates.push(["vary", merged]);
    for (const [name, value] of updates) {
      try {
        headers.set(name, value);
      } catch {
        // A Response from fetch() has immutable headers; c.header() copies the Response first.
        this.#c.header(name, value);
      }
    }
  }
}
