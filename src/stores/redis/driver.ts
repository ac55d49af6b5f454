import { ConfigurationError } from "../../core/errors.js";
import { isIORedis, isNodeRedis, type RedisEvents } from "./clients.js";
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
  /**
   * Why a failed command may be the app's start-up rather than an outage: set while the client
   * has never been ready since the store got it, undefined once it has.
   */
  notConnectedYet(): string | undefined;
  /** Stops listening to the client's events. */
  detach(): void;
}

/**
 * node-redis 6 applies a client's type mapping (`withTypeMapping`, say Buffer for strings) to
 * `sendCommand` as well: the store asks for the default mapping, plain strings (v4 ignores the option;
 * v5 returns plain strings either way).
 */
const PLAIN_REPLIES = { typeMapping: {} };

/**
 * Adapts a node-redis (v4.6 to v6) or ioredis (v5, v6) client. ioredis is recognised by its `call` method,
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
    return adapt(client, {
      kind: "ioredis",
      send: (args) => client.call(args[0] as string, ...args.slice(1)),
      isReady: () => client.status === "ready",
      state: () => `status "${client.status}"`,
    });
  }
  if (isNodeRedis(client)) {
    // Looked up on every call, so a wrapper set on the client later (to count commands, say) is used.
    const withOptions = client as unknown as {
      sendCommand(args: string[], options: typeof PLAIN_REPLIES): Promise<unknown>;
    };
    return adapt(client, {
      kind: "node-redis",
      send: (args) => withOptions.sendCommand(args, PLAIN_REPLIES),
      isReady: () => client.isReady,
      state: () => (client.isOpen ? "connecting" : "not connected"),
    });
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

interface ClientAccess {
  kind: RedisDriver["kind"];
  send: (args: string[]) => Promise<unknown>;
  isReady: () => boolean;
  /** The client's connection state, for {@link RedisDriver.notConnectedYet}. */
  state: () => string;
}

function adapt(client: RedisEvents, access: ClientAccess): RedisDriver {
  const ignoreError = () => undefined;
  const addedErrorListener = client.listenerCount("error") === 0;
  if (addedErrorListener) client.on("error", ignoreError);
  let everReady = access.isReady();
  const onReady = () => {
    everReady = true;
  };
  client.on("ready", onReady);
  return {
    kind: access.kind,
    send: access.send,
    notConnectedYet: () =>
      everReady || access.isReady()
        ? undefined
        : `the ${access.kind} client has not connected yet (${access.state()}): await connectRedis(client) before serving requests`,
    detach: () => {
      if (addedErrorListener) client.off("error", ignoreError);
      client.off("ready", onReady);
    },
  };
}
