import type { AuthContext, RegisteredUser } from "login-manager";

/**
 * What a route handler sees of a request, the same on Express, Fastify and Hono. Each framework's
 * routing layer builds one from its own request object.
 *
 * @example
 * ```ts
 * const request: WebRequest = { auth: req.auth, url: req.originalUrl, body: req.body, params: req.params };
 * ```
 */
export interface WebRequest {
  /** login-manager's context for this request (`req.auth`, `request.auth`, `c.var.auth`). */
  readonly auth: AuthContext<RegisteredUser>;
  /** Path and query string as received (`/login?next=%2Fprotected`). */
  readonly url: string;
  /** The parsed form or JSON body (field name to value; a repeated field is an array), if any. */
  readonly body: unknown;
  /** Route parameters (`:handle`), percent-decoded. */
  readonly params: Readonly<Record<string, string | undefined>>;
}

/**
 * A complete HTTP response, for the routing layer to send as it is: status, headers and body. Cookies
 * are not in it: login-manager writes them to the framework's response itself.
 *
 * @example
 * ```ts
 * const response: WebResponse = { status: 303, headers: { location: "/" }, body: "" };
 * ```
 */
export interface WebResponse {
  status: number;
  headers: Record<string, string>;
  /** "" for redirects and 304s (no body, no content-type). */
  body: string | Uint8Array;
}

/**
 * A redirect with an empty body (303 by default: after a POST, the browser follows with a GET).
 *
 * @example
 * ```ts
 * return redirect("/account");
 * ```
 */
export function redirect(location: string, status: 302 | 303 = 303): WebResponse {
  return { status, headers: { location }, body: "" };
}

/**
 * The path of a request URL, without the query string.
 *
 * @example
 * ```ts
 * pathOf("/login?next=%2F"); // "/login"
 * ```
 */
export function pathOf(url: string): string {
  const query = url.indexOf("?");
  return query === -1 ? url : url.slice(0, query);
}

/**
 * True when the path of a request URL cannot be percent-decoded (`/a%E0%A4%A`): every framework
 * answers it with the 400 page before routing.
 *
 * @example
 * ```ts
 * isMalformedPath("/account/sessions/%E0%A4%A/revoke"); // true
 * ```
 */
export function isMalformedPath(url: string): boolean {
  try {
    decodeURIComponent(pathOf(url));
    return false;
  } catch {
    return true;
  }
}

/** An absolute-form request-target's scheme and authority (`http://host:port`). */
const ABSOLUTE_FORM = /^https?:\/\/[^/?#]*/i;
/** A `.` or `..` path segment, also percent-encoded (URL parsers read `%2e` as a dot). */
const DOT_SEGMENT = /\/(?:\.|%2e){1,2}(?:\/|$)/i;

/**
 * True for a request-target every framework must answer with the 400 page before routing, because
 * they would not agree on it: not a path (`*`, `host:443`), a path that cannot be percent-decoded
 * ({@link isMalformedPath}), or one with a backslash or a `.` / `..` segment. @hono/node-server
 * resolves those (`/x/../protected` is `/protected` to Hono's router) where Express and Fastify
 * route the raw path, so the same request reached another route, or none. Browsers never send them.
 * An absolute-form target (`http://host/path`, for proxies) is judged by its path.
 *
 * @example
 * ```ts
 * isBadRequestTarget("*"); // true
 * isBadRequestTarget("/x/../protected"); // true
 * isBadRequestTarget("/login?next=/a/../b"); // false: the query is not the path
 * ```
 */
export function isBadRequestTarget(url: string): boolean {
  const absolute = ABSOLUTE_FORM.exec(url);
  const path = absolute ? url.slice(absolute[0].length) || "/" : url;
  if (!path.startsWith("/")) return true;
  const pathOnly = pathOf(path);
  return pathOnly.includes("\\") || DOT_SEGMENT.test(pathOnly) || isMalformedPath(path);
}

const UNRESERVED_ESCAPE = /%(?:4[1-9A-F]|5[0-9A]|6[1-9A-F]|7[0-9A]|3[0-9]|2[DE]|5F|7E)/gi;

/**
 * The path with percent-encoded unreserved characters (letters, digits, `-._~`) decoded, the other
 * escapes kept (RFC 3986 normalisation): `/log%69n` is `/login`.
 *
 * @example
 * ```ts
 * normalizePath("/log%69n?next=%2F"); // "/login?next=%2F"
 * ```
 */
export function normalizePath(url: string): string {
  const query = url.indexOf("?");
  const path = query === -1 ? url : url.slice(0, query);
  const normalized = path.replace(UNRESERVED_ESCAPE, (encoded) =>
    String.fromCharCode(Number.parseInt(encoded.slice(1), 16)),
  );
  return query === -1 ? normalized : normalized + url.slice(query);
}

/**
 * A query-string parameter: its value when it appears exactly once, otherwise undefined.
 *
 * @example
 * ```ts
 * queryParam("/login?next=%2Fprotected", "next"); // "/protected"
 * ```
 */
export function queryParam(url: string, name: string): string | undefined {
  const query = url.indexOf("?");
  if (query === -1) return undefined;
  const values = new URLSearchParams(url.slice(query + 1)).getAll(name);
  return values.length === 1 ? values[0] : undefined;
}

/**
 * A form or JSON field: the value when it is a single string, otherwise "" (missing, repeated, an
 * object or a number), so a malformed form reads as an empty one.
 *
 * @example
 * ```ts
 * field(request, "username"); // "alice"
 * ```
 */
export function field(request: Pick<WebRequest, "body">, name: string): string {
  const { body } = request;
  if (body === null || typeof body !== "object" || !Object.hasOwn(body, name)) return "";
  const value = (body as Record<string, unknown>)[name];
  return typeof value === "string" ? value : "";
}

const HTML = "text/html";
const JSON_TYPE = "application/json";

/**
 * True when the Accept header prefers JSON to HTML, negotiated like Express's
 * `req.accepts(["html", "json"]) === "json"`: quality first, then the more specific match, then the
 * order of the header; HTML on a tie or without an Accept header.
 *
 * @example
 * ```ts
 * prefersJson("application/json"); // true
 * prefersJson("text/html,application/json;q=0.9"); // false
 * prefersJson(undefined); // false
 * ```
 */
export function prefersJson(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === "") return false;
  const ranges = accept.split(",").flatMap((part, order) => {
    const [range = "", ...parameters] = part.split(";").map((piece) => piece.trim());
    const [type, subtype] = range.toLowerCase().split("/");
    if (!type || !subtype) return [];
    let quality = 1;
    // Other parameters (`text/html;level=1`) must match the offered type's, which has none.
    let extra = 0;
    for (const parameter of parameters) {
      const [key = "", value = ""] = parameter.split("=").map((piece) => piece.trim());
      if (key.toLowerCase() === "q") quality = Number.parseFloat(value);
      else if (value !== "*") return [];
      else extra = 1;
    }
    return Number.isFinite(quality) ? [{ type, subtype, quality, order, extra }] : [];
  });
  const score = (mediaType: string) => {
    const [type, subtype] = mediaType.split("/");
    let best: { quality: number; specificity: number; order: number } | undefined;
    for (const range of ranges) {
      const specificity =
        (range.type === type ? 4 : range.type === "*" ? 0 : -8) +
        (range.subtype === subtype ? 2 : range.subtype === "*" ? 0 : -8) +
        range.extra;
      if (specificity < 0) continue;
      if (
        !best ||
        specificity > best.specificity ||
        (specificity === best.specificity &&
          (range.quality > best.quality || (range.quality === best.quality && range.order > best.order)))
      ) {
        best = { quality: range.quality, specificity, order: range.order };
      }
    }
    return best ?? { quality: 0, specificity: 0, order: 0 };
  };
  const html = score(HTML);
  const json = score(JSON_TYPE);
  if (json.quality <= 0) return false;
  if (json.quality !== html.quality) return json.quality > html.quality;
  if (json.specificity !== html.specificity) return json.specificity > html.specificity;
  return json.order < html.order;
}
