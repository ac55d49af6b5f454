import { join } from "node:path";
import type { DatabaseSync } from "node:sqlite";
import { LoginManager, type LoginManagerOptions, type SessionStore, StoreError } from "login-manager";
import { createPasswordHasher, type PasswordHasher } from "login-manager/password";
import type { RecoveryLimits } from "login-manager/recovery";
import { PostgresStore } from "login-manager/stores/postgres";
import { RedisStore } from "login-manager/stores/redis";
import { SqliteStore } from "login-manager/stores/sqlite";
import pg from "pg";
import type { DestinationStream, Logger } from "pino";
import { createClient } from "redis";
import { type BreachedPasswords, createRangeApiChecker } from "./domain/breached-passwords.js";
import { type CommonPasswords, loadCommonPasswords } from "./domain/common-passwords.js";
import type { AppConfig, DatabaseConfig, RedisConfig } from "./domain/config.js";
import { openDatabase } from "./domain/database.js";
import { type Mailer, OutboxMailer, SmtpMailer } from "./domain/mailer.js";
import { MailNotifier, type Notifier, watchForNotifications } from "./domain/notifier.js";
import { PostgresUserRepository } from "./domain/postgres-users.js";
import { createRecovery, type Recovery } from "./domain/recovery.js";
import { loadOrCreateSecret, type SecretSource } from "./domain/secret.js";
import { createLogger, watchManager } from "./domain/security-log.js";
import { SqliteUserRepository } from "./domain/sqlite-users.js";
import type { User, UserRepository } from "./domain/users.js";

/** Where the app keeps users and sessions (remember-me tokens and failure counters go with sessions). */
export interface Backends {
  users: "sqlite" | "postgres";
  sessions: "sqlite" | "postgres" | "redis";
}

/** Everything the app is built from, framework aside. */
export interface AppServices {
  config: AppConfig;
  /** The SQLite database, when users or sessions live in it (no `DATABASE_URL`). */
  db: DatabaseSync | undefined;
  store: SessionStore;
  users: UserRepository;
  hasher: PasswordHasher;
  commonPasswords: CommonPasswords;
  /** The breached-password check, when `BREACHED_PASSWORD_API_URL` is set. */
  breachedPasswords: BreachedPasswords | undefined;
  manager: LoginManager<User>;
  logger: Logger;
  /** Tells users about credential changes and suspicious activity (default: {@link MailNotifier}). */
  notifier: Notifier;
  /** Sends the app's mail: over SMTP (`SMTP_URL`), or into the development outbox. */
  mailer: Mailer;
  /** The development outbox (no `SMTP_URL`, not in production), which `/dev/outbox` lists. */
  outbox: OutboxMailer | undefined;
  /** Password reset and e-mail verification (login-manager's recovery helpers). */
  recovery: Recovery;
  /** Which server holds what, chosen from `REDIS_URL` / `DATABASE_URL`. */
  backends: Backends;
  /** Where the secret came from, and the key file's path (used when SECRET_KEY is unset). */
  secret: { source: SecretSource; path: string };
  /** Closes the session store and whatever this opened (SQLite, the pg pool, the Redis client). Idempotent. */
  close(): Promise<void>;
}

/** Manager options other than the ones the app always sets itself (secret, store, user loader). */
export type ManagerSettings = Partial<LoginManagerOptions<User>>;

/**
 * Test seams: a log destination, manager options (a fake clock, limits: each group given is merged
 * into the app's, see {@link withOverrides}), a hasher and a notifier.
 */
export interface ServiceOverrides {
  logDestination?: DestinationStream;
  manager?: ManagerSettings;
  hasher?: PasswordHasher;
  /** Replaces the default {@link MailNotifier}. */
  notifier?: Notifier;
  /** Limits of the reset and verification mails per account and per client address. */
  recoveryLimits?: RecoveryLimits;
}

type RedisClient = ReturnType<typeof newRedisClient>;

/**
 * Wires the app from its configuration. Sessions, remember-me tokens and login-failure counters go
 * to Redis when `REDIS_URL` is set, else to PostgreSQL when `DATABASE_URL` is set, else to SQLite;
 * users go to PostgreSQL when `DATABASE_URL` is set, else to SQLite (one file in the data folder).
 * Then the argon2id hasher, the breached-password check (only with `BREACHED_PASSWORD_API_URL`),
 * the login manager, the security log and the user notifications.
 *
 * Neither server has to be up for the app to start: the Redis client gets up to
 * `STORE_CONNECT_TIMEOUT_MS` for its first connection and then keeps trying in the background, and
 * PostgreSQL tables are created on first use. Until a server answers, requests that need it get 503.
 *
 * @example
 * ```ts
 * const services = await createServices(parseConfig());
 * const app = createExpressApp(services);
 * ```
 */
export async function createServices(
  config: AppConfig,
  overrides: ServiceOverrides = {},
): Promise<AppServices> {
  const logger = createLogger(overrides.logDestination);
  const backends: Backends = {
    users: config.database ? "postgres" : "sqlite",
    sessions: config.redis ? "redis" : config.database ? "postgres" : "sqlite",
  };
  const opened: Array<() => Promise<void> | void> = [];
  const closeAll = async () => {
    for (const close of opened.splice(0).reverse()) await close();
  };
  try {
    const db =
      backends.users === "sqlite" || backends.sessions === "sqlite"
        ? openDatabase(config.dataDir)
        : undefined;
    if (db) {
      opened.push(() => {
        db.close();
      });
    }
    const secret = loadOrCreateSecret(config.secretKey, config.dataDir);
    const pool = config.database ? createPool(config.database, logger) : undefined;
    if (pool) opened.push(() => pool.end());
    const redis = config.redis ? await connectRedis(config.redis, logger) : undefined;
    if (redis) opened.push(() => closeRedis(redis));

    let store: SessionStore;
    if (redis && config.redis) {
      const redisStore = new RedisStore({ client: redis, keyPrefix: config.redis.keyPrefix });
      store = withDeadline(redisStore, config.redis.timeoutMs, "RedisStore");
    } else if (pool && config.database) {
      store = new PostgresStore({ pool, schema: config.database.schema });
    } else {
      const sqliteStore = new SqliteStore({ database: db as DatabaseSync, sweepIntervalSeconds: 3600 });
      await sqliteStore.initialize();
      store = sqliteStore;
    }
    // Closed first: the store never closes a pool or client it was given.
    opened.push(() => store.close());
    if (backends.sessions !== "sqlite") {
      // SqliteStore sweeps by itself; the shared stores are swept by every instance (cheap: batched,
      // and PostgreSQL skips rows another instance is deleting).
      const sweeper = startSweeper(store, logger);
      opened.push(() => clearInterval(sweeper));
    }
    const users: UserRepository =
      pool && config.database
        ? new PostgresUserRepository(pool, { schema: config.database.schema })
        : new SqliteUserRepository(db as DatabaseSync);

    const manager = new LoginManager<User>({
      secret: secret.secret,
      store,
      userLoader: (id) => users.findById(id),
      ...withOverrides(managerOptions(config), overrides.manager),
    });
    watchManager(manager, logger, { trustProxyHops: config.trustProxyHops });
    const outbox = config.mail.smtpUrl
      ? undefined
      : new OutboxMailer(join(config.dataDir, "outbox"), config.mail.from);
    const mailer = outbox ?? new SmtpMailer(config.mail.smtpUrl as string, config.mail.from);
    const mailNotifier = new MailNotifier(logger, mailer);
    const notifier = overrides.notifier ?? mailNotifier;
    watchForNotifications(manager, users, notifier, logger, { trustProxyHops: config.trustProxyHops });
    const recovery = createRecovery({
      manager,
      users,
      mailer,
      config,
      logger,
      limits: overrides.recoveryLimits,
    });
    // Mail still in flight is sent before the connections it may need close.
    opened.push(async () => {
      await Promise.all([recovery.settled(), mailNotifier.settled()]);
      mailer.close();
    });
    let closed = false;
    return {
      config,
      db,
      store,
      users,
      hasher: overrides.hasher ?? createPasswordHasher(),
      commonPasswords: loadCommonPasswords(),
      breachedPasswords: config.breachedPasswords
        ? createRangeApiChecker({
            baseUrl: config.breachedPasswords.url,
            timeoutMs: config.breachedPasswords.timeoutMs,
            logger,
          })
        : undefined,
      manager,
      logger,
      notifier,
      mailer,
      outbox,
      recovery,
      backends,
      secret: { source: secret.source, path: secret.path },
      async close() {
        if (closed) return;
        closed = true;
        await closeAll();
      },
    };
  } catch (error) {
    await closeAll().catch(() => undefined);
    throw error;
  }
}

/** The app's login-manager settings, one group per concern (store, secret and loader aside). */
function managerOptions(config: AppConfig): ManagerSettings {
  return {
    views: {
      loginView: "/login",
      loginMessage: "Please log in to see that page.",
      loginMessageCategory: "info",
      refreshView: "/reauth",
      needsRefreshMessage: "Please confirm it's you to continue.",
      needsRefreshMessageCategory: "info",
    },
    session: {
      protection: config.sessionProtection,
      idleTimeoutSeconds: config.idleTimeoutSeconds,
      absoluteTimeoutSeconds: config.absoluteTimeoutSeconds,
      touchIntervalSeconds: Math.min(60, Math.floor(config.idleTimeoutSeconds / 10)),
    },
    rememberMe: { durationSeconds: config.rememberDurationSeconds },
    network: { trustProxyHops: config.trustProxyHops, allowedHosts: config.allowedHosts },
  };
}

/**
 * `settings` with a test's `overrides` laid over them, group by group: an override of
 * `{ throttle: { maxAccountFailures: 3 } }` keeps the app's other throttle settings.
 *
 * @example
 * ```ts
 * withOverrides({ session: { idleTimeoutSeconds: 900 } }, { session: { protection: "strong" } });
 * // { session: { idleTimeoutSeconds: 900, protection: "strong" } }
 * ```
 */
export function withOverrides(settings: ManagerSettings, overrides: ManagerSettings = {}): ManagerSettings {
  const merged: Record<string, unknown> = { ...settings };
  for (const [name, value] of Object.entries(overrides)) {
    const base = merged[name];
    merged[name] =
      OPTION_GROUPS.has(name) && base && value ? { ...(base as object), ...(value as object) } : value;
  }
  return merged as ManagerSettings;
}

/** The options that are groups; the others (a store, a clock, a loader) an override replaces whole. */
const OPTION_GROUPS = new Set<string>([
  "views",
  "session",
  "rememberMe",
  "cookies",
  "csrf",
  "throttle",
  "userCache",
  "network",
] satisfies (keyof ManagerSettings)[]);

/** How often each instance removes expired sessions, tokens and counters from a shared store. */
const SWEEP_INTERVAL_MS = 3_600_000;

function startSweeper(store: SessionStore, logger: Logger): NodeJS.Timeout {
  const timer = setInterval(() => {
    store.deleteExpired(Date.now()).then(
      (removed) => logger.info({ kind: "sweep", removed }, "expired sessions removed"),
      (error: unknown) =>
        logger.warn(
          { kind: "sweep", err: error instanceof Error ? error.message : String(error) },
          "sweep failed",
        ),
    );
  }, SWEEP_INTERVAL_MS);
  timer.unref();
  return timer;
}

/**
 * One pool for users and sessions. A connection attempt gives up after `connectTimeoutMs` and a
 * query after `timeoutMs` (server-side `statement_timeout`, and the same client-side read timeout
 * for a server that stopped answering), so a request during an outage gets its 503 within those
 * bounds. Dropped idle connections are logged, never fatal; the pool reconnects on demand.
 */
function createPool(database: DatabaseConfig, logger: Logger): pg.Pool {
  const pool = new pg.Pool({
    connectionString: database.url,
    max: database.poolMax,
    connectionTimeoutMillis: database.connectTimeoutMs,
    statement_timeout: database.timeoutMs,
    query_timeout: database.timeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: "login-manager-example",
  });
  pool.on("error", (error) => {
    logger.warn({ kind: "postgres", err: error.message }, "idle PostgreSQL connection failed");
  });
  return pool;
}

/**
 * A node-redis client that fails fast while Redis is down (no offline queue: a command fails at once
 * instead of waiting) and reconnects forever in the background (50 ms, 100 ms, ... at most every
 * 2 s). Waits up to `connectTimeoutMs` for the first connection, then carries on without it. Logs
 * one line when the connection is lost and one when it is back, not one per attempt.
 */
async function connectRedis(redis: RedisConfig, logger: Logger): Promise<RedisClient> {
  const client = newRedisClient(redis);
  let up: boolean | undefined;
  client.on("error", (error: Error) => {
    if (up === false) return;
    up = false;
    logger.warn({ kind: "redis", err: error.message }, "Redis unavailable; reconnecting in the background");
  });
  client.on("ready", () => {
    if (up === false) logger.info({ kind: "redis" }, "Redis connection restored");
    up = true;
  });
  const ready = new Promise<void>((resolve) => {
    client.once("ready", () => resolve());
    setTimeout(resolve, redis.connectTimeoutMs).unref();
  });
  // Resolves once connected; with a strategy that never gives up it does not reject on refusals.
  client.connect().catch((error: unknown) => {
    logger.warn(
      { kind: "redis", err: error instanceof Error ? error.message : String(error) },
      "Redis connect failed",
    );
  });
  await ready;
  return client;
}

/** The client {@link connectRedis} connects (its type is the app's `RedisClient`, RESP version included). */
function newRedisClient(redis: RedisConfig) {
  return createClient({
    url: redis.url,
    disableOfflineQueue: true,
    socket: {
      connectTimeout: redis.connectTimeoutMs,
      reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2000),
    },
  });
}

/** QUIT when connected (lets replies in flight arrive), otherwise stop reconnecting at once. */
async function closeRedis(client: RedisClient): Promise<void> {
  if (client.isReady) {
    await client.close().catch(() => client.destroy());
  } else if (client.isOpen) {
    client.destroy();
  }
}

/**
 * Operations {@link withDeadline} never cuts short: `close()`, the background sweep
 * (`deleteExpired`) and logging everyone out (`deleteAllRememberTokens` and `deleteAllSessions`, from an operator's
 * `manager.revokeAllSessions()`), which walk every key of a large store and run outside requests.
 */
const UNBOUNDED = new Set<string | symbol>([
  "close",
  "deleteExpired",
  "deleteAllSessions",
  "deleteAllRememberTokens",
]);

/**
 * The store, with every operation rejected as `unavailable` (so: a 503) when it has not settled
 * within `ms`. node-redis has no per-command timeout, and a Redis that stops answering without
 * closing the connection (paused, or a network that drops packets) would otherwise leave requests
 * waiting for ever. The late reply, if any, is dropped. The operations that walk the whole store
 * outside any request (see `UNBOUNDED`) are never cut short.
 *
 * @example
 * ```ts
 * const store = withDeadline(new RedisStore({ client }), 3000, "RedisStore");
 * ```
 */
export function withDeadline(store: SessionStore, ms: number, name: string): SessionStore {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver);
      if (typeof value !== "function") return value;
      if (UNBOUNDED.has(property)) return value.bind(target);
      return (...args: unknown[]) => {
        let timer: NodeJS.Timeout | undefined;
        const expired = new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => {
            reject(
              new StoreError(`${name}.${String(property)}: no answer within ${ms} ms`, { unavailable: true }),
            );
          }, ms);
        });
        const call = Promise.resolve(value.apply(target, args) as unknown);
        return Promise.race([call, expired]).finally(() => clearTimeout(timer));
      };
    },
  });
}
