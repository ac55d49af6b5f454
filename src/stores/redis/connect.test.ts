import { EventEmitter } from "node:events";
import { createServer, type Server, type Socket } from "node:net";
import { Redis as IORedis6 } from "ioredis";
import { Redis as IORedis5 } from "ioredis-5";
import { createClient as createClient6 } from "redis";
import { createClient as createClient4 } from "redis-4";
import { createClient as createClient5 } from "redis-5";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { describeIfRedis, redisUrl } from "../../../test/helpers/services.js";
import { ConfigurationError, StoreError } from "../../core/errors.js";
import { isIORedis, type RedisStoreClient } from "./clients.js";
import { type ConnectRedisOptions, connectRedis, RedisStore } from "./index.js";

type Options = Record<string, unknown>;

/**
 * Each supported client with the guide's fail-fast settings (no offline queue, a connect timeout,
 * reconnecting forever), plus `extra` options. ioredis clients are lazy unless `extra` says not.
 */
const CLIENTS: { name: string; create: (url: string, extra?: Options) => RedisStoreClient }[] = [
  ...(
    [
      ["node-redis 4", createClient4],
      ["node-redis 5", createClient5],
      ["node-redis 6", createClient6],
    ] as const
  ).map(([name, createClient]) => ({
    name,
    create: (url: string, extra: Options = {}) =>
      (createClient as (options: Options) => RedisStoreClient)({
        url,
        disableOfflineQueue: true,
        ...extra,
        socket: {
          connectTimeout: 300,
          reconnectStrategy: (retries: number) => Math.min(retries * 50, 200),
          ...(extra.socket as Options | undefined),
        },
      }),
  })),
  ...(
    [
      ["ioredis 5", IORedis5],
      ["ioredis 6", IORedis6],
    ] as const
  ).map(([name, Redis]) => ({
    name,
    create: (url: string, extra: Options = {}) =>
      new (Redis as new (url: string, options: Options) => RedisStoreClient)(url, {
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        connectTimeout: 300,
        retryStrategy: (times: number) => Math.min(times * 50, 200),
        lazyConnect: true,
        ...extra,
      }),
  })),
];

/** What Redis' own URL would be with a port nothing listens on, and a user and password. */
const CLOSED_PORT_URL = "redis://alice:s3cret-password@127.0.0.1:1/2";

const sleep = (ms: number): Promise<unknown> => new Promise((resolve) => setTimeout(resolve, ms));

/** The clients' connectTimeout in {@link CLIENTS}, plus a margin. */
const GRACE_MS = 400;
// Not "reconnecting": node-redis 4 emits a stray one for the retry it had scheduled, then stops.
const EVENTS = ["error", "connect", "ready"];

/**
 * Asserts that `client` stopped trying: after `GRACE_MS` for an attempt in flight when it was closed
 * to end (node-redis 4 still reports its error), no connection, connection error or ready during
 * the next 500 ms, so nothing keeps the process alive; and, for node-redis, the client is closed.
 * ioredis ends a socket it was handshaking on within its `disconnectTimeout`.
 */
async function expectStopped(client: RedisStoreClient): Promise<void> {
  if (!isIORedis(client)) expect(client.isOpen).toBe(false);
  await sleep(GRACE_MS);
  const seen: string[] = [];
  const listeners = EVENTS.map((event) => [event, () => seen.push(event)] as const);
  for (const [event, listener] of listeners) client.on(event, listener);
  await sleep(500);
  for (const [event, listener] of listeners) client.off(event, listener);
  expect(seen).toEqual([]);
}

function closeQuietly(client: RedisStoreClient): void {
  if (isIORedis(client)) void client.disconnect();
  else if (client.isOpen) client.disconnect().catch(() => undefined);
}

async function rejection(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

/** A TCP server that accepts connections and never answers: a Redis that hangs. */
class SilentServer {
  private readonly server: Server = createServer((socket) => this.sockets.add(socket));
  private readonly sockets = new Set<Socket>();

  async listen(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    return `redis://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }

  async close(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

/** A node-redis look-alike whose connect() reports `errors` and then keeps retrying for ever. */
class FakeNodeRedis extends EventEmitter {
  isOpen = false;
  isReady = false;
  readonly options = { socket: { host: "localhost", port: 6379 } };
  sendCommand = async () => undefined;
  constructor(private readonly errors: Error[]) {
    super();
  }
  async disconnect(): Promise<void> {
    this.isOpen = false;
  }
  connect(): Promise<never> {
    this.isOpen = true;
    for (const error of this.errors) this.emit("error", error);
    return new Promise(() => undefined);
  }
}

describe("connectRedis, without a server", () => {
  it("refuses a timeoutMs that is not a positive number, and what is not a client", async () => {
    const client = createClient6({ url: CLOSED_PORT_URL });
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, "5000" as unknown as number]) {
      await expect(connectRedis(client, { timeoutMs })).rejects.toThrow(
        /timeoutMs must be a positive number/,
      );
    }
    await expect(connectRedis({} as RedisStoreClient)).rejects.toThrow(ConfigurationError);
    expect(client.isOpen).toBe(false); // refused before connecting
  });

  it("refuses an unknown option name, naming the closest known one, before connecting", async () => {
    const client = createClient6({ url: CLOSED_PORT_URL });
    for (const name of ["timeout", "timeoutms", "timeOutMs"]) {
      const options = { [name]: 100 } as unknown as ConnectRedisOptions;
      const error = await connectRedis(client, options).then(
        () => undefined,
        (reason: unknown) => reason,
      );
      expect(error).toBeInstanceOf(ConfigurationError);
      expect((error as Error).message).toBe(
        `connectRedis: unknown option "${name}": did you mean "timeoutMs"? Known options: timeoutMs.`,
      );
    }
    await expect(connectRedis(client, null as unknown as ConnectRedisOptions)).rejects.toThrow(
      ConfigurationError,
    );
    expect(client.isOpen).toBe(false);
  });

  it.each([
    [
      "node-redis, Unix socket",
      "unix:/nonexistent/redis.sock",
      () => createClient6({ socket: { path: "/nonexistent/redis.sock", reconnectStrategy: false } }),
    ],
    [
      "node-redis, TLS with a user and database",
      "rediss://alice@127.0.0.1:1/3",
      () =>
        createClient6({ url: "rediss://alice:s3cret@127.0.0.1:1/3", socket: { reconnectStrategy: false } }),
    ],
    [
      "ioredis, Unix socket",
      "unix:/nonexistent/redis.sock",
      () => new IORedis6({ path: "/nonexistent/redis.sock", lazyConnect: true, retryStrategy: () => null }),
    ],
    [
      "ioredis, TLS",
      "rediss://127.0.0.1:1",
      () => new IORedis6("rediss://:s3cret@127.0.0.1:1", { lazyConnect: true, retryStrategy: () => null }),
    ],
    [
      "ioredis, Sentinel",
      'Sentinel master "sessions" via 127.0.0.1:1',
      () =>
        new IORedis6({
          sentinels: [{ host: "127.0.0.1", port: 1 }],
          name: "sessions",
          password: "s3cret",
          lazyConnect: true,
          sentinelRetryStrategy: () => null,
        }),
    ],
  ] as [string, string, () => RedisStoreClient][])(
    "%s: the error names %s, without the password",
    async (_name, target, create) => {
      const client = create();
      client.on("error", () => undefined);
      const error = await rejection(connectRedis(client, { timeoutMs: 3000 }));
      expect(error.message.startsWith(`Redis at ${target} is not reachable: `)).toBe(true);
      expect(error.message).not.toContain("s3cret");
      closeQuietly(client);
    },
  );

  it("leaves an 'error' listener on a client it gave up on: a late error of the attempt in flight cannot crash the process", async () => {
    const client = new FakeNodeRedis([]);
    await rejection(connectRedis(client, { timeoutMs: 20 }));
    expect(client.isOpen).toBe(false);
    // node-redis 4 can report the refused attempt it was making after disconnect() resolved.
    expect(() => client.emit("error", new Error("connect ECONNREFUSED 127.0.0.1:6379"))).not.toThrow();
  });

  it("removes its listeners from a client that connected", async () => {
    const client = new FakeNodeRedis([]);
    const connecting = connectRedis(client, { timeoutMs: 1000 });
    client.isReady = true;
    client.emit("ready");
    await connecting;
    expect(["error", "ready", "end"].map((event) => client.listenerCount(event))).toEqual([0, 0, 0]);
  });

  it("names every address of a dual-stack connect that failed (Node's AggregateError has no message)", async () => {
    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: "ECONNREFUSED" });
    const client = new FakeNodeRedis([new AggregateError([refused("::1:6379"), refused("127.0.0.1:6379")])]);
    const error = await rejection(connectRedis(client, { timeoutMs: 50 }));
    expect(error.message).toBe(
      "Redis at redis://localhost:6379 is not reachable: no connection within 50 ms (last error: connect ECONNREFUSED ::1:6379; connect ECONNREFUSED 127.0.0.1:6379). Check that Redis is running and that the URL is right; the client has been closed.",
    );
    expect(error.unavailable).toBe(true);
  });
});

await describeIfRedis("connectRedis", () => {
  const silent = new SilentServer();
  let silentUrl: string;
  beforeAll(async () => {
    silentUrl = await silent.listen();
  });
  afterAll(() => silent.close());

  describe.each(CLIENTS)("$name", ({ name, create }) => {
    const ioredis = name.startsWith("ioredis");
    const opened: RedisStoreClient[] = [];
    const client = (url: string, extra?: Options) => {
      const created = create(url, extra);
      opened.push(created);
      return created;
    };
    afterEach(() => {
      for (const each of opened.splice(0)) closeQuietly(each);
    });

    it("resolves to the client once it is ready, and at once when it already is", async () => {
      const redis = client(redisUrl());
      expect(await connectRedis(redis, { timeoutMs: 5000 })).toBe(redis);
      const store = new RedisStore({ client: redis });
      expect(await store.getSession("nobody", Date.now())).toBeNull();
      const started = Date.now();
      expect(await connectRedis(redis)).toBe(redis);
      expect(Date.now() - started).toBeLessThan(50);
      await store.close();
    });

    it("waits for a client that is already connecting", async () => {
      const redis = client(redisUrl(), { lazyConnect: false });
      if (!isIORedis(redis)) redis.connect().catch(() => undefined);
      await connectRedis(redis, { timeoutMs: 5000 });
      expect(isIORedis(redis) ? redis.status : redis.isReady).toBe(isIORedis(redis) ? "ready" : true);
    });

    it("closed port: rejects within timeoutMs, names the URL without its password, and closes the client", async () => {
      const redis = client(CLOSED_PORT_URL);
      const started = Date.now();
      const error = await rejection(connectRedis(redis, { timeoutMs: 800 }));
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(790);
      expect(elapsed).toBeLessThan(1500);
      expect(error.unavailable).toBe(true);
      expect(error.message).toMatch(
        /^Redis at redis:\/\/alice@127\.0\.0\.1:1\/2 is not reachable: no connection within 800 ms \(last error: .*ECONNREFUSED/,
      );
      expect(error.message).not.toContain("s3cret");
      await expectStopped(redis);
    });

    it("a server that accepts and never answers: rejects at timeoutMs and closes the client", async () => {
      const redis = client(
        silentUrl,
        ioredis ? { connectTimeout: 10_000 } : { socket: { connectTimeout: 10_000 } },
      );
      const started = Date.now();
      const error = await rejection(connectRedis(redis, { timeoutMs: 600 }));
      expect(Date.now() - started).toBeLessThan(1500);
      expect(error.message).toMatch(
        /^Redis at redis:\/\/127\.0\.0\.1:\d+ is not reachable: no connection within 600 ms/,
      );
      await expectStopped(redis);
    });

    it("a client that gives up by itself fails at once, with its reason", async () => {
      const giveUp = ioredis
        ? { retryStrategy: () => null }
        : { socket: { reconnectStrategy: () => new Error("no Redis, no start") } };
      const redis = client(CLOSED_PORT_URL, giveUp);
      const started = Date.now();
      const error = await rejection(connectRedis(redis, { timeoutMs: 10_000 }));
      expect(Date.now() - started).toBeLessThan(2000);
      expect(error.message).toMatch(/^Redis at redis:\/\/alice@127\.0\.0\.1:1\/2 is not reachable: /);
      expect(error.message).toMatch(ioredis ? /ECONNREFUSED/ : /no Redis, no start/);
      await expectStopped(redis);
    });
  });
});
