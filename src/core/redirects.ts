/** Longest `next` value we will consider following. */
const MAX_NEXT_LENGTH = 2048;
// Control characters and whitespace: browsers strip tabs and newlines from URLs, so "/\t/evil" is "//evil".
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const UNSAFE_CHARACTERS = /[\u0000-\u0020\u007f-\u009f\\]/;
const PLACEHOLDER_ORIGIN = "http://login-manager.invalid";

/**
 * Returns `next` when it is a same-origin relative path that is safe to redirect to, otherwise
 * `fallback`. Rejects absolute URLs, scheme-relative `//host`, backslash tricks (`/\host`), control
 * characters and whitespace, and anything over 2 KiB. The target comes back as the URL parser
 * serialises it: characters outside ASCII are percent-encoded as UTF-8 (a `Location` header holds
 * ASCII only; `/café` raw would make Node throw `ERR_INVALID_CHAR` after the login succeeded) and
 * dot segments are resolved. Never throws.
 *
 * @example
 * ```ts
 * safeNextUrl("/account?tab=1");    // "/account?tab=1"
 * safeNextUrl("/café");             // "/caf%C3%A9"
 * safeNextUrl("//evil.example");    // "/"
 * safeNextUrl("https://evil", "/home"); // "/home"
 * ```
 */
export function safeNextUrl(next: unknown, fallback = "/"): string {
  const target = parseSafeNext(next);
  // href keeps an empty "?" or "#" that pathname + search + hash would drop.
  return target === null ? fallback : target.href.slice(PLACEHOLDER_ORIGIN.length);
}

/**
 * True when `next` is a same-origin relative path (see {@link safeNextUrl}). Redirect with
 * `safeNextUrl(next)`, not with `next` itself: only the former is encoded for a `Location` header.
 *
 * @example
 * ```ts
 * isSafeNextUrl("/view/?param=http://x"); // true
 * isSafeNextUrl("/\\evil.example");        // false
 * ```
 */
export function isSafeNextUrl(next: unknown): next is string {
  return parseSafeNext(next) !== null;
}

/** The parsed target when `next` passes every check of {@link safeNextUrl}, else `null`. */
function parseSafeNext(next: unknown): URL | null {
  if (typeof next !== "string" || next.length === 0 || next.length > MAX_NEXT_LENGTH) return null;
  if (next[0] !== "/" || next[1] === "/" || UNSAFE_CHARACTERS.test(next)) return null;
  try {
    const target = new URL(next, PLACEHOLDER_ORIGIN);
    // Dot segments can leave a path that starts with "//" ("/..//" becomes "//"): as a Location
    // that is a protocol-relative URL, so it is refused like "//" itself.
    return target.origin === PLACEHOLDER_ORIGIN && !target.pathname.startsWith("//") ? target : null;
  } catch {
    return null;
  }
}

/**
 * Builds the URL of a login (or refresh) view with the page to come back to in a query field, keeping
 * any query the view already has. Like Flask-Login's `login_url`: `/` is encoded as `%2F`.
 *
 * @example
 * ```ts
 * loginUrl("/login", "/protected");             // "/login?next=%2Fprotected"
 * loginUrl("/login?lang=en", "/a b", "return"); // "/login?lang=en&return=%2Fa+b"
 * loginUrl("/login");                           // "/login"
 * ```
 */
export function loginUrl(view: string, nextUrl?: string | null, nextField = "next"): string {
  if (nextUrl === undefined || nextUrl === null) return view;
  const hashIndex = view.indexOf("#");
  const base = hashIndex === -1 ? view : view.slice(0, hashIndex);
  const fragment = hashIndex === -1 ? "" : view.slice(hashIndex);
  const query = new URLSearchParams({ [nextField]: nextUrl }).toString();
  const separator = base.includes("?") ? (base.endsWith("?") || base.endsWith("&") ? "" : "&") : "?";
  return `${base}${separator}${query}${fragment}`;
}

/**
 * Reduces the current URL to what a `next` parameter should carry: path and query when the login
 * view is on the same origin (or relative), the full URL otherwise (Flask-Login's `make_next_param`).
 *
 * @example
 * ```ts
 * makeNextParam("/login", "http://example.com/secret?x=1"); // "/secret?x=1"
 * makeNextParam("https://auth.example.com/login", "http://example.com/secret"); // unchanged
 * ```
 */
export function makeNextParam(loginViewUrl: string, currentUrl: string): string {
  let current: URL;
  try {
    current = new URL(currentUrl, PLACEHOLDER_ORIGIN);
  } catch {
    return currentUrl;
  }
  const login = new URL(loginViewUrl, current);
  const sameOrigin = login.protocol === current.protocol && login.host === current.host;
  return sameOrigin ? current.pathname + current.search : currentUrl;
}
