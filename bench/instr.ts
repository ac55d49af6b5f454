/**
 * `npm run bench:instr`: instructions per request on the server's main thread, counted by callgrind,
 * for `/hello` (before login-manager) and `/protected` (behind `loginRequired`, reading
 * `currentUser()`) in the same process; per framework (Express, Fastify, Hono), store (memory,
 * SQLite on node:sqlite and on better-sqlite3, Redis, PostgreSQL) and Node version (24 and 26), and
 * the same instrument on express-session + passport and on better-auth. Writes the section between
 * the `instr` markers of BENCHMARKS.md and `bench/instr-results.json`; judges issue 19's targets.
 *
 * `npm run bench:instr -- --smoke` (or `tsx bench/instr.ts --smoke`): Fastify, memory store, this
 * Node, few requests; writes nothing unless BENCH_INSTR_OUT_DIR is set. Settings: see
 * `bench/instr/config.ts`. Progress goes to stderr; the results' JSON is the last line of stdout.
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type SelfCost, topSelfCosts } from "./instr/annotate.js";
import { type Cell, cellsOf } from "./instr/cells.js";
import { type InstrConfig, readConfig } from "./instr/config.js";
import { type CellCounts, measureCell, V8_FLAGS } from "./instr/measure.js";
import { type InstrResults, sectionBody, writeJson, writeSection } from "./instr/report.js";
import { judge, type Row } from "./instr/targets.js";
import { ensureValgrind, type NodeBinary, nodeBinary } from "./instr/toolchain.js";
import { type MeasuredTree, prepareTree } from "./instr/tree.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const log = (line: string) => process.stderr.write(`[bench:instr] ${line}\n`);

/** Whether something listens on a TCP port of 127.0.0.1 (Redis, PostgreSQL). */
function listening(port: number): Promise<boolean> {
  return new Promise((resolvePromise) => {
    const socket = connect({ host: "127.0.0.1", port, timeout: 2000 });
    const done = (up: boolean) => {
      socket.destroy();
      resolvePromise(up);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}

async function reachableCells(config: InstrConfig, skipped: string[]): Promise<Cell[]> {
  const up = { redis: await listening(6379), postgres: await listening(5432) };
  return cellsOf(config).filter((cell) => {
    const service =
      cell.storeKey === "redis" || cell.storeKey === "redis-ioredis"
        ? "redis"
        : cell.storeKey === "postgres"
          ? "postgres"
          : undefined;
    if (!service || up[service]) return true;
    skipped.push(`${cell.library} ${cell.framework}/${cell.store}: ${service} not reachable on 127.0.0.1`);
    return false;
  });
}

async function measureRow(
  cell: Cell,
  node: NodeBinary,
  config: InstrConfig,
  tree: MeasuredTree,
  outDir: string,
): Promise<Row> {
  const dataDir = mkdtempSync(join(tmpdir(), "lm-instr-data-"));
  try {
    const counts = await measureCell(cell, node, config, { root: tree.root, dataDir, outDir });
    const row = rowOf(cell, node, counts, topSelf(counts, config));
    log(
      `${cell.library} ${cell.framework}/${cell.store} on ${node.version}: /hello ${row.hello}, /protected ${row.protected}, ` +
        `kept ${row.share}, rounds ${row.rounds.length}, spread ${(row.spread * 100).toFixed(2)}%, ${row.seconds} s ` +
        `(start ${counts.phases.start.toFixed(0)} s, warm-up ${counts.phases.warmup.toFixed(0)} s, counted ${counts.phases.counted.toFixed(0)} s)`,
    );
    return row;
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The ten largest self costs of the last /protected window, JavaScript named when a perf map exists. */
function topSelf(counts: CellCounts, config: InstrConfig): SelfCost[] {
  // Where `node --perf-basic-prof` writes the code map of a process.
  const perfMap = `/tmp/perf-${counts.pid}.map`;
  try {
    return topSelfCosts(counts.protectedDump, counts.requests, 10, perfMap);
  } finally {
    // With BENCH_INSTR_KEEP, the map stays next to the callgrind files it names.
    if (config.keepDir && existsSync(perfMap))
      copyFileSync(perfMap, join(config.keepDir, `perf-${counts.pid}.map`));
    rmSync(perfMap, { force: true });
  }
}

function rowOf(cell: Cell, node: NodeBinary, counts: CellCounts, top: SelfCost[]): Row {
  return {
    library: cell.library,
    framework: cell.framework,
    store: cell.store,
    storeKey: cell.storeKey,
    node: node.version,
    hello: Math.round(counts.hello),
    protected: Math.round(counts.protected),
    added: Math.round(counts.protected - counts.hello),
    share: Number((counts.hello / counts.protected).toFixed(3)),
    rounds: counts.rounds.map((r) => ({
      ...r,
      hello: Math.round(r.hello),
      protected: Math.round(r.protected),
    })),
    spread: Number(counts.spread.toFixed(4)),
    converged: counts.converged,
    seconds: Math.round(counts.seconds),
    requestsPerWindow: counts.requests,
    topSelf: top,
  };
}

/** Runs `tasks` with at most `jobs` at a time, in order of start; a failed task is reported, not fatal. */
async function pool<T>(
  tasks: readonly (() => Promise<T>)[],
  jobs: number,
  onError: (index: number, error: Error) => void,
): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const index = next++;
      try {
        results[index] = await (tasks[index] as () => Promise<T>)();
      } catch (error) {
        onError(index, error as Error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(jobs, tasks.length) }, worker));
  return results.filter((result) => result !== undefined);
}

async function main(): Promise<void> {
  const started = Date.now();
  const config = readConfig(process.argv.slice(2), process.env, root);
  const valgrind = ensureValgrind(log);
  const nodes = config.nodes.map((major) => nodeBinary(major, log));
  for (const node of nodes) log(`Node ${node.version}: ${node.path} (${node.source})`);
  const tree = prepareTree(root, { commit: config.tree, build: config.lib === "dist" }, log);
  const outDir = config.keepDir ?? mkdtempSync(join(tmpdir(), "lm-instr-callgrind-"));
  mkdirSync(outDir, { recursive: true });
  const skipped: string[] = [];
  const cells = await reachableCells(config, skipped);
  const plan = nodes.flatMap((node) => cells.map((cell) => ({ node, cell })));
  log(`${plan.length} cells, ${config.jobs} at a time; callgrind files in ${outDir}`);
  const rows = await pool(
    plan.map(
      ({ node, cell }) =>
        () =>
          measureRow(cell, node, config, tree, outDir),
    ),
    config.jobs,
    (index, error) => {
      const { node, cell } = plan[index] as (typeof plan)[number];
      skipped.push(
        `${cell.library} ${cell.framework}/${cell.store} on ${node.version}: ${error.message.split("\n")[0]}`,
      );
      log(`FAILED ${cell.library} ${cell.framework}/${cell.store} on ${node.version}: ${error.message}`);
    },
  );
  if (!config.keepDir) rmSync(outDir, { recursive: true, force: true });
  if (tree.kind === "commit export") rmSync(tree.root, { recursive: true, force: true });
  const results: InstrResults = {
    generated: new Date().toISOString(),
    commit: tree.commit,
    valgrind,
    smoke: config.smoke,
    lib: config.lib,
    method: {
      requestsPerWindow: config.requests,
      warmupRounds: config.warmupRounds,
      warmupRequests: config.warmupRequests,
      settleRounds: config.settleRounds,
      maxRounds: config.maxRounds,
      tolerance: config.tolerance,
      v8Flags: V8_FLAGS,
    },
    wallSeconds: Math.round((Date.now() - started) / 1000),
    rows,
    targets: judge(rows),
    skipped,
  };
  const body = sectionBody(results);
  process.stderr.write(`${body.join("\n")}\n`);
  for (const line of skipped) log(`skipped: ${line}`);
  if (config.outDir) {
    writeJson(join(config.outDir, "bench/instr-results.json"), results);
    writeSection(join(config.outDir, "BENCHMARKS.md"), body);
    log(`wrote ${join(config.outDir, "bench/instr-results.json")} and the instr section of BENCHMARKS.md`);
  }
  process.stdout.write(`${JSON.stringify(results)}\n`);
  if (rows.length === 0) process.exitCode = 1;
}

await main();
