import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { SQLITE_TEST_DRIVERS, type TestDatabase } from "../../../test/drivers/sqlite.js";
import { ConfigurationError, StoreError } from "../../core/errors.js";
import type { RememberTokenRecord, SessionRecord } from "../../core/store.js";
import { hashToken, randomToken } from "../../core/tokens.js";
import { connectionSource } from "./drivers.js";
import { SqliteStore, type SqliteStoreOptions } from "./index.js";
import { applyConnectionSettings } from "./schema.js";

const T0 = 2_000_000_000_000;

function makeSession(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomToken(),
    secretHash: hashToken(randomToken()),
    userId: "42",
    fresh: true,
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + 3_600_000,
    absoluteExpiresAt: T0 + 86_400_000,
    fingerprint: "",
    userAgent: "test",
    ipAddress: "127.0.0.1",
    rememberSelector: null,
    authMethods: `pwd:${T0}`,
    ...overrides,
  };
}

function makeToken(overrides: Partial<RememberTokenRecord> = {}): RememberTokenRecord {
  return {
    selector: randomToken(),
    validatorHash: hashToken(randomToken()),
    previousValidatorHash: null,
    rotatedAt: T0,
    rotatedBy: "",
    userId: "42",
    createdAt: T0,
    expiresAt: T0 + 86_400_000,
    ...overrides,
  };
}

function tableNames(db: TestDatabase, type: "table" | "index"): string[] {
  return db
    .all<{ name: string }>(
      "SELECT name FROM sqlite_master WHERE type = ? AND name NOT LIKE 'sqlite_%' ORDER BY name",
      type,
    )
    .map((row) => row.name);
}

describe.each(SQLITE_TEST_DRIVERS.map((driver) => [driver.label, driver] as const))(
  "SqliteStore specifics, %s",
  (_label, driver) => {
    let dir: string;
    const cleanups: Array<() => unknown> = [];

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "login-manager-sqlite-"));
    });

    afterEach(async () => {
      vi.useRealTimers();
      for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    function open(path = join(dir, "sessions.db")): TestDatabase {
      const db = driver.open(path);
      cleanups.push(() => db.close());
      return db;
    }

    /** A store on `database`: a path is opened with this driver, a TestDatabase passed as the caller's. */
    function store(
      options: Omit<SqliteStoreOptions, "database"> & { database: string | TestDatabase },
    ): SqliteStore {
      const { database, ...rest } = options;
      const created =
        typeof database === "string"
          ? new SqliteStore({ ...rest, database, driver: driver.name })
          : new SqliteStore({ ...rest, database: database.connection });
      cleanups.push(() => created.close());
      return created;
    }

    it("runs on the chosen driver, or on the kind of connection it was given", () => {
      expect(store({ database: ":memory:" }).driver).toBe(driver.name);
      expect(store({ database: open() }).driver).toBe(driver.name);
    });

    it("creates its tables and indexes on first use, not in the constructor", async () => {
      const db = open();
      const sqlite = store({ database: db });
      expect(tableNames(db, "table")).toEqual([]);

      expect(await sqlite.getSession(randomToken(), T0)).toBeNull();
      expect(tableNames(db, "table")).toEqual([
        "login_manager_factors",
        "login_manager_failures",
        "login_manager_one_time_tokens",
        "login_manager_remember_tokens",
        "login_manager_schema_version",
        "login_manager_sessions",
      ]);
      expect(tableNames(db, "index")).toEqual([
        "login_manager_factors_user_id",
        "login_manager_failures_expires_at",
        "login_manager_one_time_tokens_expires_at",
        "login_manager_one_time_tokens_user_id",
        "login_manager_remember_tokens_expires_at",
        "login_manager_remember_tokens_user_id",
        "login_manager_sessions_expires_at",
        "login_manager_sessions_user_id",
      ]);
      expect(db.all("SELECT version FROM login_manager_schema_version")).toEqual([{ version: 1 }]);
    });

    it("answers getSession without a promise, found or not (the per-request read)", async () => {
      const sqlite = store({ database: join(dir, "sync.db") });
      const session = makeSession();
      await sqlite.createSession(session);
      const found = sqlite.getSession(session.id, T0);
      expect(found).not.toBeInstanceOf(Promise);
      expect(found).toEqual(session);
      const missing = sqlite.getSession(randomToken(), T0);
      expect(missing).toBeNull();
    });

    it("a second store opening the same file reuses the existing tables (schema creation is idempotent)", async () => {
      const path = join(dir, "sessions.db");
      const first = store({ database: path });
      const session = makeSession();
      await first.createSession(session);
      await first.close();

      const second = store({ database: path });
      await second.initialize();
      await second.initialize();
      expect(await second.getSession(session.id, T0)).toEqual(session);
      await second.createSession(makeSession());
      expect(open(path).all("SELECT version FROM login_manager_schema_version")).toEqual([{ version: 1 }]);
    });

    it("two store instances on one file (two processes) see each other's writes", async () => {
      const path = join(dir, "shared.db");
      const a = store({ database: path });
      const b = store({ database: path });

      const session = makeSession();
      await a.createSession(session);
      expect(await b.getSession(session.id, T0)).toEqual(session);
      expect(await b.updateSession(session.id, { fresh: false })).toBe(true);
      expect((await a.getSession(session.id, T0))?.fresh).toBe(false);

      const selector = randomToken();
      const first = hashToken("v1");
      await a.createRememberToken(makeToken({ selector, validatorHash: first }));
      const rotation = (next: string) => ({
        validatorHash: hashToken(next),
        previousValidatorHash: first,
        rotatedAt: T0 + 1,
        rotatedBy: `client-${next}`,
      });
      expect(await b.swapRememberValidator(selector, first, rotation("v2"))).toBe(true);
      expect(await a.swapRememberValidator(selector, first, rotation("v3"))).toBe(false);
      expect(await a.getRememberToken(selector, T0 + 1)).toMatchObject({
        validatorHash: hashToken("v2"),
        previousValidatorHash: first,
        rotatedBy: "client-v2",
      });

      await a.incrementCounter("account:alice", T0, 60_000);
      expect((await b.incrementCounter("account:alice", T0 + 1, 60_000)).count).toBe(2);
      expect(await a.deleteUserSessions("42")).toBe(1);
      expect(await b.getSession(session.id, T0)).toBeNull();
    });

    it("does not close a connection it was given", async () => {
      const db = open();
      const sqlite = store({ database: db });
      await sqlite.createSession(makeSession());
      await sqlite.close();
      await sqlite.close();
      expect(db.isOpen()).toBe(true);
      expect(db.get("SELECT COUNT(*) AS n FROM login_manager_sessions")).toEqual({ n: 1 });
    });

    it("closes the database it opened itself, and rejects calls after close() with a StoreError", async () => {
      const path = join(dir, "own.db");
      const sqlite = store({ database: path });
      await sqlite.createSession(makeSession());
      expect(existsSync(`${path}-wal`)).toBe(true);
      await sqlite.close();
      // The last connection to a WAL database checkpoints and removes the -wal file when it closes.
      expect(existsSync(`${path}-wal`)).toBe(false);
      await expect(sqlite.getSession(randomToken(), T0)).rejects.toBeInstanceOf(StoreError);
    });

    it("uses the chosen tablePrefix for every table and index", async () => {
      const db = open();
      const auth = store({ database: db, tablePrefix: "auth_" });
      const other = store({ database: db, tablePrefix: "Other_Prefix_" });
      const session = makeSession();
      await auth.createSession(session);
      await other.initialize();

      expect(tableNames(db, "table")).toEqual([
        "Other_Prefix_factors",
        "Other_Prefix_failures",
        "Other_Prefix_one_time_tokens",
        "Other_Prefix_remember_tokens",
        "Other_Prefix_schema_version",
        "Other_Prefix_sessions",
        "auth_factors",
        "auth_failures",
        "auth_one_time_tokens",
        "auth_remember_tokens",
        "auth_schema_version",
        "auth_sessions",
      ]);
      expect(
        tableNames(db, "index").every((name) => name.startsWith("auth_") || name.startsWith("Other_Prefix_")),
      ).toBe(true);
      expect(await other.getSession(session.id, T0)).toBeNull();
      expect(await auth.getSession(session.id, T0)).toEqual(session);
    });

    it("turns on WAL journaling, synchronous FULL, a busy timeout and foreign keys", async () => {
      const path = join(dir, "wal.db");
      const db = open(path);
      await store({ database: db }).initialize();
      expect(db.pragma("journal_mode")).toBe("wal");
      expect(db.pragma("synchronous")).toBe(2);
      expect(db.pragma("busy_timeout")).toBe(5000);
      expect(db.pragma("foreign_keys")).toBe(1);
      // journal_mode = WAL is persistent: a fresh connection sees it too.
      expect(open(path).pragma("journal_mode")).toBe("wal");
    });

    it("sets the same pragmas on a file it opens itself", async () => {
      const path = join(dir, "own-wal.db");
      await store({ database: path }).initialize();
      expect(open(path).pragma("journal_mode")).toBe("wal");
    });

    it("keeps the page cache size of a connection it was given", async () => {
      const db = open();
      db.run("PRAGMA cache_size = -4000");
      await store({ database: db }).initialize();
      expect(db.pragma("cache_size")).toBe(-4000);
    });

    it("gives a connection it opens itself a 16 MB page cache, whichever the driver", () => {
      const db = open();
      applyConnectionSettings(connectionSource(db.connection, undefined).connect(), { ownsConnection: true });
      expect(db.pragma("cache_size")).toBe(-16_000);
    });

    it("getSession and getFactor are primary-key lookups; listUserSessions and listUserFactors use a user_id index", async () => {
      const db = open();
      await store({ database: db }).initialize();
      const plan = (sql: string) =>
        db
          .all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
          .map((row) => row.detail)
          .join("\n");
      expect(plan("SELECT * FROM login_manager_sessions WHERE id = 'x' AND expires_at > 1")).toMatch(
        /SEARCH login_manager_sessions USING INDEX sqlite_autoindex_login_manager_sessions_1 \(id=\?\)/,
      );
      expect(
        plan(
          "SELECT * FROM login_manager_sessions WHERE user_id = 'x' AND expires_at > 1 ORDER BY created_at, rowid",
        ),
      ).toMatch(/USING INDEX login_manager_sessions_user_id \(user_id=\?\)/);
      expect(plan("SELECT * FROM login_manager_factors WHERE kind = 'totp' AND id = 'x'")).toMatch(
        /SEARCH login_manager_factors USING INDEX sqlite_autoindex_login_manager_factors_1 \(kind=\? AND id=\?\)/,
      );
      expect(
        plan(
          "SELECT * FROM login_manager_factors WHERE user_id = 'x' AND kind = 'y' ORDER BY created_at, id",
        ),
      ).toMatch(/USING INDEX login_manager_factors_user_id \(user_id=\?\)/);
    });

    it.each(["", "1abc", "bad-prefix", "x; DROP TABLE users; --", "a".repeat(42), "naïve_"])(
      "rejects tablePrefix %j with a ConfigurationError naming the option",
      (tablePrefix) => {
        const options = { database: ":memory:", driver: driver.name, tablePrefix };
        expect(() => new SqliteStore(options)).toThrow(ConfigurationError);
        expect(() => new SqliteStore(options)).toThrow(/tablePrefix/);
      },
    );

    it("accepts a 41-character tablePrefix", async () => {
      const sqlite = store({ database: ":memory:", tablePrefix: `_${"a".repeat(40)}` });
      await expect(sqlite.initialize()).resolves.toBeUndefined();
    });

    it("rejects a non-positive sweepIntervalSeconds with a ConfigurationError naming the option", () => {
      expect(
        () => new SqliteStore({ database: ":memory:", driver: driver.name, sweepIntervalSeconds: -1 }),
      ).toThrow(/sweepIntervalSeconds/);
    });

    it("wraps driver errors in a StoreError whose cause is the driver error", async () => {
      const sqlite = store({ database: ":memory:" });
      const session = makeSession();
      await sqlite.createSession(session);
      const error = await sqlite.createSession(session).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error).toBeInstanceOf(StoreError);
      expect(error).toMatchObject({ code: "ERR_STORE", unavailable: false });
      expect((error as StoreError).cause).toBeInstanceOf(driver.errorClass);
      expect((error as StoreError).cause).toMatchObject(driver.primaryKeyViolation);
    });

    it("deleteAllSessions empties only its own sessions table, not another prefix's in the same file", async () => {
      const db = open();
      const mine = store({ database: db });
      const theirs = store({ database: db, tablePrefix: "other_" });
      const kept = makeSession();
      await theirs.createSession(kept);
      await mine.createSession(makeSession());
      await mine.createSession(makeSession({ expiresAt: T0 - 1 })); // expired, not swept yet: counted
      await mine.createRememberToken(makeToken());
      await mine.incrementCounter("account:alice", T0, 3_600_000);
      expect(await mine.deleteAllSessions()).toBe(2);
      expect(await theirs.getSession(kept.id, T0)).toEqual(kept);
      expect(db.get("SELECT count(*) AS n FROM login_manager_sessions")).toEqual({ n: 0 });
      expect(db.get("SELECT count(*) AS n FROM login_manager_remember_tokens")).toEqual({ n: 1 });
      expect(db.get("SELECT count(*) AS n FROM login_manager_failures")).toEqual({ n: 1 });
    });

    it("deleteAllRememberTokens empties only its own tokens table, leaving sessions and counters", async () => {
      const db = open();
      const mine = store({ database: db });
      const theirs = store({ database: db, tablePrefix: "other_" });
      const kept = makeToken();
      await theirs.createRememberToken(kept);
      await mine.createRememberToken(makeToken());
      await mine.createRememberToken(makeToken({ expiresAt: T0 - 1 }));
      await mine.createSession(makeSession());
      await mine.incrementCounter("account:alice", T0, 3_600_000);
      expect(await mine.deleteAllRememberTokens()).toBe(2);
      expect(await mine.deleteAllRememberTokens()).toBe(0);
      expect(await theirs.getRememberToken(kept.selector, T0)).toEqual(kept);
      expect(db.get("SELECT count(*) AS n FROM login_manager_sessions")).toEqual({ n: 1 });
      expect(db.get("SELECT count(*) AS n FROM login_manager_failures")).toEqual({ n: 1 });
    });

    it("refuses tables written by a newer schema version", async () => {
      const db = open();
      await store({ database: db }).initialize();
      db.run("UPDATE login_manager_schema_version SET version = 99");
      await expect(store({ database: db }).initialize()).rejects.toThrow(/schema version 99/);
    });

    it("sweeps expired rows on an unref'd timer when sweepIntervalSeconds is set, and close() stops it", async () => {
      vi.useFakeTimers();
      let now = T0;
      const sqlite = store({ database: ":memory:", sweepIntervalSeconds: 30, clock: { now: () => now } });
      const session = makeSession({ expiresAt: T0 + 1000 });
      await sqlite.createSession(session);
      expect(vi.getTimerCount()).toBe(1);
      now = T0 + 1000;
      await vi.advanceTimersByTimeAsync(30_000);
      expect(await sqlite.getSession(session.id, T0)).toBeNull();
      await sqlite.close();
      expect(vi.getTimerCount()).toBe(0);
    });
  },
);
