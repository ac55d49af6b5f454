/**
 * Start-up: {@link connectRedis} waits a bounded time for a client's first connection, so an app
 * either starts with Redis or stops with a message that names the server. After start-up the client's
 * own reconnect settings take over, and {@link RedisStore} answers 503 while Redis is down.
 *
 * @module
 */
import { ConfigurationError, StoreError } from "../../core/errors.js";
import { rejectUnknownKeys } from "../../core/option-names.js";
import {
  type IORedisClient,
  isIORedis,
  isNodeRedis,
  type NodeRedisClient,
  type RedisStoreClient,
} from "./clients.js";
import { isUnavailable } from "./errors.js";

/**
 * Options of {@link connectRedis}.
 *
 * @example
 * ```ts
 * await connectRedis(client, { timeoutMs: 10_000 });
 * ```
 */
export interface ConnectRedisOptions {
  /** How long to wait for the first connection, in milliseconds. @default 5000 */
  timeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 5000;
/** Every {@link ConnectRedisOptions} name; `connectRedis` refuses any other. */
const OPTION_NAMES: Record<keyof ConnectRedisOptions, true> = { timeoutMs: true };

/**
 * Connects `client` (node-redis `connect()`, or ioredis' own connection, lazy or not) and resolves
 * to it once it is ready. If Redis is not ready within `timeoutMs`, or the client gives up first
 * (a node-redis `reconnectStrategy` that returns an Error, an ioredis `retryStrategy` that returns
 * null), it closes the client, so that nothing keeps the process alive, and rejects with a
 * {@link StoreError} that names the server (its URL without the password) and the last error. A
 * client it closed keeps a listener for 'error', which a closed node-redis 4 client may still emit.
 * A client that is already ready resolves at once. An unknown option name or a `timeoutMs` that is
 * not a positive number rejects with a `ConfigurationError`.
 *
 * node-redis' `connect()` alone retries forever while Redis is down, and an ioredis client without
 * an offline queue fails every command sent before it is ready: await this before serving requests.
 *
 * @example
 * ```ts
 * const client = createClient({ url: process.env.REDIS_URL, disableOfflineQueue: true });
 * await connectRedis(client, { timeoutMs: 5000 }); // or: StoreError "Redis at redis://… is not reachable …"
 * const store = new RedisStore({ client });
 * ```
 */
export async function connectRedis<Client extends RedisStoreClient>(
  client: Client,
  options: ConnectRedisOptions = {},
): Promise<Client> {
  if (typeof options !== "object" || options === null) {
    throw new ConfigurationError("connectRedis options must be an object such as { timeoutMs: 5000 }.");
  }
  rejectUnknownKeys(options, Object.keys(OPTION_NAMES), "connectRedis");
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (typeof timeoutMs !== "number" || !Number.isFinite(timeoutMs) || timeoutMs <= 0) {
    throw new ConfigurationError(
      `connectRedis timeoutMs must be a positive number of milliseconds, such as ${DEFAULT_TIMEOUT_MS} (the default); got ${String(timeoutMs)}.`,
    );
  }
  const lifecycle = clientLifecycle(client);
  if (lifecycle.isReady()) return client;
  const attempt = watchFirstConnection(lifecycle, timeoutMs);
  try {
    await attempt.settled;
  } catch (error) {
    await lifecycle.close();
    // node-redis 4 may still emit an 'error' for the attempt it was making when closed: the
    // listener stays on the dead client, so that error cannot crash a process that has no other.
    attempt.stop({ keepErrorListener: true });
    throw startupError(redisTarget(client), timeoutMs, error);
  }
  attempt.stop({ keepErrorListener: false });
  return client;
}

/** How {@link connectRedis} drives one library's client. */
interface ClientLifecycle {
  readonly client: RedisStoreClient;
  isReady(): boolean;
  /** Starts connecting unless the client already is; calls `giveUp` if the client stops trying. */
  start(giveUp: (reason: unknown) => void): void;
  /** Stops the client for good: no socket, no reconnect timer. */
  close(): Promise<void>;
}

function clientLifecycle(client: RedisStoreClient): ClientLifecycle {
  if (isIORedis(client)) return ioredisLifecycle(client);
  if (isNodeRedis(client)) return nodeRedisLifecycle(client);
  throw new ConfigurationError(
    "connectRedis needs a node-redis client (createClient from 'redis') or an ioredis client (new Redis()).",
  );
}

function nodeRedisLifecycle(client: NodeRedisClient): ClientLifecycle {
  return {
    client,
    isReady: () => client.isReady,
    start: (giveUp) => {
      // connect() rejects only when the reconnectStrategy gives up; it stays pending while retrying.
      if (!client.isOpen) client.connect().catch(giveUp);
    },
    close: async () => {
      if (!client.isOpen) return;
      const destroy = (client as { destroy?: () => void }).destroy;
      if (typeof destroy === "function") destroy.call(client);
      else await client.disconnect().catch(() => undefined); // v4: disconnect() is the immediate close
    },
  };
}

function ioredisLifecycle(client: IORedisClient): ClientLifecycle {
  return {
    client,
    isReady: () => client.status === "ready",
    start: (giveUp) => {
      if (client.status === "end") giveUp(new Error("the ioredis client was closed before it connected"));
      // connect() rejects on the first failed attempt while retryStrategy keeps trying: the
      // 'end' event, not this rejection, says it gave up.
      else if (client.status === "wait") client.connect().catch(() => undefined);
    },
    close: async () => client.disconnect(),
  };
}

/**
 * Resolves on 'ready'. Rejects when the client gives up or closes ('end', emitted by both
 * libraries) or at the deadline, with the last 'error' the client emitted meanwhile.
 */
function watchFirstConnection(
  lifecycle: ClientLifecycle,
  timeoutMs: number,
): { settled: Promise<void>; stop: (options: { keepErrorListener: boolean }) => void } {
  const { client } = lifecycle;
  let lastError: unknown;
  let timer: NodeJS.Timeout | undefined;
  const onError = (error: unknown) => {
    lastError = error;
  };
  let onReady: () => void = () => undefined;
  let onEnd: () => void = () => undefined;
  const settled = new Promise<void>((resolve, reject) => {
    const fail = (reason: unknown, timedOut: boolean) =>
      reject(new StartupFailure(timedOut, reason ?? lastError));
    onReady = () => resolve();
    onEnd = () => fail(lastError ?? new Error("the client closed before it connected"), false);
    timer = setTimeout(() => fail(lastError, true), timeoutMs);
    client.on("error", onError);
    client.on("ready", onReady);
    client.on("end", onEnd);
    lifecycle.start((reason) => fail(reason, false));
  });
  return {
    settled,
    stop: ({ keepErrorListener }) => {
      clearTimeout(timer);
      if (!keepErrorListener) client.off("error", onError);
      client.off("ready", onReady);
      client.off("end", onEnd);
    },
  };
}

class StartupFailure extends Error {
  constructor(
    readonly timedOut: boolean,
    readonly reason: unknown,
  ) {
    super("start-up failed");
  }
}

function startupError(target: string, timeoutMs: number, failure: unknown): StoreError {
  const { timedOut, reason } =
    failure instanceof StartupFailure ? failure : { timedOut: false, reason: failure };
  const why = timedOut
    ? `no connection within ${timeoutMs} ms${reason === undefined ? "" : ` (last error: ${describeError(reason)})`}`
    : describeError(reason);
  return new StoreError(
    `Redis at ${target} is not reachable: ${why}. Check that Redis is running and that the URL is right; the client has been closed.`,
    { cause: reason, unavailable: reason === undefined || isUnavailable(reason) },
  );
}

/** A one-line reason, also for errors without a message (Node's AggregateError from a dual-stack connect). */
function describeError(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  if (error.message) return error.message;
  if (error instanceof AggregateError && error.errors.length > 0) {
    return error.errors.map(describeError).join("; ");
  }
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : error.name;
}

interface SocketOptions {
  host?: string;
  port?: number;
  path?: string;
  tls?: unknown;
}

/**
 * The server a client points at, as a URL without its password (`redis://alice@10.0.0.5:6379/2`),
 * a Unix socket (`unix:/run/redis.sock`) or a Sentinel group.
 */
function redisTarget(client: RedisStoreClient): string {
  if (isIORedis(client)) {
    const options = (client.options ?? {}) as SocketOptions & {
      username?: string;
      db?: number;
      sentinels?: { host?: string; port?: number }[] | null;
      name?: string;
    };
    if (options.sentinels && options.sentinels.length > 0) {
      const sentinels = options.sentinels.map((sentinel) => hostPort(sentinel.host, sentinel.port, 26379));
      return `Sentinel master "${options.name ?? "mymaster"}" via ${sentinels.join(", ")}`;
    }
    return socketTarget(options, options.username, options.db);
  }
  const options = ((client as { options?: unknown }).options ?? {}) as {
    socket?: SocketOptions;
    username?: string;
    database?: number;
  };
  return socketTarget(options.socket ?? {}, options.username, options.database);
}

function socketTarget(
  socket: SocketOptions,
  username: string | undefined,
  database: number | undefined,
): string {
  if (socket.path) return `unix:${socket.path}`;
  const user = username ? `${encodeURIComponent(username)}@` : "";
  const db = database ? `/${database}` : "";
  return `${socket.tls ? "rediss" : "redis"}://${user}${hostPort(socket.host, socket.port, 6379)}${db}`;
}

function hostPort(host: string | undefined, port: number | undefined, defaultPort: number): string {
  const name = host ?? "localhost";
  return `${name.includes(":") ? `[${name}]` : name}:${port ?? defaultPort}`;
}
