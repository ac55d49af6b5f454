/**
 * What the core needs to know about an incoming request. Each adapter (Express, Fastify, Hono)
 * builds one of these; nothing else about the framework reaches the core.
 *
 * @example
 * ```ts
 * const view: RequestView = {
 *   method: req.method, url: req.originalUrl, header: (name) => firstHeader(req.headers[name]),
 *   remoteAddress: req.socket.remoteAddress, encrypted: Boolean((req.socket as TLSSocket).encrypted),
 *   formField: (name) => req.body?.[name],
 * };
 * ```
 */
export interface RequestView {
  /** Upper-case HTTP method. */
  readonly method: string;
  /** Path and query string as received (`/a/b?c=d`). */
  readonly url: string;
  /** A request header by lower-case name; the first value when repeated. */
  header(name: string): string | undefined;
  /** The TCP peer address (never a proxy header). */
  readonly remoteAddress: string | undefined;
  /** True when the connection itself is TLS. */
  readonly encrypted: boolean;
  /** A field of an already-parsed form or JSON body, when the framework parsed one. */
  formField(name: string): unknown;
}

/**
 * What the core may do to the response: set cookies and headers before the body is sent.
 *
 * @example
 * ```ts
 * const view: ResponseView = {
 *   setCookie: (name, serialized) =>
 *     res.setHeader("set-cookie", replaceSetCookie(res.getHeader("set-cookie"), name, serialized)),
 *   setHeader: (name, value) => res.setHeader(name, value),
 *   appendVary: (field) => res.setHeader("vary", mergeVary(res.getHeader("vary"), field)),
 * };
 * ```
 */
export interface ResponseView {
  /** Sets a cookie, replacing any Set-Cookie for the same name already on this response. */
  setCookie(name: string, serialized: string): void;
  /** Sets a header, replacing any value it already had on this response. */
  setHeader(name: string, value: string): void;
  /**
   * Adds a field to the response's Vary header, keeping the fields already there (see `mergeVary`).
   * Optional for backward compatibility: without it the core calls `setHeader("vary", field)`,
   * which replaces a Vary set earlier by the app.
   */
  appendVary?(field: string): void;
}

/**
 * A framework-neutral response the core asks an adapter to send: a redirect, or a JSON or text body.
 *
 * @example
 * ```ts
 * const reply: AuthReply = { status: 302, headers: { location: "/login?next=%2Fprotected" } };
 * ```
 */
export interface AuthReply {
  status: number;
  headers: Record<string, string>;
  /**
   * A JSON-serialisable object (sent as application/json) or a string (sent as text/plain, unless
   * `headers` has a `content-type`, e.g. `text/html; charset=utf-8` for a custom page).
   */
  body?: unknown;
}
