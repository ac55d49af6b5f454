/**
 * The clients the Redis store accepts, described by what it uses of them. Structural, so the
 * store's declarations never import `redis` or `ioredis`: a project installs only the one it uses.
 *
 * @module
 */

/**
 * The EventEmitter methods the store and `connectRedis` use on either client.
 *
 * @example
 * ```ts
 * const events: RedisEvents = client;
 * events.on("ready", () => console.info("Redis is ready"));
 * ```
 */
export interface RedisEvents {
  listenerCount(event: string): number;
  // biome-ignore lint/suspicious/noExplicitAny: both clients emit events with different argument lists.
  on(event: string, listener: (...args: any[]) => void): unknown;
  // biome-ignore lint/suspicious/noExplicitAny: as for `on`.
  off(event: string, listener: (...args: any[]) => void): unknown;
}

/**
 * What the store uses of a node-redis client, v4.6 to v6: `createClient()`'s result, whatever its
 * modules, scripts, RESP version or type mapping. Structural, so the store's types never import
 * `redis` (a project that uses ioredis need not install it).
 *
 * @example
 * ```ts
 * const client: NodeRedisClient = createClient({ url: process.env.REDIS_URL });
 * ```
 */
export interface NodeRedisClient extends RedisEvents {
  sendCommand(args: string[]): Promise<unknown>;
  connect(): Promise<unknown>;
  readonly isOpen: boolean;
  readonly isReady: boolean;
  /** Closes the socket at once (v4's name for it; v5 and v6 call it `destroy`). */
  disconnect(): Promise<void>;
}

/**
 * What the store uses of an ioredis client, v5 or v6: `new Redis()`, standalone or Sentinel.
 * Structural, so the store's types never import `ioredis` (a project that uses node-redis need
 * not install it).
 *
 * @example
 * ```ts
 * const client: IORedisClient = new Redis(process.env.REDIS_URL);
 * ```
 */
export interface IORedisClient extends RedisEvents {
  call(command: string, ...args: string[]): Promise<unknown>;
  connect(): Promise<void>;
  disconnect(): void;
  readonly status: string;
  readonly options?: { keyPrefix?: string | undefined };
  readonly isCluster?: boolean;
}

/**
 * A client `RedisStore` and `connectRedis` accept: node-redis v4.6 to v6 or ioredis
 * v5 or v6, passed as `createClient()` or `new Redis()` returns it, without a cast.
 *
 * @example
 * ```ts
 * const client: RedisStoreClient = createClient({ url: process.env.REDIS_URL });
 * ```
 */
export type RedisStoreClient = NodeRedisClient | IORedisClient;

/**
 * True for an ioredis client, recognised by its `call` method.
 *
 * @example
 * ```ts
 * if (isIORedis(client)) client.disconnect();
 * ```
 */
export function isIORedis(client: unknown): client is IORedisClient {
  return (
    typeof client === "object" && client !== null && typeof (client as IORedisClient).call === "function"
  );
}

/**
 * True for a node-redis client, recognised by `sendCommand(args[])`.
 *
 * @example
 * ```ts
 * if (isNodeRedis(client)) await client.connect();
 * ```
 */
export function isNodeRedis(client: unknown): client is NodeRedisClient {
  return (
    typeof client === "object" &&
    client !== null &&
    typeof (client as NodeRedisClient).sendCommand === "function"
  );
}
