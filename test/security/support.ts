// Shared fixtures of the security suite: a manager over a MemoryStore with three users, the same
// small set of routes on every adapter, and a cookie-keeping "browser" that talks real HTTP.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import express, { type Express } from "express";
import type { LoginManagerEvents, LoginManagerOptions } from "login-manager";
import { LoginManager, UserMixin } from "login-manager";
import { initApp, loginRequired } from "login-manager/express";
import { MemoryStore } from "login-manager/stores/memory";
import request from "supertest";

export const SECRET = "security-suite-secret-0123456789abcdef";

/** A user whose `active` flag can be turned off (Flask-Login's `is_active`). */
export class TestUser extends UserMixin {
  constructor(
    readonly id: string,
    readonly active = true,
  ) {
    super();
  }

  override get isActive(): boolean {
    return this.active;
  }
}

/** A manager over a fresh MemoryStore that knows `alice`, `bob` and the inactive `carol`. */
export function createTestManager(options: Partial<LoginManagerOptions<TestUser>> = {}) {
  const users = new Map<string, TestUser>([
    ["alice", new TestUser("alice")],
    ["bob", new TestUser("bob")],
    ["carol", new TestUser("carol", false)],
  ]);
  const store = new MemoryStore();
  const manager = new LoginManager<TestUser>({
    secret: SECRET,
    store,
    userLoader: (id) => users.get(id) ?? null,
    ...options,
  });
  return { manager, store, users };
}

/** Every event a manager emits; typed so that adding an event without listing it here fails tsc. */
export const ALL_EVENTS: Record<keyof LoginManagerEvents<TestUser>, true> = {
  loggedIn: true,
  loggedOut: true,
  loadedFromCookie: true,
  loadedFromRequest: true,
  loginConfirmed: true,
  unauthorized: true,
  needsRefresh: true,
  accessed: true,
  sessionProtected: true,
  loginFailed: true,
  rememberTheft: true,
  sessionsRevoked: true,
};

/** The state the test routes report for the current request. */
export interface Me {
  user: string | null;
  source: string | null;
  fresh: boolean;
}

function bodyField(body: unknown, name: string): string {
  if (body === null || typeof body !== "object" || !Object.hasOwn(body, name)) return "";
  return String((body as Record<string, unknown>)[name]);
}

/**
 * An Express app with the suite's routes: `GET /csrf` (token as JSON), `GET /me`, `POST /login-as`
 * (logs in `user` without a password; `remember=1`), `POST /logout`, `GET /protected`.
 */
export function createExpressApp(manager: LoginManager<TestUser>, users: Map<string, TestUser>): Express {
  const app = express();
  initApp(app, manager);
  app.get("/csrf", (req, res) => {
    res.json({ csrf: req.auth.csrfToken() });
  });
  app.get("/me", (req, res) => {
    const me: Me = {
      user: req.auth.isAuthenticated ? req.auth.requireUser().getId() : null,
      source: req.auth.source,
      fresh: req.auth.loginFresh(),
    };
    res.json(me);
  });
  app.post("/login-as", async (req, res) => {
    const user = users.get(bodyField(req.body, "user"));
    const ok = user
      ? await req.auth.loginUser(user, { remember: bodyField(req.body, "remember") === "1" })
      : false;
    res.status(ok ? 200 : 401).json({ ok });
  });
  app.post("/logout", async (req, res) => {
    await req.auth.logoutUser();
    res.json({ ok: true });
  });
  app.get("/protected", loginRequired, (req, res) => {
    res.send(`secret page of ${req.auth.requireUser().getId()}`);
  });
  return app;
}

/** A listening HTTP server on 127.0.0.1 and its base URL. */
export interface Served {
  url: string;
  close(): Promise<void>;
}

/** Starts `server` (or an http.Server around an Express app) on an ephemeral loopback port. */
export async function serve(app: Express | Server): Promise<Served> {
  const server = typeof app === "function" ? createServer(app) : app;
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** One parsed Set-Cookie header. */
export interface SetCookie {
  name: string;
  value: string;
  /** Attribute names lower-cased, mapped to their value ("" for flags such as HttpOnly). */
  attributes: Map<string, string>;
  raw: string;
}

/** Parses every Set-Cookie header of a response. */
export function setCookies(headers: Record<string, unknown>): SetCookie[] {
  const header = headers["set-cookie"];
  const list = Array.isArray(header) ? header.map(String) : typeof header === "string" ? [header] : [];
  return list.map((raw) => {
    const [pair = "", ...parts] = raw.split(";");
    const equals = pair.indexOf("=");
    const attributes = new Map<string, string>();
    for (const part of parts) {
      const eq = part.indexOf("=");
      const key = (eq === -1 ? part : part.slice(0, eq)).trim().toLowerCase();
      attributes.set(key, eq === -1 ? "" : part.slice(eq + 1).trim());
    }
    return { name: pair.slice(0, equals).trim(), value: pair.slice(equals + 1).trim(), attributes, raw };
  });
}

/** True when a Set-Cookie deletes its cookie (empty value or Max-Age=0). */
export function isDeletion(cookie: SetCookie): boolean {
  return cookie.value === "" || cookie.attributes.get("max-age") === "0";
}

/**
 * A client that keeps cookies like a browser (set, replace, delete on Max-Age=0), sends fixed extra
 * headers (User-Agent, X-Forwarded-For...) and posts forms with the CSRF token and
 * `Sec-Fetch-Site: same-origin`, as a same-origin page would.
 */
export class Browser {
  readonly jar = new Map<string, string>();
  headers: Record<string, string>;

  constructor(
    readonly url: string,
    headers: Record<string, string> = {},
  ) {
    this.headers = headers;
  }

  cookieHeader(): string {
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  #headers(extra: Record<string, string>): Record<string, string> {
    const all = { ...this.headers, ...extra };
    if (this.jar.size > 0 && all.cookie === undefined) all.cookie = this.cookieHeader();
    return all;
  }

  #keep(response: request.Response): request.Response {
    for (const cookie of setCookies(response.headers)) {
      if (isDeletion(cookie)) this.jar.delete(cookie.name);
      else this.jar.set(cookie.name, cookie.value);
    }
    return response;
  }

  async get(path: string, extra: Record<string, string> = {}): Promise<request.Response> {
    return this.#keep(await request(this.url).get(path).set(this.#headers(extra)));
  }

  async me(extra: Record<string, string> = {}): Promise<Me> {
    return (await this.get("/me", extra)).body as Me;
  }

  async csrf(): Promise<string> {
    return ((await this.get("/csrf")).body as { csrf: string }).csrf;
  }

  /** POSTs a urlencoded form with a fresh CSRF token, from the same origin. */
  async post(
    path: string,
    form: Record<string, string> = {},
    extra: Record<string, string> = {},
  ): Promise<request.Response> {
    const csrf = await this.csrf();
    const response = await request(this.url)
      .post(path)
      .set(this.#headers({ "sec-fetch-site": "same-origin", ...extra }))
      .type("form")
      .send({ ...form, _csrf: csrf });
    return this.#keep(response);
  }

  /** A browser with a copy of this one's cookies and headers (a stolen or restored cookie jar). */
  clone(headers: Record<string, string> = this.headers): Browser {
    const copy = new Browser(this.url, { ...headers });
    for (const [name, value] of this.jar) copy.jar.set(name, value);
    return copy;
  }
}
