/**
 * The reference app, on each framework, when the session store fails inside a route handler (the
 * session was read, then the next call failed): every page that writes or reads the store answers the
 * app's 503 page, never a 500, "wrong password" or "logged out", and nothing in the answer comes from
 * the store's error. The failing calls go to a real `PostgresStore` with nothing listening, so the
 * errors are the driver's own (`PostgresStore.getCounter: PostgreSQL is unavailable (connect
 * ECONNREFUSED 127.0.0.1:<port>)`). Outages that start before the session is read are in
 * `scale-out/outage.test.ts`.
 */
import { createServer } from "node:net";
import type { SessionStore } from "login-manager";
import { PostgresStore } from "login-manager/stores/postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  emailFor,
  FRAMEWORKS,
  PASSWORD,
  startTestApp,
  type TestApp,
  TestBrowser,
  type TestResponse,
} from "./helpers.js";

/** Calls that keep working: reading the session, so the request gets past identification. */
const STILL_WORKING = new Set(["constructor", "getSession", "close", "initialize"]);

/** A loopback port nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Sends the store's calls (all but {@link STILL_WORKING}, or only `only`) to `unreachable` until the
 * returned function restores them.
 */
function failCalls(store: SessionStore, unreachable: SessionStore, only?: string[]): () => void {
  const target = store as unknown as Record<string, unknown>;
  const names = only ?? methodNames(store).filter((name) => !STILL_WORKING.has(name));
  const saved = names.map((name) => [name, target[name]] as const);
  for (const name of names) {
    const method = (unreachable as unknown as Record<string, (...args: unknown[]) => unknown>)[name];
    target[name] = (...args: unknown[]) => method?.apply(unreachable, args);
  }
  return () => {
    for (const [name, value] of saved) target[name] = value;
  };
}

function methodNames(store: SessionStore): string[] {
  const names = new Set<string>();
  for (
    let proto: object | null = store;
    proto && proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const name of Object.getOwnPropertyNames(proto)) {
      if (typeof (store as unknown as Record<string, unknown>)[name] === "function") names.add(name);
    }
  }
  return [...names];
}

describe.each(FRAMEWORKS)("%s", (framework) => {
  let app: TestApp;
  let port: number;
  let unreachable: PostgresStore;
  let counter = 0;
  /** Requests sent during an outage so far. */
  let outages = 0;

  beforeAll(async () => {
    app = await startTestApp({ framework });
    port = await closedPort();
    unreachable = new PostgresStore({
      connectionString: `postgresql://postgres@127.0.0.1:${port}/test`,
      connectionTimeoutMillis: 500,
    });
  });
  afterAll(async () => {
    await unreachable?.close();
    await app?.close();
  });

  function expectUnavailablePage(response: TestResponse, username?: string): void {
    expect(response.status, response.text?.slice(0, 300)).toBe(503);
    expect(response.headers["retry-after"]).toBe("5");
    expect(response.headers["cache-control"]).toBe("no-store");
    expect(response.headers["content-type"]).toMatch(/^text\/html/);
    expect(response.text).toContain("Temporarily unavailable");
    expect(response.text).not.toMatch(/Log in|Log out|Register/);
    if (username) expect(response.text).not.toContain(username);
    expect(response.text).not.toMatch(
      /PostgresStore|PostgreSQL|ECONNREFUSED|127\.0\.0\.1|StoreError|Error:|\n\s+at /,
    );
    expect(response.text).not.toContain(String(port));
  }

  /** A new user, logged in (fresh), with the account page loaded (its CSRF token in hand). */
  async function member(remember = false): Promise<{ browser: TestBrowser; username: string }> {
    counter += 1;
    const username = `outage${counter}`;
    const browser = new TestBrowser(app.baseUrl);
    await browser.registerAndLogin(username, PASSWORD, remember);
    expect((await browser.get("/account")).status).toBe(200);
    return { browser, username };
  }

  /** Runs `request` with the store's calls failing, then checks the page and that nothing was lost. */
  async function duringOutage(request: () => Promise<TestResponse>, only?: string[]): Promise<TestResponse> {
    outages += 1;
    const restore = failCalls(app.services.store, unreachable, only);
    try {
      return await request();
    } finally {
      restore();
    }
  }

  it("POST /login: the failure counters cannot be read", async () => {
    const { username } = await member();
    const visitor = new TestBrowser(app.baseUrl);
    await visitor.get("/login");
    expectUnavailablePage(await duringOutage(() => visitor.post("/login", { username, password: PASSWORD })));
    expect((await visitor.login(username)).status).toBe(303);
  });

  it("POST /register: the registration limit cannot be counted", async () => {
    const visitor = new TestBrowser(app.baseUrl);
    await visitor.get("/register");
    expectUnavailablePage(
      await duringOutage(() =>
        visitor.post("/register", {
          username: "outage-new",
          email: emailFor("outage-new"),
          password: PASSWORD,
        }),
      ),
    );
  });

  it.each([
    ["POST /reauth (attemptReauth)", "/reauth", { password: PASSWORD }],
    ["POST /logout (logoutUser)", "/logout", {}],
    ["POST /account/password (the current password's check)", "/account/password", {}],
    ["POST /account/sessions/revoke-others (revokeOtherSessions)", "/account/sessions/revoke-others", {}],
    ["POST /account/sessions/revoke (revokeSession)", "/account/sessions/revoke", { handle: "x".repeat(22) }],
  ] as const)("%s", async (_name, path, fields) => {
    const { browser, username } = await member();
    const form: Record<string, string> = { ...fields };
    if (path === "/account/password") {
      Object.assign(form, { current_password: PASSWORD, new_password: `${PASSWORD} renewed` });
    }
    expectUnavailablePage(await duringOutage(() => browser.post(path, form)), username);
    const after = await browser.get("/protected");
    expect(after.status).toBe(200);
    expect(after.text).toContain(username);
  });

  it("GET /account (listSessions)", async () => {
    const { browser, username } = await member();
    expectUnavailablePage(await duringOutage(() => browser.get("/account")), username);
    const api = await duringOutage(() => browser.get("/account", { accept: "application/json" }));
    expect(api.status).toBe(503);
    expect(api.body).toEqual({
      error: "service_unavailable",
      message: "The service is temporarily unavailable. Please try again in a moment.",
    });
  });

  it("GET /protected restoring a remembered session (identification)", async () => {
    const { browser, username } = await member(true);
    browser.closeBrowser();
    expectUnavailablePage(
      await duringOutage(() => browser.get("/protected"), ["getRememberToken", "swapRememberValidator"]),
      username,
    );
    expect((await browser.get("/protected")).status).toBe(200);
  });

  it("logs each outage as one warning, never as a failed request", () => {
    const entries = app.logEntries();
    expect(entries.filter((entry) => entry.msg === "request failed")).toEqual([]);
    expect(entries.filter((entry) => entry.kind === "unavailable")).toHaveLength(outages);
  });
});
