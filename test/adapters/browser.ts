/**
 * A browser for the test apps of `harness.ts`: a cookie jar, the headers a modern browser sends, and
 * Set-Cookie parsing.
 */
import type { AppClient, RawResponse } from "./harness.js";

/** A parsed Set-Cookie header. */
export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names in lower case, mapped to their value ("" for flags like HttpOnly). */
  attributes: Map<string, string>;
}

/** Parses one Set-Cookie header value. */
export function parseSetCookie(header: string): SetCookie {
  const [pair = "", ...rest] = header.split(";");
  const equals = pair.indexOf("=");
  const attributes = new Map<string, string>();
  for (const part of rest) {
    const [name = "", ...value] = part.trim().split("=");
    attributes.set(name.toLowerCase(), value.join("="));
  }
  return { name: pair.slice(0, equals).trim(), value: pair.slice(equals + 1).trim(), attributes };
}

/** Options of one browser request. `headers` override the browser's; `undefined` removes one. */
export interface BrowserRequestOptions {
  headers?: Record<string, string | undefined>;
  form?: Record<string, string>;
  json?: unknown;
  /** A raw body, sent with `contentType`. */
  body?: string;
  contentType?: string;
}

/** A response as the browser saw it, with its Set-Cookie headers parsed. */
export interface BrowserResponse extends RawResponse {
  cookies: SetCookie[];
  /** The Set-Cookie of this response for `name`, if any. */
  cookie(name: string): SetCookie | undefined;
  json(): unknown;
}

const SAFE = new Set(["GET", "HEAD", "OPTIONS"]);

/**
 * A browser on `http://localhost` (a host every app allows by default, as `allowedHosts` has the
 * loopback names): sends a fixed User-Agent, `Sec-Fetch-Site: same-origin` and an
 * Origin on unsafe requests like a modern browser, and keeps cookies in a jar (Max-Age=0 deletes).
 */
export class Browser {
  readonly jar = new Map<string, string>();
  userAgent = "TestBrowser/1.0";

  constructor(readonly app: AppClient) {}

  get(path: string, options: BrowserRequestOptions = {}): Promise<BrowserResponse> {
    return this.request("GET", path, options);
  }

  post(path: string, options: BrowserRequestOptions = {}): Promise<BrowserResponse> {
    return this.request("POST", path, options);
  }

  async request(method: string, path: string, options: BrowserRequestOptions = {}): Promise<BrowserResponse> {
    const headers: Record<string, string | undefined> = {
      host: "localhost",
      "user-agent": this.userAgent,
      accept: "text/html,application/xhtml+xml",
    };
    if (this.jar.size > 0)
      headers.cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
    if (!SAFE.has(method)) {
      headers.origin = "http://localhost";
      headers["sec-fetch-site"] = "same-origin";
    }
    let body: string | undefined;
    if (options.form) {
      body = new URLSearchParams(options.form).toString();
      headers["content-type"] = "application/x-www-form-urlencoded";
    } else if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers["content-type"] = "application/json";
    } else if (options.body !== undefined) {
      body = options.body;
      headers["content-type"] = options.contentType ?? "text/plain";
    }
    Object.assign(headers, options.headers);
    const sent: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) if (value !== undefined) sent[name] = value;
    const raw = await this.app.send({ method, path, headers: sent, body });
    const cookies = raw.setCookies.map(parseSetCookie);
    for (const cookie of cookies) {
      const maxAge = cookie.attributes.get("max-age");
      if (maxAge !== undefined && Number(maxAge) <= 0) this.jar.delete(cookie.name);
      else this.jar.set(cookie.name, cookie.value);
    }
    return {
      ...raw,
      cookies,
      cookie: (name) => cookies.find((cookie) => cookie.name === name),
      json: () => JSON.parse(raw.text) as unknown,
    };
  }

  /** Fetches a CSRF token (GET /form), which also sets the CSRF cookie. */
  async csrfToken(): Promise<string> {
    return (await this.get("/form")).text;
  }

  /** Logs in through the form (CSRF token included); returns the login response. */
  async login(username: string, options: { remember?: boolean } = {}): Promise<BrowserResponse> {
    const _csrf = await this.csrfToken();
    return this.post("/login", { form: { username, remember: options.remember ? "1" : "0", _csrf } });
  }

  /** Posts a form with a valid CSRF token. */
  async submit(path: string, form: Record<string, string> = {}): Promise<BrowserResponse> {
    const _csrf = await this.csrfToken();
    return this.post(path, { form: { ...form, _csrf } });
  }

  /** Who the app thinks this browser is (GET /whoami). */
  async whoami(options: BrowserRequestOptions = {}): Promise<{
    user: string | null;
    fresh: boolean;
    source: string | null;
  }> {
    return (await this.get("/whoami", options)).json() as {
      user: string | null;
      fresh: boolean;
      source: string | null;
    };
  }
}
