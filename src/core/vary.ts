/**
 * Adds a field to a Vary header value instead of replacing it: the existing fields are kept, a field
 * already listed (compared case-insensitively, whitespace around list members ignored) is not added
 * twice, and a `*` value is returned unchanged. `existing` is the header as a framework reports it:
 * a string, a list of strings (Node's `getHeader`), or nothing. Adapters use it to implement
 * `ResponseView.appendVary`; an app can use it to add its own field without dropping others'.
 *
 * @example
 * ```ts
 * mergeVary(undefined, "Cookie"); // "Cookie"
 * mergeVary("Accept-Encoding", "Cookie"); // "Accept-Encoding, Cookie"
 * mergeVary("Origin, cookie", "Cookie"); // "Origin, cookie"
 * res.setHeader("vary", mergeVary(res.getHeader("vary"), "Cookie"));
 * ```
 */
export function mergeVary(existing: unknown, field: string): string {
  if (existing === undefined || existing === null) return field;
  const value = typeof existing === "string" ? existing : joinList(existing);
  // Walks the comma-separated members in place: no regex, no array, no substring per member.
  let lastMemberEnd = 0;
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(",", start);
    if (end === -1) end = value.length;
    let first = start;
    let last = end;
    while (first < last && isWhitespace(value.charCodeAt(first))) first++;
    while (last > first && isWhitespace(value.charCodeAt(last - 1))) last--;
    if (last > first) {
      if (isStar(value, first, last) || sameField(value, first, last, field)) return value;
      lastMemberEnd = last;
    }
    start = end + 1;
  }
  // Trailing commas and spaces are dropped so the result reads "A, Cookie", not "A, , Cookie".
  return lastMemberEnd === 0 ? field : `${value.slice(0, lastMemberEnd)}, ${field}`;
}

function joinList(existing: unknown): string {
  return Array.isArray(existing) ? existing.join(", ") : String(existing);
}

function isWhitespace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

function isStar(value: string, first: number, last: number): boolean {
  return last - first === 1 && value.charCodeAt(first) === 0x2a;
}

/** `value.slice(first, last)` equals `field`, ignoring ASCII case (field names are ASCII tokens). */
function sameField(value: string, first: number, last: number, field: string): boolean {
  if (last - first !== field.length) return false;
  for (let i = 0; i < field.length; i++) {
    if (lowerAscii(value.charCodeAt(first + i)) !== lowerAscii(field.charCodeAt(i))) return false;
  }
  return true;
}

function lowerAscii(code: number): number {
  return code >= 0x41 && code <= 0x5a ? code + 0x20 : code;
}
