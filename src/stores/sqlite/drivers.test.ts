import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SQLITE_TEST_DRIVERS, type TestDatabase } from "../../../test/drivers/sqlite.js";
import { ConfigurationError } from "../../core/errors.js";
import { connectionSource } from "./drivers.js";
import { isUnavailable } from "./errors.js";
import { SqliteStore } from "./index.js";

const [nodeSqlite, betterSqlite3] = SQLITE_TEST_DRIVERS as [
  (typeof SQLITE_TEST_DRIVERS)[number],
  (typeof SQLITE_TEST_DRIVERS)[number],
];

describe("SqliteStore's driver option", () => {
  it("opens a path with node:sqlite unless told otherwise", () => {
    expect(new SqliteStore({ database: ":memory:" }).driver).toBe("node:sqlite");
    expect(new SqliteStore({ database: ":memory:", driver: "better-sqlite3" }).driver).toBe("better-sqlite3");
  });

  it.each(["sqlite3", "node-sqlite", "", 3])("rejects driver %j with the two accepted names", (driver) => {
    expect(() => new SqliteStore({ database: ":memory:", driver: driver as never })).toThrow(
      ConfigurationError,
    );
    expect(() => new SqliteStore({ database: ":memory:", driver: driver as never })).toThrow(
      /driver must be "node:sqlite" or "better-sqlite3"/,
    );
  });

  it.each([
    ["a number", 42],
    ["null", null],
    ["an empty object", {}],
    ["an object without exec and close", { prepare: () => undefined }],
  ])("rejects %s as database, naming what it accepts", (_name, database) => {
    expect(() => new SqliteStore({ database: database as never })).toThrow(ConfigurationError);
    expect(() => new SqliteStore({ database: database as never })).toThrow(
      /database must be a file path .* better-sqlite3 Database or an open node:sqlite DatabaseSync/,
    );
  });

  it("refuses a driver that contradicts the connection passed in", () => {
    const db = nodeSqlite.open(":memory:");
    try {
      expect(() => new SqliteStore({ database: db.connection, driver: "better-sqlite3" })).toThrow(
        /driver is "better-sqlite3" but the database passed is a node:sqlite connection/,
      );
      expect(new SqliteStore({ database: db.connection, driver: "node:sqlite" }).driver).toBe("node:sqlite");
    } finally {
      db.close();
    }
  });

  it("recognises each driver's connection by its shape", () => {
    for (const driver of [nodeSqlite, betterSqlite3]) {
      const db = driver.open(":memory:");
      try {
        expect(new SqliteStore({ database: db.connection }).driver).toBe(driver.name);
      } finally {
        db.close();
      }
    }
  });
});

describe("one file, both drivers", () => {
  it("reads through one driver what the other wrote, in the same tables", async () => {
    const dir = mkdtempSync(join(tmpdir(), "login-manager-sqlite-both-"));
    const path = join(dir, "sessions.db");
    const session = {
      id: "session-written-by-node-sqlite",
      secretHash: "hash",
      userId: "42",
      fresh: true,
      createdAt: 1,
      lastSeenAt: 1,
      expiresAt: 9e12,
      absoluteExpiresAt: 9e12,
      fingerprint: "",
      userAgent: "ua",
      ipAddress: "::1",
      rememberSelector: null,
      authMethods: "pwd:1 otp:1",
    };
    const writer = new SqliteStore({ database: path, driver: nodeSqlite.name });
    const reader = new SqliteStore({ database: path, driver: betterSqlite3.name });
    try {
      await writer.createSession(session);
      await writer.close();
      expect(await reader.getSession(session.id, 2)).toEqual(session);
      expect(await reader.deleteSession(session.id)).toBe(true);
    } finally {
      await reader.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe.each(SQLITE_TEST_DRIVERS.map((driver) => [driver.label, driver] as const))(
  "immediate transactions, %s",
  (_label, driver) => {
    let dir: string;
    let db: TestDatabase;

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "login-manager-sqlite-tx-"));
      db = driver.open(join(dir, "tx.db"));
      db.run("CREATE TABLE t (v INTEGER)");
    });

    afterEach(() => {
      db.close();
      rmSync(dir, { recursive: true, force: true });
    });

    function insertThen<T>(after: () => T): () => T {
      const connection = connectionSource(db.connection, undefined).connect();
      const insert = connection.prepare<[number]>("INSERT INTO t (v) VALUES (?)");
      return connection.immediate(() => {
        insert.run(1);
        return after();
      });
    }

    it("commits what the function did and returns its value", () => {
      expect(insertThen(() => "done")()).toBe("done");
      expect(db.all("SELECT v FROM t")).toEqual([{ v: 1 }]);
    });

    it("rolls everything back when the function throws, and leaves no transaction open", () => {
      expect(
        insertThen(() => {
          throw new Error("boom");
        }),
      ).toThrow("boom");
      expect(db.all("SELECT v FROM t")).toEqual([]);
      db.run("BEGIN IMMEDIATE"); // would fail if the failed call had left its transaction open
      db.run("ROLLBACK");
    });

    it("takes the write lock at BEGIN, so a second connection cannot write meanwhile", () => {
      const other = driver.open(join(dir, "tx.db"));
      try {
        other.run("PRAGMA busy_timeout = 0");
        const attempt = insertThen(() => {
          try {
            other.run("INSERT INTO t (v) VALUES (2)");
            return "other connection wrote";
          } catch (error) {
            return isUnavailable(error) ? "other connection busy" : String(error);
          }
        });
        expect(attempt()).toBe("other connection busy");
      } finally {
        other.close();
      }
    });

    it("inside the caller's transaction, nests as a savepoint that the caller's rollback undoes", () => {
      db.run("BEGIN");
      expect(insertThen(() => "inner")()).toBe("inner");
      expect(db.all("SELECT v FROM t")).toEqual([{ v: 1 }]);
      db.run("ROLLBACK");
      expect(db.all("SELECT v FROM t")).toEqual([]);
    });

    it("inside the caller's transaction, a failure undoes only its own work", () => {
      db.run("BEGIN");
      db.run("INSERT INTO t (v) VALUES (7)");
      expect(
        insertThen(() => {
          throw new Error("inner failure");
        }),
      ).toThrow("inner failure");
      db.run("COMMIT");
      expect(db.all("SELECT v FROM t")).toEqual([{ v: 7 }]);
    });
  },
);

describe("which driver errors mean unavailable", () => {
  it.each([
    ["better-sqlite3 SQLITE_BUSY", { code: "SQLITE_BUSY" }, true],
    ["better-sqlite3 SQLITE_IOERR_WRITE", { code: "SQLITE_IOERR_WRITE" }, true],
    ["better-sqlite3 SQLITE_CANTOPEN", { code: "SQLITE_CANTOPEN" }, true],
    ["better-sqlite3 SQLITE_CONSTRAINT_PRIMARYKEY", { code: "SQLITE_CONSTRAINT_PRIMARYKEY" }, false],
    ["node:sqlite BUSY (5)", { code: "ERR_SQLITE_ERROR", errcode: 5 }, true],
    ["node:sqlite BUSY_SNAPSHOT (517)", { code: "ERR_SQLITE_ERROR", errcode: 517 }, true],
    ["node:sqlite LOCKED (6)", { code: "ERR_SQLITE_ERROR", errcode: 6 }, true],
    ["node:sqlite READONLY (8)", { code: "ERR_SQLITE_ERROR", errcode: 8 }, true],
    ["node:sqlite IOERR_FSYNC (1034)", { code: "ERR_SQLITE_ERROR", errcode: 1034 }, true],
    ["node:sqlite CORRUPT (11)", { code: "ERR_SQLITE_ERROR", errcode: 11 }, true],
    ["node:sqlite FULL (13)", { code: "ERR_SQLITE_ERROR", errcode: 13 }, true],
    ["node:sqlite CANTOPEN (14)", { code: "ERR_SQLITE_ERROR", errcode: 14 }, true],
    ["node:sqlite PROTOCOL (15)", { code: "ERR_SQLITE_ERROR", errcode: 15 }, true],
    ["node:sqlite NOTADB (26)", { code: "ERR_SQLITE_ERROR", errcode: 26 }, true],
    ["node:sqlite CONSTRAINT_PRIMARYKEY (1555)", { code: "ERR_SQLITE_ERROR", errcode: 1555 }, false],
    ["node:sqlite ERROR (1)", { code: "ERR_SQLITE_ERROR", errcode: 1 }, false],
    ["node:sqlite closed database", { code: "ERR_INVALID_STATE" }, false],
    ["a plain TypeError", new TypeError("x"), false],
    ["undefined", undefined, false],
  ])("%s: %s", (_name, error, expected) => {
    expect(isUnavailable(error)).toBe(expected);
  });
});
