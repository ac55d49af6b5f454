/**
 * What one `npm run bench:instr` run measures: the matrix of cells and how many requests each gets,
 * read once from the command line and the environment.
 *
 * @module
 */

/** A framework login-manager is measured on. */
export type Framework = "express" | "fastify" | "hono";
/** A session store login-manager is measured with (SQLite once per driver). */
export type Store = "memory" | "sqlite-node" | "sqlite-better" | "redis" | "postgres";
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
  /** Rounds (N requests to /hello, then N to /protected) before instrumentation starts. */
  readonly warmupRounds: number;
  /** N: requests per route and round. */
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
  /** Measure the last commit, exported, instead of the working tree (BENCH_INSTR_TREE=head). */
  readonly head: boolean;
  /**
   * Name run-time-compiled JavaScript in the top self costs (BENCH_INSTR_JS_NAMES=1): the servers run
   * with `--perf-basic-prof`, which writes a map of V8's code to /tmp/perf-<pid>.map.
   */
  readonly jsNames: boolean;
  /** Cells measured at the same time (each is one single-threaded valgrind process). */
  readonly jobs: number;
  /** When set, the callgrind files are kept there (else a temporary folder, removed). */
  readonly keepDir: string | undefined;
  readonly pgUrl: string;
  readonly redisUrl: string;
}

const FRAMEWORKS: readonly Framework[] = ["express", "fastify", "hono"];
const STORES: readonly Store[] = ["memory", "sqlite-node", "sqlite-better", "redis", "postgres"];
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

/**
 * Reads the settings: `--smoke` (one framework, memory store, few requests, the current Node, nothing
 * written) and BENCH_INSTR_FRAMEWORKS, BENCH_INSTR_STORES, BENCH_INSTR_PEERS, BENCH_INSTR_NODES
 * ("24,26"), BENCH_INSTR_WARMUP_ROUNDS, BENCH_INSTR_REQUESTS, BENCH_INSTR_MAX_ROUNDS, BENCH_INSTR_KEEP
 * (a folder for the callgrind files), BENCH_INSTR_OUT_DIR (where BENCHMARKS.md and
 * bench/instr-results.json are written; `root` unless smoke), BENCH_INSTR_TREE=head, BENCH_INSTR_JOBS,
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
    stores: listOf(env.BENCH_INSTR_STORES ?? (smoke ? "memory" : undefined), STORES, "stores"),
    peers: listOf(env.BENCH_INSTR_PEERS ?? (smoke ? "" : undefined), PEERS, "peers"),
    nodes: (env.BENCH_INSTR_NODES ?? (smoke ? "current" : "24,26")).split(",").map((n) => n.trim()),
    warmupRounds: count(env.BENCH_INSTR_WARMUP_ROUNDS, smoke ? 2 : 20, "BENCH_INSTR_WARMUP_ROUNDS"),
    requests: count(env.BENCH_INSTR_REQUESTS, smoke ? 200 : 1_000, "BENCH_INSTR_REQUESTS"),
    settleRounds: smoke ? 2 : 3,
    maxRounds: count(env.BENCH_INSTR_MAX_ROUNDS, smoke ? 2 : 10, "BENCH_INSTR_MAX_ROUNDS"),
    tolerance: 0.005,
    outDir: env.BENCH_INSTR_OUT_DIR || (smoke ? undefined : root),
    lib: env.BENCH_LIB === "src" || (smoke && env.BENCH_LIB !== "dist") ? "src" : "dist",
    head: env.BENCH_INSTR_TREE === "head",
    jsNames: env.BENCH_INSTR_JS_NAMES === "1",
    jobs: count(env.BENCH_INSTR_JOBS, 1, "BENCH_INSTR_JOBS"),
    keepDir: env.BENCH_INSTR_KEEP || undefined,
    pgUrl: env.BENCH_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test",
    redisUrl: env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379",
  };
}
