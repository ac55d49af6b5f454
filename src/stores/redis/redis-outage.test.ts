import { connect, createServer, type Server, type Socket } from "node:net";
import { Redis as IORedis6 } from "ioredis";
import { Redis as IORedis5 } from "ioredis-5";
import { createClient as createClient6 } from "redis";
import { createClient as createClient4 } from "redis-4";
import { createClient as createClient5 } from "redis-5";
import { describe, expect, it } from "vitest";
import { describeIfRedis, redisUrl } from "../../../test/helpers/services.js";
import { ConfigurationError, StoreError } from "../../core/errors.js";
import { randomToken } from "../../core/tokens.js";
import { HOUR, makeSession, T0 } from "../../testing/conformance/shared.js";
import { isIORedis, type RedisStoreClient } from "./clients.js";
import { RedisStore, type RedisStoreOptions } from "./index.js";

type Options = Record<string, unknown>;
type NodeRedisFactory = (options: Options) => RedisStoreClient;
type IORedisConstructor = new (options: Options) => RedisStoreClient;

const NODE_REDIS: [string, NodeRedisFactory][] = [
  ["node-redis 4", createClient4 as NodeRedisFactory],
  ["node-redis 5", createClient5 as NodeRedisFactory],
  ["node-redis 6", createClient6 as NodeRedisFactory],
];
const IOREDIS: [string, IORedisConstructor][] = [
  ["ioredis 5", IORedis5 as unknown as IORedisConstructor],
  ["ioredis 6", IORedis6 as unknown as IORedisConstructor],
];

/** The guide's fail-fast settings (no offline queue, bounded connect, reconnect forever), faster. */
function failFastClients(port: number): { name: string; client: () => RedisStoreClient }[] {
  return [
    ...NODE_REDIS.map(([name, createClient]) => ({
      name,
      client: () =>
        createClient({
          disableOfflineQueue: true,
          socket: {
            host: "127.0.0.1",
            port,
            connectTimeout: 300,
            reconnectStrategy: (retries: number) => Math.min(retries * 50, 200),
          },
        }),
    })),
    ...IOREDIS.map(([name, Redis]) => ({
      name,
      client: () =>
        new Redis({
          host: "127.0.0.1",
          port,
          enableOfflineQueue: false,
          maxRetriesPerRequest: 1,
          connectTimeout: 300,
          retryStrategy: (times: number) => Math.min(times * 50, 200),
          lazyConnect: true,
        }),
    })),
  ];
}

function closeClient(client: RedisStoreClient): void {
  if (isIORedis(client)) void client.disconnect();
  else if (client.isOpen) client.disconnect().catch(() => undefined);
}

/** A TCP proxy to Redis that can be taken down, brought back on the same port, or made to stop answering. */
class FlakyProxy {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private silent = false;
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
      downstream.pipe(upstream);
      upstream.on("data", (chunk: Buffer) => {
        if (!this.silent) downstream.write(chunk);
      });
    });
    await new Promise<void>((resolve) => server.listen(this.port, "127.0.0.1", resolve));
    this.port = (server.address() as { port: number }).port;
    this.server = server;
  }

  /** Keeps connections open but drops every reply: a Redis that hangs. */
  stopAnswering(): void {
    this.silent = true;
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

async function expectUnavailable(store: RedisStore): Promise<StoreError> {
  const started = Date.now();
  const error = await storeError(store.getSession(randomToken(), T0));
  expect(error.unavailable).toBe(true);
  expect(error.code).toBe("ERR_STORE_UNAVAILABLE");
  const swap = await storeError(
    store.swapRememberValidator(randomToken(), "a", {
      validatorHash: "b",
      previousValidatorHash: "a",
      rotatedAt: T0,
      rotatedBy: "",
    }),
  );
  expect(swap.unavailable).toBe(true);
  const counter = await storeError(store.incrementCounter(`epoch:user:${randomToken()}`, T0, HOUR));
  expect(counter.unavailable).toBe(true);
  const factor = await storeError(store.advanceFactorCounter("totp", randomToken(), 1, T0));
  expect(factor.unavailable).toBe(true);
  expect(Date.now() - started).toBeLessThan(2000);
  return error;
}

describe("RedisStore options", () => {
  it.each(IOREDIS)(
    "rejects a missing client, an empty prefix and an %s keyPrefix with a ConfigurationError",
    (_name, Redis) => {
      const prefixed = new Redis({ lazyConnect: true, keyPrefix: "app:" });
      const plain = new Redis({ lazyConnect: true });
      expect(() => new RedisStore({ client: {} as RedisStoreClient })).toThrow(ConfigurationError);
      expect(() => new RedisStore({ client: plain, keyPrefix: "" })).toThrow(ConfigurationError);
      expect(() => new RedisStore({ client: prefixed })).toThrow(/keyPrefix/);
      closeClient(prefixed);
      closeClient(plain);
    },
  );

  it("refuses an unknown option name with a ConfigurationError naming the closest known one", () => {
    const client = new IORedis6({ lazyConnect: true });
    const refusal = (options: Options) => {
      try {
        new RedisStore(options as unknown as RedisStoreOptions);
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigurationError);
        return (error as Error).message;
      }
      throw new Error("no ConfigurationError");
    };
    const known = "Known options: client, keyPrefix.";
    expect(refusal({ client, keyprefix: "app:" })).toBe(
      `RedisStore: unknown option "keyprefix": did you mean "keyPrefix"? ${known}`,
    );
    expect(refusal({ client, prefix: "app:" })).toBe(
      `RedisStore: unknown option "prefix": did you mean "keyPrefix"? ${known}`,
    );
    expect(refusal({ redis: client })).toBe(`RedisStore: unknown option "redis". ${known}`);
    expect(refusal({ client, keyPrefix: "app:", ttl: 5 })).toBe(`RedisStore: unknown option "ttl". ${known}`);
    expect(refusal(null as unknown as Options)).toMatch(/^RedisStore needs options/);
    closeClient(client);
  });
});

await describeIfRedis("RedisStore with Redis unavailable", () => {
  it.each(NODE_REDIS)(
    "%s, fail-fast options, server on port 1: StoreError unavailable, no unhandled 'error'",
    async (_name, createClient) => {
      const client = createClient({
        disableOfflineQueue: true,
        socket: {
          host: "127.0.0.1",
          port: 1,
          connectTimeout: 300,
          reconnectStrategy: (retries: number) => Math.min(retries * 50, 500),
        },
      });
      const store = new RedisStore({ client });
      const connecting = client.connect().catch(() => undefined);
      try {
        await new Promise((resolve) => setTimeout(resolve, 100));
        await expectUnavailable(store);
      } finally {
        closeClient(client);
        void connecting;
        await store.close();
      }
    },
  );

  it.each(NODE_REDIS)(
    "%s client that is not connected: StoreError unavailable, saying so",
    async (_name, createClient) => {
      const client = createClient({ socket: { host: "127.0.0.1", port: 1 } });
      const store = new RedisStore({ client });
      const error = await expectUnavailable(store);
      expect(error.message).toMatch(
        /^RedisStore\.getSession: Redis is unavailable \(the node-redis client has not connected yet \(not connected\): await connectRedis\(client\) before serving requests; /,
      );
      await store.close();
    },
  );

  it.each(IOREDIS)(
    "%s with enableOfflineQueue false, server on port 1: StoreError unavailable",
    async (_name, Redis) => {
      const client = new Redis({
        host: "127.0.0.1",
        port: 1,
        enableOfflineQueue: false,
        connectTimeout: 300,
      });
      const store = new RedisStore({ client });
      try {
        await expectUnavailable(store);
      } finally {
        closeClient(client);
        await store.close();
      }
    },
  );

  it.each(IOREDIS)(
    "%s with maxRetriesPerRequest 1, server on port 1: StoreError unavailable",
    async (_name, Redis) => {
      // A short retryStrategy: ioredis 6.1's default waits exponentially longer between reconnects (up
      // to 5 s, measured 226, 485, 1460, 4983 ms), so the failures under test would come ever later.
      const client = new Redis({
        host: "127.0.0.1",
        port: 1,
        maxRetriesPerRequest: 1,
        connectTimeout: 300,
        retryStrategy: (times: number) => Math.min(times * 50, 200),
      });
      const store = new RedisStore({ client });
      try {
        await expectUnavailable(store);
      } finally {
        closeClient(client);
        await store.close();
      }
    },
  );

  it.each(IOREDIS)(
    "%s without an offline queue, called before it is ready: StoreError unavailable that says to await connectRedis",
    async (_name, Redis) => {
      const url = new URL(redisUrl());
      const client = new Redis({
        host: url.hostname,
        port: Number(url.port || 6379),
        enableOfflineQueue: false,
      });
      const store = new RedisStore({ client });
      try {
        const error = await storeError(store.getSession(randomToken(), T0));
        expect(error.unavailable).toBe(true);
        expect(error.message).toMatch(
          /^RedisStore\.getSession: Redis is unavailable \(the ioredis client has not connected yet \(status "connecting"\): await connectRedis\(client\) before serving requests; Stream isn't writeable/,
        );
      } finally {
        closeClient(client);
        await store.close();
      }
    },
  );

  it.each(IOREDIS)("a closed %s client: StoreError unavailable", async (_name, Redis) => {
    const url = new URL(redisUrl());
    const client = new Redis({ host: url.hostname, port: Number(url.port || 6379), lazyConnect: true });
    await client.connect();
    await (client as unknown as { quit(): Promise<unknown> }).quit();
    const store = new RedisStore({ client });
    await expectUnavailable(store);
    await store.close();
  });

  it.each(failFastClients(0).map(({ name }) => name))(
    "%s with the documented fail-fast options answers unavailable while Redis is down, then recovers by itself",
    async (name) => {
      const proxy = new FlakyProxy();
      await proxy.up();
      const client = failFastClients(proxy.port)
        .find((each) => each.name === name)
        ?.client() as RedisStoreClient;
      const store = new RedisStore({ client, keyPrefix: `lm-test:${randomToken()}:` });
      await client.connect();
      try {
        const session = makeSession();
        await store.createSession(session);
        await proxy.down();
        await eventually(async () => (await storeError(store.getSession(session.id, T0))).unavailable);
        await proxy.up();
        await eventually(async () => (await store.getSession(session.id, T0))?.id === session.id);
        await store.deleteSession(session.id);
      } finally {
        closeClient(client);
        await proxy.down();
        await store.close();
      }
    },
  );

  it.each([
    [
      "node-redis 6 (timeout with rejectInFlight)",
      (port: number) =>
        createClient6({ socket: { port }, commandOptions: { timeout: 200, rejectInFlight: true } }),
    ],
    [
      "ioredis 5 (commandTimeout)",
      (port: number) => new IORedis5({ port, lazyConnect: true, commandTimeout: 200 }),
    ],
    [
      "ioredis 6 (commandTimeout)",
      (port: number) => new IORedis6({ port, lazyConnect: true, commandTimeout: 200 }),
    ],
  ] as [string, (port: number) => RedisStoreClient][])(
    "%s, Redis stops answering: StoreError unavailable at the timeout",
    async (_name, create) => {
      const proxy = new FlakyProxy();
      await proxy.up();
      const client = create(proxy.port);
      client.on("error", () => undefined);
      await client.connect();
      const store = new RedisStore({ client });
      try {
        proxy.stopAnswering();
        const started = Date.now();
        const error = await storeError(store.getSession(randomToken(), T0));
        expect(error.unavailable).toBe(true);
        expect(Date.now() - started).toBeLessThan(1000);
      } finally {
        closeClient(client);
        await proxy.down();
        await store.close();
      }
    },
  );

  it("node-redis 5 with a command timeout and its offline queue, server on port 1: StoreError unavailable at the timeout", async () => {
    // v5's TimeoutError has no message: only its class says what happened.
    const client = createClient5({
      socket: { port: 1, reconnectStrategy: 50 },
      commandOptions: { timeout: 200 },
    });
    client.on("error", () => undefined);
    const connecting = client.connect().catch(() => undefined);
    const store = new RedisStore({ client });
    try {
      const error = await storeError(store.getSession(randomToken(), T0));
      expect(error.unavailable).toBe(true);
    } finally {
      closeClient(client);
      void connecting;
      await store.close();
    }
  });
});
