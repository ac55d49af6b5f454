/**
 * The SQLite drivers the SqliteStore suites run on: node:sqlite, and better-sqlite3, which is the
 * root one (13) unless `LM_BETTER_SQLITE3_PATH` names another build's package folder (CI points it at
 * `test/drivers/better-sqlite3-12/node_modules/better-sqlite3` on Node 22). Importing this module
 * makes every `driver: "better-sqlite3"` store of the test file use that same build.
 *
 * Each driver also opens connections of its own for the tests: as a caller's `database`, and to look
 * at the file behind the store's back, through the few calls both drivers share.
 */
import { createRequire } from "node:module";
import { resolve } from "node:path";
import { useBetterSqlite3Module } from "../../src/stores/sqlite/drivers.js";
import type { BetterSqlite3DatabaseLike, NodeSqliteDatabaseLike } from "../../src/stores/sqlite/index.js";

/** A connection opened by a test, with the calls both drivers answer the same way. */
export interface TestDatabase {
  /** The driver's own connection object, to pass as the store's `database`. */
  readonly connection: NodeSqliteDatabaseLike & BetterSqlite3DatabaseLike;
  all<R = Record<string, unknown>>(sql: string, ...params: unknown[]): R[];
  get<R = Record<string, unknown>>(sql: string, ...params: unknown[]): R | undefined;
  run(sql: string, ...params: unknown[]): void;
  /** `PRAGMA name`'s single value. */
  pragma(name: string): unknown;
  isOpen(): boolean;
  close(): void;
}

/** One driver under test. */
export interface SqliteTestDriver {
  /** The store's `driver` option for it. */
  readonly name: "node:sqlite" | "better-sqlite3";
  /** For test titles: the driver and the build (`better-sqlite3 12.11.1`). */
  readonly label: string;
  /** What the driver's errors carry for a primary-key violation. */
  readonly primaryKeyViolation: Record<string, unknown>;
  /** The class of the driver's SQLite errors. */
  readonly errorClass: new (
    ...args: never[]
  ) => Error;
  open(path: string): TestDatabase;
}

interface Statement {
  all(...params: unknown[]): unknown[];
  get(...params: unknown[]): unknown;
  run(...params: unknown[]): unknown;
}

interface AnyConnection {
  prepare(sql: string): Statement;
  close(): void;
}

const require = createRequire(import.meta.url);
const alternativeBuild = process.env.LM_BETTER_SQLITE3_PATH;
const betterSqlite3Path = alternativeBuild ? resolve(alternativeBuild) : "better-sqlite3";
const BetterSqlite3 = require(betterSqlite3Path) as (new (
  path: string,
) => AnyConnection & { open: boolean }) & {
  SqliteError: new (...args: never[]) => Error;
};
const betterSqlite3Version = (require(`${betterSqlite3Path}/package.json`) as { version: string }).version;
if (alternativeBuild) useBetterSqlite3Module(BetterSqlite3);

const { DatabaseSync } = process.getBuiltinModule("node:sqlite");

function testDatabase(
  connection: AnyConnection,
  isOpen: () => boolean,
  prepare: (sql: string) => Statement,
): TestDatabase {
  return {
    connection: connection as unknown as TestDatabase["connection"],
    all: <R>(sql: string, ...params: unknown[]) => prepare(sql).all(...params) as R[],
    get: <R>(sql: string, ...params: unknown[]) =>
      (prepare(sql).get(...params) ?? undefined) as R | undefined,
    run: (sql, ...params) => {
      prepare(sql).run(...params);
    },
    pragma: (name) => Object.values(prepare(`PRAGMA ${name}`).get() as object)[0],
    isOpen,
    close: () => {
      if (isOpen()) connection.close();
    },
  };
}

/** The drivers every SqliteStore suite runs on. */
export const SQLITE_TEST_DRIVERS: readonly SqliteTestDriver[] = [
  {
    name: "node:sqlite",
    label: `node:sqlite (SQLite ${process.versions.sqlite})`,
    primaryKeyViolation: { code: "ERR_SQLITE_ERROR", errcode: 1555 },
    errorClass: Error,
    open(path) {
      const db = new DatabaseSync(path);
      return testDatabase(
        db as unknown as AnyConnection,
        () => db.isOpen,
        (sql) => db.prepare(sql) as Statement,
      );
    },
  },
  {
    name: "better-sqlite3",
    label: `better-sqlite3 ${betterSqlite3Version}${alternativeBuild ? " (LM_BETTER_SQLITE3_PATH)" : ""}`,
    primaryKeyViolation: { code: "SQLITE_CONSTRAINT_PRIMARYKEY" },
    errorClass: BetterSqlite3.SqliteError,
    open(path) {
      const db = new BetterSqlite3(path);
      return testDatabase(
        db,
        () => db.open,
        (sql) => db.prepare(sql),
      );
    },
  },
];
