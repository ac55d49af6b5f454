/**
 * Compile-time checks that `RedisStore` and `connectRedis` take each supported client as its
 * library returns it, without a cast: node-redis 4.6, 5 and 6 (`createClient()`) and ioredis 5
 * and 6 (`new Redis()`). `npm run typecheck` compiles this file; nothing here executes.
 */
import { Redis as IORedis6 } from "ioredis";
import { Redis as IORedis5 } from "ioredis-5";
import { connectRedis, RedisStore, type RedisStoreClient } from "login-manager/stores/redis";
import { createClient as createClient6, createCluster as createCluster6 } from "redis";
import { createClient as createClient4 } from "redis-4";
import { createClient as createClient5 } from "redis-5";

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

/** Each client, as its library returns it, with default and non-default options. */
export async function everySupportedClient(): Promise<RedisStore[]> {
  const nodeRedis4 = createClient4({ url: "redis://127.0.0.1:6379" });
  const nodeRedis5 = createClient5({ url: "redis://127.0.0.1:6379" });
  const nodeRedis5Resp3 = createClient5({ RESP: 3 });
  const nodeRedis6 = createClient6({ url: "redis://127.0.0.1:6379" });
  const nodeRedis6Resp2 = createClient6({ RESP: 2 });
  const ioredis5 = new IORedis5("redis://127.0.0.1:6379");
  const ioredis6 = new IORedis6("redis://127.0.0.1:6379");
  const ioredis6Resp3 = new IORedis6({ replyMapping: "resp3" });
  return [
    new RedisStore({ client: await connectRedis(nodeRedis4) }),
    new RedisStore({ client: await connectRedis(nodeRedis5) }),
    new RedisStore({ client: nodeRedis5Resp3 }),
    new RedisStore({ client: await connectRedis(nodeRedis6) }),
    new RedisStore({ client: nodeRedis6Resp2 }),
    new RedisStore({ client: await connectRedis(ioredis5) }),
    new RedisStore({ client: await connectRedis(ioredis6) }),
    new RedisStore({ client: ioredis6Resp3 }),
    // node-redis' own connect() resolves to the client.
    new RedisStore({ client: await createClient6().connect() }),
  ];
}

/** connectRedis gives back the client's own type, not the structural one. */
export type ConnectRedisChecks = [
  Expect<
    Equal<
      Awaited<ReturnType<typeof connectRedis<ReturnType<typeof createClient6>>>>,
      ReturnType<typeof createClient6>
    >
  >,
  Expect<Equal<Awaited<ReturnType<typeof connectRedis<IORedis5>>>, IORedis5>>,
];

/** What is not a client does not compile. */
export function notClients(): void {
  // @ts-expect-error a node-redis cluster's sendCommand takes a key first: Cluster is not supported.
  new RedisStore({ client: createCluster6({ rootNodes: [] }) });
  // @ts-expect-error a plain object is not a client.
  new RedisStore({ client: {} });
  // @ts-expect-error nor is a connection string.
  new RedisStore({ client: "redis://127.0.0.1:6379" });
  const anyClient: RedisStoreClient = createClient6();
  void anyClient;
}
