/**
 * One tiny app built identically on Express, Fastify and Hono (its routes are in `routes.ts`), a fake
 * clock, a store that can be taken down, and a browser with a cookie jar, so `scenarios.test.ts` runs
 * one table of behaviours against all three adapters.
 */
import formbody from "@fastify/formbody";
import express from "express";
import type { FastifyInstance, FastifyReply } from "fastify";
import Fastify from "fastify";
import type { Context } from "hono";
import { Hono } from "hono";
import { HTTPException } from "hono/http-exception";
import type { AuthContext, AuthUser, LoginManagerOptions, SessionStore } from "login-manager";
import { LoginManager, StoreError } from "login-manager";
import * as expressAdapter from "login-manager/express";
import * as fastifyAdapter from "login-manager/fastify";
import * as honoAdapter from "login-manager/hono";
import { MemoryStore } from "login-manager/stores/memory";
import request from "supertest";
import { type Answer, ROUTES, TestUser, USERS } from "./routes.js";

export {
  Browser,
  type BrowserRequestOptions,
  type BrowserResponse,
  parseSetCookie,
  type SetCookie,
} from "./browser.js";
export { TestUser, USERS };

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
  /** Set `down` to make store calls reject as a real unreachable PostgreSQL would (see {@link Outage}). */
  outage: Outage;
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
  const outage: Outage = { down: false };
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
    clock,
    ...overrides,
    // Groups the test app sets are merged with the overrides' groups of the same name.
    views: { loginView: "/login", refreshView: "/reauth", ...overrides.views },
    session: { idleTimeoutSeconds: 600, absoluteTimeoutSeconds: 3600, ...overrides.session },
  });
  const events: TestEnv["events"] = [];
  manager.on("rememberTheft", ({ userId }) => events.push({ name: "rememberTheft", userId }));
  manager.on("sessionsRevoked", ({ userId }) => events.push({ name: "sessionsRevoked", userId }));
  manager.on("sessionProtected", ({ userId }) => events.push({ name: "sessionProtected", userId }));
  return { manager, store, clock, outage, events };
}

/**
 * The outage switch of a test store: while `down`, every method but those in `sparing` rejects. Sparing
 * `getSession` lets a logged-in request through identification, so that the call of the route
 * handler is the one that fails.
 */
export interface Outage {
  down: boolean;
  sparing?: ReadonlySet<string>;
}

/** The error a real `PostgresStore` rejects with when nothing listens at its address. */
export function unreachableStoreError(method: string): StoreError {
  const cause = Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5499"), { code: "ECONNREFUSED" });
  return new StoreError(`PostgresStore.${method}: PostgreSQL is unavailable (${cause.message})`, {
    cause,
    unavailable: true,
  });
}

/**
 * A store whose methods reject as unavailable while `outage.down` is true (see {@link Outage}); with
 * `"later"` timing, every answer comes through a promise.
 */
export function withOutageSwitch(
  store: MemoryStore,
  outage: Outage,
  timing: StoreTiming = "at once",
): SessionStore {
  return new Proxy(store, {
    get(target, property) {
      const value: unknown = Reflect.get(target, property);
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const method = String(property);
        if (outage.down && !outage.sparing?.has(method)) return Promise.reject(unreachableStoreError(method));
        const answer: unknown = (value as (...a: unknown[]) => unknown).apply(target, args);
        return timing === "later" ? Promise.resolve(answer) : answer;
      };
    },
  });
}

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

/**
 * Variations of a test app: the adapter's `onStoreUnavailable` answering `custom <code>` with 503, and
 * the app's own catch-all error handler answering `app: <error>` with 500 (as careless apps do).
 */
export interface AppSetup {
  customStoreUnavailable?: boolean;
  appErrorHandler?: boolean;
}

/** What the app's own error handler of {@link AppSetup} answers. */
const appErrorText = (error: unknown) => `app: ${String(error)}`;

/** A request's parsed body, or an empty one. */
function bodyOf(body: unknown): Record<string, unknown> {
  return body !== null && typeof body === "object" ? (body as Record<string, unknown>) : {};
}

async function buildExpress(env: TestEnv, setup: AppSetup = {}): Promise<AppClient> {
  const { initApp, loginRequired, freshLoginRequired } = expressAdapter;
  const guards = { login: [loginRequired], fresh: [freshLoginRequired] };
  const app = express();
  app.set("env", "test"); // the default error handler logs unless env is "test"
  initApp(app, env.manager, {
    ...(setup.customStoreUnavailable && {
      onStoreUnavailable: (error, _req, res) =>
        res.status(503).type("text/plain").send(`custom ${error.code}`),
    }),
  });
  const send = (res: express.Response, answer: Answer) => {
    res.status(answer.status);
    if (answer.json !== undefined) res.json(answer.json);
    else res.type("text/plain").send(answer.text ?? "");
  };
  for (const route of ROUTES) {
    const handler = async (req: express.Request, res: express.Response) =>
      send(res, await route.run(asTest(req.auth), bodyOf(req.body), env));
    const guard = route.guard ? guards[route.guard] : [];
    if (route.method === "GET") app.get(route.path, ...guard, handler);
    else app.post(route.path, ...guard, handler);
  }
  app.options("/protected", loginRequired, (_req, res) => res.status(204).end());
  if (setup.appErrorHandler) {
    app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).type("text/plain").send(appErrorText(error));
    });
  }
  return expressClient(app);
}

async function buildFastify(env: TestEnv, setup: AppSetup = {}): Promise<AppClient> {
  const { loginManagerPlugin, loginRequired, freshLoginRequired, sendReply } = fastifyAdapter;
  const guards = { login: loginRequired, fresh: freshLoginRequired };
  const app = Fastify({ bodyLimit: BODY_LIMIT });
  if (setup.appErrorHandler) {
    app.setErrorHandler((error, _req, reply) => reply.code(500).type("text/plain").send(appErrorText(error)));
  }
  await app.register(formbody);
  await app.register(loginManagerPlugin, {
    manager: env.manager,
    ...(setup.customStoreUnavailable && {
      onStoreUnavailable: (error, _req, reply) =>
        reply.code(503).type("text/plain").send(`custom ${error.code}`),
    }),
  });
  const send = (reply: FastifyReply, answer: Answer) =>
    answer.json !== undefined
      ? sendReply(reply, { status: answer.status, headers: {}, body: answer.json })
      : reply
          .code(answer.status)
          .type("text/plain")
          .send(answer.text ?? "");
  for (const route of ROUTES) {
    app.route({
      method: route.method,
      url: route.path,
      ...(route.guard ? { preHandler: guards[route.guard] } : {}),
      handler: async (req, reply) => send(reply, await route.run(asTest(req.auth), bodyOf(req.body), env)),
    });
  }
  app.options("/protected", { preHandler: loginRequired }, async (_req, reply) => reply.code(204).send());
  await app.ready();
  return fastifyClient(app);
}

async function buildHono(env: TestEnv, setup: AppSetup = {}): Promise<AppClient> {
  const { loginManager, loginRequired, freshLoginRequired } = honoAdapter;
  const guards = { login: loginRequired, fresh: freshLoginRequired };
  const app = new Hono();
  // Hono's default error handler logs; answer like it without logging the expected /boom error.
  app.onError((error, c) => {
    if (setup.appErrorHandler) return c.text(appErrorText(error), 500);
    return error instanceof HTTPException ? error.getResponse() : c.text("Internal Server Error", 500);
  });
  app.use(
    loginManager(env.manager, {
      ...(setup.customStoreUnavailable && {
        onStoreUnavailable: (error, c) => c.text(`custom ${error.code}`, 503),
      }),
    }),
  );
  const send = (c: Context, answer: Answer) =>
    answer.json !== undefined
      ? c.json(answer.json as object, answer.status as 200)
      : c.text(answer.text ?? "", answer.status as 200);
  for (const route of ROUTES) {
    const handler = async (c: Context) =>
      send(c, await route.run(asTest(c.var.auth), await honoBody(c), env));
    if (route.guard) app.on(route.method, route.path, guards[route.guard], handler);
    else app.on(route.method, route.path, handler);
  }
  app.options("/protected", loginRequired, (c) => c.body(null, 204));
  return honoClient(app);
}

/** The form or JSON body of a Hono request (the middleware already read it; Hono caches it). */
async function honoBody(c: Context): Promise<Record<string, unknown>> {
  if (c.req.method !== "POST") return {};
  return bodyOf(
    c.req.header("content-type")?.includes("json") ? await c.req.json() : await c.req.parseBody(),
  );
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
