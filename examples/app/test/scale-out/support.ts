/**
 * Shared pieces of the scale-out tests: per-test PostgreSQL schemas and Redis key prefixes, app
 * processes, a throwaway redis-server that can be stopped and started again, a TCP proxy in front of
 * PostgreSQL that can refuse or black-hole connections, and a browser that talks to several
 * instances with one cookie jar (what a load balancer does).
 *
 * Nothing here stops or restarts the shared PostgreSQL (5432) or Redis (6379).
 *
 * @module
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server, type Socket, connect as tcpConnect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { createClient } from "redis";
import { describe } from "vitest";
import {
  postgresConfig,
  probePostgres,
  probeRedis,
  redisUrl,
  servicesAvailable,
} from "../../../../test/helpers/services.js";
import { TestBrowser, type TestResponse } from "../helpers.js";

const root = fileURLToPath(new URL("../../../..", import.meta.url));
const entry = join(root, "examples/app/src/server.ts");

/** The key every test instance shares (instances behind one load balancer must share it). */
export const SHARED_SECRET = "scale-out-shared-secret-".padEnd(48, "s");

/**
 * `describe` when every listed server answers; otherwise a loud warning and `describe.skip`, or a
 * thrown error when `REQUIRE_SERVICES=1` (the semantics of `describeIfPostgres` / `describeIfRedis`).
 *
 * @example
 * ```ts
 * await describeIfServices(["postgres", "redis"], "two instances", () => { ... });
 * ```
 */
export async function describeIfServices(
  needed: Array<"postgres" | "redis">,
  name: string,
  body: () => void,
): Promise<void> {
  const available = await servicesAvailable();
  const missing: Array<"postgres" | "redis"> = [];
  // The shared probe gives up after 2 s, which a machine busy with parallel test files can exceed:
  // ask once more, patiently, before calling a server missing.
  for (const service of needed)
    if (!available[service] && !(await answersSlowly(service))) missing.push(service);
  if (missing.length === 0) {
    describe(name, body);
    return;
  }
  const { host, port } = postgresConfig();
  const where = missing
    .map((service) => (service === "postgres" ? `PostgreSQL at ${host}:${port}` : `Redis at ${redisUrl()}`))
    .join(" and ");
  if (process.env.REQUIRE_SERVICES === "1") {
    throw new Error(`${where} not reachable and REQUIRE_SERVICES=1: start it or unset REQUIRE_SERVICES.`);
  }
  console.warn(`SKIPPED: ${where} not reachable — set REQUIRE_SERVICES=1 to fail instead`);
  describe.skip(name, body);
}

function answersSlowly(service: "postgres" | "redis"): Promise<boolean> {
  return service === "postgres" ? probePostgres(10_000) : probeRedis(10_000);
}

/** A short random suffix for schema names and key prefixes, so parallel runs never collide. */
export function uniqueName(label: string): string {
  return `${label}_${randomBytes(5).toString("hex")}`;
}

/** A `postgresql://` URL for the shared server (or `port`, e.g. a proxy in front of it). */
export function databaseUrl(port = postgresConfig().port, host = postgresConfig().host): string {
  const { user, database } = postgresConfig();
  return `postgresql://${encodeURIComponent(user)}@${host}:${port}/${encodeURIComponent(database)}`;
}

/**
 * A schema of its own for one test file, dropped (with everything in it) by `drop()`.
 *
 * @example
 * ```ts
 * const schema = await createSchema("two_instances");
 * afterAll(() => schema.drop());
 * ```
 */
export async function createSchema(
  label: string,
): Promise<{ name: string; pool: pg.Pool; drop(): Promise<void> }> {
  const name = uniqueName(`so_${label}`).toLowerCase();
  const pool = new pg.Pool({ ...postgresConfig(), max: 4 });
  pool.on("error", () => undefined);
  await pool.query(`CREATE SCHEMA "${name}"`);
  return {
    name,
    pool,
    async drop() {
      await pool.query(`DROP SCHEMA IF EXISTS "${name}" CASCADE`);
      await pool.end();
    },
  };
}

/**
 * Deletes every key under `prefix` on the Redis at `url` (SCAN, never KEYS).
 *
 * @example
 * ```ts
 * afterAll(() => deleteRedisPrefix(redisUrl(), prefix));
 * ```
 */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const client = createClient({ url, socket: { reconnectStrategy: false, connectTimeout: 2000 } });
  client.on("error", () => undefined);
  try {
    await client.connect();
    for await (const keys of client.scanIterator({ MATCH: `${prefix}*`, COUNT: 500 })) {
      if (keys.length > 0) await client.del(keys);
    }
  } finally {
    if (client.isOpen) client.destroy();
  }
}

/**
 * A free TCP port on 127.0.0.1 (released before returning; fine for tests).
 *
 * @example
 * ```ts
 * const port = await freePort();
 * ```
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** A running app process. */
export interface AppProcess {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  /** True while the process has not exited. */
  alive(): boolean;
  /** SIGTERM, then waits for the exit (SIGKILL after 10 s). */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<AppProcess>();

/**
 * Starts the reference app as its own process, from source (`node --import tsx
 * --conditions=login-manager-source examples/app/src/server.ts`), on a free port.
 *
 * @example
 * ```ts
 * const app = await startApp({ DATABASE_URL: databaseUrl(), DATABASE_SCHEMA: schema.name });
 * ```
 */
export function startApp(env: Record<string, string>): Promise<AppProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), "lm-scale-"));
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=login-manager-source", entry], {
    cwd: root,
    env: {
      PATH: process.env.PATH ?? "",
      HOST: "127.0.0.1",
      PORT: "0",
      DATA_DIR: dataDir,
      SECRET_KEY: SHARED_SECRET,
      // Every test registers from 127.0.0.1, and Redis keeps counts between runs.
      REGISTER_ATTEMPTS_PER_HOUR: "100000",
      // APP_FRAMEWORK=fastify|hono in the test's environment runs the same tests on that version.
      ...(process.env.APP_FRAMEWORK ? { APP_FRAMEWORK: process.env.APP_FRAMEWORK } : {}),
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => {
      rmSync(dataDir, { recursive: true, force: true });
      resolve({ code, signal });
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address printed:\n${stdout}\n${stderr}`)), 30_000);
    const check = () => {
      const url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
      if (!url) return;
      clearTimeout(timer);
      child.stdout?.off("data", check);
      const app: AppProcess = {
        child,
        url,
        stdout: () => stdout,
        stderr: () => stderr,
        alive: () => child.exitCode === null && child.signalCode === null,
        async stop() {
          running.delete(app);
          if (app.alive()) {
            child.kill("SIGTERM");
            const kill = setTimeout(() => child.kill("SIGKILL"), 10_000);
            const result = await exit;
            clearTimeout(kill);
            return result;
          }
          return exit;
        },
      };
      running.add(app);
      resolve(app);
    };
    child.stdout?.on("data", check);
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited before listening:\n${stdout}\n${stderr}`));
    });
  });
}

/** Stops every app process still running (for afterAll). */
export async function stopAllApps(): Promise<void> {
  await Promise.all([...running].map((app) => app.stop()));
}

/**
 * A redis-server of the test's own on a free port, with its data in a temporary folder. `stop()`
 * saves and shuts it down (like a planned restart: the data comes back with `start()`), `kill()`
 * is a crash (SIGKILL, data lost). `start()` reuses the same port.
 *
 * @example
 * ```ts
 * const redis = await ThrowawayRedis.start();
 * await redis.stop();
 * await redis.start();
 * ```
 */
export class ThrowawayRedis {
  readonly dir = mkdtempSync(join(tmpdir(), "lm-redis-"));
  #child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  static async start(): Promise<ThrowawayRedis> {
    const redis = await ThrowawayRedis.reserve();
    await redis.start();
    return redis;
  }

  /** Picks the port (nothing listens on it yet): `start()` when the test wants the server up. */
  static async reserve(): Promise<ThrowawayRedis> {
    return new ThrowawayRedis(await freePort());
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts (again) on the same port; resolves once it accepts commands. */
  async start(): Promise<void> {
    if (this.#child) throw new Error("redis-server already running");
    const child = spawn(
      "redis-server",
      [
        "--port",
        String(this.port),
        "--bind",
        "127.0.0.1",
        "--save",
        "",
        "--appendonly",
        "no",
        "--daemonize",
        "no",
        "--dir",
        this.dir,
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.#child = child;
    let output = "";
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`redis-server did not start:\n${output}`)), 10_000);
      const onData = (chunk: Buffer) => {
        output += String(chunk);
        if (output.includes("Ready to accept connections")) {
          clearTimeout(timer);
          child.stdout?.off("data", onData);
          child.stdout?.resume();
          resolve();
        }
      };
      child.stdout?.on("data", onData);
      child.once("exit", (code) => {
        clearTimeout(timer);
        reject(new Error(`redis-server exited (${code}):\n${output}`));
      });
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(new Error(`cannot run redis-server (install it, or put it on PATH): ${error.message}`));
      });
    });
    child.removeAllListeners("exit");
    child.removeAllListeners("error");
  }

  /** `SHUTDOWN SAVE`: writes the data to disk (so `start()` brings it back), then exits. */
  async stop(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    await new Promise<void>((resolve) => {
      const socket = tcpConnect(this.port, "127.0.0.1", () => {
        socket.end("*2\r\n$8\r\nSHUTDOWN\r\n$4\r\nSAVE\r\n");
      });
      socket.on("error", () => resolve());
      socket.on("close", () => resolve());
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
    await exited;
    clearTimeout(timer);
    this.#child = undefined;
  }

  /** SIGSTOP: the server hangs with its connections open (like a network that drops packets). */
  pause(): void {
    this.#child?.kill("SIGSTOP");
  }

  /** SIGCONT after {@link ThrowawayRedis.pause}. */
  resume(): void {
    this.#child?.kill("SIGCONT");
  }

  /** SIGKILL: a crash; whatever was not saved is lost. */
  async kill(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
    child.kill("SIGKILL");
    await exited;
    this.#child = undefined;
  }

  /** Kills the server and deletes its folder. */
  async dispose(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A TCP proxy on a free port in front of `target` (PostgreSQL), to take the database away from an
 * app without touching the shared server. `close()` refuses: it stops listening and resets every
 * open connection (like a stopped server). `pause()` black-holes: connections stay open but no byte
 * moves, and new ones are accepted and never answered (like a hung server or a dropped network).
 * `open()` / `resume()` bring it back on the same port.
 *
 * @example
 * ```ts
 * const proxy = await TcpProxy.start(5432);
 * await proxy.close();
 * await proxy.open();
 * ```
 */
export class TcpProxy {
  #server: Server | undefined;
  #paused = false;
  readonly #pairs = new Set<[Socket, Socket]>();
  readonly #held = new Set<Socket>();

  private constructor(
    readonly port: number,
    readonly targetPort: number,
    readonly targetHost: string,
  ) {}

  static async start(targetPort: number, targetHost = "127.0.0.1"): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), targetPort, targetHost);
    await proxy.open();
    return proxy;
  }

  /** Listens (again) on the proxy's port. */
  open(): Promise<void> {
    if (this.#server) return Promise.resolve();
    const server = createServer((client) => this.#accept(client));
    this.#server = server;
    return new Promise((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.port, "127.0.0.1", () => resolve());
    });
  }

  /** Stops listening and resets every open connection: new connections are refused. */
  async close(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    for (const [client, upstream] of this.#pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.#pairs.clear();
    for (const socket of this.#held) socket.resetAndDestroy();
    this.#held.clear();
    if (server) await new Promise((resolve) => server.close(resolve));
  }

  /** Black-holes: open connections stop moving bytes; new connections are accepted and ignored. */
  pause(): void {
    this.#paused = true;
    for (const [client, upstream] of this.#pairs) {
      client.pause();
      upstream.pause();
    }
  }

  /** Ends the black hole: open connections move again; connections accepted meanwhile are dropped. */
  resume(): void {
    this.#paused = false;
    for (const [client, upstream] of this.#pairs) {
      client.resume();
      upstream.resume();
    }
    for (const socket of this.#held) socket.destroy();
    this.#held.clear();
  }

  #accept(client: Socket): void {
    client.on("error", () => undefined);
    if (this.#paused) {
      this.#held.add(client);
      client.pause();
      client.on("close", () => this.#held.delete(client));
      return;
    }
    const upstream = tcpConnect(this.targetPort, this.targetHost);
    upstream.on("error", () => client.destroy());
    const pair: [Socket, Socket] = [client, upstream];
    this.#pairs.add(pair);
    const forget = () => {
      this.#pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("close", forget);
    upstream.on("close", forget);
    client.on("data", (chunk) => {
      if (!this.#paused) upstream.write(chunk);
    });
    upstream.on("data", (chunk) => {
      if (!this.#paused) client.write(chunk);
    });
  }
}

/**
 * One person's browser behind a load balancer: a single cookie jar and CSRF token, and each
 * request goes to the instance you name.
 *
 * @example
 * ```ts
 * const browser = new BalancedBrowser([a.url, b.url]);
 * await browser.on(0).registerAndLogin("alice");
 * expect((await browser.on(1).get("/protected")).status).toBe(200);
 * ```
 */
export class BalancedBrowser {
  readonly #browsers: TestBrowser[];
  #last: TestBrowser | undefined;

  constructor(urls: string[], userAgent?: string) {
    this.#browsers = urls.map((url) => new TestBrowser(url, userAgent));
  }

  /** The browser aimed at instance `index`, holding the cookies and CSRF token seen so far. */
  on(index: number): TestBrowser {
    const target = this.#browsers[index];
    if (!target) throw new Error(`no instance ${index}`);
    const last = this.#last;
    if (last && last !== target) {
      target.cookies.clear();
      for (const [name, cookie] of last.cookies) target.cookies.set(name, cookie);
      target.csrf = last.csrf;
    }
    this.#last = target;
    return target;
  }
}

/** Milliseconds `action` took, with its result. */
export async function timed<T>(action: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await action();
  return { ms: Math.round(performance.now() - start), value };
}

/**
 * Polls `probe` every `intervalMs` until it returns true; resolves to the milliseconds it took.
 *
 * @example
 * ```ts
 * const ms = await waitUntil(async () => (await fetch(url)).status === 200);
 * ```
 */
export async function waitUntil(
  probe: () => Promise<boolean>,
  { timeoutMs = 15_000, intervalMs = 25 } = {},
): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await probe().catch(() => false)) return Math.round(performance.now() - start);
    if (performance.now() - start > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** A page's status and, for the tests' messages, the start of its body. */
export function summary(response: TestResponse): string {
  return `${response.status} ${String(response.text ?? "").slice(0, 200)}`;
}
