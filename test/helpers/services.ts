import pg from "pg";
import { createClient } from "redis";
import { describe } from "vitest";

/**
 * Which backing servers answer, for suites that need a real PostgreSQL or Redis.
 *
 * @example
 * ```ts
 * const { postgres, redis } = await servicesAvailable();
 * ```
 */
export interface ServiceAvailability {
  postgres: boolean;
  redis: boolean;
}

const PROBE_TIMEOUT_MS = 2000;

/**
 * PostgreSQL connection settings from `PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE` (defaults
 * 127.0.0.1, 5432, postgres, test). `PGPASSWORD` is read by `pg` itself.
 *
 * @example
 * ```ts
 * const pool = new pg.Pool(postgresConfig());
 * ```
 */
export function postgresConfig(): { host: string; port: number; user: string; database: string } {
  return {
    host: process.env.PGHOST ?? "127.0.0.1",
    port: Number(process.env.PGPORT ?? 5432),
    user: process.env.PGUSER ?? "postgres",
    database: process.env.PGDATABASE ?? "test",
  };
}

/**
 * A `postgresql://` URL for {@link postgresConfig}, for stores built from a connection string.
 *
 * @example
 * ```ts
 * new PostgresStore({ connectionString: postgresUrl() });
 * ```
 */
export function postgresUrl(): string {
  const { host, port, user, database } = postgresConfig();
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return `postgresql://${encodeURIComponent(user)}@${hostPart}:${port}/${encodeURIComponent(database)}`;
}

/**
 * The Redis URL from `REDIS_URL` (default redis://127.0.0.1:6379).
 *
 * @example
 * ```ts
 * const client = createClient({ url: redisUrl() });
 * ```
 */
export function redisUrl(): string {
  return process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
}

let probe: Promise<ServiceAvailability> | undefined;

/**
 * Probes PostgreSQL and Redis once per test file (cached) with a short timeout.
 *
 * @example
 * ```ts
 * if (!(await servicesAvailable()).redis) console.warn("no Redis");
 * ```
 */
export function servicesAvailable(): Promise<ServiceAvailability> {
  probe ??= Promise.all([probePostgres(), probeRedis()]).then(([postgres, redis]) => ({ postgres, redis }));
  return probe;
}

/** True when the shared PostgreSQL answers `SELECT 1` within `timeoutMs`. */
export async function probePostgres(timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  const client = new pg.Client({ ...postgresConfig(), connectionTimeoutMillis: timeoutMs });
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

/** True when the shared Redis answers PING within `timeoutMs`. */
export async function probeRedis(timeoutMs = PROBE_TIMEOUT_MS): Promise<boolean> {
  const client = createClient({
    url: redisUrl(),
    socket: { connectTimeout: timeoutMs, reconnectStrategy: false },
  });
  client.on("error", () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === "PONG";
  } catch {
    return false;
  } finally {
    if (client.isOpen) client.destroy();
  }
}

function describeIfService(service: keyof ServiceAvailability, where: () => string) {
  const label = service === "postgres" ? "PostgreSQL" : "Redis";
  return async (name: string, body: () => void): Promise<void> => {
    if ((await servicesAvailable())[service]) {
      describe(name, body);
      return;
    }
    if (process.env.REQUIRE_SERVICES === "1") {
      throw new Error(
        `${label} is not reachable at ${where()} and REQUIRE_SERVICES=1: start it or unset REQUIRE_SERVICES.`,
      );
    }
    console.warn(`SKIPPED: ${label} not reachable at ${where()} — set REQUIRE_SERVICES=1 to fail instead`);
    describe.skip(name, body);
  };
}

/**
 * `describe` when PostgreSQL answers; otherwise a loud warning and `describe.skip`, or a thrown
 * error (failing the file) when `REQUIRE_SERVICES=1`. Await it at the top level of a test file.
 *
 * @example
 * ```ts
 * await describeIfPostgres("PostgresStore", () => {
 *   it("works", async () => { ... });
 * });
 * ```
 */
export const describeIfPostgres = describeIfService("postgres", () => {
  const { host, port } = postgresConfig();
  return `${host}:${port}`;
});

/**
 * `describe` when Redis answers; otherwise a loud warning and `describe.skip`, or a thrown error
 * (failing the file) when `REQUIRE_SERVICES=1`. Await it at the top level of a test file.
 *
 * @example
 * ```ts
 * await describeIfRedis("RedisStore", () => {
 *   it("works", async () => { ... });
 * });
 * ```
 */
export const describeIfRedis = describeIfService("redis", () => new URL(redisUrl()).host);
