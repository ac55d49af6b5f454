// What RedisStore keeps in Redis beyond the conformance suite: data written by earlier versions
// (tokens without rotatedBy, sessions without authMethods, counters under their failure-counter
// field names), the compare-and-swap as a primitive without policy, session patches limited to their
// fields, counters that live for a year (credential epochs), and second factors that never expire.
import { randomBytes } from "node:crypto";
import { Redis as IORedis6 } from "ioredis";
import { Redis as IORedis5 } from "ioredis-5";
import { createClient as createClient6, RESP_TYPES } from "redis";
import { createClient as createClient4 } from "redis-4";
import { createClient as createClient5 } from "redis-5";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { describeIfRedis, redisUrl } from "../../../test/helpers/services.js";
import type {
  FactorRecord,
  RememberRotation,
  RememberTokenRecord,
  SessionPatch,
  SessionRecord,
} from "../../core/store.js";
import { hashToken, randomToken } from "../../core/tokens.js";
import type { RedisStoreClient } from "./clients.js";
import { RedisStore } from "./index.js";

const T0 = 2_000_000_000_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
/** About how long the core keeps a credential epoch. */
const EPOCH_TTL = 400 * DAY;

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

function makeToken(overrides: Partial<RememberTokenRecord> = {}): RememberTokenRecord {
  return {
    selector: randomToken(),
    validatorHash: hashToken(randomToken()),
    previousValidatorHash: null,
    rotatedAt: T0,
    rotatedBy: hashToken("203.0.113.7 Firefox"),
    userId: `user-${randomToken()}`,
    createdAt: T0,
    expiresAt: T0 + 30 * DAY,
    ...overrides,
  };
}

function makeSession(): SessionRecord {
  return {
    id: randomToken(),
    secretHash: hashToken(randomToken()),
    userId: `user-${randomToken()}`,
    fresh: true,
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + HOUR,
    absoluteExpiresAt: T0 + DAY,
    fingerprint: hashToken("fingerprint"),
    userAgent: "test",
    ipAddress: "127.0.0.1",
    rememberSelector: null,
    authMethods: `pwd:${T0 - 1} otp:${T0}`,
  };
}

function makeFactor(overrides: Partial<FactorRecord> = {}): FactorRecord {
  return {
    kind: "totp",
    id: randomToken(),
    userId: `user-${randomToken()}`,
    label: "",
    data: "sealed",
    counter: 0,
    createdAt: T0,
    lastUsedAt: null,
    ...overrides,
  };
}

function rotationOf(token: RememberTokenRecord, at: number): RememberRotation {
  return {
    validatorHash: hashToken(randomToken()),
    previousValidatorHash: token.validatorHash,
    rotatedAt: at,
    rotatedBy: hashToken(`client at ${at}`),
  };
}

await describeIfRedis("RedisStore records", () => {
  const admin = new IORedis6(redisUrl(), { lazyConnect: true });
  admin.on("error", () => undefined);
  beforeAll(() => admin.connect());
  afterAll(async () => {
    await admin.quit();
  });
  const expireTime = (key: string) => admin.call("PEXPIRETIME", key).then(Number);

  for (const { name, create } of CLIENTS) {
    describe(name, () => {
      const client = create();
      beforeAll(async () => {
        client.on("error", () => undefined);
        await client.connect();
      });
      afterAll(() => client.disconnect());

      let store: RedisStore;
      let prefix: string;
      beforeEach(() => {
        prefix = `lm-test:${randomBytes(6).toString("hex")}:`;
        store = new RedisStore({ client, keyPrefix: prefix });
      });
      afterEach(async () => {
        await store.close();
        const keys = await admin.keys(`${prefix}*`);
        if (keys.length > 0) await admin.del(...keys);
      });

      it("a token written before rotatedBy existed reads as rotatedBy '', and a swap writes it", async () => {
        const token = makeToken({ previousValidatorHash: hashToken(randomToken()), rotatedBy: "" });
        const key = `${prefix}remember:${token.selector}`;
        // The hash exactly as the previous version's createRememberToken and rotation left it.
        await admin.hset(key, {
          validatorHash: token.validatorHash,
          previousValidatorHash: token.previousValidatorHash ?? "",
          rotatedAt: String(token.rotatedAt),
          userId: token.userId,
          createdAt: String(token.createdAt),
          expiresAt: String(token.expiresAt),
        });
        await admin.pexpireat(key, token.expiresAt);
        await admin.sadd(`${prefix}user:${token.userId}:remember`, token.selector);

        expect(await store.getRememberToken(token.selector, T0)).toEqual(token);
        const rotation = rotationOf(token, T0 + HOUR);
        expect(await store.swapRememberValidator(token.selector, token.validatorHash, rotation)).toBe(true);
        expect(await store.getRememberToken(token.selector, T0)).toEqual({ ...token, ...rotation });
        expect(await store.deleteUserRememberTokens(token.userId)).toBe(1);
      });

      it("a session written before authMethods existed reads as authMethods '', and lists and deletes as before", async () => {
        const { authMethods: _, ...session } = makeSession();
        const key = `${prefix}session:${session.id}`;
        const { id: __, fresh, rememberSelector: ___, ...fields } = session;
        await admin.hset(key, { ...fields, fresh: fresh ? "1" : "0" });
        await admin.pexpireat(key, session.expiresAt);
        await admin.sadd(`${prefix}user:${session.userId}:sessions`, session.id);

        expect(await store.getSession(session.id, T0)).toEqual({ ...session, authMethods: "" });
        expect(await store.listUserSessions(session.userId, T0)).toEqual([{ ...session, authMethods: "" }]);
        expect(await store.deleteUserSessions(session.userId)).toBe(1);
      });

      it("factors never expire: no TTL on the hash nor the user's set, and no sweep or deleteAll removes them", async () => {
        const factor = makeFactor({ lastUsedAt: T0 });
        expect(await store.createFactor(factor)).toBe(true);
        const key = `${prefix}factor:totp:${factor.id}`;
        const set = `${prefix}user:${factor.userId}:factors`;
        expect(await admin.hgetall(key)).toEqual({
          userId: factor.userId,
          label: "",
          data: "sealed",
          counter: "0",
          createdAt: String(T0),
          lastUsedAt: String(T0),
        });
        expect(await admin.smembers(set)).toEqual([`totp:${factor.id}`]);
        expect([await admin.pttl(key), await admin.pttl(set)]).toEqual([-1, -1]);
        await store.createSession({ ...makeSession(), userId: factor.userId });
        expect(await store.deleteExpired(T0 + 10_000 * DAY)).toBe(1);
        expect(await store.deleteAllSessions()).toBe(0);
        expect(await store.updateFactor("totp", factor.id, { lastUsedAt: null })).toBe(true);
        expect(await admin.hexists(key, "lastUsedAt")).toBe(0);
        expect(await store.getFactor("totp", factor.id)).toEqual({ ...factor, lastUsedAt: null });
        expect([await admin.pttl(key), await admin.pttl(set)]).toEqual([-1, -1]);
      });

      it("a kind holding ':' or '%' is escaped in key names, so no two (kind, id) pairs share a key", async () => {
        const userId = `user-${randomToken()}`;
        const pairs = [
          { kind: "a:b", id: "c" },
          { kind: "a", id: "b:c" },
          { kind: "a%3Ab", id: "c" },
        ];
        for (const [i, pair] of pairs.entries()) {
          expect(await store.createFactor(makeFactor({ ...pair, userId, createdAt: T0 + i }))).toBe(true);
        }
        expect((await admin.smembers(`${prefix}user:${userId}:factors`)).sort()).toEqual([
          "a%253Ab:c",
          "a%3Ab:c",
          "a:b:c",
        ]);
        expect((await store.listUserFactors(userId, null)).map(({ kind, id }) => ({ kind, id }))).toEqual(
          pairs,
        );
        expect(await store.deleteUserFactors(userId, "a:b")).toBe(1);
        expect((await store.listUserFactors(userId, null)).map(({ kind }) => kind)).toEqual(["a", "a%3Ab"]);
        expect(await store.deleteFactor("a", "b:c")).toBe(true);
        expect(await store.listUserFactors(userId, "a%3Ab")).toHaveLength(1);
      });

      it("a counter written under the failure-counter field names reads, increments and deletes as a counter", async () => {
        const key = `${prefix}failures:account:alice`;
        await admin.hset(key, {
          count: "3",
          firstFailureAt: String(T0),
          lastFailureAt: String(T0 + 5),
          expiresAt: String(T0 + HOUR),
        });
        await admin.pexpireat(key, T0 + HOUR);
        const stored = { key: "account:alice", count: 3, firstAt: T0, lastAt: T0 + 5, expiresAt: T0 + HOUR };
        expect(await store.getCounter("account:alice", T0 + 10)).toEqual(stored);
        expect(await store.incrementCounter("account:alice", T0 + 20, HOUR)).toEqual({
          ...stored,
          count: 4,
          lastAt: T0 + 20,
          expiresAt: T0 + 20 + HOUR,
        });
        expect(await admin.hgetall(key)).toEqual({
          count: "4",
          firstFailureAt: String(T0),
          lastFailureAt: String(T0 + 20),
          expiresAt: String(T0 + 20 + HOUR),
        });
        await store.deleteCounter("account:alice");
        expect(await admin.exists(key)).toBe(0);
      });

      it("swapRememberValidator holds no grace: the replaced validator, even at the same instant, swaps nothing", async () => {
        const token = makeToken();
        await store.createRememberToken(token);
        const first = rotationOf(token, T0);
        expect(await store.swapRememberValidator(token.selector, token.validatorHash, first)).toBe(true);
        const afterFirst = await admin.hgetall(`${prefix}remember:${token.selector}`);
        for (const expected of [
          token.validatorHash,
          hashToken(randomToken()),
          "",
          first.validatorHash.slice(1),
        ]) {
          expect(await store.swapRememberValidator(token.selector, expected, rotationOf(token, T0))).toBe(
            false,
          );
        }
        expect(await admin.hgetall(`${prefix}remember:${token.selector}`)).toEqual(afterFirst);
        const unknown = randomToken();
        expect(await store.swapRememberValidator(unknown, token.validatorHash, first)).toBe(false);
        expect(await admin.exists(`${prefix}remember:${unknown}`)).toBe(0);
      });

      it("swapRememberValidator writes only the rotation's fields: the key's TTL and user set stay, null clears previousValidatorHash", async () => {
        const token = makeToken({ previousValidatorHash: hashToken(randomToken()) });
        await store.createRememberToken(token);
        const key = `${prefix}remember:${token.selector}`;
        const rotation = { ...rotationOf(token, T0 + HOUR), previousValidatorHash: null, rotatedBy: "" };
        expect(await store.swapRememberValidator(token.selector, token.validatorHash, rotation)).toBe(true);
        expect(await admin.hexists(key, "previousValidatorHash")).toBe(0);
        expect(await admin.hget(key, "rotatedBy")).toBe("");
        expect(await store.getRememberToken(token.selector, T0)).toEqual({ ...token, ...rotation });
        expect(await expireTime(key)).toBe(token.expiresAt);
        expect(await admin.smembers(`${prefix}user:${token.userId}:remember`)).toEqual([token.selector]);
        expect((await admin.keys(`${prefix}*`)).sort()).toEqual(
          [key, `${prefix}user:${token.userId}:remember`].sort(),
        );
      });

      it("updateSession writes only the fields a SessionPatch may hold, whatever else the object carries", async () => {
        const session = makeSession();
        await store.createSession(session);
        const patch = { lastSeenAt: T0 + 1, fingerprint: "other", userId: "mallory", secretHash: "x" };
        expect(await store.updateSession(session.id, patch as SessionPatch)).toBe(true);
        expect(await store.getSession(session.id, T0)).toEqual({ ...session, lastSeenAt: T0 + 1 });
      });

      it("a counter kept for 400 days (a credential epoch) expires then, and every sweep before leaves it", async () => {
        const key = `epoch:user:${randomToken()}`;
        expect(await store.incrementCounter(key, T0, EPOCH_TTL)).toEqual({
          key,
          count: 1,
          firstAt: T0,
          lastAt: T0,
          expiresAt: T0 + EPOCH_TTL,
        });
        const redisKey = `${prefix}failures:${key}`;
        expect(await expireTime(redisKey)).toBe(T0 + EPOCH_TTL);
        expect(await store.incrementCounter(key, T0 + 300 * DAY, EPOCH_TTL)).toMatchObject({
          count: 2,
          firstAt: T0,
          expiresAt: T0 + 300 * DAY + EPOCH_TTL,
        });
        expect(await expireTime(redisKey)).toBe(T0 + 300 * DAY + EPOCH_TTL);
        // Sweeping a short-lived counter next to it, and logging everyone out, leave the epoch.
        await store.incrementCounter(`account:${key}`, T0, HOUR);
        expect(await store.deleteExpired(T0 + 2 * HOUR)).toBe(1);
        expect(await store.deleteAllSessions()).toBe(0);
        expect(await store.deleteAllRememberTokens()).toBe(0);
        expect(await store.deleteExpired(T0 + 300 * DAY + EPOCH_TTL - 1)).toBe(0);
        expect((await store.getCounter(key, T0 + 300 * DAY + EPOCH_TTL - 1))?.count).toBe(2);
        expect(await store.getCounter(key, T0 + 300 * DAY + EPOCH_TTL)).toBeNull();
        expect(await store.deleteExpired(T0 + 300 * DAY + EPOCH_TTL)).toBe(1);
        expect(await admin.exists(redisKey)).toBe(0);
      });
    });
  }
});
