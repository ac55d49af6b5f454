/**
 * What one `npm run bench:instr` run measures: the matrix of cells and how many requests each gets,
 * read once from the command line and the environment.
 *
 * @module
 */

import { availableParallelism } from "node:os";

/** A framework login-manager is measured on. */
export type Framework = "express" | "fastify" | "hono";
/** A session store login-manager is measured with (SQLite once per driver). */
export type Store = "memory" | "sqlite-node" | "sqlite-better" | "redis" | "redis-ioredis" | "postgres";
/** A peer measured with the same instrument. */
export type Peer = "passport" | "better-auth";

/** The settings of one run. */
export interface InstrConfig {
  readonly smoke: boolean;
  readonly frameworks: readonly Framework[];
  readonly stores: readonly Store[];
  readonly peers: readonly Peer[];
  /** Node majors to run the servers on; `"current"` is the Node running this script. */
  readonly nodes: readonly string[];
  /** Rounds (W requests to /hello, then W to /protected) before instrumentation starts. */
  readonly warmupRounds: number;
  /** W: requests per route and warm-up round. */
  readonly warmupRequests: number;
  /** N: requests per route and counted round (one callgrind window). */
  readonly requests: number;
  /** Counted rounds go on until the last `settleRounds` agree within `tolerance`, at most `maxRounds`. */
  readonly settleRounds: number;
  readonly maxRounds: number;
  /** (max − min) ÷ max allowed over the last `settleRounds` rounds, on each route. */
  readonly tolerance: number;
  /**
   * The folder holding the BENCHMARKS.md and bench/instr-results.json to write (the project root by
   * default); undefined when nothing is written (smoke runs without BENCH_INSTR_OUT_DIR).
   */
  readonly outDir: string | undefined;
  /**
   * Where the servers load login-manager from: `dist` (the tsc build, what the package ships) or, in
   * smoke runs unless BENCH_LIB=dist, `src` through tsx (no build; tsx's transform adds a `__name()`
   * call to every closure, so the counts are higher than the package's).
   */
  readonly lib: "dist" | "src";
  /**
   * Measure a commit, exported, instead of the working tree: BENCH_INSTR_TREE=head (the last commit) or
   * any commit-ish (e.g. the last one that builds while others' work in progress does not).
   */
  readonly tree: string | undefined;
  /**
   * Name run-time-compiled JavaScript in the top self costs (BENCH_INSTR_JS_NAMES=1): the servers run
   * with `--perf-basic-prof`, which writes a map of V8's code to /tmp/perf-<pid>.map.
   */
  readonly jsNames: boolean;
  /** Cells measured at the same time (each is one single-threaded valgrind process); default: the cores, at most 4. */
  readonly jobs: number;
  /** When set, the callgrind files are kept there (else a temporary folder, removed). */
  readonly keepDir: string | undefined;
  readonly pgUrl: string;
  readonly redisUrl: string;
}

const FRAMEWORKS: readonly Framework[] = ["express", "fastify", "hono"];
/** The stores of a full run; `redis-ioredis` (ioredis 6 instead of node-redis) only when asked for. */
const STORES: readonly Store[] = ["memory", "sqlite-node", "sqlite-better", "redis", "postgres"];
const KNOWN_STORES: readonly Store[] = [...STORES, "redis-ioredis"];
const PEERS: readonly Peer[] = ["passport", "better-auth"];

function listOf<T extends string>(value: string | undefined, allowed: readonly T[], name: string): T[] {
  if (value === undefined) return [...allowed];
  if (value === "") return [];
  const items = value.split(",").map((item) => item.trim());
  for (const item of items) {
    if (!allowed.includes(item as T))
      throw new Error(`${name}: unknown "${item}"; use a comma-separated list of ${allowed.join(", ")}`);
  }
  return items as T[];
}

function count(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1) throw new Error(`${name} must be a positive integer`);
  return parsed;
}

/** BENCH_INSTR_TREE: unset or empty for the working tree, `head` for HEAD, else a commit-ish. */
function treeOf(value: string | undefined): string | undefined {
  if (!value) return undefined;
  if (value === "head") return "HEAD";
  if (!/^[\w./^~-]{1,100}$/.test(value) || value.startsWith("-"))
    throw new Error(`BENCH_INSTR_TREE: "${value}" is not head or a commit`);
  return value;
}

/**
 * Reads the settings: `--smoke` (one framework, memory store, few requests, the current Node, nothing
 * written) and BENCH_INSTR_FRAMEWORKS, BENCH_INSTR_STORES, BENCH_INSTR_PEERS, BENCH_INSTR_NODES
 * ("24,26"), BENCH_INSTR_WARMUP_ROUNDS, BENCH_INSTR_WARMUP_REQUESTS, BENCH_INSTR_REQUESTS, BENCH_INSTR_MAX_ROUNDS, BENCH_INSTR_KEEP
 * (a folder for the callgrind files), BENCH_INSTR_OUT_DIR (where BENCHMARKS.md and
 * bench/instr-results.json are written; `root` unless smoke), BENCH_INSTR_TREE (head or a commit), BENCH_INSTR_JOBS,
 * BENCH_LIB (dist or src), BENCH_INSTR_JS_NAMES=1,
 * BENCH_PG_URL, BENCH_REDIS_URL.
 *
 * @example
 * ```ts
 * const config = readConfig(process.argv.slice(2), process.env, root);
 * ```
 */
export function readConfig(argv: readonly string[], env: NodeJS.ProcessEnv, root: string): InstrConfig {
  const smoke = argv.includes("--smoke");
  return {
    smoke,
    frameworks: listOf(
      env.BENCH_INSTR_FRAMEWORKS ?? (smoke ? "fastify" : undefined),
      FRAMEWORKS,
      "frameworks",
    ),
    stores: listOf(env.BENCH_INSTR_STORES ?? (smoke ? "memory" : STORES.join(",")), KNOWN_STORES, "stores"),
    peers: listOf(env.BENCH_INSTR_PEERS ?? (smoke ? "" : undefined), PEERS, "peers"),
    nodes: (env.BENCH_INSTR_NODES ?? (smoke ? "current" : "24,26")).split(",").map((n) => n.trim()),
    warmupRounds: count(env.BENCH_INSTR_WARMUP_ROUNDS, smoke ? 2 : 20, "BENCH_INSTR_WARMUP_ROUNDS"),
    warmupRequests: count(
      env.BENCH_INSTR_WARMUP_REQUESTS,
      smoke ? 200 : 1_000,
      "BENCH_INSTR_WARMUP_REQUESTS",
    ),
    requests: count(env.BENCH_INSTR_REQUESTS, smoke ? 200 : 500, "BENCH_INSTR_REQUESTS"),
    settleRounds: smoke ? 2 : 3,
    maxRounds: count(env.BENCH_INSTR_MAX_ROUNDS, smoke ? 2 : 10, "BENCH_INSTR_MAX_ROUNDS"),
    tolerance: 0.005,
    outDir: env.BENCH_INSTR_OUT_DIR || (smoke ? undefined : root),
    lib: env.BENCH_LIB === "src" || (smoke && env.BENCH_LIB !== "dist") ? "src" : "dist",
    tree: treeOf(env.BENCH_INSTR_TREE),
    jsNames: env.BENCH_INSTR_JS_NAMES === "1",
    // Instruction counts do not depend on the machine's load, so cells can share the cores: one
    // valgrind process per core (each runs the server's threads one at a time).
    jobs: count(env.BENCH_INSTR_JOBS, smoke ? 1 : Math.min(availableParallelism(), 4), "BENCH_INSTR_JOBS"),
    keepDir: env.BENCH_INSTR_KEEP || undefined,
    pgUrl: env.BENCH_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test",
    redisUrl: env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379",
  };
}
