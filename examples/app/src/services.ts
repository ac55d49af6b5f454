import type Database from "better-sqlite3";
import { LoginManager, type LoginManagerOptions } from "login-manager";
import { createPasswordHasher, type PasswordHasher } from "login-manager/password";
import { SqliteStore } from "login-manager/stores/sqlite";
import type { DestinationStream, Logger } from "pino";
import { type CommonPasswords, loadCommonPasswords } from "./domain/common-passwords.js";
import type { AppConfig } from "./domain/config.js";
import { openDatabase } from "./domain/database.js";
import { loadOrCreateSecret, type SecretSource } from "./domain/secret.js";
import { createLogger, watchManager } from "./domain/security-log.js";
import { SqliteUserRepository } from "./domain/sqlite-users.js";
import type { User } from "./domain/users.js";

/** Everything the app is built from, framework aside. */
export interface AppServices {
  config: AppConfig;
  db: Database.Database;
  store: SqliteStore;
  users: SqliteUserRepository;
  hasher: PasswordHasher;
  commonPasswords: CommonPasswords;
  manager: LoginManager<User>;
  logger: Logger;
  /** Where the secret came from, and the key file's path (used when SECRET_KEY is unset). */
  secret: { source: SecretSource; path: string };
  /** Closes the session store and the database. Idempotent. */
  close(): Promise<void>;
}

/** Test seams: a log destination, manager options (a fake clock, limits) and a hasher. */
export interface ServiceOverrides {
  logDestination?: DestinationStream;
  manager?: Partial<LoginManagerOptions<User>>;
  hasher?: PasswordHasher;
}

/**
 * Wires the app from its configuration: the SQLite database in the data folder (users and sessions
 * in one file), the session store, the argon2id hasher, the login manager and the security log.
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
  const db = openDatabase(config.dataDir);
  try {
    const secret = loadOrCreateSecret(config.secretKey, config.dataDir);
    const store = new SqliteStore({ database: db, sweepIntervalSeconds: 3600 });
    await store.initialize();
    const users = new SqliteUserRepository(db);
    const logger = createLogger(overrides.logDestination);
    const manager = new LoginManager<User>({
      secret: secret.secret,
      store,
      userLoader: (id) => users.findById(id),
      loginView: "/login",
      loginMessage: "Please log in to see that page.",
      loginMessageCategory: "info",
      refreshView: "/reauth",
      needsRefreshMessage: "Please confirm your password to continue.",
      needsRefreshMessageCategory: "info",
      sessionProtection: config.sessionProtection,
      idleTimeoutSeconds: config.idleTimeoutSeconds,
      absoluteTimeoutSeconds: config.absoluteTimeoutSeconds,
      touchIntervalSeconds: Math.min(60, Math.floor(config.idleTimeoutSeconds / 10)),
      rememberDurationSeconds: config.rememberDurationSeconds,
      trustProxyHops: config.trustProxyHops,
      ...overrides.manager,
    });
    watchManager(manager, logger, { trustProxyHops: config.trustProxyHops });
    let closed = false;
    return {
      config,
      db,
      store,
      users,
      hasher: overrides.hasher ?? createPasswordHasher(),
      commonPasswords: loadCommonPasswords(),
      manager,
      logger,
      secret: { source: secret.source, path: secret.path },
      async close() {
        if (closed) return;
        closed = true;
        await store.close();
        db.close();
      },
    };
  } catch (error) {
    db.close();
    throw error;
  }
}
