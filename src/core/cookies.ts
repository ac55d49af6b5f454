/** Largest Cookie header we look at; browsers send at most a few KiB (RFC 6265bis limits). */
const MAX_COOKIE_HEADER_LENGTH = 8192;
/** Largest single cookie value we accept. */
const MAX_COOKIE_VALUE_LENGTH = 4096;

/**
 * Reads the named cookies from a Cookie header. Unknown names are skipped without decoding,
 * malformed pairs are ignored, and an oversized header yields nothing (never throws).
 *
 * @example
 * ```ts
 * readCookies("session=abc; theme=dark", ["session"]); // Map { "session" => "abc" }
 * ```
 */
export function readCookies(header: string | undefined, names: readonly string[]): Map<string, string> {
  const found = new Map<string, string>();
  if (!header || header.length > MAX_COOKIE_HEADER_LENGTH) return found;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(";", start);
    if (end === -1) end = header.length;
    const equals = header.indexOf("=", start);
    if (equals !== -1 && equals < end) {
      // The name is header[start, equals) trimmed; compare it in place instead of slicing every
      // cookie's name out of the header (most belong to other applications).
      let nameStart = start;
      let nameEnd = equals;
      while (nameStart < nameEnd && isTrimmed(header.charCodeAt(nameStart))) nameStart++;
      while (nameEnd > nameStart && isTrimmed(header.charCodeAt(nameEnd - 1))) nameEnd--;
      const name = wantedName(header, nameStart, nameEnd, names);
      if (name !== undefined && !found.has(name)) {
        const value = unquote(header.slice(equals + 1, end).trim());
        if (value.length <= MAX_COOKIE_VALUE_LENGTH) found.set(name, value);
      }
    }
    start = end + 1;
  }
  return found;
}

/**
 * Every value the Cookie header gives `name`, in header order, under the rules of
 * {@link readCookies} (nothing from an oversized header, no value over 4096 characters), so the
 * first value it yields is the one `readCookies` returns. A browser sends a name more than once when
 * another party has set it too: a sibling subdomain (`Domain=`), a longer `Path`, or, for names
 * without the `__Host-` prefix, an attacker on plain HTTP ("cookie tossing"). Lazy: a caller that
 * stops early scans no further. Only the loader's slow path uses it, after the first value failed.
 *
 * @example
 * ```ts
 * [...cookieValues("session=junk; theme=dark; session=id.secret", "session")]; // ["junk", "id.secret"]
 * ```
 */
export function* cookieValues(header: string | undefined, name: string): Generator<string, void, undefined> {
  if (!header || header.length > MAX_COOKIE_HEADER_LENGTH) return;
  let start = 0;
  while (start < header.length) {
    let end = header.indexOf(";", start);
    if (end === -1) end = header.length;
    const equals = header.indexOf("=", start);
    if (equals !== -1 && equals < end) {
      let nameStart = start;
      let nameEnd = equals;
      while (nameStart < nameEnd && isTrimmed(header.charCodeAt(nameStart))) nameStart++;
      while (nameEnd > nameStart && isTrimmed(header.charCodeAt(nameEnd - 1))) nameEnd--;
      if (nameEnd - nameStart === name.length && header.startsWith(name, nameStart)) {
        const value = unquote(header.slice(equals + 1, end).trim());
        if (value.length <= MAX_COOKIE_VALUE_LENGTH) yield value;
      }
    }
    start = end + 1;
  }
}

/** The entry of `names` equal to header[start, end), if any. */
function wantedName(
  header: string,
  start: number,
  end: number,
  names: readonly string[],
): string | undefined {
  const length = end - start;
  for (const name of names) {
    if (name.length === length && header.startsWith(name, start)) return name;
  }
  return undefined;
}

/** The characters String.prototype.trim removes: ECMAScript WhiteSpace and LineTerminator. */
function isTrimmed(code: number): boolean {
  if (code <= 0x20) return code === 0x20 || (code >= 0x09 && code <= 0x0d);
  if (code < 0xa0) return false;
  return (
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"') ? value.slice(1, -1) : value;
}

/**
 * Attributes of a cookie we set. `maxAgeSeconds` undefined makes a browser-session cookie;
 * 0 deletes the cookie.
 *
 * @example
 * ```ts
 * serializeCookie("session", value, { secure: true, sameSite: "Lax" });
 * ```
 */
export interface CookieAttributes {
  secure: boolean;
  sameSite: "Lax" | "Strict";
  maxAgeSeconds?: number;
}

const COOKIE_VALUE = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/;

/**
 * Builds a Set-Cookie value: always HttpOnly, Path=/ and no Domain (so `__Host-` names are valid).
 *
 * @example
 * ```ts
 * serializeCookie("__Host-session", "id.secret", { secure: true, sameSite: "Lax" });
 * // "__Host-session=id.secret; Path=/; HttpOnly; Secure; SameSite=Lax"
 * ```
 */
export function serializeCookie(name: string, value: string, attributes: CookieAttributes): string {
  if (!COOKIE_VALUE.test(value))
    throw new TypeError(`cookie ${name} has a value with characters not allowed in cookies`);
  let cookie = `${name}=${value}; Path=/; HttpOnly`;
  if (attributes.secure) cookie += "; Secure";
  cookie += `; SameSite=${attributes.sameSite}`;
  if (attributes.maxAgeSeconds !== undefined) {
    cookie += `; Max-Age=${Math.max(0, Math.floor(attributes.maxAgeSeconds))}`;
    if (attributes.maxAgeSeconds <= 0) cookie += "; Expires=Thu, 01 Jan 1970 00:00:00 GMT";
  }
  return cookie;
}

/**
 * Adds a Set-Cookie value to a response's existing ones, replacing an earlier value for the same
 * cookie name so a response never carries two conflicting cookies. Adapters use it to implement
 * `ResponseView.setCookie`.
 *
 * @example
 * ```ts
 * res.setHeader("set-cookie", replaceSetCookie(res.getHeader("set-cookie"), "session", serialized));
 * ```
 */
export function replaceSetCookie(existing: unknown, name: string, serialized: string): string[] {
  const list = Array.isArray(existing)
    ? existing.map(String)
    : typeof existing === "string"
      ? [existing]
      : [];
  const prefix = `${name}=`;
  return [...list.filter((cookie) => !cookie.startsWith(prefix)), serialized];
}
