/**
 * Part 4: many live sessions in SQLite, PostgreSQL and Redis.
 *
 * For each store: bulk-insert N sessions (SQLite: one transaction on the store's own table;
 * PostgreSQL: one INSERT ... SELECT generate_series on the store's own table; Redis: the store's
 * own createSession, pipelined by ioredis), one of the users ("heavy") holding 1,000 of them. Then,
 * through the store API only: getSession latency for random ids, bytes per session (file size,
 * pg_total_relation_size, INFO used_memory), and the time of deleteUserSessions("heavy")
 * (re-inserting its 1,000 sessions between repetitions). Everything it creates is removed at the end.
 *
 * Environment: BENCH_SCALE_N, BENCH_SCALE_STORES (comma list), BENCH_LOOKUPS, BENCH_DATA_DIR,
 * BENCH_PG_URL, BENCH_REDIS_URL, BENCH_REDIS_SCALE_DB. Prints one JSON line.
 */
import { createHash } from "node:crypto";
import { rmSync, statSync } from "node:fs";
import { join } from "node:path";
import type { SessionStore } from "../src/index.js";
import type { SessionRecord } from "../src/store/index.js";
import { importLib } from "./lib/lib.js";

const N = Number(process.env.BENCH_SCALE_N ?? 1_000_000);
const stores = (process.env.BENCH_SCALE_STORES ?? "sqlite,postgres,redis").split(",").filter(Boolean);
const LOOKUPS = Number(process.env.BENCH_LOOKUPS ?? 5000);
const HEAVY = Math.min(1000, Math.floor(N / 2));
const REVOKE_REPS = 3;
const dataDir = process.env.BENCH_DATA_DIR ?? ".";
const pgUrl = process.env.BENCH_PG_URL ?? "postgresql://postgres@127.0.0.1:5432/test";
const redisUrl = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";
const USERS = Math.max(1, Math.floor((N - HEAVY) / 5));
const NOW = Date.now();
const AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";

/** The id of session i: 22 base64url characters, like a real one (and reproducible in SQL). */
function sessionId(i: number): string {
  return createHash("md5").update(`s${i}`).digest("base64url");
}

let idCache: string[] | undefined;
/** Session ids 0..N-1, computed once and shared by every store. */
function cachedId(i: number): string {
  if (!idCache) {
    idCache = new Array<string>(N);
    for (let k = 0; k < N; k++) idCache[k] = sessionId(k);
  }
  return idCache[i] as string;
}

const FINGERPRINTS = Array.from({ length: 1000 }, (_, k) =>
  createHash("sha256").update(`f${k}`).digest("base64url"),
);

function userOf(i: number): string {
  return i < HEAVY ? "heavy" : `u${i % USERS}`;
}

function record(i: number, userId = userOf(i)): SessionRecord {
  const id = cachedId(i);
  return {
    id,
    // 43 characters like a base64url SHA-256; its content does not matter to a lookup by id.
    secretHash: `${id}${id}`.slice(0, 43),
    userId,
    fresh: false,
    createdAt: NOW - 1000,
    lastSeenAt: NOW - 1000,
    expiresAt: NOW + 3_600_000,
    absoluteExpiresAt: NOW + 43_200_000,
    fingerprint: FINGERPRINTS[i % 1000] as string,
    userAgent: AGENT,
    ipAddress: "203.0.113.7",
    rememberSelector: null,
    authMethods: `pwd:${NOW - 1000}`,
  };
}

interface StoreResult {
  store: string;
  n: number;
  insertMethod: string;
  insertSeconds: number;
  lookupUs: { p50: number; p90: number; p99: number; mean: number; count: number };
  lookupHits: number;
  bytesTotal: number;
  bytesPerSession: number;
  bytesMethod: string;
  revokeMs: number[];
  revokeMedianMs: number;
  revokedPerRun: number[];
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? Number.NaN;
}

async function lookups(store: SessionStore): Promise<{ stats: StoreResult["lookupUs"]; hits: number }> {
  const times: number[] = [];
  let hits = 0;
  let seed = 12345;
  for (let k = 0; k < LOOKUPS; k++) {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    const id = cachedId(seed % N);
    const start = performance.now();
    const found = await store.getSession(id, Date.now());
    times.push((performance.now() - start) * 1000);
    if (found) hits++;
  }
  times.sort((a, b) => a - b);
  const mean = times.reduce((a, b) => a + b, 0) / times.length;
  return {
    stats: {
      p50: quantile(times, 0.5),
      p90: quantile(times, 0.9),
      p99: quantile(times, 0.99),
      mean,
      count: times.length,
    },
    hits,
  };
}

async function revokes(
  store: SessionStore,
  reinsert: () => Promise<void>,
): Promise<{ ms: number[]; counts: number[] }> {
  const ms: number[] = [];
  const counts: number[] = [];
  for (let rep = 0; rep < REVOKE_REPS; rep++) {
    if (rep > 0) await reinsert();
    const start = performance.now();
    counts.push(await store.deleteUserSessions("heavy"));
    ms.push(performance.now() - start);
  }
  return { ms, counts };
}

function finish(partial: Omit<StoreResult, "revokeMedianMs">): StoreResult {
  const sorted = [...partial.revokeMs].sort((a, b) => a - b);
  return { ...partial, revokeMedianMs: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN };
}

async function sqlite(): Promise<StoreResult> {
  const { default: Database } = await import("better-sqlite3");
  const { SqliteStore } =
    await importLib<typeof import("../src/stores/sqlite/index.js")>("stores/sqlite/index");
  const file = join(dataDir, "scale.db");
  for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  const store = new SqliteStore({ database: file });
  await store.initialize();
  const bulk = new Database(file);
  bulk.pragma("busy_timeout = 5000");
  const insert =
    bulk.prepare(`INSERT INTO "login_manager_sessions" (id, secret_hash, user_id, fresh, created_at,
      last_seen_at, expires_at, absolute_expires_at, fingerprint, user_agent, ip_address, remember_selector)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  const insertRange = bulk.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const r = record(i);
      insert.run(
        r.id,
        r.secretHash,
        r.userId,
        0,
        r.createdAt,
        r.lastSeenAt,
        r.expiresAt,
        r.absoluteExpiresAt,
        r.fingerprint,
        r.userAgent,
        r.ipAddress,
        null,
      );
    }
  });
  const start = performance.now();
  insertRange(0, N);
  bulk.pragma("wal_checkpoint(TRUNCATE)");
  const insertSeconds = (performance.now() - start) / 1000;
  const { stats, hits } = await lookups(store);
  const pageCount = bulk.pragma("page_count", { simple: true }) as number;
  const pageSize = bulk.pragma("page_size", { simple: true }) as number;
  const bytesTotal = pageCount * pageSize;
  const revoked = await revokes(store, async () => insertRange(0, HEAVY));
  bulk.close();
  await store.close();
  const fileBytes = statSync(file).size;
  for (const suffix of ["", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
  return finish({
    store: "sqlite",
    n: N,
    insertMethod: "one transaction of prepared INSERTs on the store's table (separate connection)",
    insertSeconds,
    lookupUs: stats,
    lookupHits: hits,
    bytesTotal: Math.max(bytesTotal, fileBytes),
    bytesPerSession: Math.max(bytesTotal, fileBytes) / N,
    bytesMethod: "database file size (page_count x page_size, WAL checkpointed), all tables and indexes",
    revokeMs: revoked.ms,
    revokedPerRun: revoked.counts,
  });
}

async function postgres(): Promise<StoreResult> {
  const { default: pg } = await import("pg");
  const { PostgresStore } =
    await importLib<typeof import("../src/stores/postgres/index.js")>("stores/postgres/index");
  const schema = "lm_bench_scale";
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  const store = new PostgresStore({ connectionString: pgUrl, schema });
  try {
    await store.getSession("warm-up-and-migrate", Date.now());
    const table = `"${schema}"."login_manager_sessions"`;
    const b64id = (expr: string) =>
      `replace(replace(rtrim(encode(decode(md5(${expr}), 'hex'), 'base64'), '='), '+', '-'), '/', '_')`;
    const insertSql = (
      from: number,
      to: number,
    ) => `INSERT INTO ${table} (id, secret_hash, user_id, fresh, created_at,
        last_seen_at, expires_at, absolute_expires_at, fingerprint, user_agent, ip_address, remember_selector)
      SELECT ${b64id("'s' || i")},
        left(${b64id("'s' || i")} || ${b64id("'s' || i")}, 43),
        CASE WHEN i < ${HEAVY} THEN 'heavy' ELSE 'u' || (i % ${USERS}) END,
        false, ${NOW - 1000}, ${NOW - 1000}, ${NOW + 3_600_000}, ${NOW + 43_200_000},
        rtrim(translate(encode(sha256(('f' || (i % 1000))::bytea), 'base64'), '+/', '-_'), '='),
        '${AGENT}', '203.0.113.7', NULL
      FROM generate_series(${from}, ${to - 1}) AS i`;
    const start = performance.now();
    await admin.query(insertSql(0, N));
    await admin.query(`ANALYZE ${table}`);
    const insertSeconds = (performance.now() - start) / 1000;
    const { stats, hits } = await lookups(store);
    const size = await admin.query<{ bytes: string }>(`SELECT pg_total_relation_size('${table}') AS bytes`);
    const bytesTotal = Number(size.rows[0]?.bytes ?? 0);
    const revoked = await revokes(store, async () => {
      await admin.query(insertSql(0, HEAVY));
    });
    return finish({
      store: "postgres",
      n: N,
      insertMethod: "one INSERT ... SELECT FROM generate_series on the store's table, then ANALYZE",
      insertSeconds,
      lookupUs: stats,
      lookupHits: hits,
      bytesTotal,
      bytesPerSession: bytesTotal / N,
      bytesMethod: "pg_total_relation_size of the sessions table (heap, TOAST and its three indexes)",
      revokeMs: revoked.ms,
      revokedPerRun: revoked.counts,
    });
  } finally {
    await store.close();
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await admin.end();
  }
}

async function redis(): Promise<StoreResult> {
  const { Redis } = await import("ioredis");
  const { RedisStore } = await importLib<typeof import("../src/stores/redis/index.js")>("stores/redis/index");
  const db = Number(process.env.BENCH_REDIS_SCALE_DB ?? 15);
  const client = new Redis(redisUrl, { db, maxRetriesPerRequest: 1 });
  const prefix = "lm-bench-scale:";
  const store = new RedisStore({ client, keyPrefix: prefix });
  const usedMemory = async () => Number(/used_memory:(\d+)/.exec(await client.info("memory"))?.[1] ?? 0);
  const cleanup = async () => {
    let cursor = "0";
    do {
      const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 10_000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== "0");
  };
  try {
    await cleanup();
    const before = await usedMemory();
    // Through the store API (one Lua script per session), pipelined: used for the heavy user.
    const insertViaStore = async (from: number, to: number) => {
      let next = from;
      await Promise.all(
        Array.from({ length: 256 }, async () => {
          while (next < to) {
            const i = next++;
            await store.createSession(record(i));
          }
        }),
      );
    };
    // The bulk: the store's own key layout (session hash + PEXPIREAT, per-user set + PEXPIREAT) sent
    // as raw RESP through `redis-cli --pipe` (Redis's mass-insertion tool); lookups through the
    // store API check the layout (lookupHits).
    const insertBulk = async (from: number, to: number) => {
      const { spawn } = await import("node:child_process");
      const url = new URL(redisUrl);
      const cli = spawn(
        "redis-cli",
        ["-h", url.hostname, "-p", url.port || "6379", "-n", String(db), "--pipe"],
        {
          stdio: ["pipe", "pipe", "inherit"],
        },
      );
      let output = "";
      cli.stdout.on("data", (chunk: Buffer) => {
        output += chunk.toString();
      });
      const done = new Promise<number | null>((resolve, reject) => {
        cli.once("error", reject);
        cli.once("exit", resolve);
      });
      const resp = (args: string[]) => {
        let text = `*${args.length}\r\n`;
        for (const arg of args) text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
        return text;
      };
      const expiring = new Set<string>();
      let chunk = "";
      for (let i = from; i < to; i++) {
        const r = record(i);
        const key = `${prefix}session:${r.id}`;
        const userKey = `${prefix}user:${r.userId}:sessions`;
        chunk += resp([
          "HSET",
          key,
          "secretHash",
          r.secretHash,
          "userId",
          r.userId,
          "fresh",
          "0",
          "createdAt",
          String(r.createdAt),
          "lastSeenAt",
          String(r.lastSeenAt),
          "expiresAt",
          String(r.expiresAt),
          "absoluteExpiresAt",
          String(r.absoluteExpiresAt),
          "fingerprint",
          r.fingerprint,
          "userAgent",
          r.userAgent,
          "ipAddress",
          r.ipAddress,
        ]);
        chunk += resp(["PEXPIREAT", key, String(r.expiresAt)]);
        chunk += resp(["SADD", userKey, r.id]);
        if (!expiring.has(userKey)) {
          expiring.add(userKey);
          chunk += resp(["PEXPIREAT", userKey, String(r.expiresAt)]);
        }
        if (chunk.length > 1 << 20) {
          if (!cli.stdin.write(chunk)) await new Promise((resolve) => cli.stdin.once("drain", resolve));
          chunk = "";
        }
      }
      cli.stdin.end(chunk);
      const code = await done;
      if (code !== 0 || !/errors: 0,/.test(output)) throw new Error(`redis-cli --pipe failed: ${output}`);
    };
    const start = performance.now();
    await insertViaStore(0, HEAVY);
    await insertBulk(HEAVY, N);
    const insertSeconds = (performance.now() - start) / 1000;
    const after = await usedMemory();
    const { stats, hits } = await lookups(store);
    const revoked = await revokes(store, () => insertViaStore(0, HEAVY));
    return finish({
      store: "redis",
      n: N,
      insertMethod: `redis-cli --pipe (raw RESP) in the store's key layout (the heavy user's 1,000 through createSession), db ${db}`,
      insertSeconds,
      lookupUs: stats,
      lookupHits: hits,
      bytesTotal: after - before,
      bytesPerSession: (after - before) / N,
      bytesMethod: "INFO memory used_memory after minus before (session hashes, per-user sets, key overhead)",
      revokeMs: revoked.ms,
      revokedPerRun: revoked.counts,
    });
  } finally {
    await cleanup().catch(() => undefined);
    client.disconnect();
  }
}

const results: StoreResult[] = [];
const errors: { store: string; error: string }[] = [];
for (const kind of stores) {
  const started = performance.now();
  try {
    const result =
      kind === "sqlite" ? await sqlite() : kind === "postgres" ? await postgres() : await redis();
    results.push(result);
  } catch (error) {
    errors.push({ store: kind, error: String((error as Error).stack ?? error) });
  }
  process.stderr.write(`  scale ${kind}: ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
}
process.stdout.write(
  `${JSON.stringify({ n: N, heavySessions: HEAVY, users: USERS, lookups: LOOKUPS, results, errors })}\n`,
);
