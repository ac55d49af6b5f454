/**
 * One tiny app built identically on Express, Fastify and Hono, a fake clock, a store that can be
 * taken down, and a browser with a cookie jar, so `scenarios.test.ts` runs one table of behaviours
 * against all three adapters.
 */
import { setImmediate as nextTick } from "node:timers/promises";
import formbody from "@fastify/formbody";
import express from "express";
import type { FastifyInstance, FastifyReply } from "fastify";
import Fastify from "fastify";
import type { Context } from "hono";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AuthContext, AuthUser, LoginManagerOptions, SessionStore } from "login-manager";
import { currentUser, LoginManager, StoreError, UserMixin } from "login-manager";
import * as expressAdapter from "login-manager/express";
import * as fastifyAdapter from "login-manager/fastify";
import * as honoAdapter from "login-manager/hono";
import { MemoryStore } from "login-manager/stores/memory";
import request from "supertest";

/** A user of the test apps. */
export class TestUser extends UserMixin {
  constructor(
    readonly id: string,
    readonly username: string,
  ) {
    super();
  }
}

/** The users every test app knows, by username. */
export const USERS: ReadonlyMap<string, TestUser> = new Map([
  ["alice", new TestUser("1", "alice")],
  ["bob", new TestUser("2", "bob")],
]);

/** A fake clock (milliseconds) the manager reads; `advance` moves it forward. */
export interface FakeClock {
  t: number;
  now(): number;
  advance(seconds: number): void;
}

/** Everything one test app is built from, plus handles the scenarios inspect or flip. */
export interface TestEnv {
  manager: LoginManager<TestUser>;
  /** The real store behind the outage switch, for inspecting server-side state. */
  store: MemoryStore;
  clock: FakeClock;
  /** Set `down` to make every store call reject with `StoreError("down", { unavailable: true })`. */
  outage: { down: boolean };
  /** Security events the manager emitted, in order. */
  events: { name: string; userId: string }[];
}

/** Secret of the test managers (not a real secret). */
export const TEST_SECRET = "test-secret-test-secret-test-secret-0123";

/**
 * How the test store answers `getSession`: `"at once"` as the memory and SQLite stores do (no
 * promise, so the adapters take their synchronous path), `"later"` through a promise, as the
 * PostgreSQL and Redis stores do.
 */
export type StoreTiming = "at once" | "later";

/** Builds a manager over a memory store with a fake clock; short timeouts keep timeout tests short. */
export function createEnv(
  overrides: Partial<LoginManagerOptions<TestUser>> = {},
  timing: StoreTiming = "at once",
): TestEnv {
  const store = new MemoryStore();
  const outage = { down: false };
  const clock: FakeClock = {
    t: Date.UTC(2030, 0, 1),
    now: () => clock.t,
    advance: (seconds) => {
      clock.t += seconds * 1000;
    },
  };
  const manager = new LoginManager<TestUser>({
    secret: TEST_SECRET,
    store: withOutageSwitch(store, outage, timing),
    userLoader: (id) => [...USERS.values()].find((user) => user.id === id) ?? null,
    loginView: "/login",
    refreshView: "/reauth",
    idleTimeoutSeconds: 600,
    absoluteTimeoutSeconds: 3600,
    clock,
    ...overrides,
  });
  const events: TestEnv["events"] = [];
  manager.on("rememberTheft", ({ userId }) => events.push({ name: "rememberTheft", userId }));
  manager.on("sessionsRevoked", ({ userId }) => events.push({ name: "sessionsRevoked", userId }));
  manager.on("sessionProtected", ({ userId }) => events.push({ name: "sessionProtected", userId }));
  return { manager, store, clock, outage, events };
}

/**
 * A store whose every method rejects as "unavailable" while `outage.down` is true; with `"later"`
 * timing, every answer comes through a promise.
 */
export function withOutageSwitch(
  store: MemoryStore,
  outage: { down: boolean },
  timing: StoreTiming = "at once",
): SessionStore {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        if (outage.down) return Promise.reject(new StoreError("down", { unavailable: true }));
        const answer: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        return timing === "later" ? Promise.resolve(answer) : answer;
      };
    },
  });
}

/** What every app answers; the framework handlers below only translate these. */
interface Answer {
  status: number;
  text?: string;
  json?: unknown;
}

const actions = {
  csrfForm: (auth: AuthContext<TestUser>): Answer => ({ status: 200, text: auth.csrfToken() }),
  async login(auth: AuthContext<TestUser>, body: unknown): Promise<Answer> {
    const fields = (body ?? {}) as { username?: unknown; remember?: unknown };
    const user = typeof fields.username === "string" ? USERS.get(fields.username) : undefined;
    if (!user) return { status: 401, text: "invalid" };
    const remember = fields.remember === "1" || fields.remember === true;
    await auth.loginUser(user, { remember });
    return { status: 200, text: `logged in ${user.getId()}` };
  },
  /** Logs alice in, then bob, in one request: the response must carry one cookie per name. */
  async loginTwice(auth: AuthContext<TestUser>): Promise<Answer> {
    await auth.loginUser(USERS.get("alice") as TestUser);
    await auth.loginUser(USERS.get("bob") as TestUser);
    return { status: 200, text: "logged in twice" };
  },
  async logout(auth: AuthContext<TestUser>): Promise<Answer> {
    await auth.logoutUser();
    return { status: 200, text: "logged out" };
  },
  /** Reads the user through AsyncLocalStorage after a real event-loop turn. */
  async protectedPage(): Promise<Answer> {
    await nextTick();
    return { status: 200, text: `user ${currentUser().getId()}` };
  },
  fresh: (): Answer => ({ status: 200, text: "fresh ok" }),
  async reauth(auth: AuthContext<TestUser>): Promise<Answer> {
    await auth.confirmLogin();
    return { status: 200, text: "confirmed" };
  },
  whoami: (auth: AuthContext<TestUser>): Answer => ({
    status: 200,
    json: {
      user: auth.isAuthenticated ? auth.requireUser().getId() : null,
      fresh: auth.loginFresh(),
      source: auth.source,
    },
  }),
  page: (name: string): Answer => ({ status: 200, text: name }),
  /** A handler that fails: the framework's error response must keep the cookies already set. */
  boom: async (): Promise<never> => {
    await nextTick();
    throw new Error("boom");
  },
};

/** `req.auth` is typed with the registered user (none here): the test apps know it is a TestUser. */
const asTest = (auth: AuthContext<AuthUser>) => auth as unknown as AuthContext<TestUser>;

/** A request as the browser sends it, already encoded. */
export interface RawRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** A response reduced to what the scenarios look at. */
export interface RawResponse {
  status: number;
  /** Lower-case header names; Set-Cookie is in `setCookies`. */
  headers: Record<string, string>;
  setCookies: string[];
  text: string;
}

/** One framework's test app. */
export interface AppClient {
  send(request: RawRequest): Promise<RawResponse>;
  close(): Promise<void>;
}

/** The adapters under test, for `describe.each`. */
export const ADAPTERS = [
  { name: "express", build: buildExpress },
  { name: "fastify", build: buildFastify },
  { name: "hono", build: buildHono },
] as const;

/** The body limit every test app uses (the adapters' default). */
export const BODY_LIMIT = 16_384;

async function buildExpress(env: TestEnv): Promise<AppClient> {
  const { initApp, loginRequired, freshLoginRequired } = expressAdapter;
  const app = express();
  app.set("env", "test"); // the default error handler logs unless env is "test"
  initApp(app, env.manager);
  const send = (res: express.Response, answer: Answer) => {
    res.status(answer.status);
    if (answer.json !== undefined) res.json(answer.json);
    else res.type("text/plain").send(answer.text ?? "");
  };
  const auth = (req: express.Request) => asTest(req.auth);
  app.get("/form", (req, res) => send(res, actions.csrfForm(auth(req))));
  app.get("/login", (_req, res) => send(res, actions.page("login page")));
  app.get("/reauth", (_req, res) => send(res, actions.page("reauth page")));
  app.post("/login", async (req, res) => send(res, await actions.login(auth(req), req.body)));
  app.post("/login-twice", async (req, res) => send(res, await actions.loginTwice(auth(req))));
  app.post("/logout", async (req, res) => send(res, await actions.logout(auth(req))));
  app.get("/protected", loginRequired, async (_req, res) => send(res, await actions.protectedPage()));
  app.options("/protected", loginRequired, (_req, res) => res.status(204).end());
  app.get("/fresh", freshLoginRequired, (_req, res) => send(res, actions.fresh()));
  app.post("/reauth", loginRequired, async (req, res) => send(res, await actions.reauth(auth(req))));
  app.get("/whoami", (req, res) => send(res, actions.whoami(auth(req))));
  app.get("/boom", actions.boom);
  return expressClient(app);
}

async function buildFastify(env: TestEnv): Promise<AppClient> {
  const { loginManagerPlugin, loginRequired, freshLoginRequired, sendReply } = fastifyAdapter;
  const app = Fastify({ bodyLimit: BODY_LIMIT });
  await app.register(formbody);
  await app.register(loginManagerPlugin, { manager: env.manager });
  const send = (reply: FastifyReply, answer: Answer) =>
    answer.json !== undefined
      ? sendReply(reply, { status: answer.status, headers: {}, body: answer.json })
      : reply
          .code(answer.status)
          .type("text/plain")
          .send(answer.text ?? "");
  app.get("/form", async (req, reply) => send(reply, actions.csrfForm(asTest(req.auth))));
  app.get("/login", async (_req, reply) => send(reply, actions.page("login page")));
  app.get("/reauth", async (_req, reply) => send(reply, actions.page("reauth page")));
  app.post("/login", async (req, reply) => send(reply, await actions.login(asTest(req.auth), req.body)));
  app.post("/login-twice", async (req, reply) => send(reply, await actions.loginTwice(asTest(req.auth))));
  app.post("/logout", async (req, reply) => send(reply, await actions.logout(asTest(req.auth))));
  app.get("/protected", { preHandler: loginRequired }, async (_req, reply) =>
    send(reply, await actions.protectedPage()),
  );
  app.options("/protected", { preHandler: loginRequired }, async (_req, reply) => reply.code(204).send());
  app.get("/fresh", { preHandler: freshLoginRequired }, async (_req, reply) => send(reply, actions.fresh()));
  app.post("/reauth", { preHandler: loginRequired }, async (req, reply) =>
    send(reply, await actions.reauth(asTest(req.auth))),
  );
  app.get("/whoami", async (req, reply) => send(reply, actions.whoami(asTest(req.auth))));
  app.get("/boom", actions.boom);
  await app.ready();
  return fastifyClient(app);
}

async function buildHono(env: TestEnv): Promise<AppClient> {
  const { loginManager, loginRequired, freshLoginRequired } = honoAdapter;
  const app = new Hono();
  // Hono's default error handler logs; answer like it without logging the expected /boom error.
  app.onError((error, c) =>
    error instanceof HTTPException ? error.getResponse() : c.text("Internal Server Error", 500),
  );
  app.use(loginManager(env.manager));
  const send = (c: Context, answer: Answer) =>
    answer.json !== undefined
      ? c.json(answer.json as object, answer.status as 200)
      : c.text(answer.text ?? "", answer.status as 200);
  const auth = (c: Context) => asTest(c.var.auth);
  app.get("/form", (c) => send(c, actions.csrfForm(auth(c))));
  app.get("/login", (c) => send(c, actions.page("login page")));
  app.get("/reauth", (c) => send(c, actions.page("reauth page")));
  app.post("/login", async (c) => {
    const body = c.req.header("content-type")?.includes("json")
      ? await c.req.json()
      : await c.req.parseBody();
    return send(c, await actions.login(auth(c), body));
  });
  app.post("/login-twice", async (c) => send(c, await actions.loginTwice(auth(c))));
  app.post("/logout", async (c) => send(c, await actions.logout(auth(c))));
  app.get("/protected", loginRequired, async (c) => send(c, await actions.protectedPage()));
  app.options("/protected", loginRequired, (c) => c.body(null, 204));
  app.get("/fresh", freshLoginRequired, (c) => send(c, actions.fresh()));
  app.post("/reauth", loginRequired, async (c) => send(c, await actions.reauth(auth(c))));
  app.get("/whoami", (c) => send(c, actions.whoami(auth(c))));
  app.get("/boom", actions.boom);
  return honoClient(app);
}

/** Sends requests to an Express app through supertest. */
export function expressClient(app: express.Express): AppClient {
  return {
    async send(raw) {
      const agent = request(app);
      const method = raw.method.toLowerCase() as "get" | "post" | "options" | "put" | "delete";
      let test = agent[method](raw.path);
      for (const [name, value] of Object.entries(raw.headers)) test = test.set(name, value);
      if (raw.body !== undefined) test = test.send(raw.body);
      const res = await test;
      const { "set-cookie": setCookie, ...headers } = res.headers as Record<string, string | string[]>;
      return {
        status: res.status,
        headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])),
        setCookies: setCookie === undefined ? [] : ([] as string[]).concat(setCookie),
        text: res.text ?? "",
      };
    },
    close: async () => undefined,
  };
}

/** Sends requests to a Fastify app through `inject`. */
export function fastifyClient(app: FastifyInstance): AppClient {
  return {
    async send(raw) {
      const res = await app.inject({
        method: raw.method as "GET",
        url: raw.path,
        headers: raw.headers,
        ...(raw.body === undefined ? {} : { payload: raw.body }),
      });
      const { "set-cookie": setCookie, ...headers } = res.headers;
      return {
        status: res.statusCode,
        headers: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, String(v)])),
        setCookies: setCookie === undefined ? [] : ([] as string[]).concat(setCookie),
        text: res.body,
      };
    },
    close: () => app.close(),
  };
}

/** What @hono/node-server passes as `c.env`: the Node request, whose socket gives address and TLS. */
const NODE_ENV = { incoming: { socket: { remoteAddress: "127.0.0.1", encrypted: false } } };

/** Sends requests to a Hono app through `app.request`, with Node bindings like @hono/node-server's. */
export function honoClient(app: Hono): AppClient {
  return {
    async send(raw) {
      const res = await app.request(
        raw.path,
        { method: raw.method, headers: raw.headers, ...(raw.body === undefined ? {} : { body: raw.body }) },
        NODE_ENV,
      );
      const headers: Record<string, string> = {};
      res.headers.forEach((value, name) => {
        if (name !== "set-cookie") headers[name] = value;
      });
      return { status: res.status, headers, setCookies: res.headers.getSetCookie(), text: await res.text() };
    },
    close: async () => undefined,
  };
}

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
 * A browser on `http://app.test`: sends a fixed User-Agent, `Sec-Fetch-Site: same-origin` and an
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
      host: "app.test",
      "user-agent": this.userAgent,
      accept: "text/html,application/xhtml+xml",
    };
    if (this.jar.size > 0)
      headers.cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join("; ");
    if (!SAFE.has(method)) {
      headers.origin = "http://app.test";
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
