import { randomBytes } from "node:crypto";
import { connect, createServer, type Server, type Socket } from "node:net";
import { Redis } from "ioredis";
import { createClient } from "redis";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeIfRedis, redisUrl } from "../../../test/helpers/services.js";
import { ConfigurationError, StoreError } from "../../core/errors.js";
import type { RememberTokenRecord, SessionRecord } from "../../core/store.js";
import { hashToken, randomToken } from "../../core/tokens.js";
import { defineStoreConformanceTests } from "../../testing/store-suite.js";
import { evalScript, redisDriver } from "./driver.js";
import { RedisStore } from "./index.js";
import { luaScript } from "./scripts.js";

const T0 = 2_000_000_000_000;
const HOUR = 3_600_000;

type AnyClient = ReturnType<typeof createClient> | Redis;

interface DriverCase {
  name: "node-redis" | "ioredis";
  connect: () => Promise<AnyClient>;
  quit: (client: AnyClient) => Promise<void>;
  send: (client: AnyClient, args: string[]) => Promise<unknown>;
}

const drivers: DriverCase[] = [
  {
    name: "node-redis",
    connect: async () => {
      const client = createClient({ url: redisUrl() });
      client.on("error", () => undefined);
      await client.connect();
      return client;
    },
    quit: async (client) => {
      await (client as ReturnType<typeof createClient>).close();
    },
    send: (client, args) => (client as ReturnType<typeof createClient>).sendCommand(args),
  },
  {
    name: "ioredis",
    connect: async () => {
      const client = new Redis(redisUrl(), { lazyConnect: true });
      client.on("error", () => undefined);
      await client.connect();
      return client;
    },
    quit: async (client) => {
      await (client as Redis).quit();
    },
    send: (client, args) => (client as Redis).call(args[0] as string, ...args.slice(1)),
  },
];

function randomPrefix(): string {
  return `lm-test:${randomBytes(6).toString("hex")}:`;
}

function makeSession(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomToken(),
    secretHash: hashToken(randomToken()),
    userId: `user-${randomToken()}`,
    fresh: true,
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + HOUR,
    absoluteExpiresAt: T0 + 24 * HOUR,
    fingerprint: "",
    userAgent: "test",
    ipAddress: "127.0.0.1",
    rememberSelector: null,
    ...overrides,
  };
}

function makeToken(overrides: Partial<RememberTokenRecord> = {}): RememberTokenRecord {
  return {
    selector: randomToken(),
    validatorHash: hashToken(randomToken()),
    previousValidatorHash: null,
    rotatedAt: T0,
    userId: `user-${randomToken()}`,
    createdAt: T0,
    expiresAt: T0 + 30 * 24 * HOUR,
    ...overrides,
  };
}

/** A TCP proxy to Redis that can be taken down and brought back on the same port. */
class FlakyProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  port = 0;

  async up(): Promise<void> {
    const target = new URL(redisUrl());
    const server = createServer((downstream) => {
      const upstream = connect(Number(target.port || 6379), target.hostname);
      for (const socket of [downstream, upstream]) {
        this.sockets.add(socket);
        socket.on("error", () => undefined);
        socket.on("close", () => {
          this.sockets.delete(socket);
          downstream.destroy();
          upstream.destroy();
        });
      }
      downstream.pipe(upstream).pipe(downstream);
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  async down(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const socket of this.sockets) socket.destroy();
    if (server) await new Promise((resolve) => server.close(resolve));
  }
}

async function eventually(check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check().catch(() => false))) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

await describeIfRedis("RedisStore", () => {
  const admin = new Redis(redisUrl(), { lazyConnect: true });
  admin.on("error", () => undefined);
  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.quit();
  });

  async function keysUnder(prefix: string): Promise<string[]> {
    const found: string[] = [];
    let cursor = "0";
    do {
      const [next, keys] = await admin.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      found.push(...keys);
      cursor = next;
    } while (cursor !== "0");
    return found;
  }

  async function deleteKeysUnder(prefix: string): Promise<void> {
    const keys = await keysUnder(prefix);
    if (keys.length > 0) await admin.del(...keys);
  }

  /** The commands `client` sends while `body` runs, as seen by the server through MONITOR. */
  async function commandsSentDuring(
    driver: DriverCase,
    client: AnyClient,
    body: () => Promise<unknown>,
  ): Promise<string[][]> {
    const info = String(await driver.send(client, ["CLIENT", "INFO"]));
    const address = /addr=(\S+)/.exec(info)?.[1];
    const monitor = await admin.monitor();
    const marker = `lm-marker-${randomToken()}`;
    const seen: string[][] = [];
    let markerSeen: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      markerSeen = resolve;
    });
    monitor.on("monitor", (_time: string, args: string[], source: string) => {
      if (source !== address) return;
      if (args[0]?.toUpperCase() === "ECHO" && args[1] === marker) markerSeen();
      else seen.push(args);
    });
    try {
      await body();
      await driver.send(client, ["ECHO", marker]);
      await done;
      return seen;
    } finally {
      monitor.disconnect();
    }
  }

  for (const driver of drivers) {
    describe(driver.name, () => {
      let client: AnyClient;
      beforeAll(async () => {
        client = await driver.connect();
      });
      afterAll(() => driver.quit(client));

      const prefixOf = new Map<RedisStore, string>();
      defineStoreConformanceTests({
        name: `RedisStore (${driver.name})`,
        createStore: () => {
          const keyPrefix = randomPrefix();
          const store = new RedisStore({ client, keyPrefix });
          prefixOf.set(store, keyPrefix);
          return store;
        },
        destroyStore: async (store) => {
          await store.close();
          await deleteKeysUnder(prefixOf.get(store) ?? "lm-test:none:");
        },
        describe,
        it,
        beforeEach,
        afterEach,
      });

      describe("behaviour", () => {
        let store: RedisStore;
        let prefix: string;
        beforeEach(() => {
          prefix = randomPrefix();
          store = new RedisStore({ client, keyPrefix: prefix });
        });
        afterEach(async () => {
          await store.close();
          await deleteKeysUnder(prefix);
        });

        it("getSession sends exactly one command (HMGET), seen by the server", async () => {
          const session = makeSession();
          await store.createSession(session);
          const hit = await commandsSentDuring(driver, client, async () => {
            expect(await store.getSession(session.id, T0)).toEqual(session);
          });
          expect(hit.map((args) => args[0]?.toUpperCase())).toEqual(["HMGET"]);
          const miss = await commandsSentDuring(driver, client, () => store.getSession(randomToken(), T0));
          expect(miss).toHaveLength(1);
        });

        it("writes are one command each (one Lua script)", async () => {
          const session = makeSession();
          const sent = await commandsSentDuring(driver, client, async () => {
            await store.createSession(session);
            await store.updateSession(session.id, { lastSeenAt: T0 + 1, expiresAt: T0 + 2 * HOUR });
            await store.listUserSessions(session.userId, T0);
            await store.deleteUserSessions(session.userId);
          });
          expect(sent).toHaveLength(4);
          expect(new Set(sent.map((args) => args[0]?.toUpperCase()))).toEqual(new Set(["EVALSHA"]));
        });

        it("every key is under the prefix and carries a TTL ending at expiresAt", async () => {
          const session = makeSession({ expiresAt: T0 + HOUR });
          const longer = makeSession({ userId: session.userId, expiresAt: T0 + 3 * HOUR });
          const token = makeToken({ expiresAt: T0 + 48 * HOUR });
          await store.createSession(longer);
          await store.createSession(session);
          await store.createRememberToken(token);
          await store.incrementFailures("ip:127.0.0.1", T0, HOUR);

          const keys = await keysUnder(prefix);
          expect(keys.sort()).toEqual(
            [
              `${prefix}session:${session.id}`,
              `${prefix}session:${longer.id}`,
              `${prefix}user:${session.userId}:sessions`,
              `${prefix}remember:${token.selector}`,
              `${prefix}user:${token.userId}:remember`,
              `${prefix}failures:ip:127.0.0.1`,
            ].sort(),
          );
          for (const key of keys) expect(await admin.pttl(key)).toBeGreaterThan(0);
          const expireTime = (key: string) => admin.call("PEXPIRETIME", key).then(Number);
          expect(await expireTime(`${prefix}session:${session.id}`)).toBe(T0 + HOUR);
          expect(await expireTime(`${prefix}user:${session.userId}:sessions`)).toBe(T0 + 3 * HOUR);
          expect(await expireTime(`${prefix}remember:${token.selector}`)).toBe(T0 + 48 * HOUR);
          expect(await expireTime(`${prefix}failures:ip:127.0.0.1`)).toBe(T0 + HOUR);

          await store.updateSession(session.id, { expiresAt: T0 + 5 * HOUR });
          expect(await expireTime(`${prefix}session:${session.id}`)).toBe(T0 + 5 * HOUR);
          expect(await expireTime(`${prefix}user:${session.userId}:sessions`)).toBe(T0 + 5 * HOUR);
          await store.updateSession(session.id, { expiresAt: T0 + 2 * HOUR });
          expect(await expireTime(`${prefix}user:${session.userId}:sessions`)).toBe(T0 + 5 * HOUR);
        });

        it("50 concurrent rotations of one token: exactly one rotated", async () => {
          const token = makeToken();
          await store.createRememberToken(token);
          const results = await Promise.all(
            Array.from({ length: 50 }, () =>
              store.rotateRememberToken({
                selector: token.selector,
                presentedValidatorHash: token.validatorHash,
                newValidatorHash: hashToken(randomToken()),
                now: T0 + 1000,
                graceMs: 10_000,
              }),
            ),
          );
          const outcomes = results.map((result) => result.outcome);
          expect(outcomes.filter((outcome) => outcome === "rotated")).toHaveLength(1);
          expect(outcomes.filter((outcome) => outcome === "grace")).toHaveLength(49);
        });

        it("deleteExpired drops members whose keys Redis expired, and counts them", async () => {
          const now = Date.now();
          const userId = `user-${randomToken()}`;
          const shortLived = makeSession({ userId, createdAt: now, lastSeenAt: now, expiresAt: now + 100 });
          const live = makeSession({ userId });
          await store.createSession(shortLived);
          await store.createSession(live);
          await new Promise((resolve) => setTimeout(resolve, 250));
          expect(await admin.exists(`${prefix}session:${shortLived.id}`)).toBe(0);
          expect(await admin.scard(`${prefix}user:${userId}:sessions`)).toBe(2);

          expect(await store.deleteExpired(now + 250)).toBe(1);
          expect(await admin.smembers(`${prefix}user:${userId}:sessions`)).toEqual([live.id]);
          expect(await store.listUserSessions(userId, now)).toEqual([live]);
        });

        it("deleteExpired walks many keys in SCAN batches", async () => {
          const userId = `user-${randomToken()}`;
          const sessions = Array.from({ length: 1500 }, (_, i) =>
            makeSession({
              userId: i % 2 ? userId : `user-${i}`,
              createdAt: T0 + i,
              expiresAt: T0 + 10 + (i % 3),
            }),
          );
          await Promise.all(sessions.map((session) => store.createSession(session)));
          await Promise.all(
            Array.from({ length: 1200 }, (_, i) => store.incrementFailures(`k${i}`, T0, i % 2 ? HOUR : 5)),
          );
          expect(await store.deleteExpired(T0 + 11)).toBe(1000 + 600);
          expect(await store.deleteExpired(T0 + 11)).toBe(0);
          expect(await store.listUserSessions(userId, T0)).toHaveLength(250);
        });

        it("deleteAllSessions deletes every session, token and user set in SCAN batches, and no other key", async () => {
          const foreign = `lm-test-foreign:${randomToken()}`;
          const nested = new RedisStore({ client, keyPrefix: `${prefix}session:` });
          const userId = `user-${randomToken()}`;
          try {
            const nestedSession = makeSession();
            await nested.createSession(nestedSession);
            const nestedKeys = await keysUnder(`${prefix}session:`);
            expect(nestedKeys).toHaveLength(2);
            await Promise.all(
              Array.from({ length: 1500 }, (_, i) =>
                store.createSession(
                  makeSession({ userId: i % 2 ? userId : `user-${i % 40}`, createdAt: T0 + i }),
                ),
              ),
            );
            await Promise.all(
              Array.from({ length: 1200 }, (_, i) =>
                store.createRememberToken(makeToken({ userId: i % 3 ? userId : `user-${i % 40}` })),
              ),
            );
            await store.incrementFailures("account:alice", T0, HOUR);
            const unrelated = [`${prefix}notes`, `${prefix}user:${userId}:profile`, `${prefix}remember:a:b`];
            for (const key of [foreign, ...unrelated]) await admin.set(key, "keep");
            const survivors = [...unrelated, `${prefix}failures:account:alice`, ...nestedKeys];

            const sent = await commandsSentDuring(driver, client, async () => {
              expect(await store.deleteAllSessions()).toEqual({ sessions: 1500, rememberTokens: 1200 });
            });

            const commands = sent.map((args) => args[0]?.toUpperCase());
            expect(new Set(commands)).toEqual(new Set(["SCAN", "EVALSHA"]));
            expect(commands.filter((command) => command === "SCAN").length).toBeGreaterThan(2);
            expect((await keysUnder(prefix)).sort()).toEqual(survivors.sort());
            expect(await admin.get(foreign)).toBe("keep");
            expect(await store.getFailures("account:alice", T0)).toMatchObject({ count: 1 });
            expect(await nested.getSession(nestedSession.id, T0)).toEqual(nestedSession);
            expect(await store.listUserSessions(userId, T0)).toEqual([]);
          } finally {
            await admin.del(foreign);
            await nested.close();
          }
        });

        it("stores with different prefixes do not see each other's keys", async () => {
          const other = new RedisStore({ client, keyPrefix: randomPrefix() });
          const session = makeSession();
          await store.createSession(session);
          expect(await other.getSession(session.id, T0)).toBeNull();
          expect(await other.deleteUserSessions(session.userId)).toBe(0);
          expect(await other.deleteExpired(T0 + 2 * HOUR)).toBe(0);
          expect(await store.getSession(session.id, T0)).toEqual(session);
        });

        it("falls back to EVAL when the server does not know a script (NOSCRIPT)", async () => {
          const script = luaScript(`return ARGV[1] .. '-${randomToken()}'`);
          const driverOf = redisDriver(client);
          expect(String(await evalScript(driverOf, script, [], ["x"]))).toMatch(/^x-/);
          const sent = await commandsSentDuring(driver, client, () =>
            evalScript(driverOf, script, [], ["y"]),
          );
          expect(sent.map((args) => args[0]?.toUpperCase())).toEqual(["EVALSHA"]);
          driverOf.detach();
        });

        it("close() leaves the caller's client open", async () => {
          await store.close();
          expect(await driver.send(client, ["PING"])).toBe("PONG");
        });
      });
    });
  }

  describe("options", () => {
    it("rejects a missing client, an empty prefix and an ioredis keyPrefix with a ConfigurationError", () => {
      const prefixed = new Redis({ lazyConnect: true, keyPrefix: "app:" });
      const plain = new Redis({ lazyConnect: true });
      expect(() => new RedisStore({ client: {} as Redis })).toThrow(ConfigurationError);
      expect(() => new RedisStore({ client: plain, keyPrefix: "" })).toThrow(ConfigurationError);
      expect(() => new RedisStore({ client: prefixed })).toThrow(/keyPrefix/);
      prefixed.disconnect();
      plain.disconnect();
    });
  });

  describe("unavailable server", () => {
    const { hostname } = new URL(redisUrl());

    async function expectUnavailable(store: RedisStore): Promise<void> {
      const started = Date.now();
      const error = await storeError(store.getSession(randomToken(), T0));
      expect(error.unavailable).toBe(true);
      expect(error.code).toBe("ERR_STORE_UNAVAILABLE");
      const rotation = await storeError(
        store.rotateRememberToken({
          selector: randomToken(),
          presentedValidatorHash: "a",
          newValidatorHash: "b",
          now: T0,
          graceMs: 0,
        }),
      );
      expect(rotation.unavailable).toBe(true);
      expect(Date.now() - started).toBeLessThan(2000);
    }

    it("node-redis, fail-fast options, server on port 1: StoreError unavailable, no unhandled 'error'", async () => {
      const client = createClient({
        disableOfflineQueue: true,
        socket: {
          host: hostname,
          port: 1,
          connectTimeout: 300,
          reconnectStrategy: (retries) => Math.min(retries * 50, 500),
        },
      });
      const store = new RedisStore({ client });
      const connecting = client.connect().catch(() => undefined);
      try {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await expectUnavailable(store);
      } finally {
        client.destroy();
        await connecting;
        await store.close();
      }
    });

    it("node-redis client that is not connected: StoreError unavailable", async () => {
      const client = createClient({ socket: { host: hostname, port: 1 } });
      const store = new RedisStore({ client });
      await expectUnavailable(store);
      await store.close();
    });

    it("ioredis with enableOfflineQueue false, server on port 1: StoreError unavailable", async () => {
      const client = new Redis({ host: hostname, port: 1, enableOfflineQueue: false, connectTimeout: 300 });
      const store = new RedisStore({ client });
      try {
        await expectUnavailable(store);
      } finally {
        client.disconnect();
        await store.close();
      }
    });

    it("ioredis with maxRetriesPerRequest 1, server on port 1: StoreError unavailable", async () => {
      const client = new Redis({ host: hostname, port: 1, maxRetriesPerRequest: 1, connectTimeout: 300 });
      const store = new RedisStore({ client });
      try {
        await expectUnavailable(store);
      } finally {
        client.disconnect();
        await store.close();
      }
    });

    it("a closed ioredis client: StoreError unavailable", async () => {
      const client = new Redis(redisUrl(), { lazyConnect: true });
      await client.connect();
      await client.quit();
      const store = new RedisStore({ client });
      await expectUnavailable(store);
      await store.close();
    });
    it.each(["node-redis", "ioredis"] as const)(
      "%s with the documented fail-fast options answers unavailable while Redis is down, then recovers by itself",
      async (name) => {
        const proxy = new FlakyProxy();
        await proxy.up();
        const client: AnyClient =
          name === "node-redis"
            ? createClient({
                disableOfflineQueue: true,
                socket: {
                  host: "127.0.0.1",
                  port: proxy.port,
                  connectTimeout: 300,
                  reconnectStrategy: (retries) => Math.min(retries * 50, 200),
                },
              })
            : new Redis({
                host: "127.0.0.1",
                port: proxy.port,
                enableOfflineQueue: false,
                maxRetriesPerRequest: 1,
                connectTimeout: 300,
                retryStrategy: (times) => Math.min(times * 50, 200),
                lazyConnect: true,
              });
        const store = new RedisStore({ client, keyPrefix: randomPrefix() });
        await client.connect();
        try {
          const session = makeSession();
          await store.createSession(session);
          await proxy.down();
          await eventually(async () => {
            const error = await storeError(store.getSession(session.id, T0));
            return error.unavailable;
          });
          await proxy.up();
          await eventually(async () => (await store.getSession(session.id, T0))?.id === session.id);
          await store.deleteSession(session.id);
        } finally {
          if (name === "ioredis") (client as Redis).disconnect();
          else (client as ReturnType<typeof createClient>).destroy();
          await proxy.down();
          await store.close();
        }
      },
    );
  });
});
