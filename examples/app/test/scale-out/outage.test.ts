/**
 * What the reference app does when Redis or PostgreSQL goes away mid-run and comes back: requests
 * that need the server get a clear 503 quickly (HTML page or JSON), never a crash, a 500 or a wrong
 * "logged out" / "logged in" answer; `/healthz` keeps answering; service resumes by itself.
 *
 * Redis is a throwaway redis-server of the test's own; PostgreSQL is taken away through a TCP proxy
 * in front of the shared server. The shared servers are never stopped.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { postgresConfig, redisUrl } from "../../../../test/helpers/services.js";
import { emailFor, PASSWORD, type TestBrowser, type TestResponse } from "../helpers.js";
import {
  type AppProcess,
  BalancedBrowser,
  createSchema,
  databaseUrl,
  deleteRedisPrefix,
  describeIfServices,
  startApp,
  summary,
  TcpProxy,
  ThrowawayRedis,
  timed,
  uniqueName,
  waitUntil,
} from "./support.js";

/** A 503 must come well within this (the settings below make the worst case about 2 s). */
const FAST_MS = 3000;

function expectServiceUnavailablePage(response: TestResponse, username?: string): void {
  expect(response.status, summary(response)).toBe(503);
  expect(response.headers["content-type"]).toMatch(/^text\/html/);
  expect(response.headers["retry-after"]).toBe("5");
  expect(response.headers["cache-control"]).toBe("no-store");
  expect(response.text).toContain("Temporarily unavailable");
  // Neither logged out (no log-in button) nor logged in (no name, no log-out form), no stack.
  expect(response.text).not.toMatch(/Log in|Log out|Register/);
  if (username) expect(response.text).not.toContain(username);
  expect(response.text).not.toMatch(/\n\s+at |Error:|ECONNREFUSED/);
  // Nothing of the store's error: its name, the server, an address.
  expect(response.text).not.toMatch(/PostgresStore|RedisStore|PostgreSQL|Redis|127\.0\.0\.1|::1|:\d{4,5}\b/);
}

async function expectServiceUnavailableJson(browser: TestBrowser, path: string): Promise<void> {
  const response = await browser.get(path, { accept: "application/json" });
  expect(response.status, summary(response)).toBe(503);
  expect(response.headers["content-type"]).toMatch(/^application\/json/);
  expect(response.body).toEqual({
    error: "service_unavailable",
    message: "The service is temporarily unavailable. Please try again in a moment.",
  });
}

async function healthz(app: AppProcess): Promise<{ ms: number; status: number; text: string }> {
  const { ms, value } = await timed(async () => {
    const response = await fetch(`${app.url}/healthz`);
    return { status: response.status, text: await response.text() };
  });
  return { ms, ...value };
}

/** Several requests while down: each a 503, the slowest reported. */
async function measure503(label: string, request: () => Promise<TestResponse>, count = 5): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const { ms, value } = await timed(request);
    expect(value.status, summary(value)).toBe(503);
    times.push(ms);
  }
  console.log(`[measured] ${label}: 503 in ${times.join(", ")} ms`);
  for (const ms of times) expect(ms).toBeLessThan(FAST_MS);
  return times;
}

await describeIfServices(["postgres"], "Redis goes down mid-run (own redis-server)", () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let redis: ThrowawayRedis;
  let app: AppProcess;

  beforeAll(async () => {
    schema = await createSchema("redis_down");
    redis = await ThrowawayRedis.start();
    app = await startApp({
      DATABASE_URL: databaseUrl(),
      DATABASE_SCHEMA: schema.name,
      REDIS_URL: redis.url,
      REDIS_KEY_PREFIX: "outage:",
      STORE_CONNECT_TIMEOUT_MS: "1000",
      STORE_TIMEOUT_MS: "1000",
    });
  }, 60_000);

  afterAll(async () => {
    const result = await app?.stop();
    expect(result?.code).toBe(0);
    await redis?.dispose();
    await schema?.drop();
  });

  it("answers 503 quickly while Redis is stopped, keeps /healthz, and resumes when it is back", async () => {
    const person = new BalancedBrowser([app.url]).on(0);
    await person.registerAndLogin("grace");
    expect((await person.get("/protected")).status).toBe(200);
    const visitor = new BalancedBrowser([app.url]).on(0);
    expect((await visitor.get("/login")).status).toBe(200);

    await redis.stop();

    const page = await person.get("/protected");
    expectServiceUnavailablePage(page, "grace");
    await measure503("Redis stopped, GET /protected (session cookie)", () => person.get("/protected"));
    await expectServiceUnavailableJson(person, "/protected");
    // Logging out cannot be done, and must not pretend it was.
    expectServiceUnavailablePage(await person.post("/logout"));
    // Logging in needs the failure counters: 503, not "wrong password".
    const login = await visitor.post("/login", { username: "grace", password: PASSWORD });
    expectServiceUnavailablePage(login);
    await measure503("Redis stopped, POST /login", () =>
      visitor.post("/login", { username: "grace", password: PASSWORD }),
    );
    const health = await healthz(app);
    expect(health).toMatchObject({ status: 200, text: "ok" });
    console.log(`[measured] Redis stopped, GET /healthz: ${health.ms} ms`);
    expect(app.alive()).toBe(true);

    await redis.start();
    const recovery = await waitUntil(async () => (await person.get("/protected")).status === 200);
    console.log(`[measured] Redis back: first 200 after ${recovery} ms (same session, no app restart)`);
    expect(recovery).toBeLessThan(5000);
    expect((await person.get("/protected")).text).toContain("grace");
    expect((await visitor.login("grace")).status).toBe(303);
    expect(app.stdout()).toMatch(/Redis unavailable; reconnecting in the background/);
    expect(app.stdout()).toMatch(/Redis connection restored/);
    expect(app.stderr()).toBe("");
  }, 60_000);

  it("answers 503 within STORE_TIMEOUT_MS while Redis hangs (SIGSTOP), and resumes on SIGCONT", async () => {
    const person = new BalancedBrowser([app.url]).on(0);
    await person.registerAndLogin("henry");
    redis.pause();
    try {
      expectServiceUnavailablePage(await person.get("/protected"), "henry");
      await measure503("Redis hung (SIGSTOP), GET /protected", () => person.get("/protected"), 3);
      expect((await healthz(app)).status).toBe(200);
    } finally {
      redis.resume();
    }
    const recovery = await waitUntil(async () => (await person.get("/protected")).status === 200);
    console.log(`[measured] Redis resumed (SIGCONT): first 200 after ${recovery} ms`);
    expect(app.alive()).toBe(true);
  }, 60_000);

  it("after a crash that lost the data, old cookies are simply logged out, and logging in works", async () => {
    const person = new BalancedBrowser([app.url]).on(0);
    await person.registerAndLogin("heidi");
    await redis.kill();
    expectServiceUnavailablePage(await person.get("/protected"), "heidi");
    // Nothing was saved since the last SHUTDOWN SAVE: heidi's session is gone with the crash.
    await redis.start();
    await waitUntil(async () => (await person.get("/protected")).status !== 503);
    const after = await person.get("/protected");
    expect(after.status).toBe(302);
    expect((await person.login("heidi")).status).toBe(303);
    expect((await person.get("/protected")).status).toBe(200);
    expect(app.alive()).toBe(true);
  }, 60_000);
});

await describeIfServices(["postgres"], "Redis unreachable when the app starts", () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let redis: ThrowawayRedis;
  let app: AppProcess;

  beforeAll(async () => {
    schema = await createSchema("redis_late");
    redis = await ThrowawayRedis.reserve();
  });

  afterAll(async () => {
    await app?.stop();
    await redis?.dispose();
    await schema?.drop();
  });

  it("starts anyway, answers 503 where Redis is needed, and serves once Redis appears", async () => {
    const { ms, value } = await timed(() =>
      startApp({
        DATABASE_URL: databaseUrl(),
        DATABASE_SCHEMA: schema.name,
        REDIS_URL: redis.url,
        STORE_CONNECT_TIMEOUT_MS: "500",
      }),
    );
    app = value;
    console.log(`[measured] start-up with Redis unreachable: listening after ${ms} ms`);
    expect((await healthz(app)).status).toBe(200);
    const person = new BalancedBrowser([app.url]).on(0);
    await person.get("/register");
    // Registering and logging in both need Redis: the registration limit and the login failure
    // counters live in the session store, and neither may run unthrottled (fail closed).
    expectServiceUnavailablePage(
      await person.post("/register", { username: "ivan", email: emailFor("ivan"), password: PASSWORD }),
    );
    expectServiceUnavailablePage(await person.post("/login", { username: "ivan", password: PASSWORD }));
    await redis.start();
    await waitUntil(
      async () =>
        (await person.post("/register", { username: "ivan", email: emailFor("ivan"), password: PASSWORD }))
          .status === 303,
    );
    const recovery = await waitUntil(async () => (await person.login("ivan")).status === 303);
    console.log(`[measured] Redis appeared: first successful login after ${recovery} ms`);
    expect((await person.get("/protected")).status).toBe(200);
  }, 60_000);
});

await describeIfServices(["postgres"], "PostgreSQL goes down mid-run (TCP proxy, no Redis)", () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let proxy: TcpProxy;
  let app: AppProcess;

  beforeAll(async () => {
    schema = await createSchema("pg_down");
    proxy = await TcpProxy.start(postgresConfig().port, postgresConfig().host);
    app = await startApp({
      DATABASE_URL: databaseUrl(proxy.port, "127.0.0.1"),
      DATABASE_SCHEMA: schema.name,
      STORE_CONNECT_TIMEOUT_MS: "1000",
      STORE_TIMEOUT_MS: "1000",
    });
  }, 60_000);

  afterAll(async () => {
    await proxy?.open();
    const result = await app?.stop();
    expect(result?.code).toBe(0);
    await proxy?.close();
    await schema?.drop();
  });

  it("answers 503 quickly while PostgreSQL refuses connections, and resumes when it is back", async () => {
    const person = new BalancedBrowser([app.url]).on(0);
    await person.registerAndLogin("judy");
    expect((await person.get("/protected")).status).toBe(200);
    const visitor = new BalancedBrowser([app.url]).on(0);
    await visitor.get("/register");

    await proxy.close();

    expectServiceUnavailablePage(await person.get("/protected"), "judy");
    await measure503("PostgreSQL refused, GET /protected (session cookie)", () => person.get("/protected"));
    await expectServiceUnavailableJson(person, "/protected");
    expectServiceUnavailablePage(await visitor.post("/login", { username: "judy", password: PASSWORD }));
    expectServiceUnavailablePage(
      await visitor.post("/register", { username: "kim", email: emailFor("kim"), password: PASSWORD }),
    );
    const health = await healthz(app);
    expect(health).toMatchObject({ status: 200, text: "ok" });
    expect(app.alive()).toBe(true);

    await proxy.open();
    const recovery = await waitUntil(async () => (await person.get("/protected")).status === 200);
    console.log(`[measured] PostgreSQL back (refused -> open): first 200 after ${recovery} ms`);
    expect(recovery).toBeLessThan(5000);
    expect(
      (await visitor.post("/register", { username: "kim", email: emailFor("kim"), password: PASSWORD }))
        .status,
    ).toBe(303);
    expect(app.stderr()).toBe("");
  }, 60_000);

  it("answers 503 within the timeouts when PostgreSQL stops answering (black hole), then resumes", async () => {
    const person = new BalancedBrowser([app.url]).on(0);
    await person.registerAndLogin("liam");
    proxy.pause();
    const { ms, value } = await timed(() => person.get("/protected"));
    expectServiceUnavailablePage(value, "liam");
    console.log(`[measured] PostgreSQL black-holed, GET /protected: 503 in ${ms} ms`);
    expect(ms).toBeLessThan(FAST_MS);
    await measure503("PostgreSQL black-holed, GET /protected (again)", () => person.get("/protected"), 3);
    expect((await healthz(app)).status).toBe(200);
    proxy.resume();
    const recovery = await waitUntil(async () => (await person.get("/protected")).status === 200);
    console.log(`[measured] PostgreSQL answering again: first 200 after ${recovery} ms`);
    expect(app.alive()).toBe(true);
  }, 60_000);
});

await describeIfServices(["postgres", "redis"], "user database down, sessions (Redis) up", () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let proxy: TcpProxy;
  let app: AppProcess;
  const prefix = `${uniqueName("so_users_down")}:`;

  beforeAll(async () => {
    schema = await createSchema("users_down");
    proxy = await TcpProxy.start(postgresConfig().port, postgresConfig().host);
    app = await startApp({
      DATABASE_URL: databaseUrl(proxy.port, "127.0.0.1"),
      DATABASE_SCHEMA: schema.name,
      REDIS_URL: redisUrl(),
      REDIS_KEY_PREFIX: prefix,
      STORE_CONNECT_TIMEOUT_MS: "1000",
    });
  }, 60_000);

  afterAll(async () => {
    await proxy?.open();
    await app?.stop();
    await proxy?.close();
    await schema?.drop();
    await deleteRedisPrefix(redisUrl(), prefix);
  });

  it("answers 503 for a valid session whose user cannot be loaded, and for login and register", async () => {
    const person = new BalancedBrowser([app.url]).on(0);
    await person.registerAndLogin("mallory");
    const visitor = new BalancedBrowser([app.url]).on(0);
    await visitor.get("/register");
    await proxy.close();
    expectServiceUnavailablePage(await person.get("/protected"), "mallory");
    await expectServiceUnavailableJson(person, "/protected");
    expectServiceUnavailablePage(await visitor.post("/login", { username: "mallory", password: PASSWORD }));
    expectServiceUnavailablePage(
      await visitor.post("/register", { username: "nina", email: emailFor("nina"), password: PASSWORD }),
    );
    await proxy.open();
    await waitUntil(async () => (await person.get("/protected")).status === 200);
    expect((await visitor.login("mallory")).status).toBe(303);
  }, 60_000);
});
