/**
 * The two SQLite drivers behind one small interface: node:sqlite (built into Node 22.13+, nothing to
 * install or compile) and better-sqlite3 (an optional peer, versions 12 and 13). Both are loaded
 * synchronously and only when asked for, so neither is imported at the top of the store, and the
 * store's types name neither (structural interfaces below describe the connections it accepts).
 *
 * @module
 */
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { ConfigurationError } from "../../core/errors.js";
import { showValue } from "../../core/option-names.js";
import { openError } from "./errors.js";

/**
 * The drivers {@link SqliteStore} can open a file with.
 *
 * @example
 * ```ts
 * const driver: SqliteDriverName = "better-sqlite3";
 * ```
 */
export type SqliteDriverName = "node:sqlite" | "better-sqlite3";

/**
 * What the store needs to see on an open better-sqlite3 `Database` (12 or 13) to accept it.
 *
 * @example
 * ```ts
 * import Database from "better-sqlite3";
 * const db: BetterSqlite3DatabaseLike = new Database("data/app.db");
 * ```
 */
export interface BetterSqlite3DatabaseLike {
  readonly open: boolean;
  prepare(source: string): unknown;
  exec(source: string): unknown;
  pragma(source: string, options?: { simple?: boolean }): unknown;
  transaction(fn: (...args: never[]) => unknown): unknown;
  close(): unknown;
}

/**
 * What the store needs to see on an open node:sqlite `DatabaseSync` to accept it.
 *
 * @example
 * ```ts
 * import { DatabaseSync } from "node:sqlite";
 * const db: NodeSqliteDatabaseLike = new DatabaseSync("data/app.db");
 * ```
 */
export interface NodeSqliteDatabaseLike {
  prepare(sql: string): unknown;
  exec(sql: string): unknown;
  close(): unknown;
}

/**
 * A prepared statement, as both drivers' statement objects already behave: the store calls them
 * directly, with no wrapper on the per-request path.
 *
 * @example
 * ```ts
 * const byId: SqliteStatement<[string], { id: string }> = driver.prepare("SELECT id FROM t WHERE id = ?");
 * ```
 */
export interface SqliteStatement<P extends unknown[], R = unknown> {
  run(...params: P): { changes: number };
  get(...params: P): R | undefined;
  all(...params: P): R[];
}

/**
 * One open connection, whichever driver holds it.
 *
 * @example
 * ```ts
 * const deleteAll = driver.immediate(() => driver.prepare("DELETE FROM t").run().changes);
 * ```
 */
export interface SqliteDriver {
  readonly name: SqliteDriverName;
  /** Prepares once; rows come back as objects, or as arrays in column order with `"arrays"`. */
  prepare<P extends unknown[], R = unknown>(sql: string, rows?: "objects" | "arrays"): SqliteStatement<P, R>;
  /** Runs one or more statements, ignoring their rows (pragmas, DDL). */
  exec(sql: string): void;
  /** Wraps `fn` in `BEGIN IMMEDIATE` ... `COMMIT` (a savepoint inside a transaction already open). */
  immediate<A extends unknown[], T>(fn: (...args: A) => T): (...args: A) => T;
  close(): void;
}

/**
 * Where the store's connection comes from: a file the store opens on first use (and closes), or a
 * connection the caller opened (and keeps).
 *
 * @example
 * ```ts
 * const source = connectionSource("data/app.db", undefined);
 * const driver = source.connect(); // opens the file now
 * ```
 */
export interface ConnectionSource {
  readonly driver: SqliteDriverName;
  readonly ownsConnection: boolean;
  connect(): SqliteDriver;
}

// Internal views of the real driver objects: only what the adapters below call.
interface BetterSqlite3Statement {
  raw(toggle: boolean): BetterSqlite3Statement;
  safeIntegers(toggle: boolean): BetterSqlite3Statement;
}
interface BetterSqlite3Connection {
  readonly open: boolean;
  prepare(source: string): BetterSqlite3Statement;
  exec(source: string): unknown;
  transaction<A extends unknown[], T>(fn: (...args: A) => T): { immediate(...args: A): T };
  close(): unknown;
}
type BetterSqlite3Constructor = new (path: string) => BetterSqlite3Connection;

interface NodeSqliteStatement {
  setReturnArrays(enabled: boolean): void;
  setReadBigInts(enabled: boolean): void;
}
interface NodeSqliteConnection {
  readonly isOpen?: boolean;
  readonly isTransaction?: boolean;
  prepare(sql: string): NodeSqliteStatement;
  exec(sql: string): void;
  close(): void;
}
type NodeSqliteConstructor = new (path: string) => NodeSqliteConnection;

const INSTALL_HINT = "npm install better-sqlite3";
let betterSqlite3Override: BetterSqlite3Constructor | undefined;

/**
 * Makes every later `driver: "better-sqlite3"` store open its files with this module instead of the
 * one `better-sqlite3` resolves to (tests use it to run the suites on another build). `undefined`
 * goes back to the installed one. Not part of the public API.
 *
 * @internal
 * @example
 * ```ts
 * useBetterSqlite3Module(createRequire(import.meta.url)(process.env.LM_BETTER_SQLITE3_PATH));
 * ```
 */
export function useBetterSqlite3Module(module: unknown): void {
  betterSqlite3Override = module as BetterSqlite3Constructor | undefined;
}

/**
 * Checks `database` and `driver` once, at construction, and loads the driver module a path needs
 * (so a missing better-sqlite3 fails here, with the install command). Nothing is opened yet.
 *
 * @example
 * ```ts
 * connectionSource(":memory:", "better-sqlite3").connect().exec("SELECT 1");
 * ```
 */
export function connectionSource(database: unknown, driver: unknown): ConnectionSource {
  if (driver !== undefined && driver !== "node:sqlite" && driver !== "better-sqlite3") {
    throw new ConfigurationError(
      `SqliteStore: driver must be "node:sqlite" or "better-sqlite3" (got ${showValue(driver)}); omit it to use node:sqlite.`,
    );
  }
  if (typeof database === "string") return fileSource(database, driver ?? "node:sqlite");
  const given = givenConnectionDriver(database);
  if (!given) {
    throw new ConfigurationError(
      `SqliteStore: database must be a file path (or ":memory:"), an open better-sqlite3 Database or an open node:sqlite DatabaseSync (got ${showValue(database)}).`,
    );
  }
  if (driver !== undefined && driver !== given.name) {
    throw new ConfigurationError(
      `SqliteStore: driver is "${driver}" but the database passed is a ${given.name} connection; omit driver when passing an open database.`,
    );
  }
  return { driver: given.name, ownsConnection: false, connect: () => given };
}

function fileSource(path: string, driver: SqliteDriverName): ConnectionSource {
  if (driver === "better-sqlite3") {
    const Database = loadBetterSqlite3();
    return {
      driver,
      ownsConnection: true,
      connect: () => betterSqlite3Driver(openFile(path, (file) => new Database(file))),
    };
  }
  const { DatabaseSync } = loadNodeSqlite();
  return {
    driver,
    ownsConnection: true,
    connect: () => nodeSqliteDriver(openFile(path, (file) => new DatabaseSync(file))),
  };
}

/** An open connection the caller passed, recognised by shape: better-sqlite3 has `pragma` and `transaction`. */
function givenConnectionDriver(database: unknown): SqliteDriver | undefined {
  if (typeof database !== "object" || database === null) return undefined;
  const candidate = database as Record<string, unknown>;
  if (typeof candidate.prepare !== "function" || typeof candidate.exec !== "function") return undefined;
  if (typeof candidate.close !== "function") return undefined;
  if (typeof candidate.pragma === "function" && typeof candidate.transaction === "function") {
    return betterSqlite3Driver(database as BetterSqlite3Connection);
  }
  return nodeSqliteDriver(database as NodeSqliteConnection);
}

/** Creates the file's folder when missing (owner-only), so a path in a fresh project just works. */
function openFile<C>(path: string, open: (path: string) => C): C {
  try {
    if (isFilePath(path)) mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    return open(path);
  } catch (error) {
    throw openError(path, error);
  }
}

/** Not `":memory:"`, not `""` (a temporary database) and not a `file:` URI. */
function isFilePath(path: string): boolean {
  const trimmed = path.trim();
  return trimmed !== "" && trimmed !== ":memory:" && !trimmed.startsWith("file:");
}

function loadNodeSqlite(): { DatabaseSync: NodeSqliteConstructor } {
  const module =
    typeof process.getBuiltinModule === "function"
      ? (process.getBuiltinModule("node:sqlite") as unknown as { DatabaseSync?: NodeSqliteConstructor })
      : undefined;
  if (!module?.DatabaseSync) {
    throw new ConfigurationError(
      `SqliteStore: node:sqlite needs Node.js 22.13 or newer (this is ${process.version}); upgrade Node, or ${INSTALL_HINT} and pass driver: "better-sqlite3".`,
    );
  }
  return { DatabaseSync: module.DatabaseSync };
}

function loadBetterSqlite3(): BetterSqlite3Constructor {
  if (betterSqlite3Override) return betterSqlite3Override;
  try {
    return createRequire(import.meta.url)("better-sqlite3") as BetterSqlite3Constructor;
  } catch (error) {
    const missing = (error as { code?: unknown }).code === "MODULE_NOT_FOUND";
    const reason = error instanceof Error ? error.message : String(error);
    throw new ConfigurationError(
      missing
        ? `SqliteStore: driver "better-sqlite3" is not installed: ${INSTALL_HINT} (version 12 or 13), or omit driver to use node:sqlite.`
        : `SqliteStore: better-sqlite3 could not be loaded (${reason}); reinstall it (${INSTALL_HINT}) or omit driver to use node:sqlite.`,
    );
  }
}

function betterSqlite3Driver(db: BetterSqlite3Connection): SqliteDriver {
  return {
    name: "better-sqlite3",
    prepare<P extends unknown[], R>(sql: string, rows: "objects" | "arrays" = "objects") {
      const statement = db.prepare(sql);
      // Our own statements: numbers and the row shape we map, whatever the connection's defaults.
      if (rows === "arrays") statement.raw(true);
      statement.safeIntegers(false);
      return statement as unknown as SqliteStatement<P, R>;
    },
    exec: (sql) => {
      db.exec(sql);
    },
    immediate<A extends unknown[], T>(fn: (...args: A) => T) {
      const transaction = db.transaction(fn);
      return (...args: A) => transaction.immediate(...args);
    },
    close: () => {
      if (db.open) db.close();
    },
  };
}

function nodeSqliteDriver(db: NodeSqliteConnection): SqliteDriver {
  return {
    name: "node:sqlite",
    prepare<P extends unknown[], R>(sql: string, rows: "objects" | "arrays" = "objects") {
      const statement = db.prepare(sql);
      statement.setReturnArrays(rows === "arrays");
      statement.setReadBigInts(false);
      return statement as unknown as SqliteStatement<P, R>;
    },
    exec: (sql) => db.exec(sql),
    immediate: (fn) => nodeSqliteTransaction(db, fn),
    close: () => {
      if (db.isOpen !== false) db.close();
    },
  };
}

/** node:sqlite has no transaction helper: the same rules as better-sqlite3's `transaction().immediate`. */
function nodeSqliteTransaction<A extends unknown[], T>(
  db: NodeSqliteConnection,
  fn: (...args: A) => T,
): (...args: A) => T {
  return (...args: A): T => {
    const nested = db.isTransaction === true;
    db.exec(nested ? 'SAVEPOINT "login_manager"' : "BEGIN IMMEDIATE");
    let result: T;
    try {
      result = fn(...args);
    } catch (error) {
      rollBack(db, nested);
      throw error;
    }
    try {
      db.exec(nested ? 'RELEASE "login_manager"' : "COMMIT");
    } catch (error) {
      rollBack(db, nested);
      throw error;
    }
    return result;
  };
}

function rollBack(db: NodeSqliteConnection, nested: boolean): void {
  try {
    db.exec(nested ? 'ROLLBACK TO "login_manager"; RELEASE "login_manager"' : "ROLLBACK");
  } catch {
    // SQLite already rolled the transaction back itself (after some I/O or full-disk errors).
  }
}
