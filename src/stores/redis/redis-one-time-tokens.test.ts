// RedisStore's one-time tokens: the conformance suite on every client variant, and what Redis keeps
// beyond it (key names and TTLs, one command per call, set members of tokens Redis expired).
import { randomBytes } from "node:crypto";
import { Redis as IORedis6 } from "ioredis";
import { Redis as IORedis5 } from "ioredis-5";
import { createClient as createClient6, RESP_TYPES } from "redis";
import { createClient as createClient4 } from "redis-4";
import { createClient as createClient5 } from "redis-5";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeIfRedis, redisUrl } from "../../../test/helpers/services.js";
import { StoreError } from "../../core/errors.js";
import type { OneTimeTokenRecord } from "../../core/store.js";
import { hashToken, randomToken } from "../../core/tokens.js";
import { defineOneTimeTokenStorageTests } from "../../testing/store-suite.js";
import { isIORedis, type RedisStoreClient } from "./clients.js";
import { RedisStore } from "./index.js";

const T0 = 2_000_000_000_000;
const HOUR = 3_600_000;

/** The protocol and reply-shape variants of redis-store.test.ts, each as its library's defaults make it. */
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

function oneTimeToken(overrides: Partial<OneTimeTokenRecord> = {}): OneTimeTokenRecord {
  return {
    tokenHash: hashToken(randomToken()),
    purpose: "password-reset",
    userId: `user-${randomToken()}`,
    data: "",
    epoch: 4,
    createdAt: T0,
    expiresAt: T0 + HOUR,
    ...overrides,
  };
}

/**
 * The commands the store sends through `client` while `body` runs, by command name. Both drivers
 * look the client's method up on every call, so a wrapper set here sees them all.
 */
async function commandsDuring(client: RedisStoreClient, body: () => Promise<unknown>): Promise<string[]> {
  const seen: string[] = [];
  const target = client as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const method = isIORedis(client) ? "call" : "sendCommand";
  const original = target[method] as (...args: unknown[]) => Promise<unknown>;
  target[method] = function (this: unknown, ...args: unknown[]) {
    const first = Array.isArray(args[0]) ? args[0][0] : args[0];
    seen.push(String(first).toUpperCase());
    return original.apply(this, args);
  };
  try {
    await body();
  } finally {
    delete target[method];
    if (target[method] !== original) target[method] = original;
  }
  return seen;
}

await describeIfRedis("RedisStore one-time tokens", () => {
  const admin = new IORedis6(redisUrl(), { lazyConnect: true });
  admin.on("error", () => undefined);
  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.quit();
  });
  const expireTime = (key: string) => admin.call("PEXPIRETIME", key).then(Number);

  async function deleteKeysUnder(prefix: string): Promise<void> {
    const keys = await admin.keys(`${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`);
    if (keys.length > 0) await admin.del(...keys);
  }

  for (const { name, create } of CLIENTS) {
    describe(name, () => {
      const client = create();
      beforeAll(async () => {
        client.on("error", () => undefined);
        await client.connect();
      });
      afterAll(() => client.disconnect());

      const prefixOf = new Map<RedisStore, string>();
      defineOneTimeTokenStorageTests({
        name: `RedisStore (${name})`,
        createStore: () => {
          const keyPrefix = `lm-test:${randomBytes(6).toString("hex")}:`;
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

      describe("keys and commands", () => {
        let store: RedisStore;
        let prefix: string;
        beforeEach(() => {
          prefix = `lm-test:${randomBytes(6).toString("hex")}:`;
          store = new RedisStore({ client, keyPrefix: prefix });
        });
        afterEach(async () => {
          await store.close();
          await deleteKeysUnder(prefix);
        });

        it("a token is a hash under the prefix expiring at expiresAt, listed in its user's set, which outlives it", async () => {
          const token = oneTimeToken({ data: "ada@example.org", expiresAt: T0 + 2 * HOUR });
          const sooner = oneTimeToken({ userId: token.userId, purpose: "email-verify" });
          await store.createOneTimeToken(token);
          await store.createOneTimeToken(sooner);
          const tokenKey = `${prefix}onetime:${token.tokenHash}`;
          const setKey = `${prefix}user:${token.userId}:onetime`;
          expect((await admin.keys(`${prefix}*`)).sort()).toEqual(
            [tokenKey, `${prefix}onetime:${sooner.tokenHash}`, setKey].sort(),
          );
          expect(await admin.hgetall(tokenKey)).toEqual({
            purpose: token.purpose,
            userId: token.userId,
            data: token.data,
            epoch: String(token.epoch),
            createdAt: String(token.createdAt),
            expiresAt: String(token.expiresAt),
          });
          expect(await expireTime(tokenKey)).toBe(T0 + 2 * HOUR);
          expect(await expireTime(`${prefix}onetime:${sooner.tokenHash}`)).toBe(T0 + HOUR);
          expect(await expireTime(setKey)).toBe(T0 + 2 * HOUR);
          expect((await admin.smembers(setKey)).sort()).toEqual([token.tokenHash, sooner.tokenHash].sort());

          expect(await store.consumeOneTimeToken(token.tokenHash, T0)).toEqual(token);
          expect(await admin.smembers(setKey)).toEqual([sooner.tokenHash]);
        });

        it("find is one HMGET; create, consume and deleteUserOneTimeTokens one script each", async () => {
          const token = oneTimeToken();
          await store.createOneTimeToken(oneTimeToken()); // the scripts are loaded: no NOSCRIPT retry below
          await store.consumeOneTimeToken(randomToken(), T0);
          await store.deleteUserOneTimeTokens(token.userId, null);
          const sent = await commandsDuring(client, async () => {
            await store.createOneTimeToken(token);
            expect(await store.findOneTimeToken(token.tokenHash, T0)).toEqual(token);
            expect(await store.consumeOneTimeToken(token.tokenHash, T0)).toEqual(token);
            expect(await store.deleteUserOneTimeTokens(token.userId, null)).toBe(0);
          });
          expect(sent).toEqual(["EVALSHA", "HMGET", "EVALSHA", "EVALSHA"]);
        });

        it("50 concurrent consumes of one hash: exactly one gets the record", async () => {
          const token = oneTimeToken();
          await store.createOneTimeToken(token);
          const results = await Promise.all(
            Array.from({ length: 50 }, () => store.consumeOneTimeToken(token.tokenHash, T0)),
          );
          expect(results.filter((result) => result !== null)).toEqual([token]);
          expect(await admin.exists(`${prefix}onetime:${token.tokenHash}`)).toBe(0);
        });

        it("members of tokens Redis already expired: deleteUserOneTimeTokens drops them uncounted, deleteExpired counts them", async () => {
          const now = Date.now();
          const userId = `user-${randomToken()}`;
          const shortLived = () => oneTimeToken({ userId, createdAt: now, expiresAt: now + 100 });
          const first = shortLived();
          const live = oneTimeToken({ userId });
          await store.createOneTimeToken(first);
          await store.createOneTimeToken(live);
          await new Promise((resolve) => setTimeout(resolve, 250));
          const setKey = `${prefix}user:${userId}:onetime`;
          expect(await admin.scard(setKey)).toBe(2);
          expect(await store.deleteUserOneTimeTokens(userId, "email-verify")).toBe(0);
          expect(await admin.smembers(setKey)).toEqual([live.tokenHash]);

          const second = shortLived();
          await store.createOneTimeToken(second);
          await new Promise((resolve) => setTimeout(resolve, 250));
          expect(await store.deleteExpired(now + 250)).toBe(1);
          expect(await admin.smembers(setKey)).toEqual([live.tokenHash]);
          expect(await store.findOneTimeToken(live.tokenHash, T0)).toEqual(live);
        });

        it("an expired token is left by consume for the sweep, and its user set still lists it", async () => {
          const token = oneTimeToken({ expiresAt: T0 });
          await store.createOneTimeToken(token);
          expect(await store.consumeOneTimeToken(token.tokenHash, T0)).toBeNull();
          expect(await admin.sismember(`${prefix}user:${token.userId}:onetime`, token.tokenHash)).toBe(1);
          expect(await store.deleteExpired(T0)).toBe(1);
          expect(await admin.keys(`${prefix}*`)).toEqual([]);
        });

        it("a hash stored twice is a StoreError with unavailable false, and the first record stays", async () => {
          const token = oneTimeToken();
          await store.createOneTimeToken(token);
          const error = await store.createOneTimeToken({ ...token, purpose: "email-verify" }).catch((e) => e);
          expect(error).toBeInstanceOf(StoreError);
          expect((error as StoreError).unavailable).toBe(false);
          expect(await store.findOneTimeToken(token.tokenHash, T0)).toEqual(token);
        });

        it("a purpose of '' and of 'null' are purposes; only null means every purpose", async () => {
          const userId = `user-${randomToken()}`;
          for (const purpose of ["", "null", "email-verify"]) {
            await store.createOneTimeToken(oneTimeToken({ userId, purpose }));
          }
          expect(await store.deleteUserOneTimeTokens(userId, "null")).toBe(1);
          expect(await store.deleteUserOneTimeTokens(userId, "")).toBe(1);
          expect(await store.deleteUserOneTimeTokens(userId, null)).toBe(1);
        });
      });
    });
  }
});

describe("RedisStore one-time tokens when Redis is unavailable", () => {
  const unreachable: [string, () => RedisStoreClient][] = [
    ["node-redis 6, not connected", () => createClient6({ socket: { host: "127.0.0.1", port: 1 } })],
    [
      "ioredis 6 without an offline queue, not connected",
      () => new IORedis6({ host: "127.0.0.1", port: 1, lazyConnect: true, enableOfflineQueue: false }),
    ],
  ];

  it.each(unreachable)(
    "%s: every method rejects with StoreError unavailable naming it",
    async (_name, create) => {
      const client = create();
      client.on("error", () => undefined);
      const store = new RedisStore({ client });
      const token = oneTimeToken();
      const calls: [string, () => Promise<unknown>][] = [
        ["createOneTimeToken", () => store.createOneTimeToken(token)],
        ["findOneTimeToken", () => store.findOneTimeToken(token.tokenHash, T0)],
        ["consumeOneTimeToken", () => store.consumeOneTimeToken(token.tokenHash, T0)],
        ["deleteUserOneTimeTokens", () => store.deleteUserOneTimeTokens(token.userId, null)],
      ];
      try {
        for (const [operation, call] of calls) {
          const error = await call().then(
            () => undefined,
            (reason: unknown) => reason,
          );
          expect(error).toBeInstanceOf(StoreError);
          expect((error as StoreError).unavailable).toBe(true);
          expect((error as StoreError).message).toContain(`RedisStore.${operation}: Redis is unavailable`);
        }
      } finally {
        await store.close();
        if (isIORedis(client)) client.disconnect();
      }
    },
  );
});
