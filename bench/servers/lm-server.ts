/**
 * A login-manager app under test: one framework, one session store, one process.
 *
 *   GET  /hello      bare route, mounted before login-manager (the baseline)
 *   GET  /protected  loginRequired, reads currentUser()
 *   GET  /csrf       a CSRF token (JSON) and its cookie, for the login form
 *   POST /login      JSON {username, password}: attemptLogin + argon2id verify (login-manager/password);
 *                    username "*" cycles over the 64 users
 *   GET  /__stats    event-loop delay (monitorEventLoopDelay) and store call counts since the last reset
 *
 * Configured by environment: BENCH_FRAMEWORK (express|fastify|hono), BENCH_STORE
 * (memory|sqlite|redis|postgres), BENCH_SQLITE_DRIVER (node:sqlite, the default, or better-sqlite3),
 * BENCH_DATA_DIR (SQLite file), BENCH_PG_URL, BENCH_REDIS_URL, BENCH_REDIS_CLIENT (ioredis, the default,
 * ioredis-5 or node-redis),
 * BENCH_RENICE_WORKERS=1 (lower the priority of libuv's thread pool, see bench/README in BENCHMARKS.md),
 * BENCH_LOOP_DELAY=0 (no event-loop delay monitor: its 2 ms timer does work per unit of time, not per
 * request, which `npm run bench:instr` must not count), BENCH_NO_TOUCH=1 (touch interval 6 h, idle
 * timeout 12 h: no activity write while the instrument runs, where one would come every 60 s of wall
 * time, at a request that depends on how fast valgrind runs), BENCH_COUNT_STORE=0 (no store-call
 * counting wrapper: `/__stats` then reports no store calls).
 * Prints one JSON line {"ready":true,"port":N} on stdout when listening on 127.0.0.1.
 */
import { readdirSync, readFileSync } from "node:fs";
import type { Server } from "node:http";
import { setPriority } from "node:os";
import { join } from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type * as Core from "../../src/index.js";
import type { AuthContext, LoginManager, SessionStore } from "../../src/index.js";
import type * as Password from "../../src/password/index.js";
import type { RedisStoreClient } from "../../src/stores/redis/index.js";
import { expressWithHello } from "../lib/bare-apps.js";
import { countingStore } from "../lib/counting-store.js";
import { importLib } from "../lib/lib.js";

const { currentUser, LoginManager: Manager, UserMixin } = await importLib<typeof Core>("index");
const { createPasswordHasher } = await importLib<typeof Password>("password/index");

export class BenchUser extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
    readonly passwordHash: string,
  ) {
    super();
  }
}

export const PASSWORD = "correct horse battery staple";
const framework = process.env.BENCH_FRAMEWORK ?? "express";
const storeKind = process.env.BENCH_STORE ?? "memory";
/** BENCH_ASYNC_CONTEXT=0: the manager runs with asyncContext: false and /protected reads the request's auth. */
const asyncContext = process.env.BENCH_ASYNC_CONTEXT !== "0";

const hasher = createPasswordHasher();
const passwordHash = await hasher.hash(PASSWORD);
const users = new Map<string, BenchUser>();
for (let i = 0; i < 64; i++) users.set(String(i), new BenchUser(String(i), `user${i}`, passwordHash));
const byName = new Map([...users.values()].map((user) => [user.name, user]));

const closers: (() => Promise<unknown>)[] = [];
const store = await makeStore(storeKind);
// BENCH_COUNT_STORE=0 (bench:instr): the store itself, without the counting wrapper, whose forwarding
// call is the benchmark's cost, not the library's.
const counter =
  process.env.BENCH_COUNT_STORE === "0"
    ? { store, take: () => ({ calls: 0, reads: 0, writes: 0, byMethod: {} }) }
    : countingStore(store);
const manager: LoginManager<BenchUser> = new Manager<BenchUser>({
  secret: "bench-secret-bench-secret-bench-secret-0123456789",
  store: counter.store,
  userLoader: (id) => users.get(id) ?? null,
  asyncContext,
  ...(process.env.BENCH_NO_TOUCH === "1"
    ? { session: { touchIntervalSeconds: 21_600, idleTimeoutSeconds: 43_200 } }
    : {}),
});

const eld = monitorEventLoopDelay({ resolution: 2 });
if (process.env.BENCH_LOOP_DELAY !== "0") eld.enable();

/** The body of GET /__stats (and resets the counters when asked). */
function stats(reset: boolean): unknown {
  const body = {
    framework,
    store: storeKind,
    eventLoopDelayMs: {
      mean: eld.mean / 1e6,
      p50: eld.percentile(50) / 1e6,
      p99: eld.percentile(99) / 1e6,
      max: eld.max / 1e6,
    },
    storeCalls: counter.take(),
    protectedServed,
    memory: process.memoryUsage(),
  };
  protectedServed = 0;
  if (reset) eld.reset();
  return body;
}

let nextStormUser = 0;

/**
 * Username "*" takes the next of the 64 users in turn: a login storm is many people logging in, and
 * attempts on one account are serialised by design (one password check per account at a time).
 */
function resolveUsername(requested: string): string {
  if (requested !== "*") return requested;
  nextStormUser = (nextStormUser + 1) % users.size;
  return `user${nextStormUser}`;
}

async function login(auth: AuthContext<BenchUser>, body: unknown): Promise<boolean> {
  const { username: requested, password } = (body ?? {}) as { username?: unknown; password?: unknown };
  if (typeof requested !== "string" || typeof password !== "string") return false;
  const username = resolveUsername(requested);
  const result = await auth.attemptLogin({
    account: username,
    verify: async () => {
      const user = byName.get(username);
      if (!user) return hasher.verifyDummy(password).then(() => null);
      return (await hasher.verify(user.passwordHash, password)) ? user : null;
    },
  });
  return result.ok;
}

let protectedServed = 0;

function greeting(auth: AuthContext<BenchUser>): string {
  protectedServed++;
  const user = asyncContext ? currentUser<BenchUser>() : auth.user;
  return user.isAnonymous ? "Hello, stranger!" : `Hello, ${user.name}!`;
}

async function makeStore(kind: string): Promise<SessionStore> {
  switch (kind) {
    case "memory": {
      const { MemoryStore } =
        await importLib<typeof import("../../src/stores/memory/index.js")>("stores/memory/index");
      return new MemoryStore();
    }
    case "sqlite": {
      const { SqliteStore } =
        await importLib<typeof import("../../src/stores/sqlite/index.js")>("stores/sqlite/index");
      const dir = process.env.BENCH_DATA_DIR ?? ".";
      const driver = process.env.BENCH_SQLITE_DRIVER === "better-sqlite3" ? "better-sqlite3" : "node:sqlite";
      const store = new SqliteStore({ database: join(dir, `sessions-${framework}.db`), driver });
      await store.initialize();
      closers.push(() => store.close());
      return store;
    }
    case "postgres": {
      const { PostgresStore } =
        await importLib<typeof import("../../src/stores/postgres/index.js")>("stores/postgres/index");
      const store = new PostgresStore({
        connectionString: process.env.BENCH_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test",
        tablePrefix: "lm_bench_",
      });
      closers.push(() => store.close());
      return store;
    }
    case "redis": {
      const { RedisStore } =
        await importLib<typeof import("../../src/stores/redis/index.js")>("stores/redis/index");
      const client = await redisClient(process.env.BENCH_REDIS_CLIENT ?? "ioredis");
      closers.push(async () => client.quit());
      return new RedisStore({ client, keyPrefix: `lm-bench:${framework}:` });
    }
    default:
      throw new Error(`unknown store ${kind}`);
  }
}

/** BENCH_REDIS_CLIENT: ioredis (6, the default), ioredis-5, or node-redis (the `redis` package). */
async function redisClient(kind: string): Promise<RedisStoreClient & { quit(): Promise<unknown> }> {
  const url = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
  if (kind === "node-redis") {
    const { createClient } = await import("redis");
    const client = createClient({ url });
    await client.connect();
    return client as unknown as RedisStoreClient & { quit(): Promise<unknown> };
  }
  const options = { enableOfflineQueue: true, maxRetriesPerRequest: 1 };
  if (kind === "ioredis-5") {
    const { Redis } = await import("ioredis-5");
    return new Redis(url, options) as unknown as RedisStoreClient & { quit(): Promise<unknown> };
  }
  const { Redis } = await import("ioredis");
  return new Redis(url, options);
}

async function expressServer(): Promise<Server> {
  const { initApp, loginRequired } =
    await importLib<typeof import("../../src/express/index.js")>("express/index");
  const app = await expressWithHello();
  app.get("/__stats", (req, res) => {
    res.json(stats(req.query.reset === "1"));
  });
  initApp(app, manager);
  app.get("/csrf", (req, res) => {
    res.json({ token: req.auth.csrfToken() });
  });
  app.post("/login", async (req, res) => {
    const ok = await login(req.auth as unknown as AuthContext<BenchUser>, req.body);
    res.status(ok ? 200 : 401).send(ok ? "ok" : "no");
  });
  app.get("/protected", loginRequired, (req, res) => {
    res.send(greeting(req.auth as unknown as AuthContext<BenchUser>));
  });
  return new Promise((resolve) => {
    const server = app.listen(0, "127.0.0.1", () => resolve(server));
  });
}

async function fastifyServer(): Promise<Server> {
  const { default: Fastify } = await import("fastify");
  const adapter = await importLib<Record<string, unknown>>("fastify/index");
  const app = Fastify({ logger: false });
  app.get("/hello", async () => "Hello, World!");
  app.get("/__stats", async (request) => stats((request.query as { reset?: string }).reset === "1"));
  await app.register(async (scope) => {
    // biome-ignore lint/suspicious/noExplicitAny: the adapter's plugin signature is checked by its own tests
    await scope.register(adapter.loginManagerPlugin as any, { manager });
    // biome-ignore lint/suspicious/noExplicitAny: idem
    const loginRequired = adapter.loginRequired as any;
    scope.get("/csrf", async (request) => ({
      token: (request as unknown as { auth: AuthContext<BenchUser> }).auth.csrfToken(),
    }));
    scope.post("/login", async (request, reply) => {
      const ok = await login((request as unknown as { auth: AuthContext<BenchUser> }).auth, request.body);
      reply.code(ok ? 200 : 401);
      return ok ? "ok" : "no";
    });
    scope.get("/protected", { preHandler: loginRequired }, async (request) =>
      greeting((request as unknown as { auth: AuthContext<BenchUser> }).auth),
    );
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  return app.server;
}

async function honoServer(): Promise<Server> {
  const { Hono } = await import("hono");
  const { serve } = await import("@hono/node-server");
  const adapter = await importLib<Record<string, unknown>>("hono/index");
  // biome-ignore lint/suspicious/noExplicitAny: the adapter's middleware types are checked by its own tests
  const loginManager = adapter.loginManager as (m: LoginManager<BenchUser>) => any;
  // biome-ignore lint/suspicious/noExplicitAny: idem
  const loginRequired = adapter.loginRequired as any;
  const app = new Hono();
  app.get("/hello", (c) => c.text("Hello, World!"));
  app.get("/__stats", (c) => c.json(stats(c.req.query("reset") === "1")));
  const authed = new Hono();
  authed.use(loginManager(manager));
  authed.get("/csrf", (c) =>
    c.json({ token: (c.var as unknown as { auth: AuthContext<BenchUser> }).auth.csrfToken() }),
  );
  authed.post("/login", async (c) => {
    const body = await c.req.json().catch(() => null);
    const ok = await login((c.var as unknown as { auth: AuthContext<BenchUser> }).auth, body);
    return c.text(ok ? "ok" : "no", ok ? 200 : 401);
  });
  authed.get("/protected", loginRequired, (c) =>
    c.text(greeting(c.get("auth") as unknown as AuthContext<BenchUser>)),
  );
  app.route("/", authed);
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve(server as Server),
    );
  });
}

/** CPU time (user + system ticks) of each thread of this process. */
function threadTicks(): Map<string, number> {
  const ticks = new Map<string, number>();
  for (const tid of readdirSync("/proc/self/task")) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      ticks.set(tid, Number(fields[11]) + Number(fields[12]));
    } catch {
      // thread ended
    }
  }
  return ticks;
}

/**
 * Gives libuv's worker threads (where argon2 runs) the lowest CPU priority (nice 19), so the event
 * loop thread wins the CPU whenever it has work. Node 20 does not name the pool's threads: they are
 * found as the threads that burn CPU while a burst of hashes runs.
 */
async function reniceWorkerThreads(): Promise<number> {
  const before = threadTicks();
  await Promise.all(Array.from({ length: 16 }, () => hasher.verify(passwordHash, PASSWORD)));
  const after = threadTicks();
  let count = 0;
  for (const [tid, ticks] of after) {
    if (tid === String(process.pid) || ticks - (before.get(tid) ?? 0) < 2) continue;
    setPriority(Number(tid), 19);
    count++;
  }
  return count;
}

const server =
  framework === "express"
    ? await expressServer()
    : framework === "fastify"
      ? await fastifyServer()
      : await honoServer();
server.keepAliveTimeout = 60_000;
const address = server.address();
const port = typeof address === "object" && address ? address.port : 0;
// Start the thread pool (so its threads exist and can be reniced) before announcing readiness.
await hasher.verify(passwordHash, PASSWORD);
const reniced = process.env.BENCH_RENICE_WORKERS === "1" ? await reniceWorkerThreads() : 0;
process.stdout.write(`${JSON.stringify({ ready: true, port, pid: process.pid, reniced })}\n`);

async function shutdown(): Promise<void> {
  server.close();
  server.closeAllConnections?.();
  for (const close of closers) await close().catch(() => undefined);
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
