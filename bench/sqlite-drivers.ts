/**
 * SqliteStore's per-request read on each driver: `getSession` on a warmed 10,000-row file database,
 * through node:sqlite and through better-sqlite3, in the same process, in interleaved rounds. Reports
 * CPU and wall nanoseconds per read (median of the rounds) and the ratio against better-sqlite3.
 * With BENCH_CALLGRIND=1 it also counts instructions per read: each driver runs in a child under
 * `valgrind --tool=callgrind` twice, with two read counts, and the difference of the main thread's
 * totals is divided by the difference of reads (start-up, warm-up and JIT work cancel out).
 *
 * `npm run build && npx tsx bench/sqlite-drivers.ts` (loads the tsc build in dist/, or the sources with
 * BENCH_LIB=src).
 * Environment: BENCH_SQLITE_ROWS (10000), BENCH_SQLITE_READS per round (100000), BENCH_SQLITE_ROUNDS
 * (7), BENCH_CALLGRIND, BENCH_DATA_DIR (a temporary folder). Prints a table, then one JSON line.
 */
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DatabaseSync } from "node:sqlite";
import { fileURLToPath } from "node:url";
import type { SqliteStore } from "../src/stores/sqlite/index.js";
import { importLib, libKind } from "./lib/lib.js";
import { median } from "./lib/load.js";

type DriverName = "node:sqlite" | "better-sqlite3";
const DRIVERS: readonly DriverName[] = ["node:sqlite", "better-sqlite3"];
const ROWS = Number(process.env.BENCH_SQLITE_ROWS ?? 10_000);
const READS = Number(process.env.BENCH_SQLITE_READS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_SQLITE_ROUNDS ?? 7);
const WARM_READS = 20_000;
const NOW = Date.now();
const AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

const ids = Array.from({ length: ROWS }, (_, i) => createHash("md5").update(`s${i}`).digest("base64url"));
/** A fixed pseudo-random order of lookups, the same for every driver and round. */
const order = Uint32Array.from({ length: 1 << 16 }, (_, k) => (Math.imul(k + 1, 2654435761) >>> 0) % ROWS);

/** The store's tables, filled in one transaction on a connection of our own. */
async function createDatabase(file: string): Promise<void> {
  const store = await openStore(file, "node:sqlite");
  await store.close();
  const db = new DatabaseSync(file);
  const insert =
    db.prepare(`INSERT INTO "login_manager_sessions" (id, secret_hash, user_id, fresh, created_at,
    last_seen_at, expires_at, absolute_expires_at, fingerprint, user_agent, ip_address, remember_selector)
    VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?, ?, ?, NULL)`);
  db.exec("BEGIN");
  ids.forEach((id, i) => {
    const fingerprint = createHash("sha256").update(`f${i}`).digest("base64url");
    insert.run(
      id,
      `${id}${id}`.slice(0, 43),
      `u${i % 2000}`,
      NOW,
      NOW,
      NOW + 3_600_000,
      NOW + 43_200_000,
      fingerprint,
      AGENT,
      "203.0.113.7",
    );
  });
  db.exec("COMMIT");
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.close();
}

async function openStore(file: string, driver: DriverName): Promise<SqliteStore> {
  const { SqliteStore } =
    await importLib<typeof import("../src/stores/sqlite/index.js")>("stores/sqlite/index");
  const store = new SqliteStore({ database: file, driver });
  await store.initialize();
  return store;
}

/** `count` reads in the fixed order; throws if one misses (every id exists). */
function read(store: SqliteStore, count: number, offset = 0): void {
  for (let k = 0; k < count; k++) {
    const found = store.getSession(ids[order[(offset + k) & 0xffff] as number] as string, NOW);
    if (found === null || found instanceof Promise)
      throw new Error("getSession missed, or answered with a promise");
  }
}

interface Timing {
  cpuNs: number[];
  /** The kernel's share of cpuNs: SQLite takes its WAL read lock with system calls on every read. */
  systemNs: number[];
  wallNs: number[];
}

function timeRound(store: SqliteStore, round: number, timing: Timing): void {
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  read(store, READS, round * 7919);
  const wall = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  timing.cpuNs.push(((used.user + used.system) * 1000) / READS);
  timing.systemNs.push((used.system * 1000) / READS);
  timing.wallNs.push(wall / READS);
}

async function timeDrivers(file: string): Promise<Record<DriverName, Timing>> {
  const stores = {} as Record<DriverName, SqliteStore>;
  const timings = {} as Record<DriverName, Timing>;
  for (const driver of DRIVERS) {
    stores[driver] = await openStore(file, driver);
    read(stores[driver], WARM_READS);
    timings[driver] = { cpuNs: [], systemNs: [], wallNs: [] };
  }
  for (let round = 0; round < ROUNDS; round++) {
    // Alternate which driver goes first, so neither always runs on the warmer machine.
    const sequence = round % 2 === 0 ? DRIVERS : [...DRIVERS].reverse();
    for (const driver of sequence) timeRound(stores[driver], round, timings[driver]);
  }
  for (const driver of DRIVERS) await stores[driver].close();
  return timings;
}

/** Child mode (under valgrind): open, warm up, `reads` reads, exit. */
async function child(driver: DriverName, file: string, reads: number): Promise<void> {
  const store = await openStore(file, driver);
  read(store, 2_000);
  read(store, reads, 1);
  await store.close();
}

/** The main thread's instruction total of one callgrind run. */
function callgrindInstructions(driver: DriverName, file: string, reads: number, outDir: string): number {
  const prefix = join(outDir, `${driver.replace(":", "-")}-${reads}`);
  execFileSync(
    "valgrind",
    [
      "--tool=callgrind",
      "--separate-threads=yes",
      `--callgrind-out-file=${prefix}.%p`,
      process.execPath,
      "--import",
      "tsx",
      fileURLToPath(import.meta.url),
      "--child",
      driver,
      file,
      String(reads),
    ],
    { stdio: ["ignore", "ignore", "pipe"], env: process.env, maxBuffer: 64 << 20 },
  );
  const base = prefix.slice(outDir.length + 1);
  const main = readdirSync(outDir).find((name) => name.startsWith(`${base}.`) && name.endsWith("-01"));
  if (!main) throw new Error(`no callgrind output for the main thread of ${base}`);
  const totals = /^(?:totals|summary): (\d+)/m.exec(readFileSync(join(outDir, main), "utf8"));
  if (!totals?.[1]) throw new Error(`no totals in ${main}`);
  return Number(totals[1]);
}

function instructionsPerRead(file: string, outDir: string): Record<DriverName, number> {
  const [few, many] = [5_000, 45_000];
  const result = {} as Record<DriverName, number>;
  for (const driver of DRIVERS) {
    const difference =
      callgrindInstructions(driver, file, many, outDir) - callgrindInstructions(driver, file, few, outDir);
    result[driver] = Math.round(difference / (many - few));
  }
  return result;
}

async function main(): Promise<void> {
  const dataDir = process.env.BENCH_DATA_DIR ?? mkdtempSync(join(tmpdir(), "bench-sqlite-drivers-"));
  const file = join(dataDir, "sessions.db");
  try {
    await createDatabase(file);
    const timings = await timeDrivers(file);
    const instructions = process.env.BENCH_CALLGRIND === "1" ? instructionsPerRead(file, dataDir) : undefined;
    report(timings, instructions);
  } finally {
    if (!process.env.BENCH_DATA_DIR) rmSync(dataDir, { recursive: true, force: true });
  }
}

function report(
  timings: Record<DriverName, Timing>,
  instructions: Record<DriverName, number> | undefined,
): void {
  const reference = median(timings["better-sqlite3"].cpuNs);
  console.log(
    `Node ${process.version}, SQLite ${process.versions.sqlite} (node:sqlite), ${ROWS} rows, ${ROUNDS} rounds of ${READS} reads, lib=${libKind()}`,
  );
  const summary = DRIVERS.map((driver) => {
    const cpu = median(timings[driver].cpuNs);
    const row = {
      driver,
      cpuNsPerRead: Math.round(cpu),
      systemNsPerRead: Math.round(median(timings[driver].systemNs)),
      wallNsPerRead: Math.round(median(timings[driver].wallNs)),
      cpuRounds: timings[driver].cpuNs.map(Math.round),
      ratioToBetterSqlite3: Number((cpu / reference).toFixed(2)),
      instructionsPerRead: instructions?.[driver],
    };
    console.log(
      `${driver.padEnd(15)} ${String(row.cpuNsPerRead).padStart(6)} ns CPU per read (kernel ${row.systemNsPerRead} ns, wall ${row.wallNsPerRead} ns), ${row.ratioToBetterSqlite3}x better-sqlite3` +
        (row.instructionsPerRead === undefined ? "" : `, ${row.instructionsPerRead} instructions per read`),
    );
    return row;
  });
  console.log(
    JSON.stringify({ node: process.version, rows: ROWS, reads: READS, rounds: ROUNDS, drivers: summary }),
  );
}

const [flag, driver, file, reads] = process.argv.slice(2);
if (flag === "--child") await child(driver as DriverName, file as string, Number(reads));
else await main();
