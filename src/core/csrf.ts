import type { RequestView } from "./http.js";
import type { KeyRing } from "./signing.js";

const PURPOSE = "csrf";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS", "TRACE"]);
const MAX_TOKEN_LENGTH = 128;

/**
 * Why a CSRF check failed; `null` means it passed.
 *
 * @example
 * ```ts
 * const failure = checkCsrf(...); // "missing-token"
 * ```
 */
export type CsrfFailure = "cross-site" | "origin-mismatch" | "no-origin" | "missing-token" | "invalid-token";

/**
 * Why a request was refused, in plain words, for the 403 answer: which check failed and what a
 * client must send instead. It names the configured field and header but never a token value, and
 * no origin at all (neither the one the request sent nor the one expected).
 *
 * @example
 * ```ts
 * describeCsrfFailure("no-origin", { fieldName: "_csrf", headerName: "x-csrf-token" });
 * // "The request has neither an Origin nor a Sec-Fetch-Site header, ..."
 * ```
 */
export function describeCsrfFailure(
  failure: CsrfFailure,
  names: { fieldName: string; headerName: string },
): string {
  switch (failure) {
    case "no-origin":
      return "The request has neither an Origin nor a Sec-Fetch-Site header, so it cannot be told apart from one sent by another site. Browsers send them; a script or curl must send an Origin header with this site's address.";
    case "cross-site":
      return "The browser says the request was sent by another site (Sec-Fetch-Site), and its Origin is not one this site trusts.";
    case "origin-mismatch":
      return "The request's Origin header names another site, not this one or one it trusts.";
    case "missing-token":
      return `The request has no CSRF token. Send the token from this site's page in the "${names.fieldName}" form field or the "${names.headerName}" header, together with the cookies the page set.`;
    case "invalid-token":
      return "The CSRF token does not match the one this browser was given: the page may be older than a login or logout. Reload the page and try again.";
  }
}

/**
 * True for methods that must not change state and are never CSRF-checked.
 *
 * @example
 * ```ts
 * isSafeMethod("GET"); // true
 * ```
 */
export function isSafeMethod(method: string): boolean {
  return SAFE_METHODS.has(method);
}

/**
 * The token a form must echo for a given CSRF cookie value: an HMAC of it, so the token itself is
 * never stored and a cookie planted without the server key is useless.
 *
 * @example
 * ```ts
 * const token = csrfTokenFor(keys, cookieValue);
 * ```
 */
export function csrfTokenFor(keys: KeyRing, cookieValue: string): string {
  return keys.sign(PURPOSE, cookieValue);
}

/**
 * Checks an unsafe request: Sec-Fetch-Site or Origin must show the same origin (OWASP CSRF cheat
 * sheet: block when both are missing), then the token from the header or form must match the
 * CSRF cookie.
 *
 * @example
 * ```ts
 * checkCsrf(request, { keys, cookieValue, expectedOrigin, trustedOrigins: [], fieldName: "_csrf", headerName: "x-csrf-token" });
 * ```
 */
export function checkCsrf(
  request: RequestView,
  settings: {
    keys: KeyRing;
    cookieValue: string | undefined;
    expectedOrigin: string | null;
    trustedOrigins: readonly string[];
    fieldName: string;
    headerName: string;
  },
): CsrfFailure | null {
  const originFailure = checkOrigin(request, settings.expectedOrigin, settings.trustedOrigins);
  if (originFailure) return originFailure;
  const presented = presentedToken(request, settings.headerName, settings.fieldName);
  if (presented === undefined || settings.cookieValue === undefined) return "missing-token";
  return settings.keys.verify(PURPOSE, settings.cookieValue, presented) ? null : "invalid-token";
}

function checkOrigin(
  request: RequestView,
  expectedOrigin: string | null,
  trustedOrigins: readonly string[],
): CsrfFailure | null {
  const origin = request.header("origin");
  const fetchSite = request.header("sec-fetch-site");
  const originAllowed =
    origin !== undefined && (origin === expectedOrigin || trustedOrigins.includes(origin));
  if (fetchSite === "same-origin" || fetchSite === "none") return null;
  if (fetchSite === "cross-site" || fetchSite === "same-site") return originAllowed ? null : "cross-site";
  if (origin === undefined) return "no-origin";
  return originAllowed ? null : "origin-mismatch";
}

function presentedToken(request: RequestView, headerName: string, fieldName: string): string | undefined {
  const fromHeader = request.header(headerName);
  const candidate = fromHeader ?? request.formField(fieldName);
  return typeof candidate === "string" && candidate.length > 0 && candidate.length <= MAX_TOKEN_LENGTH
    ? candidate
    : undefined;
}
