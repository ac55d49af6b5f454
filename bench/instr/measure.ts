/**
 * One cell, one process. The server starts under callgrind with instrumentation off; the client logs
 * in and runs warm-up rounds (N requests to `/hello`, then N to `/protected`); instrumentation goes
 * on; then counted rounds of the same shape, each window opened by emptying the young generation and
 * zeroing the counters, and closed by a dump. Counted rounds go on until the last two agree on both
 * routes (or a maximum is reached); the result is the mean of the last two.
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

/** Instructions per request of one counted round. */
export interface Round {
  readonly hello: number;
  readonly protected: number;
}

/** The main thread's instructions per request on the two routes of one cell. */
export interface CellCounts {
  /** Mean of the last two counted rounds. */
  readonly hello: number;
  readonly protected: number;
  /** Every counted round, in order. */
  readonly rounds: readonly Round[];
  /** Largest relative difference between the last two rounds, over both routes. */
  readonly spread: number;
  /** Whether `spread` is within the run's tolerance. */
  readonly converged: boolean;
  /** The main thread's callgrind file of the last `/protected` window. */
  readonly protectedDump: string;
  /** Wall time of the cell, start-up included, in seconds. */
  readonly seconds: number;
  /** The server's pid (its perf map, when written, is /tmp/perf-<pid>.map). */
  readonly pid: number;
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
 * slowed-down process for an idle one and runs full collections.
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

function relativeGap(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(a, b);
}

function lastTwoSpread(rounds: readonly Round[]): number {
  const [previous, last] = rounds.slice(-2) as [Round, Round];
  return Math.max(relativeGap(previous.hello, last.hello), relativeGap(previous.protected, last.protected));
}

async function countRounds(
  server: CallgrindServer,
  client: KeepAliveClient,
  cookie: string,
  config: InstrConfig,
): Promise<Omit<CellCounts, "seconds" | "pid">> {
  const { hello, guarded } = routesFor(cookie);
  for (let round = 0; round < config.warmupRounds; round++) {
    await client.send(hello, config.requests);
    await client.send(guarded, config.requests);
  }
  server.instrument();
  const rounds: Round[] = [];
  let label = "";
  while (rounds.length < config.maxRounds) {
    label = `protected-${rounds.length}`;
    rounds.push({
      hello: await countWindow(server, client, hello, `hello-${rounds.length}`, config.requests),
      protected: await countWindow(server, client, guarded, label, config.requests),
    });
    if (rounds.length >= config.minRounds && lastTwoSpread(rounds) <= config.tolerance) break;
  }
  const [previous, last] = rounds.slice(-2) as [Round, Round];
  const spread = lastTwoSpread(rounds);
  return {
    hello: (previous.hello + last.hello) / 2,
    protected: (previous.protected + last.protected) / 2,
    rounds,
    spread,
    converged: spread <= config.tolerance,
    protectedDump: server.mainThreadFile(label),
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
    const counts = await countRounds(server, client, cookie, config);
    return { ...counts, seconds: (Date.now() - started) / 1000, pid: server.pid };
  } finally {
    client.close();
    await server.stop();
  }
}
