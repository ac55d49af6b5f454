/**
 * `npm run bench`: the whole benchmark (see BENCHMARKS.md for the method), bounded in time.
 * `npm run bench:smoke` (or `--smoke`): one tiny round of every part, no apt installs, writing to a
 * temporary directory unless BENCH_OUT_DIR is set.
 *
 * Settings (environment): BENCH_DURATION_S, BENCH_ROUNDS, BENCH_CONNECTIONS, BENCH_PARTS ("1,2,3,4"),
 * BENCH_FRAMEWORKS, BENCH_SCALE_N, BENCH_STORM_RATE, BENCH_OUT_DIR, BENCH_NO_APT=1, BENCH_CPU_PROF=dir,
 * BENCH_PG_URL, BENCH_REDIS_URL, BENCH_NODE (another Node binary for every Node process under test;
 * the report names its version; native addons such as better-sqlite3 must be built for it).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { haveWrk, type LoadOptions, median, runLoad, runWrk } from "./lib/load.js";
import {
  freePort,
  nodeUnderTest,
  processTreeCpuMs,
  runNodeJson,
  type ServerHandle,
  startCommandServer,
  startNodeServer,
} from "./lib/procs.js";
import { writeReport } from "./lib/report.js";
import type {
  BenchResults,
  LoadSample,
  Part1Result,
  Part2Result,
  Part3Result,
  Part4Result,
  Skipped,
} from "./lib/types.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const smoke = process.argv.includes("--smoke") || process.env.BENCH_SMOKE === "1";
const env = process.env;
const config = {
  smoke,
  durationS: Number(env.BENCH_DURATION_S ?? (smoke ? 0.5 : 4)),
  warmupS: Number(env.BENCH_WARMUP_S ?? (smoke ? 0 : 1)),
  rounds: Number(env.BENCH_ROUNDS ?? (smoke ? 1 : 3)),
  connections: Number(env.BENCH_CONNECTIONS ?? (smoke ? 4 : 50)),
  parts: (env.BENCH_PARTS ?? "1,2,3,4").split(",").map(Number),
  frameworks: (env.BENCH_FRAMEWORKS ?? "express,fastify,hono").split(","),
  stores: (env.BENCH_STORES ?? (smoke ? "memory" : "memory,sqlite,redis,postgres")).split(","),
  scaleN: Number(env.BENCH_SCALE_N ?? (smoke ? 2000 : 1_000_000)),
  scaleLookups: Number(env.BENCH_LOOKUPS ?? (smoke ? 100 : 5000)),
  stormRate: Number(env.BENCH_STORM_RATE ?? (smoke ? 200 : 2000)),
  stormLoginConnections: Number(env.BENCH_STORM_LOGIN_CONNECTIONS ?? (smoke ? 2 : 8)),
  stormAuthConnections: Number(env.BENCH_STORM_AUTH_CONNECTIONS ?? (smoke ? 4 : 20)),
  apt: !smoke && env.BENCH_NO_APT !== "1",
  loadGenerator: env.BENCH_LOADGEN ?? "auto",
  lib: env.BENCH_LIB === "src" || (smoke && env.BENCH_LIB !== "dist") ? "src" : "dist",
  pgUrl: env.BENCH_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test",
  redisUrl: env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379",
  cpuProfDir: env.BENCH_CPU_PROF ? resolve(env.BENCH_CPU_PROF) : undefined,
};
const outDir = env.BENCH_OUT_DIR
  ? resolve(env.BENCH_OUT_DIR)
  : smoke
    ? mkdtempSync(join(tmpdir(), "lm-bench-smoke-out-"))
    : root;
const dataDir = mkdtempSync(join(tmpdir(), "lm-bench-data-"));
const UA = "lm-bench/1.0";
const started = Date.now();
const skipped: Skipped[] = [];

function log(message: string): void {
  const t = ((Date.now() - started) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[bench ${t}s] ${message}\n`);
}

function skip(what: string, why: string): false {
  skipped.push({ what, why });
  log(`SKIPPED ${what}: ${why}`);
  return false;
}

// ---------------------------------------------------------------------------------------------
// Environment: services, adapters, peers

async function probePostgres(): Promise<boolean> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: config.pgUrl, connectionTimeoutMillis: 2000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probeRedis(): Promise<boolean> {
  const { Redis } = await import("ioredis");
  const client = new Redis(config.redisUrl, {
    lazyConnect: true,
    connectTimeout: 2000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/** Debian's wrk, installed with apt-get when missing (not in smoke runs); else autocannon. */
function chooseLoadGenerator(): "wrk" | "autocannon" {
  if (config.loadGenerator === "autocannon") return "autocannon";
  if (haveWrk()) return "wrk";
  if (config.apt && spawnSync("sh", ["-c", "command -v apt-get"]).status === 0) {
    log("installing wrk with apt-get ...");
    spawnSync("apt-get", ["update", "-qq"], { stdio: "ignore", timeout: 180_000 });
    spawnSync("apt-get", ["install", "-y", "-qq", "wrk"], {
      stdio: "ignore",
      timeout: 300_000,
      env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
    });
    if (spawnSync("wrk", ["--version"]).error === undefined) return "wrk";
  }
  if (config.loadGenerator === "wrk") throw new Error("BENCH_LOADGEN=wrk but wrk is not installed");
  skip("wrk", "not installed and apt installs are off or failed: parts 1 and 2 use autocannon instead");
  return "autocannon";
}

/** Debian's gunicorn and Flask-Login, installed with apt-get when missing (not in smoke runs). */
function ensureFlask(): string | null {
  const gunicorn = "/usr/bin/gunicorn";
  const haveFlask = () =>
    existsSync(gunicorn) && spawnSync("/usr/bin/python3", ["-c", "import flask_login"]).status === 0;
  if (haveFlask()) return gunicorn;
  if (!config.apt) {
    skip(
      "Flask-Login peer",
      "python3-flask-login/gunicorn not installed and apt installs are off (smoke or BENCH_NO_APT)",
    );
    return null;
  }
  if (spawnSync("sh", ["-c", "command -v apt-get"]).status !== 0) {
    skip("Flask-Login peer", "apt-get is not available on this machine");
    return null;
  }
  log("installing python3-flask-login and gunicorn with apt-get ...");
  const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "ignore", timeout: 180_000 });
  const install = spawnSync("apt-get", ["install", "-y", "-qq", "python3-flask-login", "gunicorn"], {
    stdio: "ignore",
    timeout: 300_000,
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (update.status !== 0 || install.status !== 0 || !haveFlask()) {
    skip("Flask-Login peer", "apt-get install python3-flask-login gunicorn failed");
    return null;
  }
  return gunicorn;
}

function versions(): Record<string, string> {
  const out: Record<string, string> = { node: process.version };
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string };
  out["login-manager"] = pkg.version;
  for (const name of [
    "express",
    "fastify",
    "hono",
    "@hono/node-server",
    "better-sqlite3",
    "pg",
    "ioredis",
    "redis",
    "@node-rs/argon2",
    "autocannon",
    "express-session",
    "passport",
    "connect-redis",
    "better-auth",
  ]) {
    try {
      out[name] = (
        JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as {
          version: string;
        }
      ).version;
    } catch {
      out[name] = "not installed";
    }
  }
  const probe = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
    } catch {
      return "not available";
    }
  };
  if (nodeUnderTest() !== process.execPath)
    out["node under test (BENCH_NODE)"] = probe(nodeUnderTest(), ["--version"]);
  out.postgresql = probe("psql", [config.pgUrl, "-Atc", "SHOW server_version"]);
  out.redis =
    probe("redis-cli", ["-u", config.redisUrl, "INFO", "server"]).match(/redis_version:(\S+)/)?.[1] ??
    "not available";
  out["python3 (Debian)"] = probe("/usr/bin/python3", ["--version"]).replace("Python ", "");
  out.flask = probe("/usr/bin/python3", ["-c", "import flask; print(flask.__version__)"]);
  out["flask-login"] = probe("/usr/bin/python3", [
    "-c",
    "import flask_login; print(flask_login.__version__)",
  ]);
  out.gunicorn = probe("/usr/bin/python3", ["-c", "import gunicorn; print(gunicorn.__version__)"]);
  return out;
}

function machine(): BenchResults["meta"]["machine"] {
  const run = (cmd: string, args: string[]) => {
    try {
      return execFileSync(cmd, args, { encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  };
  return {
    nproc: Number(run("nproc", [])) || availableParallelism(),
    cpuModel: cpus()[0]?.model ?? "unknown",
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    kernel: run("uname", ["-sr"]),
    loadAverageAtStart: run("cat", ["/proc/loadavg"]),
  };
}

// ---------------------------------------------------------------------------------------------
// HTTP helpers

function cookiePairs(response: Response): string[] {
  return response.headers.getSetCookie().map((line) => line.split(";")[0] as string);
}

function pick(pairs: string[], name: string): string | undefined {
  return pairs.find((pair) => pair.startsWith(`${name}=`) && pair.length > name.length + 1);
}

interface Login {
  cookie: string;
}

/** Logs user0 in on a login-manager server the way a browser would: CSRF token, then the form. */
async function lmLogin(
  base: string,
  username = "user0",
): Promise<Login & { csrf: { cookie: string; token: string } }> {
  const csrfResponse = await fetch(`${base}/csrf`, { headers: { "user-agent": UA } });
  const { token } = (await csrfResponse.json()) as { token: string };
  const csrfCookie = pick(cookiePairs(csrfResponse), "csrf");
  if (!csrfCookie) throw new Error(`${base}: no csrf cookie`);
  const response = await fetch(`${base}/login`, {
    method: "POST",
    headers: {
      "user-agent": UA,
      "content-type": "application/json",
      cookie: csrfCookie,
      "x-csrf-token": token,
      "sec-fetch-site": "same-origin",
    },
    body: JSON.stringify({ username, password: "correct horse battery staple" }),
  });
  const text = await response.text();
  const session = pick(cookiePairs(response), "session");
  if (!response.ok || !session) throw new Error(`${base}: login failed (${response.status} ${text})`);
  return { cookie: session, csrf: { cookie: csrfCookie, token } };
}

async function peerLogin(base: string, cookieName: string): Promise<Login> {
  const response = await fetch(`${base}/login`, {
    method: "POST",
    headers: { "user-agent": UA, "content-type": "application/json" },
    body: JSON.stringify({ username: "user0", password: "correct horse battery staple" }),
  });
  const text = await response.text();
  const cookie = pick(cookiePairs(response), cookieName);
  if (!response.ok || !cookie) throw new Error(`${base}: login failed (${response.status} ${text})`);
  return { cookie };
}

async function checkProtected(base: string, cookie: string): Promise<void> {
  const response = await fetch(`${base}/protected`, { headers: { "user-agent": UA, cookie } });
  const text = await response.text();
  if (response.status !== 200 || !text.startsWith("Hello, user0")) {
    throw new Error(`${base}/protected answered ${response.status} ${JSON.stringify(text.slice(0, 80))}`);
  }
}

async function getStats(base: string, reset: boolean): Promise<Record<string, unknown> | undefined> {
  try {
    const response = await fetch(`${base}/__stats${reset ? "?reset=1" : ""}`);
    return (await response.json()) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------
// Parts 1 and 2: throughput targets, interleaved round by round

interface Target {
  id: string;
  group: "lm" | "peer";
  label: string;
  framework: string;
  store: string;
  route: "bare" | "auth";
  server: ServerHandle;
  path: string;
  headers: Record<string, string>;
  stats: boolean;
}

const servers: ServerHandle[] = [];

async function lmServer(
  framework: string,
  store: string,
  extraEnv: Record<string, string> = {},
): Promise<ServerHandle> {
  const name = `lm-${framework}-${store}${extraEnv.BENCH_RENICE_WORKERS === "1" ? "-reniced" : ""}${extraEnv.BENCH_ASYNC_CONTEXT === "0" ? "-noctx" : ""}`;
  const server = await startNodeServer(
    name,
    join(root, "bench/servers/lm-server.ts"),
    {
      BENCH_FRAMEWORK: framework,
      BENCH_STORE: store,
      BENCH_DATA_DIR: dataDir,
      BENCH_PG_URL: config.pgUrl,
      BENCH_REDIS_URL: config.redisUrl,
      ...extraEnv,
    },
    { cpuProfDir: config.cpuProfDir },
  );
  servers.push(server);
  return server;
}

async function measure(target: Target, durationS: number): Promise<LoadSample> {
  const base = `http://127.0.0.1:${target.server.port}`;
  if (target.stats) await getStats(base, true);
  const cpuBefore = processTreeCpuMs(target.server.pid);
  const load = await (config.loadGenerator === "wrk" ? runWrk : runLoad)({
    url: `${base}${target.path}`,
    durationS,
    connections: config.connections,
    headers: target.headers,
  });
  // Requests still in flight when autocannon stopped finish on the server; let them, so the
  // store calls they made are matched by the requests they count as.
  if (target.stats) await new Promise((resolve) => setTimeout(resolve, 250));
  const stats = target.stats ? await getStats(base, false) : undefined;
  const cpuMs = processTreeCpuMs(target.server.pid) - cpuBefore;
  const served = Number(stats?.protectedServed ?? load.requests);
  const calls = stats?.storeCalls as
    | { calls: number; reads: number; writes: number; byMethod: Record<string, number> }
    | undefined;
  const eld = stats?.eventLoopDelayMs as { p99: number; max: number } | undefined;
  return {
    ...load,
    serverCpuUsPerRequest: (cpuMs * 1000) / Math.max(1, served),
    storeCallsPerRequest: calls && target.route === "auth" ? calls.calls / Math.max(1, served) : undefined,
    storeWritesPerRequest: calls && target.route === "auth" ? calls.writes / Math.max(1, served) : undefined,
    storeCallsByMethod: calls && target.route === "auth" ? calls.byMethod : undefined,
    eventLoopDelayP99Ms: eld?.p99,
  };
}

async function partsOneAndTwo(services: {
  postgres: boolean;
  redis: boolean;
}): Promise<{ part1?: Part1Result; part2?: Part2Result }> {
  const targets: Target[] = [];
  const want1 = config.parts.includes(1);
  const want2 = config.parts.includes(2);
  const redisStoreExists = existsSync(join(root, "src/stores/redis/index.ts"));
  const postgresStoreExists = existsSync(join(root, "src/stores/postgres/index.ts"));

  const frameworks = config.frameworks.filter((framework) => {
    if (existsSync(join(root, `src/${framework}/index.ts`))) return true;
    skip(`login-manager on ${framework}`, `src/${framework}/index.ts does not exist in this checkout`);
    return false;
  });
  const stores = config.stores.filter((store) => {
    if (store === "redis" && !redisStoreExists) return skip("RedisStore", "src/stores/redis does not exist");
    if (store === "postgres" && !postgresStoreExists)
      return skip("PostgresStore", "src/stores/postgres does not exist");
    if (store === "redis" && !services.redis)
      return skip("RedisStore", `Redis not reachable at ${config.redisUrl}`);
    if (store === "postgres" && !services.postgres) return skip("PostgresStore", "PostgreSQL not reachable");
    return true;
  });
  // Part 2 needs Express + memory/redis from login-manager as its own side of the comparison.
  const lmStores = want1
    ? stores
    : stores.filter((store) => store === "memory" || store === "sqlite" || store === "redis");

  // Servers start in parallel (a few at a time); targets keep a fixed order.
  const jobs: (() => Promise<Target[]>)[] = [];
  for (const framework of want1 || want2 ? frameworks : []) {
    for (const store of lmStores) {
      jobs.push(async () => {
        const found: Target[] = [];
        let server: ServerHandle;
        try {
          server = await lmServer(framework, store);
        } catch (error) {
          skip(
            `login-manager ${framework}/${store}`,
            `server failed to start: ${(error as Error).message.split("\n")[0]}`,
          );
          return found;
        }
        const base = `http://127.0.0.1:${server.port}`;
        if (store === lmStores[0]) {
          found.push({
            id: `lm:${framework}:bare`,
            group: "lm",
            label: `${framework} bare /hello`,
            framework,
            store: "-",
            route: "bare",
            server,
            path: "/hello",
            headers: { "user-agent": UA },
            stats: false,
          });
        }
        try {
          const { cookie } = await lmLogin(base);
          await checkProtected(base, cookie);
          found.push({
            id: `lm:${framework}:${store}`,
            group: "lm",
            label: `${framework} + login-manager (${store})`,
            framework,
            store,
            route: "auth",
            server,
            path: "/protected",
            headers: { "user-agent": UA, cookie },
            stats: true,
          });
        } catch (error) {
          skip(`login-manager ${framework}/${store}`, (error as Error).message);
        }
        return found;
      });
    }
  }

  // Diagnostic: the memory store with asyncContext: false (no AsyncLocalStorage, /protected reads the
  // request's auth), in its own process, whose bare route therefore never pays the promise hook.
  for (const framework of want1 ? frameworks : []) {
    jobs.push(async () => {
      let server: ServerHandle;
      try {
        server = await lmServer(framework, "memory", { BENCH_ASYNC_CONTEXT: "0" });
      } catch (error) {
        skip(
          `login-manager ${framework}/memory without async context`,
          (error as Error).message.split("\n")[0] ?? "",
        );
        return [];
      }
      const base = `http://127.0.0.1:${server.port}`;
      const { cookie } = await lmLogin(base);
      await checkProtected(base, cookie);
      const common = { group: "lm", framework, server } as const;
      const targets: Target[] = [
        {
          ...common,
          id: `lm:${framework}:bare-noctx`,
          label: `${framework} bare /hello (process without AsyncLocalStorage)`,
          store: "-",
          route: "bare",
          path: "/hello",
          headers: { "user-agent": UA },
          stats: false,
        },
        {
          ...common,
          id: `lm:${framework}:memory-noctx`,
          label: `${framework} + login-manager (memory, asyncContext: false)`,
          store: "memory",
          route: "auth",
          path: "/protected",
          headers: { "user-agent": UA, cookie },
          stats: true,
        },
      ];
      return targets;
    });
  }

  if (want2) {
    for (const store of config.smoke ? ["memory"] : ["memory", "redis"]) {
      if (store === "redis" && !services.redis) {
        skip("express-session + passport (connect-redis)", "Redis not reachable");
        continue;
      }
      jobs.push(async () => {
        try {
          const server = await startNodeServer(
            `passport-${store}`,
            join(root, "bench/servers/passport-server.ts"),
            {
              BENCH_STORE: store,
              BENCH_REDIS_URL: config.redisUrl,
            },
          );
          servers.push(server);
          const base = `http://127.0.0.1:${server.port}`;
          const { cookie } = await peerLogin(base, "connect.sid");
          await checkProtected(base, cookie);
          const storeLabel = store === "memory" ? "MemoryStore" : "connect-redis";
          return [
            {
              id: `peer:passport:${store}`,
              group: "peer",
              label: `express + express-session + passport (${storeLabel})`,
              framework: "express",
              store,
              route: "auth",
              server,
              path: "/protected",
              headers: { "user-agent": UA, cookie },
              stats: false,
            },
          ];
        } catch (error) {
          skip(`express-session + passport (${store})`, (error as Error).message);
          return [];
        }
      });
    }
    const gunicorn = ensureFlask();
    if (gunicorn) {
      jobs.push(async () => {
        try {
          const port = await freePort();
          const workers = String(availableParallelism());
          const server = await startCommandServer(
            "flask-login",
            gunicorn,
            [
              "-w",
              workers,
              "--threads",
              "4",
              "-b",
              `127.0.0.1:${port}`,
              "--log-level",
              "warning",
              "flask_app:app",
            ],
            port,
            "/hello",
            { cwd: join(root, "bench/servers") },
          );
          servers.push(server);
          const base = `http://127.0.0.1:${port}`;
          const { cookie } = await peerLogin(base, "session");
          await checkProtected(base, cookie);
          return [
            {
              id: "peer:flask-login",
              group: "peer",
              label: `Flask + Flask-Login (gunicorn ${workers}x4 threads)`,
              framework: "flask",
              store: "signed cookie",
              route: "auth",
              server,
              path: "/protected",
              headers: { "user-agent": UA, cookie },
              stats: false,
            },
          ];
        } catch (error) {
          skip("Flask-Login peer", (error as Error).message.split("\n")[0] as string);
          return [];
        }
      });
    }
    if (existsSync(join(root, "node_modules/better-auth/package.json"))) {
      jobs.push(async () => {
        try {
          const server = await startNodeServer(
            "better-auth",
            join(root, "bench/servers/better-auth-server.ts"),
            {
              BENCH_DATA_DIR: dataDir,
            },
          );
          servers.push(server);
          const base = `http://127.0.0.1:${server.port}`;
          const { cookie } = await peerLogin(base, "better-auth.session_token");
          await checkProtected(base, cookie);
          return [
            {
              id: "peer:better-auth",
              group: "peer",
              label: "hono + better-auth (SQLite, getSession)",
              framework: "hono",
              store: "sqlite",
              route: "auth",
              server,
              path: "/protected",
              headers: { "user-agent": UA, cookie },
              stats: false,
            },
          ];
        } catch (error) {
          skip("better-auth peer", (error as Error).message.split("\n")[0] as string);
          return [];
        }
      });
    } else {
      skip("better-auth peer", "better-auth is not installed (npm ci installs it as a devDependency)");
    }
  }
  const results = new Array<Target[]>(jobs.length);
  let nextJob = 0;
  await Promise.all(
    Array.from({ length: 4 }, async () => {
      while (nextJob < jobs.length) {
        const index = nextJob++;
        results[index] = await (jobs[index] as () => Promise<Target[]>)();
      }
    }),
  );
  for (const found of results) targets.push(...(found ?? []));

  log(`${servers.length} servers up; ${targets.length} targets: ${targets.map((t) => t.id).join(", ")}`);
  if (config.warmupS > 0) {
    for (const target of targets) await measure(target, config.warmupS);
    log("warm-up done");
  }
  const samples: Record<string, LoadSample[]> = {};
  for (let round = 0; round < config.rounds; round++) {
    const order = round % 2 === 0 ? targets : [...targets].reverse();
    for (const target of order) {
      const sample = await measure(target, config.durationS);
      const list = samples[target.id] ?? [];
      list.push({ ...sample, round });
      samples[target.id] = list;
    }
    log(`round ${round + 1}/${config.rounds} done`);
  }

  const summarize = (id: string) => {
    const list = samples[id] ?? [];
    return {
      rps: median(list.map((s) => s.rps)),
      p99Ms: median(list.map((s) => s.latencyMs.p99)),
      p50Ms: median(list.map((s) => s.latencyMs.p50)),
      cpuUsPerRequest: median(list.map((s) => s.serverCpuUsPerRequest ?? Number.NaN)),
      non2xx: list.reduce((a, s) => a + s.non2xx, 0),
      errors: list.reduce((a, s) => a + s.errors + s.timeouts, 0),
    };
  };
  /** Median over rounds of (a / b) measured in the same round: drift between rounds cancels. */
  const pairedRatio = (a: string, b: string) => {
    const A = samples[a] ?? [];
    const B = samples[b] ?? [];
    const ratios: number[] = [];
    for (const sa of A) {
      const sb = B.find((s) => s.round === sa.round);
      if (sb && sb.rps > 0) ratios.push(sa.rps / sb.rps);
    }
    return { median: median(ratios), perRound: ratios };
  };
  /** Median over rounds of cpu(b) / cpu(a) per request: how many times more requests a's server
   * serves per CPU-second than b's, which does not depend on how busy the rest of the machine is. */
  const cpuRatio = (a: string, b: string) => {
    const ratios: number[] = [];
    for (const sa of samples[a] ?? []) {
      const sb = (samples[b] ?? []).find((s) => s.round === sa.round);
      const ca = sa.serverCpuUsPerRequest ?? Number.NaN;
      const cb = sb?.serverCpuUsPerRequest ?? Number.NaN;
      if (ca > 0 && cb > 0) ratios.push(cb / ca);
    }
    return median(ratios);
  };

  const targetSummaries = Object.fromEntries(
    targets.map((t) => [
      t.id,
      {
        id: t.id,
        label: t.label,
        group: t.group,
        framework: t.framework,
        store: t.store,
        route: t.route,
        ...summarize(t.id),
      },
    ]),
  );
  const result: { part1?: Part1Result; part2?: Part2Result } = {};
  if (want1) {
    const rows: Part1Result["rows"] = [];
    const addRow = (framework: string, store: string, id: string, bare: string, target: number | null) => {
      if (!samples[id] || !samples[bare]) return;
      const ratio = pairedRatio(id, bare);
      const list = samples[id] ?? [];
      rows.push({
        framework,
        store,
        bareRps: summarize(bare).rps,
        authRps: summarize(id).rps,
        ratio: ratio.median,
        ratioPerRound: ratio.perRound,
        target,
        authP99Ms: summarize(id).p99Ms,
        bareCpuUs: summarize(bare).cpuUsPerRequest,
        authCpuUs: summarize(id).cpuUsPerRequest,
        cpuRatio: cpuRatio(id, bare),
        bareP99Ms: summarize(bare).p99Ms,
        storeCallsPerRequest: median(list.map((s) => s.storeCallsPerRequest ?? Number.NaN)),
        storeWritesPerRequest: median(list.map((s) => s.storeWritesPerRequest ?? Number.NaN)),
        storeCallsByMethod: list[list.length - 1]?.storeCallsByMethod ?? {},
        non2xx: summarize(id).non2xx,
      });
    };
    for (const framework of frameworks) {
      const required = framework === "express" ? 0.9 : 0.8;
      for (const store of stores) {
        const target = store === "memory" || store === "sqlite" ? required : null;
        addRow(framework, store, `lm:${framework}:${store}`, `lm:${framework}:bare`, target);
      }
    }
    for (const framework of frameworks) {
      const id = `lm:${framework}:memory-noctx`;
      addRow(framework, "memory, asyncContext: false", id, `lm:${framework}:bare-noctx`, null);
    }
    result.part1 = { rows };
  }
  if (want2) {
    const comparisons: Part2Result["comparisons"] = [];
    const compare = (lm: string, peer: string, target: number | null, note: string) => {
      if (!samples[lm] || !samples[peer]) return;
      const ratio = pairedRatio(lm, peer);
      comparisons.push({
        lm,
        peer,
        lmLabel: targetSummaries[lm]?.label ?? lm,
        peerLabel: targetSummaries[peer]?.label ?? peer,
        lmRps: summarize(lm).rps,
        peerRps: summarize(peer).rps,
        lmP99Ms: summarize(lm).p99Ms,
        peerP99Ms: summarize(peer).p99Ms,
        ratio: ratio.median,
        ratioPerRound: ratio.perRound,
        lmCpuUs: summarize(lm).cpuUsPerRequest,
        peerCpuUs: summarize(peer).cpuUsPerRequest,
        cpuRatio: cpuRatio(lm, peer),
        target,
        note,
      });
    };
    compare("lm:express:memory", "peer:passport:memory", 2, "same framework, in-memory stores");
    compare("lm:express:redis", "peer:passport:redis", 2, "same framework, Redis stores");
    for (const fw of ["fastify", "hono"]) {
      compare(`lm:${fw}:memory`, "peer:passport:memory", 2, `login-manager on ${fw} vs the Express peer`);
    }
    for (const fw of ["fastify", "hono"]) {
      compare(`lm:${fw}:memory`, "peer:flask-login", 10, "Flask-Login keeps the session in a signed cookie");
      compare(`lm:${fw}:sqlite`, "peer:flask-login", 10, "login-manager with a durable server-side store");
    }
    for (const fw of ["fastify", "hono"]) {
      compare(
        `lm:${fw}:bare`,
        "peer:flask-login",
        null,
        "the bare framework, no auth at all: the ceiling for any auth library on this framework and machine",
      );
    }
    compare("lm:hono:sqlite", "peer:better-auth", null, "same framework, both on better-sqlite3");
    compare("lm:hono:memory", "peer:better-auth", null, "same framework");
    result.part2 = { comparisons };
  }
  const all = Object.values(targetSummaries);
  if (result.part1) result.part1.targets = all.filter((t) => t.group === "lm");
  if (result.part2) result.part2.targets = all;
  for (const server of servers.splice(0)) await server.stop();
  return result;
}

// ---------------------------------------------------------------------------------------------
// Part 3: login storm

async function partThree(): Promise<Part3Result | undefined> {
  const framework = ["hono", "fastify", "express"].find(
    (fw) => config.frameworks.includes(fw) && existsSync(join(root, `src/${fw}/index.ts`)),
  );
  if (!framework) {
    skip("login storm", "no framework adapter available");
    return undefined;
  }
  const variants = [
    { name: "default", env: {} as Record<string, string> },
    { name: "reniced", env: { BENCH_RENICE_WORKERS: "1" } as Record<string, string> },
  ].slice(0, config.smoke ? 1 : 2);
  const running: {
    name: string;
    server: ServerHandle;
    base: string;
    auth: string;
    login: Record<string, string>;
  }[] = [];
  for (const variant of variants) {
    const server = await lmServer(framework, "memory", variant.env);
    const base = `http://127.0.0.1:${server.port}`;
    const login = await lmLogin(base);
    running.push({
      name: variant.name,
      server,
      base,
      auth: login.cookie,
      login: {
        "user-agent": UA,
        "content-type": "application/json",
        cookie: login.csrf.cookie,
        "x-csrf-token": login.csrf.token,
        "sec-fetch-site": "same-origin",
      },
    });
  }
  // "*": the server cycles over its 64 users. Logins of one account are serialised by design, so a
  // storm on a single account would measure that queue, not the hashing throughput.
  const body = JSON.stringify({ username: "*", password: "correct horse battery staple" });
  const phases: Part3Result["phases"] = [];
  const raw: Part3Result["raw"] = [];
  const aloneLogins: Part3Result["aloneLogins"] = [];
  for (let round = 0; round < config.rounds; round++) {
    raw.push(
      await runNodeJson(
        join(root, "bench/argon2-raw.ts"),
        { BENCH_DURATION_S: String(config.durationS) },
        120_000,
      ),
    );
    for (const v of running) {
      const loginLoad: LoadOptions = {
        url: `${v.base}/login`,
        method: "POST",
        durationS: config.durationS,
        connections: config.stormLoginConnections,
        headers: v.login,
        body,
      };
      for (const mode of config.smoke ? (["fixed"] as const) : (["fixed", "saturated"] as const)) {
        const authOptions = {
          url: `${v.base}/protected`,
          durationS: config.durationS,
          connections: mode === "fixed" ? config.stormAuthConnections : config.connections,
          headers: { "user-agent": UA, cookie: v.auth },
          overallRate: mode === "fixed" ? config.stormRate : undefined,
        };
        for (const storm of [false, true]) {
          await getStats(v.base, true);
          const [auth, logins] = await Promise.all([
            runLoad(authOptions),
            storm ? runLoad(loginLoad) : Promise.resolve(undefined),
          ]);
          const stats = await getStats(v.base, false);
          const eld = stats?.eventLoopDelayMs as { p99: number; max: number; mean: number } | undefined;
          phases.push({
            round,
            variant: v.name,
            mode,
            storm,
            authRps: auth.rps,
            authP50Ms: auth.latencyMs.p50,
            authP99Ms: auth.latencyMs.p99,
            authNon2xx: auth.non2xx,
            loginsPerSec: logins?.rps ?? 0,
            loginP99Ms: logins?.latencyMs.p99 ?? 0,
            loginNon2xx: logins?.non2xx ?? 0,
            eventLoopDelayMs: eld ?? { p99: Number.NaN, max: Number.NaN, mean: Number.NaN },
          });
        }
      }
      // Logins with no authenticated load: what login-manager adds to each login (throttle, store,
      // session) against raw hashing, without the load generator and 2,000 req/s sharing the cores.
      const alone = await runLoad(loginLoad);
      aloneLogins.push({ round, variant: v.name, loginsPerSec: alone.rps, loginNon2xx: alone.non2xx });
    }
    log(`storm round ${round + 1}/${config.rounds} done`);
  }
  for (const server of servers.splice(0)) await server.stop();
  const summary = variants.map(({ name }) => {
    const pick = (mode: string, storm: boolean) =>
      phases.filter((p) => p.variant === name && p.mode === mode && p.storm === storm);
    const perRound = (
      mode: "fixed" | "saturated",
      f: (idle: (typeof phases)[number], storm: (typeof phases)[number]) => number,
    ) =>
      median(
        pick(mode, true).map((s) => {
          const idle = pick(mode, false).find((p) => p.round === s.round);
          return idle ? f(idle, s) : Number.NaN;
        }),
      );
    const rawByRound = (round: number) => raw[round]?.verifiesPerSec ?? Number.NaN;
    return {
      variant: name,
      idleP99Ms: median(pick("fixed", false).map((p) => p.authP99Ms)),
      stormP99Ms: median(pick("fixed", true).map((p) => p.authP99Ms)),
      p99Ratio: perRound("fixed", (idle, storm) => storm.authP99Ms / idle.authP99Ms),
      loginsPerSec: median(pick("fixed", true).map((p) => p.loginsPerSec)),
      loginsVsRaw: median(pick("fixed", true).map((p) => p.loginsPerSec / rawByRound(p.round))),
      aloneLoginsPerSec: median(aloneLogins.filter((a) => a.variant === name).map((a) => a.loginsPerSec)),
      aloneLoginsVsRaw: median(
        aloneLogins.filter((a) => a.variant === name).map((a) => a.loginsPerSec / rawByRound(a.round)),
      ),
      stormEventLoopP99Ms: median(pick("fixed", true).map((p) => p.eventLoopDelayMs.p99)),
      stormEventLoopMaxMs: Math.max(...pick("fixed", true).map((p) => p.eventLoopDelayMs.max)),
      saturatedIdleRps: median(pick("saturated", false).map((p) => p.authRps)),
      saturatedStormRps: median(pick("saturated", true).map((p) => p.authRps)),
      saturatedIdleP99Ms: median(pick("saturated", false).map((p) => p.authP99Ms)),
      saturatedStormP99Ms: median(pick("saturated", true).map((p) => p.authP99Ms)),
      saturatedLoginsPerSec: median(pick("saturated", true).map((p) => p.loginsPerSec)),
      saturatedEventLoopMaxMs: Math.max(...pick("saturated", true).map((p) => p.eventLoopDelayMs.max)),
    };
  });
  return {
    framework,
    store: "memory",
    authRate: config.stormRate,
    authConnections: config.stormAuthConnections,
    loginConnections: config.stormLoginConnections,
    rawVerifiesPerSec: median(raw.map((r) => r.verifiesPerSec)),
    raw,
    phases,
    aloneLogins,
    summary,
  };
}

// ---------------------------------------------------------------------------------------------
// Part 4: scale

async function partFour(services: { postgres: boolean; redis: boolean }): Promise<Part4Result | undefined> {
  const stores = ["sqlite", "postgres", "redis"].filter((store) => {
    if (store === "postgres" && !services.postgres) return skip("scale: PostgreSQL", "not reachable");
    if (store === "redis" && !services.redis) return skip("scale: Redis", "not reachable");
    if (!existsSync(join(root, `src/stores/${store}/index.ts`)))
      return skip(`scale: ${store}`, "store not in this checkout");
    return true;
  });
  if (stores.length === 0) return undefined;
  return runNodeJson<Part4Result>(
    join(root, "bench/scale.ts"),
    {
      BENCH_SCALE_N: String(config.scaleN),
      BENCH_SCALE_STORES: stores.join(","),
      BENCH_LOOKUPS: String(config.scaleLookups),
      BENCH_DATA_DIR: dataDir,
      BENCH_PG_URL: config.pgUrl,
      BENCH_REDIS_URL: config.redisUrl,
    },
    600_000,
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  log(`config ${JSON.stringify(config)}; out ${outDir}; data ${dataDir}`);
  if (config.cpuProfDir) mkdirSync(config.cpuProfDir, { recursive: true });
  // Servers load login-manager from the tsc build (what the package ships) unless BENCH_LIB=src.
  process.env.BENCH_LIB = config.lib;
  config.loadGenerator = chooseLoadGenerator();
  if (config.lib === "dist") {
    log("building dist/ (tsc -p tsconfig.build.json) ...");
    execFileSync(
      process.execPath,
      [join(root, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
      {
        cwd: root,
        stdio: "inherit",
      },
    );
  }
  const [postgres, redis] = await Promise.all([probePostgres(), probeRedis()]);
  if (!postgres) skip("PostgreSQL", `not reachable at ${config.pgUrl}`);
  if (!redis) skip("Redis", `not reachable at ${config.redisUrl}`);
  const services = { postgres, redis };
  const results: BenchResults = {
    meta: {
      date: new Date().toISOString(),
      smoke,
      machine: machine(),
      versions: versions(),
      config: { ...config, cpuProfDir: config.cpuProfDir ? "set" : undefined },
      totalSeconds: 0,
    },
    skipped,
  };
  if (config.parts.includes(1) || config.parts.includes(2)) {
    const { part1, part2 } = await partsOneAndTwo(services);
    results.part1 = part1;
    results.part2 = part2;
  }
  if (config.parts.includes(3)) results.part3 = await partThree();
  log("part 3 done");
  if (config.parts.includes(4)) {
    try {
      results.part4 = await partFour(services);
    } catch (error) {
      skip("scale", (error as Error).message.slice(0, 500));
    }
  }
  results.meta.totalSeconds = (Date.now() - started) / 1000;
  // Read again at the end: Flask, Flask-Login and gunicorn may have been installed during the run.
  results.meta.versions = versions();
  results.meta.machine.loadAverageAtEnd = readFileSync("/proc/loadavg", "utf8").trim();
  mkdirSync(join(outDir, "bench"), { recursive: true });
  writeFileSync(join(outDir, "bench/results.json"), `${JSON.stringify(results, null, 2)}\n`);
  writeReport(results, outDir, root);
  formatResults();
  log(`done in ${results.meta.totalSeconds.toFixed(0)} s: ${join(outDir, "BENCHMARKS.md")}`);
}

/** Lays out bench/results.json and BENCHMARKS.md the way the repository's Biome config wants it (`npm run lint`). */
function formatResults(): void {
  if (outDir !== root) return;
  try {
    execFileSync(
      process.execPath,
      [
        join(root, "node_modules/@biomejs/biome/bin/biome"),
        "format",
        "--write",
        "bench/results.json",
        "BENCHMARKS.md",
      ],
      {
        cwd: root,
        stdio: "ignore",
      },
    );
  } catch {
    log("could not format bench/results.json with Biome (npm run lint may flag its layout)");
  }
}

if (process.argv.includes("--report-only")) {
  // Re-renders BENCHMARKS.md and bench/chart.svg from an existing bench/results.json.
  const results = JSON.parse(readFileSync(join(outDir, "bench/results.json"), "utf8")) as BenchResults;
  writeReport(results, outDir, root);
  formatResults();
  log(`report written from ${join(outDir, "bench/results.json")}`);
  process.exit(0);
}

try {
  await main();
} finally {
  for (const server of servers) await server.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
process.exit(0);
