/**
 * One cell, one process. The server starts under callgrind with instrumentation off; the client logs
 * in and runs warm-up rounds (W requests to `/hello`, then W to `/protected`); instrumentation goes
 * on; then counted rounds of the same shape (N and N, N ≤ W: instrumented requests are the slow part
 * of a run), each window opened by emptying the young generation and zeroing the counters, and closed
 * by a dump. Counted rounds go on until the last few agree on both routes (or a maximum is reached);
 * the result is their mean.
 *
 * Why rounds of the same shape as the measurement: V8 keeps re-optimising functions for thousands of
 * requests after a change of traffic (from mixed to one route at a time), so the warm-up has to be the
 * traffic that is counted, and the count is only taken once it stops moving.
 *
 * @module
 */
import { join } from "node:path";
import { type CallgrindServer, startUnderCallgrind } from "./callgrind.js";
import type { Cell } from "./cells.js";
import { KeepAliveClient, loginManagerLogin, peerLogin, type Route, UA } from "./client.js";
import type { InstrConfig } from "./config.js";
import type { NodeBinary } from "./toolchain.js";

/** Instructions per request of one counted round, and V8's tiering events during its two windows. */
export interface Round {
  readonly hello: number;
  readonly protected: number;
  /** Functions V8 marked for optimisation while the round ran. */
  readonly optimisations: number;
  readonly deoptimisations: number;
}

/** The main thread's instructions per request on the two routes of one cell. */
export interface CellCounts {
  /** Mean of the last `settleRounds` counted rounds. */
  readonly hello: number;
  readonly protected: number;
  /** Every counted round, in order. */
  readonly rounds: readonly Round[];
  /** Largest relative difference among the last `settleRounds` rounds, over both routes. */
  readonly spread: number;
  /** Whether `spread` is within the run's tolerance. */
  readonly converged: boolean;
  /** The main thread's callgrind file of the last `/protected` window. */
  readonly protectedDump: string;
  /** Wall time of the cell, start-up included, in seconds. */
  readonly seconds: number;
  /** Wall time of its phases, in seconds: start-up and login, warm-up, counted rounds. */
  readonly phases: { readonly start: number; readonly warmup: number; readonly counted: number };
  /** The server's pid (its perf map, when written, is /tmp/perf-<pid>.map). */
  readonly pid: number;
  /** Requests per counted window (the run's, scaled by the cell's requestScale). */
  readonly requests: number;
}

/** Where a cell runs: the project tree, a scratch folder and the callgrind output folder. */
export interface CellPlace {
  readonly root: string;
  readonly dataDir: string;
  readonly outDir: string;
}

/**
 * V8 flags of every measured server. The young generation is pinned at 16 MB per semi-space (the size
 * a busy server's grows to) so that its size, and with it where scavenges fall, does not depend on
 * heuristics that read the clock; the memory reducer is off because, under valgrind, it takes the
 * slowed-down process for an idle one and runs full collections. `--trace-opt --trace-deopt` only
 * print (on stdout, where the instrument counts V8's tiering events per round).
 *
 * @example
 * ```ts
 * spawn(node, [...V8_FLAGS, "server.js"]);
 * ```
 */
export const V8_FLAGS: readonly string[] = [
  "--min-semi-space-size=16",
  "--max-semi-space-size=16",
  "--no-memory-reducer",
  "--trace-opt",
  "--trace-deopt",
];

async function login(cell: Cell, base: string): Promise<string> {
  return cell.login.kind === "login-manager" ? loginManagerLogin(base) : peerLogin(base, cell.login.cookie);
}

function routesFor(cookie: string): { hello: Route; guarded: Route } {
  // The session cookie goes to /hello too, so that both routes receive the same request headers.
  const headers = { "user-agent": UA, cookie };
  return {
    hello: { path: "/hello", headers, expect: "Hello, World!" },
    guarded: { path: "/protected", headers, expect: "Hello, user0" },
  };
}

async function countWindow(
  server: CallgrindServer,
  client: KeepAliveClient,
  route: Route,
  label: string,
  requests: number,
): Promise<number> {
  await server.emptyYoungGeneration();
  server.zero();
  await client.send(route, requests);
  server.dump(label);
  return server.mainThreadInstructions(label) / requests;
}

/** (max − min) ÷ max over the last `count` values. */
function relativeRange(values: readonly number[]): number {
  return (Math.max(...values) - Math.min(...values)) / Math.max(...values);
}

function settledSpread(rounds: readonly Round[], count: number): number {
  const last = rounds.slice(-count);
  return Math.max(relativeRange(last.map((r) => r.hello)), relativeRange(last.map((r) => r.protected)));
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

async function countRound(
  server: CallgrindServer,
  client: KeepAliveClient,
  routes: { hello: Route; guarded: Route },
  index: number,
  requests: number,
): Promise<Round> {
  const before = server.jitEvents();
  const hello = await countWindow(server, client, routes.hello, `hello-${index}`, requests);
  const guarded = await countWindow(server, client, routes.guarded, `protected-${index}`, requests);
  const after = server.jitEvents();
  return {
    hello,
    protected: guarded,
    optimisations: after.optimisations - before.optimisations,
    deoptimisations: after.deoptimisations - before.deoptimisations,
  };
}

async function countRounds(
  server: CallgrindServer,
  client: KeepAliveClient,
  cookie: string,
  config: InstrConfig,
): Promise<Omit<CellCounts, "seconds" | "pid" | "phases" | "requests"> & { warmupSeconds: number }> {
  const routes = routesFor(cookie);
  const started = Date.now();
  for (let round = 0; round < config.warmupRounds; round++) {
    // The first forced collections make V8 deoptimise some code (seen as a burst of deoptimisations
    // in the first counted round); forcing them during the warm-up too keeps that out of the count.
    if (round === config.warmupRounds - 2) await server.emptyYoungGeneration();
    await client.send(routes.hello, config.warmupRequests);
    await client.send(routes.guarded, config.warmupRequests);
  }
  const warmupSeconds = (Date.now() - started) / 1000;
  server.instrument();
  const rounds: Round[] = [];
  const settled = () =>
    rounds.length >= config.settleRounds && settledSpread(rounds, config.settleRounds) <= config.tolerance;
  while (rounds.length < config.maxRounds && !settled()) {
    rounds.push(await countRound(server, client, routes, rounds.length, config.requests));
  }
  const last = rounds.slice(-config.settleRounds);
  const spread = settledSpread(rounds, config.settleRounds);
  return {
    hello: mean(last.map((r) => r.hello)),
    protected: mean(last.map((r) => r.protected)),
    rounds,
    spread,
    converged: spread <= config.tolerance,
    protectedDump: server.mainThreadFile(`protected-${rounds.length - 1}`),
    warmupSeconds,
  };
}

/** The run's settings with the cell's share of requests (at least 50 per window). */
function scaledFor(cell: Cell, config: InstrConfig): InstrConfig {
  const scale = cell.requestScale ?? 1;
  if (scale === 1) return config;
  return {
    ...config,
    warmupRequests: Math.max(50, Math.round(config.warmupRequests * scale)),
    requests: Math.max(50, Math.round(config.requests * scale)),
  };
}

/**
 * Measures one cell on one Node binary.
 *
 * @example
 * ```ts
 * const { hello, protected: guarded, converged } = await measureCell(cell, node, config, place);
 * ```
 */
export async function measureCell(
  cell: Cell,
  node: NodeBinary,
  config: InstrConfig,
  place: CellPlace,
): Promise<CellCounts> {
  const started = Date.now();
  const scaled = scaledFor(cell, config);
  const server = await startUnderCallgrind({
    name: `${cell.name}-node${node.version.slice(1).split(".")[0]}`,
    node: node.path,
    args: [
      ...V8_FLAGS,
      ...(config.jsNames ? ["--perf-basic-prof"] : []),
      "--expose-gc",
      "--import",
      "tsx",
      "--import",
      join(place.root, "bench/instr/gc-signal.ts"),
      join(place.root, cell.script),
    ],
    env: {
      ...process.env,
      NODE_ENV: "production",
      BENCH_LIB: config.lib,
      BENCH_DATA_DIR: place.dataDir,
      ...cell.env,
    },
    cwd: place.root,
    outDir: place.outDir,
    readyTimeoutMs: 600_000,
  });
  const client = new KeepAliveClient(server.port);
  try {
    const cookie = await login(cell, `http://127.0.0.1:${server.port}`);
    const loggedIn = Date.now();
    const { warmupSeconds, ...counts } = await countRounds(server, client, cookie, scaled);
    const seconds = (Date.now() - started) / 1000;
    const start = (loggedIn - started) / 1000;
    const phases = { start, warmup: warmupSeconds, counted: seconds - start - warmupSeconds };
    return { ...counts, seconds, phases, pid: server.pid, requests: scaled.requests };
  } finally {
    client.close();
    await server.stop();
  }
}
