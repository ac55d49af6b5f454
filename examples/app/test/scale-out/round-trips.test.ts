/**
 * Round trips per authenticated request in the steady state (no touch due, user cached with
 * `userCache.ttlSeconds`), measured on the servers' side where possible:
 * - Redis: `INFO commandstats` deltas on a redis-server of the test's own (nothing else talks to it),
 *   cross-checked by counting the commands the client sent;
 * - PostgreSQL: ReadyForQuery messages on the pool's connections (one per request/response
 *   exchange with the server), cross-checked by counting `pool.query` calls.
 * Users come from the app's PostgreSQL users table, so an uncached user lookup shows up too.
 */
import pg from "pg";
import { createClient } from "redis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { postgresConfig } from "../../../../test/helpers/services.js";
import { PostgresUserRepository } from "../../src/domain/postgres-users.js";
import { Jar, type LibraryApp, startLibraryApp, TestUser } from "./library-app.js";
import { postgresSubject, redisSubject } from "./stores.js";
import { createSchema, describeIfServices, ThrowawayRedis } from "./support.js";

const REQUESTS = 200;

/** A pool that counts exchanges with the server (ReadyForQuery) and `query` calls. */
function countingPool(): { pool: pg.Pool; exchanges: () => number; queries: () => number } {
  const pool = new pg.Pool({ ...postgresConfig(), max: 4 });
  pool.on("error", () => undefined);
  let exchanges = 0;
  let queries = 0;
  pool.on("connect", (client) => {
    (client as unknown as { connection: NodeJS.EventEmitter }).connection.on("readyForQuery", () => {
      exchanges += 1;
    });
  });
  const query = pool.query.bind(pool) as (...args: unknown[]) => unknown;
  (pool as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    queries += 1;
    return query(...args);
  };
  return { pool, exchanges: () => exchanges, queries: () => queries };
}

/** Logs in, warms up, then runs REQUESTS sequential authenticated requests; resolves the mean ms. */
async function steadyState(app: LibraryApp, userId: string, measure: () => Promise<void>): Promise<number> {
  const browser = new Jar(app.url);
  expect((await browser.post("/login", { id: userId })).status).toBe(200);
  for (let i = 0; i < 5; i += 1) expect((await browser.get("/me")).status).toBe(200);
  await measure();
  const start = performance.now();
  for (let i = 0; i < REQUESTS; i += 1) {
    const reply = await browser.get("/me");
    if (reply.status !== 200) throw new Error(`request ${i}: ${reply.status}`);
  }
  return (performance.now() - start) / REQUESTS;
}

await describeIfServices(["postgres"], "round trips per authenticated request", () => {
  let schema: Awaited<ReturnType<typeof createSchema>>;
  let counting: ReturnType<typeof countingPool>;
  let users: PostgresUserRepository;
  let userId: string;
  const apps: LibraryApp[] = [];
  const cleanups: Array<() => Promise<void>> = [];

  const loadUser = async (id: string) => {
    const user = await users.findById(id);
    return user ? new TestUser(user.getId(), user.username) : null;
  };

  beforeAll(async () => {
    schema = await createSchema("round_trips");
    counting = countingPool();
    users = new PostgresUserRepository(counting.pool, { schema: schema.name });
    const user = await users.create({
      username: "Walter",
      key: "walter",
      email: "walter@example.com",
      emailKey: "walter@example.com",
      passwordHash: "x",
    });
    userId = user.getId();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    for (const cleanup of cleanups.reverse()) await cleanup();
    await counting?.pool.end();
    await schema?.drop();
  });

  for (const cacheSeconds of [300, 0]) {
    it(`RedisStore (own redis-server), userCache.ttlSeconds ${cacheSeconds}`, async () => {
      const redis = await ThrowawayRedis.start();
      cleanups.push(() => redis.dispose());
      const subject = await redisSubject(redis.url);
      cleanups.push(() => subject.close());
      let sent = 0;
      const send = subject.client.sendCommand.bind(subject.client);
      subject.client.sendCommand = ((...args: Parameters<typeof send>) => {
        sent += 1;
        return send(...args);
      }) as typeof send;
      const admin = createClient({ url: redis.url });
      await admin.connect();
      cleanups.push(async () => admin.destroy());
      const app = await startLibraryApp(subject.store, loadUser, { userCache: { ttlSeconds: cacheSeconds } });
      apps.push(app);

      let sentBefore = 0;
      let exchangesBefore = 0;
      let loaderBefore = 0;
      const meanMs = await steadyState(app, userId, async () => {
        await admin.configResetStat();
        sentBefore = sent;
        exchangesBefore = counting.exchanges();
        loaderBefore = app.loaderCalls();
      });
      const stats = parseCommandStats(await admin.info("commandstats"));
      const serverCalls = [...stats].filter(([name]) => !/^(config|info)\b/.test(name));
      const redisCalls = serverCalls.reduce((sum, [, calls]) => sum + calls, 0);
      const pgExchanges = counting.exchanges() - exchangesBefore;
      const breakdown = serverCalls.map(([name, calls]) => `${name}=${calls}`).join(" ");
      console.log(
        `[measured] RedisStore, userCache.ttlSeconds=${cacheSeconds}: ${REQUESTS} authenticated requests -> Redis ${redisCalls} commands (${breakdown}; client sent ${sent - sentBefore}), PostgreSQL ${pgExchanges} round trips, user loader ${app.loaderCalls() - loaderBefore} calls; ${(redisCalls / REQUESTS).toFixed(2)} Redis + ${(pgExchanges / REQUESTS).toFixed(2)} PostgreSQL per request, ${meanMs.toFixed(2)} ms mean`,
      );
      expect(sent - sentBefore).toBe(redisCalls);
      expect(redisCalls).toBeLessThanOrEqual(REQUESTS);
      if (cacheSeconds > 0) {
        expect(redisCalls + pgExchanges).toBeLessThanOrEqual(REQUESTS);
        expect(pgExchanges).toBe(0);
      } else {
        expect(pgExchanges).toBe(REQUESTS);
      }
    });

    it(`PostgresStore, userCache.ttlSeconds ${cacheSeconds}`, async () => {
      const subject = await postgresSubject(counting.pool);
      cleanups.push(() => subject.close());
      const app = await startLibraryApp(subject.store, loadUser, { userCache: { ttlSeconds: cacheSeconds } });
      apps.push(app);
      let exchangesBefore = 0;
      let queriesBefore = 0;
      let loaderBefore = 0;
      const meanMs = await steadyState(app, userId, async () => {
        exchangesBefore = counting.exchanges();
        queriesBefore = counting.queries();
        loaderBefore = app.loaderCalls();
      });
      const exchanges = counting.exchanges() - exchangesBefore;
      const queries = counting.queries() - queriesBefore;
      console.log(
        `[measured] PostgresStore, userCache.ttlSeconds=${cacheSeconds}: ${REQUESTS} authenticated requests -> PostgreSQL ${exchanges} round trips (${queries} pool.query calls), user loader ${app.loaderCalls() - loaderBefore} calls; ${(exchanges / REQUESTS).toFixed(2)} per request, ${meanMs.toFixed(2)} ms mean`,
      );
      expect(queries).toBe(exchanges);
      if (cacheSeconds > 0) expect(exchanges).toBeLessThanOrEqual(REQUESTS);
      else expect(exchanges).toBe(2 * REQUESTS);
    });
  }
});

/** `INFO commandstats` as command name -> calls. */
function parseCommandStats(info: string): Map<string, number> {
  const stats = new Map<string, number>();
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    stats.set(match[1] as string, Number(match[2]));
  }
  return stats;
}
