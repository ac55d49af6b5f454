import { ConfigurationError } from "../../core/errors.js";
import type { LuaScript } from "./scripts.js";

/**
 * The two things the store needs from a Redis client, whichever library it comes from.
 *
 * @example
 * ```ts
 * const driver = redisDriver(client);
 * await driver.send(["PING"]);
 * ```
 */
export interface RedisDriver {
  /** Sends one command and resolves to its raw reply. */
  send(args: string[]): Promise<unknown>;
  /** Which library the client comes from, for error messages and tests. */
  readonly kind: "node-redis" | "ioredis";
  /** Stops listening for the client's 'error' events if {@link redisDriver} started to. */
  detach(): void;
}

interface EventSource {
  listenerCount(event: string): number;
  on(event: string, listener: (error: unknown) => void): unknown;
  off(event: string, listener: (error: unknown) => void): unknown;
}

interface IORedisLike extends EventSource {
  call(command: string, ...args: string[]): Promise<unknown>;
  options?: { keyPrefix?: string };
  isCluster?: boolean;
}

interface NodeRedisLike extends EventSource {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * Adapts a node-redis (v4/v5) or ioredis (v5) client. ioredis is recognised by its `call` method,
 * node-redis by `sendCommand(args[])`. When the client has no 'error' listener, one is added: both
 * libraries emit 'error' on every failed (re)connect, and node-redis would crash the process on an
 * unhandled one. The failures still reach callers as rejected commands.
 *
 * @example
 * ```ts
 * const driver = redisDriver(createClient({ url }));
 * ```
 */
export function redisDriver(client: unknown): RedisDriver {
  if (isIORedis(client)) {
    if (client.isCluster) {
      throw new ConfigurationError(
        "RedisStore does not support Redis Cluster: pass a standalone or Sentinel client.",
      );
    }
    if (client.options?.keyPrefix) {
      throw new ConfigurationError(
        `RedisStore cannot use an ioredis client with keyPrefix ${JSON.stringify(client.options.keyPrefix)}: remove it from the client and pass it as RedisStore's keyPrefix option instead.`,
      );
    }
    return withErrorListener(client, "ioredis", (args) => client.call(args[0] as string, ...args.slice(1)));
  }
  if (isNodeRedis(client)) {
    return withErrorListener(client, "node-redis", (args) => client.sendCommand(args));
  }
  throw new ConfigurationError(
    "RedisStore needs `client`: a connected node-redis client (createClient from 'redis') or an ioredis client (new Redis()).",
  );
}

/**
 * Runs a script by SHA and, when the server does not know it yet (NOSCRIPT: first use, restart,
 * SCRIPT FLUSH, failover), by source, which also caches it for the next call.
 *
 * @example
 * ```ts
 * await evalScript(driver, SWEEP, keys, [prefix, String(now), ...kinds]);
 * ```
 */
export async function evalScript(
  driver: RedisDriver,
  script: LuaScript,
  keys: string[],
  args: string[],
): Promise<unknown> {
  const tail = [String(keys.length), ...keys, ...args];
  try {
    return await driver.send(["EVALSHA", script.sha, ...tail]);
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith("NOSCRIPT")) throw error;
    return driver.send(["EVAL", script.source, ...tail]);
  }
}

function isIORedis(client: unknown): client is IORedisLike {
  return typeof client === "object" && client !== null && typeof (client as IORedisLike).call === "function";
}

function isNodeRedis(client: unknown): client is NodeRedisLike {
  return (
    typeof client === "object" &&
    client !== null &&
    typeof (client as NodeRedisLike).sendCommand === "function"
  );
}

function withErrorListener(
  client: EventSource,
  kind: RedisDriver["kind"],
  send: (args: string[]) => Promise<unknown>,
): RedisDriver {
  const listener = () => undefined;
  const attached = client.listenerCount("error") === 0;
  if (attached) client.on("error", listener);
  return {
    kind,
    send,
    detach: () => {
      if (attached) client.off("error", listener);
    },
  };
}
