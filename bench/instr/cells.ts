/**
 * The cells of the matrix: which server script each runs, with which environment, how the client
 * logs in, and what its two routes answer.
 *
 * @module
 */
import type { Framework, InstrConfig, Peer, Store } from "./config.js";

/** One server to measure: login-manager on a framework and store, or a peer. */
export interface Cell {
  /** `"login-manager"`, `"passport"` or `"better-auth"`. */
  readonly library: string;
  readonly framework: Framework;
  /** The store as reported: `memory`, `sqlite (node:sqlite)`... */
  readonly store: string;
  /** The store key of {@link Store}, or the peer's. */
  readonly storeKey: Store | "express-session memory" | "better-sqlite3";
  /** A file-name-safe name. */
  readonly name: string;
  /** Server script, relative to the project root. */
  readonly script: string;
  readonly env: Readonly<Record<string, string>>;
  /**
   * Fraction of the run's requests per warm-up round and counted window this cell gets (default 1): a
   * peer that costs twenty times ours per request reaches the same instructions per window, and the
   * same steadiness, with a fifth of the requests, and would otherwise take most of a run's time.
   */
  readonly requestScale?: number;
  /** How the client gets a session cookie. */
  readonly login: { readonly kind: "login-manager" } | { readonly kind: "peer"; readonly cookie: string };
}

const STORE_LABEL: Record<Store, string> = {
  memory: "memory",
  "sqlite-node": "SQLite (node:sqlite)",
  "sqlite-better": "SQLite (better-sqlite3)",
  redis: "Redis (node-redis)",
  "redis-ioredis": "Redis (ioredis 6)",
  postgres: "PostgreSQL",
};

function storeEnv(store: Store, config: InstrConfig): Record<string, string> {
  switch (store) {
    case "sqlite-node":
      return { BENCH_STORE: "sqlite", BENCH_SQLITE_DRIVER: "node:sqlite" };
    case "sqlite-better":
      return { BENCH_STORE: "sqlite", BENCH_SQLITE_DRIVER: "better-sqlite3" };
    case "redis":
      return { BENCH_STORE: "redis", BENCH_REDIS_CLIENT: "node-redis", BENCH_REDIS_URL: config.redisUrl };
    case "redis-ioredis":
      return { BENCH_STORE: "redis", BENCH_REDIS_CLIENT: "ioredis", BENCH_REDIS_URL: config.redisUrl };
    case "postgres":
      return { BENCH_STORE: "postgres", BENCH_PG_URL: config.pgUrl };
    default:
      return { BENCH_STORE: "memory" };
  }
}

function loginManagerCell(framework: Framework, store: Store, config: InstrConfig): Cell {
  return {
    library: "login-manager",
    framework,
    store: STORE_LABEL[store],
    storeKey: store,
    name: `lm-${framework}-${store}`,
    script: "bench/servers/lm-server.ts",
    env: {
      BENCH_FRAMEWORK: framework,
      BENCH_LOOP_DELAY: "0",
      BENCH_NO_TOUCH: "1",
      BENCH_COUNT_STORE: "0",
      ...storeEnv(store, config),
    },
    login: { kind: "login-manager" },
  };
}

function peerCell(peer: Peer): Cell {
  if (peer === "passport")
    return {
      library: "passport",
      framework: "express",
      store: "express-session MemoryStore",
      storeKey: "express-session memory",
      name: "peer-passport",
      script: "bench/servers/passport-server.ts",
      env: { BENCH_STORE: "memory" },
      login: { kind: "peer", cookie: "connect.sid" },
    };
  return {
    library: "better-auth",
    framework: "hono",
    store: "SQLite (better-sqlite3)",
    storeKey: "better-sqlite3",
    name: "peer-better-auth",
    script: "bench/servers/better-auth-server.ts",
    env: {},
    requestScale: 0.2,
    login: { kind: "peer", cookie: "better-auth.session_token" },
  };
}

/**
 * Every cell of a run, login-manager's first (framework-major), then the peers.
 *
 * @example
 * ```ts
 * cellsOf(readConfig(["--smoke"], {})); // [{ library: "login-manager", framework: "fastify", store: "memory", ... }]
 * ```
 */
export function cellsOf(config: InstrConfig): Cell[] {
  const ours = config.frameworks.flatMap((framework) =>
    config.stores.map((store) => loginManagerCell(framework, store, config)),
  );
  return [...ours, ...config.peers.map(peerCell)];
}
