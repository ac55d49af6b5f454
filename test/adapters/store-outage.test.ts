/**
 * A session store that cannot be reached answers 503 with Retry-After on every path that needs it,
 * on all three adapters: identifying the request, and every call a route handler makes (login and its
 * failure counters, re-authentication, logout, the session list and revocations, a password change).
 * No answer carries the store's message, its name, an address or a stack (issue 14: a failing
 * `attemptLogin` used to answer 500, and Fastify's body quoted `PostgresStore.getFailures: ...`).
 */
import { createServer } from "node:net";
import type { SessionStore } from "login-manager";
import { LoginManager } from "login-manager";
import { PostgresStore } from "login-manager/stores/postgres";
import { afterEach, describe, expect, it } from "vitest";
import type { AppClient, AppSetup, BrowserResponse, StoreTiming, TestEnv } from "./harness.js";
import { ADAPTERS, Browser, createEnv, TEST_SECRET, USERS } from "./harness.js";
import { RIGHT_PASSWORD, type TestUser } from "./routes.js";

const TIMINGS: StoreTiming[] = ["at once", "later"];
const CASES = ADAPTERS.flatMap((adapter) => TIMINGS.map((timing) => ({ ...adapter, timing })));

/** What must never reach a client: the store's message and name, the address, a stack. */
const INTERNALS =
  /PostgresStore|PostgreSQL|ECONNREFUSED|127\.0\.0\.1|5499|getCounter|incrementCounter|Error|\n\s+at /;

function expectStoreUnavailable(res: BrowserResponse): void {
  expect(res.status, res.text).toBe(503);
  expect(res.headers["retry-after"]).toBe("5");
  expect(res.headers["cache-control"]).toBe("no-store");
  expect(res.text).toBe("The service is temporarily unavailable. Please try again in a moment.");
  expect(res.text).not.toMatch(INTERNALS);
}

/** A logged-in browser (fresh, remembered). */
async function loggedIn(app: AppClient): Promise<Browser> {
  const browser = new Browser(app);
  expect((await browser.login("alice", { remember: true })).status).toBe(200);
  return browser;
}

/**
 * Each path: the request whose handler meets the outage, whether the browser is logged in first, and
 * which store methods keep working (identification reads the session; an attempt may get further).
 */
interface OutagePath {
  name: string;
  method: "GET" | "POST";
  path: string;
  form?: Record<string, string>;
  loggedIn: boolean;
  sparing?: string[];
  /** Done to the browser just before the request. */
  before?(browser: Browser): void;
}

const RIGHT = { username: "alice", password: RIGHT_PASSWORD };
const HANDLER_ONLY = ["getSession"];

const PATHS: OutagePath[] = [
  {
    name: "attemptLogin, reading the failure counters",
    method: "POST",
    path: "/attempt",
    form: RIGHT,
    loggedIn: false,
  },
  {
    name: "attemptLogin, counting the attempt",
    method: "POST",
    path: "/attempt",
    form: { username: "alice", password: "wrong" },
    loggedIn: false,
    sparing: ["getCounter"],
  },
  {
    name: "attemptLogin, starting the session after the right password",
    method: "POST",
    path: "/attempt",
    form: RIGHT,
    loggedIn: false,
    sparing: ["getCounter", "incrementCounter"],
  },
  { name: "loginUser", method: "POST", path: "/login", form: { username: "alice" }, loggedIn: false },
  {
    name: "attemptReauth",
    method: "POST",
    path: "/reauth-attempt",
    form: { password: RIGHT_PASSWORD },
    loggedIn: true,
    sparing: HANDLER_ONLY,
  },
  { name: "confirmLogin", method: "POST", path: "/reauth", loggedIn: true, sparing: HANDLER_ONLY },
  { name: "logoutUser", method: "POST", path: "/logout", loggedIn: true, sparing: HANDLER_ONLY },
  { name: "listSessions", method: "GET", path: "/sessions", loggedIn: true, sparing: HANDLER_ONLY },
  {
    name: "revokeSession",
    method: "POST",
    path: "/sessions/revoke",
    form: { handle: "x".repeat(22) },
    loggedIn: true,
    sparing: HANDLER_ONLY,
  },
  {
    name: "revokeOtherSessions",
    method: "POST",
    path: "/sessions/revoke-others",
    loggedIn: true,
    sparing: HANDLER_ONLY,
  },
  {
    name: "afterPasswordChange",
    method: "POST",
    path: "/password-changed",
    loggedIn: true,
    sparing: HANDLER_ONLY,
  },
  {
    name: "manager.revokeUserSessions (an admin route)",
    method: "POST",
    path: "/admin/revoke",
    form: { id: "2" },
    loggedIn: true,
    sparing: HANDLER_ONLY,
  },
  {
    name: "restoring a remembered session (identification)",
    method: "GET",
    path: "/whoami",
    loggedIn: true,
    before: (browser) => browser.jar.delete("session"),
  },
];

describe.each(CASES)("$name adapter, store answering $timing", ({ build, timing }) => {
  let apps: AppClient[] = [];

  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
  });

  async function setup(appSetup: AppSetup = {}): Promise<{ env: TestEnv; app: AppClient }> {
    const env = createEnv({}, timing);
    const app = await build(env, appSetup);
    apps.push(app);
    return { env, app };
  }

  /** Sends `path`'s request with the store down (the CSRF token fetched before). */
  async function duringOutage(env: TestEnv, browser: Browser, path: OutagePath): Promise<BrowserResponse> {
    const _csrf = path.method === "POST" ? await browser.csrfToken() : undefined;
    path.before?.(browser);
    env.outage.sparing = new Set(path.sparing);
    env.outage.down = true;
    if (_csrf === undefined) return browser.get(path.path);
    return browser.post(path.path, { form: { ...path.form, _csrf } });
  }

  it.each(PATHS)("$name: 503 with Retry-After, and nothing internal in the body", async (path) => {
    const { env, app } = await setup();
    const browser = path.loggedIn ? await loggedIn(app) : new Browser(app);
    expectStoreUnavailable(await duringOutage(env, browser, path));
    env.outage.down = false;
    if (path.loggedIn) expect((await browser.whoami()).user).toBe("1");
  });

  it("answers an API client with the JSON 503", async () => {
    const { env, app } = await setup();
    const browser = await loggedIn(app);
    env.outage.sparing = new Set(["getSession"]);
    env.outage.down = true;
    const res = await browser.get("/sessions", { headers: { accept: "application/json" } });
    expect(res.status).toBe(503);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.json()).toEqual({
      error: "service_unavailable",
      message: "The service is temporarily unavailable. Please try again in a moment.",
    });
  });

  it("answers a handler's outage with onStoreUnavailable when given", async () => {
    const { env, app } = await setup({ customStoreUnavailable: true });
    const browser = new Browser(app);
    const _csrf = await browser.csrfToken();
    env.outage.down = true;
    const res = await browser.post("/attempt", { form: { username: "alice", password: "x", _csrf } });
    expect(res.status).toBe(503);
    expect(res.text).toBe("custom ERR_STORE_UNAVAILABLE");
  });

  it("answers the 503 before the app's own catch-all error handler, which still gets every other error", async () => {
    const { env, app } = await setup({ appErrorHandler: true });
    const browser = await loggedIn(app);
    const _csrf = await browser.csrfToken();
    env.outage.sparing = new Set(["getSession"]);
    env.outage.down = true;
    expectStoreUnavailable(await browser.post("/logout", { form: { _csrf } }));
    env.outage.down = false;
    const boom = await browser.get("/boom");
    expect(boom.status).toBe(500);
    expect(boom.text).toBe("app: Error: boom");
  });
});

describe.each(ADAPTERS)("$name adapter on a PostgresStore with nothing listening", ({ build }) => {
  let app: AppClient | undefined;
  let store: SessionStore | undefined;

  afterEach(async () => {
    await app?.close();
    await store?.close();
  });

  it("answers attemptLogin with 503 and no trace of the store (the issue's report)", async () => {
    const port = await closedPort();
    store = new PostgresStore({
      connectionString: `postgresql://postgres@127.0.0.1:${port}/test`,
      connectionTimeoutMillis: 500,
    });
    const env: TestEnv = {
      ...createEnv(),
      manager: new LoginManager<TestUser>({
        secret: TEST_SECRET,
        store,
        userLoader: (id) => [...USERS.values()].find((user) => user.id === id) ?? null,
      }),
    };
    app = await build(env);
    const browser = new Browser(app);
    const res = await browser.submit("/attempt", { username: "alice", password: RIGHT_PASSWORD });
    expectStoreUnavailable(res);
    expect(res.text).not.toContain(String(port));
  });
});

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}
