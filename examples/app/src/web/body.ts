/**
 * The request bodies the app reads, the same on every framework: HTML forms
 * (`application/x-www-form-urlencoded`) and JSON, UTF-8, uncompressed, at most 8 KiB and 100 fields.
 * A body is read before the CSRF check (the token comes in the `_csrf` field), so the limits are small.
 *
 * @module
 */

/** Largest body accepted; bigger ones get 413. */
export const BODY_LIMIT_BYTES = 8 * 1024;

/** Most fields a form may have; more get 413 (the limit of login-manager's Express body parser). */
export const MAX_FORM_FIELDS = 100;

const FORM = "application/x-www-form-urlencoded";
const JSON_TYPE = "application/json";

/** An error carrying the HTTP status a body problem answers with (400, 413, 415). */
export class BodyError extends Error {
  constructor(
    readonly status: 400 | 413 | 415,
    message: string,
  ) {
    super(message);
    this.name = "BodyError";
  }
}

/** The request headers that say what the body is. */
export interface BodyHeaders {
  contentType: string | undefined;
  contentEncoding: string | undefined;
  contentLength: string | undefined;
  transferEncoding: string | undefined;
}

/**
 * The type of a body the app can read (`"form"` or `"json"`), `"none"` when there is no body, or a
 * {@link BodyError} 415 for anything else: another media type (multipart, text), a charset other
 * than UTF-8, or a compressed body. Checked from the headers alone, before any byte is read.
 *
 * @example
 * ```ts
 * bodyKind({ contentType: "text/plain", contentLength: "5", ... }); // BodyError 415
 * ```
 */
export function bodyKind(headers: BodyHeaders): "none" | "form" | "json" | BodyError {
  const hasBody =
    headers.transferEncoding !== undefined ||
    (headers.contentLength !== undefined && headers.contentLength.trim() !== "0");
  if (!hasBody) return "none";
  const [essence = "", ...parameters] = (headers.contentType ?? "").split(";").map((part) => part.trim());
  const type = essence.toLowerCase();
  const kind = type === FORM ? "form" : type === JSON_TYPE ? "json" : undefined;
  if (!kind) return new BodyError(415, "unsupported media type");
  for (const parameter of parameters) {
    const [name = "", value = ""] = parameter.split("=").map((part) => part.trim());
    if (name.toLowerCase() === "charset" && value.replace(/^"|"$/g, "").toLowerCase() !== "utf-8") {
      return new BodyError(415, "unsupported charset");
    }
  }
  const encoding = headers.contentEncoding?.trim().toLowerCase();
  if (encoding !== undefined && encoding !== "" && encoding !== "identity") {
    return new BodyError(415, "unsupported content encoding");
  }
  return kind;
}

/**
 * The number of fields of a urlencoded form (pieces between `&`), counted like Express's parser.
 *
 * @example
 * ```ts
 * formFieldCount("a=1&b=2"); // 2
 * ```
 */
export function formFieldCount(text: string): number {
  if (text.length === 0) return 0;
  let count = 1;
  for (let index = text.indexOf("&"); index !== -1; index = text.indexOf("&", index + 1)) count += 1;
  return count;
}

/**
 * Parses a urlencoded form into field name to value (a repeated field becomes an array), in an
 * object without prototype; throws a {@link BodyError} 413 past {@link MAX_FORM_FIELDS} fields.
 *
 * @example
 * ```ts
 * parseForm("username=alice&tag=a&tag=b"); // { username: "alice", tag: ["a", "b"] }
 * ```
 */
export function parseForm(text: string): Record<string, string | string[]> {
  if (formFieldCount(text) > MAX_FORM_FIELDS) throw new BodyError(413, "too many fields");
  const form: Record<string, string | string[]> = Object.create(null);
  if (text.length === 0) return form;
  for (const piece of text.split("&")) {
    const equals = piece.indexOf("=");
    const name = decodeFormComponent(equals === -1 ? piece : piece.slice(0, equals));
    const value = equals === -1 ? "" : decodeFormComponent(piece.slice(equals + 1));
    const earlier = form[name];
    if (earlier === undefined) form[name] = value;
    else if (Array.isArray(earlier)) earlier.push(value);
    else form[name] = [earlier, value];
  }
  return form;
}

/** `+` is a space; a malformed percent-encoding is kept as typed (as Express's parser does). */
function decodeFormComponent(text: string): string {
  const spaced = text.replaceAll("+", " ");
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced;
  }
}

/**
 * Parses a JSON body like Express's parser: an empty body is `{}`, the top level must be an object
 * or an array, and anything malformed is a {@link BodyError} 400.
 *
 * @example
 * ```ts
 * parseJson('{"username":"alice"}'); // { username: "alice" }
 * ```
 */
export function parseJson(text: string): unknown {
  if (text.length === 0) return {};
  const first = /^[ \t\n\r]*([^ \t\n\r])/.exec(text)?.[1];
  if (first !== "{" && first !== "[") throw new BodyError(400, "JSON body must be an object or an array");
  try {
    return JSON.parse(text);
  } catch {
    throw new BodyError(400, "malformed JSON");
  }
}
