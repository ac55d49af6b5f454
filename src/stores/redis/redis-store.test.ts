import { randomBytes } from "node:crypto";
import { Redis as IORedis6 } from "ioredis";
import { Redis as IORedis5 } from "ioredis-5";
import { createClient as createClient6, RESP_TYPES } from "redis";
import { createClient as createClient4 } from "redis-4";
import { createClient as createClient5 } from "redis-5";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeIfRedis, redisUrl } from "../../../test/helpers/services.js";
import type { RememberTokenRecord, SessionRecord } from "../../core/store.js";
import { hashToken, randomToken } from "../../core/tokens.js";
import { defineStoreConformanceTests } from "../../testing/store-suite.js";
import { isIORedis, type RedisStoreClient } from "./clients.js";
import { evalScript, redisDriver } from "./driver.js";
import { RedisStore } from "./index.js";
import { luaScript } from "./scripts.js";

const T0 = 2_000_000_000_000;
const HOUR = 3_600_000;

/**
 * Every client in the peer range, as its library's defaults make it: node-redis 6 speaks RESP3
 * unless told otherwise, node-redis 4 and 5 RESP2, ioredis 6 RESP3 (legacy reply shapes) and
 * ioredis 5 RESP2. The variants check that no reply shape depends on the protocol, nor on a
 * type mapping the app set for its own commands (node-redis 6 applies it to sendCommand too).
 */
const CLIENTS: { name: string; create: () => RedisStoreClient }[] = [
  { name: "node-redis 4", create: () => createClient4({ url: redisUrl() }) },
  { name: "node-redis 5", create: () => createClient5({ url: redisUrl() }) },
  { name: "node-redis 6", create: () => createClient6({ url: redisUrl() }) },
  { name: "node-redis 6 on RESP2", create: () => createClient6({ url: redisUrl(), RESP: 2 }) },
  {
    name: "node-redis 6 with Buffer replies",
    create: () => createClient6({ url: redisUrl() }).withTypeMapping({ [RESP_TYPES.BLOB_STRING]: Buffer }),
  },
  { name: "ioredis 5", create: () => new IORedis5(redisUrl(), { lazyConnect: true }) },
  { name: "ioredis 6", create: () => new IORedis6(redisUrl(), { lazyConnect: true }) },
  {
    name: "ioredis 6 with RESP3 replies",
    create: () => new IORedis6(redisUrl(), { lazyConnect: true, replyMapping: "resp3" }),
  },
];

async function connect(client: RedisStoreClient): Promise<void> {
  client.on("error", () => undefined);
  await client.connect();
}

async function quit(client: RedisStoreClient): Promise<void> {
  await client.disconnect();
}

/** One raw command on `client`, outside the store. */
function send(client: RedisStoreClient, args: string[]): Promise<unknown> {
  return isIORedis(client) ? client.call(args[0] as string, ...args.slice(1)) : client.sendCommand(args);
}

/** A MONITOR line, `1700000000.123456 [0 127.0.0.1:53422] "HMGET" "key" ...`: who sent what. */
function parseMonitorLine(line: string): { source: string | undefined; args: string[] } {
  const source = /^\S+ \[\S+ ([^\]]+)\]/.exec(line)?.[1];
  const args = [...line.matchAll(/"((?:[^"\\]|\\.)*)"/g)].map(([, arg = ""]) => arg.replace(/\\(.)/g, "$1"));
  return { source, args };
}

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
    authMethods: `pwd:${T0}`,
    ...overrides,
  };
}

function makeToken(overrides: Partial<RememberTokenRecord> = {}): RememberTokenRecord {
  return {
    selector: randomToken(),
    validatorHash: hashToken(randomToken()),
    previousValidatorHash: null,
    rotatedAt: T0,
    rotatedBy: "",
    userId: `user-${randomToken()}`,
    createdAt: T0,
    expiresAt: T0 + 30 * 24 * HOUR,
    ...overrides,
  };
}

await describeIfRedis("RedisStore", () => {
  const admin = new IORedis6(redisUrl(), { lazyConnect: true });
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

  /**
   * The commands `client` sends while `body` runs, as seen by the server through MONITOR. node-redis
   * watches: ioredis' monitor mode misreads the lines of other processes' commands that arrive
   * while it starts or stops, as replies to no command.
   */
  async function commandsSentDuring(
    client: RedisStoreClient,
    body: () => Promise<unknown>,
  ): Promise<string[][]> {
    const info = String(await send(client, ["CLIENT", "INFO"]));
    const address = /addr=(\S+)/.exec(info)?.[1];
    const monitor = createClient6({ url: redisUrl() });
    monitor.on("error", () => undefined);
    await monitor.connect();
    const marker = `lm-marker-${randomToken()}`;
    const seen: string[][] = [];
    let markerSeen: () => void = () => undefined;
    const done = new Promise<void>((resolve) => {
      markerSeen = resolve;
    });
    await monitor.monitor((line: string) => {
      const { source, args } = parseMonitorLine(line);
      if (source !== address) return;
      if (args[0]?.toUpperCase() === "ECHO" && args[1] === marker) markerSeen();
      else seen.push(args);
    });
    try {
      await body();
      await send(client, ["ECHO", marker]);
      await done;
      return seen;
    } finally {
      monitor.destroy();
    }
  }

  for (const { name, create } of CLIENTS) {
    describe(name, () => {
      const client = create();
      beforeAll(() => connect(client));
      afterAll(() => quit(client));

      const prefixOf = new Map<RedisStore, string>();
      defineStoreConformanceTests({
        name: `RedisStore (${name})`,
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
          const hit = await commandsSentDuring(client, async () => {
            expect(await store.getSession(session.id, T0)).toEqual(session);
          });
          expect(hit.map((args) => args[0]?.toUpperCase())).toEqual(["HMGET"]);
          const miss = await commandsSentDuring(client, () => store.getSession(randomToken(), T0));
          expect(miss).toHaveLength(1);
        });

        it("writes are one command each (one Lua script)", async () => {
          const session = makeSession();
          const sent = await commandsSentDuring(client, async () => {
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
          await store.incrementCounter("ip:127.0.0.1", T0, HOUR);

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

        it("50 concurrent swaps expecting one validator: exactly one true, and its rotation is stored", async () => {
          const token = makeToken();
          await store.createRememberToken(token);
          const rotations = Array.from({ length: 50 }, (_, i) => ({
            validatorHash: hashToken(randomToken()),
            previousValidatorHash: token.validatorHash,
            rotatedAt: T0 + 1000 + i,
            rotatedBy: `client-${i}`,
          }));
          const results = await Promise.all(
            rotations.map((rotation) =>
              store.swapRememberValidator(token.selector, token.validatorHash, rotation),
            ),
          );
          const winners = results.flatMap((swapped, i) => (swapped ? [i] : []));
          expect(winners).toHaveLength(1);
          expect(await store.getRememberToken(token.selector, T0)).toEqual({
            ...token,
            ...rotations[winners[0] ?? -1],
          });
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
            Array.from({ length: 1200 }, (_, i) => store.incrementCounter(`k${i}`, T0, i % 2 ? HOUR : 5)),
          );
          expect(await store.deleteExpired(T0 + 11)).toBe(1000 + 600);
          expect(await store.deleteExpired(T0 + 11)).toBe(0);
          expect(await store.listUserSessions(userId, T0)).toHaveLength(250);
        });

        it("deleteAllSessions, then deleteAllRememberTokens, delete their records and user sets in SCAN batches, and no other key", async () => {
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
            await store.incrementCounter("account:alice", T0, HOUR);
            await store.incrementCounter(`epoch:user:${userId}`, T0, 400 * 24 * HOUR);
            const unrelated = [`${prefix}notes`, `${prefix}user:${userId}:profile`, `${prefix}remember:a:b`];
            for (const key of [foreign, ...unrelated]) await admin.set(key, "keep");
            const counters = [`${prefix}failures:account:alice`, `${prefix}failures:epoch:user:${userId}`];
            const survivors = [...unrelated, ...counters, ...nestedKeys];

            const sessionsSent = await commandsSentDuring(client, async () => {
              expect(await store.deleteAllSessions()).toBe(1500);
            });
            expect(await store.listUserSessions(userId, T0)).toEqual([]);
            expect(await admin.exists(`${prefix}user:${userId}:sessions`)).toBe(0);
            expect(await admin.scard(`${prefix}user:${userId}:remember`)).toBe(800);
            const tokensSent = await commandsSentDuring(client, async () => {
              expect(await store.deleteAllRememberTokens()).toBe(1200);
            });

            // The first walk sees about 2,800 keys, the second about 1,250: three and two SCAN batches at least.
            for (const [sent, batches] of [
              [sessionsSent, 3],
              [tokensSent, 2],
            ] as const) {
              const commands = sent.map((args) => args[0]?.toUpperCase());
              expect(new Set(commands)).toEqual(new Set(["SCAN", "EVALSHA"]));
              expect(commands.filter((command) => command === "SCAN").length).toBeGreaterThanOrEqual(batches);
            }
            expect((await keysUnder(prefix)).sort()).toEqual(survivors.sort());
            expect(await admin.get(foreign)).toBe("keep");
            expect(await store.getCounter("account:alice", T0)).toMatchObject({ count: 1 });
            expect(await store.getCounter(`epoch:user:${userId}`, T0)).toMatchObject({ count: 1 });
            expect(await nested.getSession(nestedSession.id, T0)).toEqual(nestedSession);
            expect(await store.deleteAllRememberTokens()).toBe(0);
            expect(await store.deleteAllSessions()).toBe(0);
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
          const sent = await commandsSentDuring(client, () => evalScript(driverOf, script, [], ["y"]));
          expect(sent.map((args) => args[0]?.toUpperCase())).toEqual(["EVALSHA"]);
          driverOf.detach();
        });

        it("close() leaves the caller's client open", async () => {
          await store.close();
          expect(await send(client, ["PING"])).toBe("PONG");
        });
      });
    });
  }
});
