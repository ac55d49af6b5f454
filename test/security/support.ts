// Shared fixtures of the security suite: a manager over a MemoryStore with three users, the same
// small set of routes on every adapter, and a cookie-keeping "browser" that talks real HTTP.

import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import formbody from "@fastify/formbody";
import { createAdaptorServer } from "@hono/node-server";
import express, { type Express } from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import type { AuthContext, AuthUser, LoginManagerEvents, LoginManagerOptions } from "login-manager";
import { LoginManager, UserMixin } from "login-manager";
import { initApp, loginRequired } from "login-manager/express";
import * as fastifyAdapter from "login-manager/fastify";
import * as honoAdapter from "login-manager/hono";
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
  secondFactorRequired: true,
  sessionsRevoked: true,
  csrfFailed: true,
  allSessionsRevoked: true,
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

/** What a suite route answers, whatever the framework. */
interface Answer {
  status: number;
  json?: unknown;
  text?: string;
}

/** The suite's routes, framework-neutral: each adapter below only translates requests and answers. */
function suiteRoutes(users: Map<string, TestUser>) {
  return {
    csrf: (auth: AuthContext<AuthUser>): Answer => ({ status: 200, json: { csrf: auth.csrfToken() } }),
    me: (auth: AuthContext<AuthUser>): Answer => {
      const me: Me = {
        user: auth.isAuthenticated ? auth.requireUser().getId() : null,
        source: auth.source,
        fresh: auth.loginFresh(),
      };
      return { status: 200, json: me };
    },
    async loginAs(auth: AuthContext<AuthUser>, body: unknown): Promise<Answer> {
      const user = users.get(bodyField(body, "user"));
      const ok = user ? await auth.loginUser(user, { remember: bodyField(body, "remember") === "1" }) : false;
      return { status: ok ? 200 : 401, json: { ok } };
    },
    async logout(auth: AuthContext<AuthUser>): Promise<Answer> {
      await auth.logoutUser();
      return { status: 200, json: { ok: true } };
    },
    protectedPage: (auth: AuthContext<AuthUser>): Answer => ({
      status: 200,
      text: `secret page of ${auth.requireUser().getId()}`,
    }),
  };
}

/**
 * An Express app with the suite's routes: `GET /csrf` (token as JSON), `GET /me`, `POST /login-as`
 * (logs in `user` without a password; `remember=1`), `POST /logout`, `GET /protected`.
 */
export function createExpressApp(manager: LoginManager<TestUser>, users: Map<string, TestUser>): Express {
  const routes = suiteRoutes(users);
  const app = express();
  initApp(app, manager);
  const send = (res: express.Response, answer: Answer) => {
    res.status(answer.status);
    if (answer.json !== undefined) res.json(answer.json);
    else res.send(answer.text ?? "");
  };
  app.get("/csrf", (req, res) => send(res, routes.csrf(req.auth)));
  app.get("/me", (req, res) => send(res, routes.me(req.auth)));
  app.post("/login-as", async (req, res) => send(res, await routes.loginAs(req.auth, req.body)));
  app.post("/logout", async (req, res) => send(res, await routes.logout(req.auth)));
  app.get("/protected", loginRequired, (req, res) => send(res, routes.protectedPage(req.auth)));
  return app;
}

/** The same routes on Fastify 5 with @fastify/formbody, listening on loopback. */
export async function serveFastify(
  manager: LoginManager<TestUser>,
  users: Map<string, TestUser>,
): Promise<Served> {
  const routes = suiteRoutes(users);
  const app = Fastify({ bodyLimit: 16_384 });
  await app.register(formbody);
  await app.register(fastifyAdapter.loginManagerPlugin, { manager });
  const send = (reply: import("fastify").FastifyReply, answer: Answer) =>
    reply.code(answer.status).send(answer.json ?? answer.text ?? "");
  app.get("/csrf", (request, reply) => send(reply, routes.csrf(request.auth)));
  app.get("/me", (request, reply) => send(reply, routes.me(request.auth)));
  app.post("/login-as", async (request, reply) =>
    send(reply, await routes.loginAs(request.auth, request.body)),
  );
  app.post("/logout", async (request, reply) => send(reply, await routes.logout(request.auth)));
  app.get("/protected", { preHandler: fastifyAdapter.loginRequired }, (request, reply) =>
    send(reply, routes.protectedPage(request.auth)),
  );
  const url = await app.listen({ port: 0, host: "127.0.0.1" });
  return { url, close: () => app.close() };
}

/** The same routes on Hono 4 behind @hono/node-server (a real socket), listening on loopback. */
export function serveHono(manager: LoginManager<TestUser>, users: Map<string, TestUser>): Promise<Served> {
  const routes = suiteRoutes(users);
  const app = new Hono();
  app.use(honoAdapter.loginManager(manager));
  const send = (c: import("hono").Context, answer: Answer) =>
    answer.json !== undefined
      ? c.json(answer.json as object, answer.status as 200)
      : c.text(answer.text ?? "", answer.status as 200);
  app.get("/csrf", (c) => send(c, routes.csrf(c.var.auth)));
  app.get("/me", (c) => send(c, routes.me(c.var.auth)));
  app.post("/login-as", async (c) => send(c, await routes.loginAs(c.var.auth, await c.req.parseBody())));
  app.post("/logout", async (c) => send(c, await routes.logout(c.var.auth)));
  app.get("/protected", honoAdapter.loginRequired, (c) => send(c, routes.protectedPage(c.var.auth)));
  return serve(createAdaptorServer({ fetch: app.fetch }) as Server);
}

/** One framework adapter serving the suite's routes over a fresh test manager. */
export interface Harness {
  name: string;
  start(options?: Partial<LoginManagerOptions<TestUser>>): Promise<Served>;
}

/** Express, Fastify and Hono, each serving the suite's routes. */
export const HARNESSES: readonly Harness[] = [
  {
    name: "Express",
    start: (options) => {
      const { manager, users } = createTestManager(options);
      return serve(createExpressApp(manager, users));
    },
  },
  {
    name: "Fastify",
    start: (options) => {
      const { manager, users } = createTestManager(options);
      return serveFastify(manager, users);
    },
  },
  {
    name: "Hono",
    start: (options) => {
      const { manager, users } = createTestManager(options);
      return serveHono(manager, users);
    },
  },
];

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

  /** Every CSRF token this browser was given, in order. */
  readonly csrfTokens: string[] = [];

  async csrf(): Promise<string> {
    const token = ((await this.get("/csrf")).body as { csrf: string }).csrf;
    this.csrfTokens.push(token);
    return token;
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
