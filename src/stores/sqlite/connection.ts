/**
 * The store's one connection: opened, configured and given its tables on first use, then every
 * operation runs on the statements prepared for it, with driver errors turned into `StoreError`s.
 *
 * @module
 */
import { StoreError } from "../../core/errors.js";
import type { FactorOperations } from "../factor-storage.js";
import type { ConnectionSource, SqliteDriver } from "./drivers.js";
import { toStoreError } from "./errors.js";
import { applyConnectionSettings, createSchema } from "./schema.js";
import { type Prepared, prepareStatements } from "./statements.js";

/**
 * Runs `SqliteStore` operations on the prepared statements of one connection, set up lazily.
 *
 * @example
 * ```ts
 * const connection = new SqliteConnection(source, "login_manager_");
 * const removed = await connection.run("deleteCounter", (p) => p.deleteCounter.run(key).changes);
 * ```
 */
export class SqliteConnection {
  readonly #source: ConnectionSource;
  readonly #prefix: string;
  #driver: SqliteDriver | undefined;
  #prepared: Prepared | undefined;
  #closed = false;

  /**
   * @example
   * ```ts
   * const connection = new SqliteConnection(connectionSource(":memory:", undefined), "auth_");
   * ```
   */
  constructor(source: ConnectionSource, prefix: string) {
    this.#source = source;
    this.#prefix = prefix;
  }

  /**
   * Runs `fn` on the prepared statements; resolves to its value or rejects with a `StoreError`.
   *
   * @example
   * ```ts
   * const found = await connection.run("getCounter", (p) => p.getCounter.get(key, now));
   * ```
   */
  run<T>(operation: string, fn: (prepared: Prepared) => T): Promise<T> {
    return Promise.resolve(this.runNow(operation, fn));
  }

  /**
   * Runs `fn` on the prepared statements: its value, or a promise rejected with a `StoreError`.
   *
   * @example
   * ```ts
   * const row = connection.runNow("getSession", (p) => p.getSession.get(id, now));
   * ```
   */
  runNow<T>(operation: string, fn: (prepared: Prepared) => T): T | Promise<never> {
    if (this.#closed) {
      return Promise.reject(new StoreError(`SqliteStore: ${operation} called after close()`));
    }
    try {
      this.#prepared ??= this.#setUp();
      return fn(this.#prepared);
    } catch (error) {
      return Promise.reject(toStoreError(operation, error));
    }
  }

  /**
   * Closes the database if it was opened here (a connection passed in stays open); later
   * operations reject. Idempotent; a driver failure throws a `StoreError`.
   *
   * @example
   * ```ts
   * connection.close();
   * ```
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#prepared = undefined;
    const driver = this.#driver;
    this.#driver = undefined;
    if (driver && this.#source.ownsConnection) {
      try {
        driver.close();
      } catch (error) {
        throw toStoreError("close", error);
      }
    }
  }

  #setUp(): Prepared {
    this.#driver ??= this.#source.connect();
    applyConnectionSettings(this.#driver, { ownsConnection: this.#source.ownsConnection });
    createSchema(this.#driver, this.#prefix);
    return prepareStatements(this.#driver, this.#prefix);
  }
}

/**
 * The {@link FactorOperations} of a `SqliteStore`: each runs on the connection's prepared
 * statements, with driver errors turned into `StoreError`s named after the contract method.
 *
 * @example
 * ```ts
 * super("SqliteStore", connectionFactors(connection));
 * ```
 */
export function connectionFactors(connection: SqliteConnection): FactorOperations {
  return {
    create: (factor) => connection.run("createFactor", (p) => p.factors.create(factor)),
    get: (kind, id) => connection.run("getFactor", (p) => p.factors.get(kind, id)),
    list: (userId, kind) => connection.run("listUserFactors", (p) => p.factors.list(userId, kind)),
    update: (kind, id, patch) => connection.run("updateFactor", (p) => p.factors.update(kind, id, patch)),
    advance: (kind, id, counter, usedAt) =>
      connection.run("advanceFactorCounter", (p) => p.factors.advance(kind, id, counter, usedAt)),
    delete: (kind, id) => connection.run("deleteFactor", (p) => p.factors.delete(kind, id)),
    deleteUser: (userId, kind) =>
      connection.run("deleteUserFactors", (p) => p.factors.deleteUser(userId, kind)),
  };
}
