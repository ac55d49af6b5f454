import type { AuthContext, RegisteredUser } from "login-manager";
import type { Logger } from "pino";
import { isServiceUnavailable } from "../domain/users.js";
import { pathOf, prefersJson, type WebResponse } from "./http.js";
import { PAGE_HEADERS, type RenderPage } from "./pages.js";

const MESSAGES: Record<number, { title: string; message: string }> = {
  400: {
    title: "Bad request",
    message: "The request could not be understood. Please go back and try again.",
  },
  403: {
    title: "Form expired",
    message: "The form has expired or was sent from another site. Go back, reload the page and try again.",
  },
  404: { title: "Page not found", message: "There is no page at this address." },
  405: { title: "Not allowed", message: "This page does not accept that kind of request." },
  413: { title: "Too much data", message: "That was more data than this form accepts." },
  415: { title: "Unsupported format", message: "The form was sent in a format this site does not accept." },
  429: {
    title: "Too many attempts",
    message: "Too many attempts from your network. Please wait a while and try again.",
  },
  503: {
    title: "Temporarily unavailable",
    message: "The service is temporarily unavailable. Please try again in a moment.",
  },
  500: {
    title: "Something went wrong",
    message: "Sorry, something went wrong on our side. Please try again.",
  },
};

/**
 * The title and message of the error page for `status` (400's for unknown 4xx, 500's for 5xx).
 *
 * @example
 * ```ts
 * describeStatus(404).title; // "Page not found"
 * ```
 */
export function describeStatus(status: number): { title: string; message: string } {
  return MESSAGES[status] ?? (status < 500 ? (MESSAGES[400] as never) : (MESSAGES[500] as never));
}

/** What the error answers need to know about the request. */
export interface ErrorRequest {
  method: string;
  /** Path and query string as received. */
  url: string;
  /** The Accept header: API clients get JSON. */
  accept: string | undefined;
  /** login-manager's context, when the request got that far (not for a body that failed to parse). */
  auth?: AuthContext<RegisteredUser> | undefined;
}

/**
 * The error page for `status` with the layout (JSON `{ error, message }` for API clients), never
 * cached. Falls back to the plain message should the template itself fail.
 *
 * @example
 * ```ts
 * return errorPage(render, logger, 404, { method, url, accept, auth });
 * ```
 */
export function errorPage(
  render: RenderPage,
  logger: Logger,
  status: number,
  request: ErrorRequest,
): WebResponse {
  const { title, message } = describeStatus(status);
  if (prefersJson(request.accept)) {
    return {
      status,
      headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
      body: JSON.stringify({ error: title, message }),
    };
  }
  try {
    return render(request.auth, request.url, status, "error", { title, message, status });
  } catch (renderError) {
    logger.error({ kind: "error", err: renderError }, "error page failed");
    return { status, headers: { "content-type": "text/plain; charset=utf-8" }, body: message };
  }
}

/** Seconds a client is asked to wait (`Retry-After`) when a backing server is down. */
const RETRY_AFTER_SECONDS = "5";

/**
 * A self-contained error page without the nav bar, so it looks neither logged in nor logged out, and
 * sets no cookie (it reads neither the flash messages nor the CSRF token).
 */
function standalonePage(status: number, action: { label: string; href: string }, detail = ""): string {
  const { title, message } = describeStatus(status);
  const why = detail === "" ? "" : `\n      <p>${escapeHtml(detail)}</p>`;
  return `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>${title} · login-manager demo</title>
  <meta name="color-scheme" content="light dark">
  <link rel="stylesheet" href="/static/style.css">
</head>
<body>
  <main id="main" class="container narrow">
    <section class="auth-card card error-page">
      <p class="eyebrow">Error ${status}</p>
      <h1>${title}</h1>
      <p>${message}</p>${why}
      <div class="actions"><a class="button button-primary" href="${action.href}">${action.label}</a></div>
    </section>
  </main>
</body>
</html>
`;
}

/**
 * The 503 answer when the session store or the user database cannot be reached: JSON for API
 * clients, otherwise a self-contained page. `Retry-After` and `Cache-Control: no-store`; no error
 * text reaches the client.
 *
 * @example
 * ```ts
 * return serviceUnavailable(request.headers.accept);
 * ```
 */
export function serviceUnavailable(accept: string | undefined): WebResponse {
  const headers = { "retry-after": RETRY_AFTER_SECONDS, "cache-control": "no-store" };
  if (prefersJson(accept)) {
    const { message } = describeStatus(503);
    return {
      status: 503,
      headers: { ...headers, "content-type": "application/json; charset=utf-8" },
      body: JSON.stringify({ error: "service_unavailable", message }),
    };
  }
  return {
    status: 503,
    headers: { ...headers, "content-type": PAGE_HEADERS["content-type"] as string },
    body: standalonePage(503, { label: "Try again", href: "/" }),
  };
}

/**
 * The answer when login-manager cannot reach the session store (or the user loader the user
 * database): the app's 503, logged as a warning without a stack. Every framework's
 * `onStoreUnavailable` calls this.
 *
 * @example
 * ```ts
 * onStoreUnavailable: (error, req, res) => send(res, storeUnavailable(logger, error, errorRequest(req)));
 * ```
 */
export function storeUnavailable(logger: Logger, error: Error, request: ErrorRequest): WebResponse {
  logger.warn(
    { kind: "unavailable", err: error.message, method: request.method, path: pathOf(request.url) },
    "store unavailable",
  );
  return serviceUnavailable(request.accept);
}

/** `text` with the characters HTML gives a meaning to written as references. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

/**
 * The page that replaces login-manager's plain-text CSRF refusal (`403 Forbidden: <why>`), with the
 * library's reason (which check failed; no token, no origin) under the app's message. It is
 * self-contained like the 503 page: the refusal happens after the response is under way, where a
 * cookie written by the page (a new CSRF token, the flash messages taken) would not reach the
 * browser on every framework.
 *
 * @example
 * ```ts
 * if (isCsrfRefusal(403, "text/plain; charset=utf-8", body)) return csrfFailurePage(body);
 * ```
 */
export function csrfFailurePage(refusal: string): WebResponse {
  return {
    status: 403,
    headers: { ...PAGE_HEADERS },
    body: standalonePage(403, { label: "Go home", href: "/" }, refusal.replace(/^Forbidden:\s*/, "")),
  };
}

/**
 * True for login-manager's own CSRF refusal to a browser: a 403 plain-text body starting
 * `Forbidden:` (API clients get JSON, which is left alone).
 *
 * @example
 * ```ts
 * isCsrfRefusal(res.statusCode, res.getHeader("content-type"), body);
 * ```
 */
export function isCsrfRefusal(status: number, contentType: unknown, body: unknown): boolean {
  return (
    status === 403 &&
    String(contentType ?? "").startsWith("text/plain") &&
    typeof body === "string" &&
    body.startsWith("Forbidden:")
  );
}

/**
 * The answer to an error thrown while handling a request: client errors from body parsing and URL
 * decoding (`status` / `statusCode` 4xx, e.g. 400 malformed body, 413 too large) keep their status;
 * an unreachable session store or user database is a 503 ({@link serviceUnavailable}); anything
 * else is a logged, generic 500 page. No stack or error text ever reaches the client.
 *
 * @example
 * ```ts
 * app.onError((error, c) => send(c, errorResponse(render, logger, error, errorRequest(c))));
 * ```
 */
export function errorResponse(
  render: RenderPage,
  logger: Logger,
  error: unknown,
  request: ErrorRequest,
): WebResponse {
  const path = pathOf(request.url);
  if (isServiceUnavailable(error)) {
    logger.warn(
      { kind: "unavailable", err: (error as Error).message, method: request.method, path },
      "backing server unavailable",
    );
    return serviceUnavailable(request.accept);
  }
  const status = clientErrorStatus(error) ?? 500;
  if (status === 500)
    logger.error({ kind: "error", err: error, method: request.method, path }, "request failed");
  return errorPage(render, logger, status, request);
}

/** The 4xx status an error carries (`status` or `statusCode`), if any. */
export function clientErrorStatus(error: unknown): number | undefined {
  const candidate = (error as { status?: unknown; statusCode?: unknown } | null) ?? {};
  const raw = typeof candidate.status === "number" ? candidate.status : candidate.statusCode;
  return typeof raw === "number" && raw >= 400 && raw < 500 ? raw : undefined;
}
