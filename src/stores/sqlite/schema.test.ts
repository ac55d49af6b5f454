import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SQLITE_TEST_DRIVERS, type TestDatabase } from "../../../test/drivers/sqlite.js";
import type { SessionRecord } from "../../core/store.js";
import { hashToken } from "../../core/tokens.js";
import { SqliteStore } from "./index.js";

const T0 = 2_000_000_000_000;
const DAY = 86_400_000;

/**
 * The tables as the first release created them (schema version 1, before `rotated_by`, the
 * `one_time_tokens` table, `sessions.auth_methods` and the `factors` table).
 */
function previousReleaseSchema(p: string): string {
  return `
    CREATE TABLE "${p}schema_version" (version INTEGER NOT NULL);
    INSERT INTO "${p}schema_version" (version) VALUES (1);
    CREATE TABLE "${p}sessions" (
      id TEXT NOT NULL PRIMARY KEY, secret_hash TEXT NOT NULL, user_id TEXT NOT NULL,
      fresh INTEGER NOT NULL CHECK (fresh IN (0, 1)), created_at INTEGER NOT NULL,
      last_seen_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, absolute_expires_at INTEGER NOT NULL,
      fingerprint TEXT NOT NULL, user_agent TEXT NOT NULL, ip_address TEXT NOT NULL, remember_selector TEXT
    );
    CREATE INDEX "${p}sessions_user_id" ON "${p}sessions" (user_id, created_at);
    CREATE INDEX "${p}sessions_expires_at" ON "${p}sessions" (expires_at);
    CREATE TABLE "${p}remember_tokens" (
      selector TEXT NOT NULL PRIMARY KEY, validator_hash TEXT NOT NULL, previous_validator_hash TEXT,
      rotated_at INTEGER NOT NULL, user_id TEXT NOT NULL, created_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
    );
    CREATE INDEX "${p}remember_tokens_user_id" ON "${p}remember_tokens" (user_id);
    CREATE INDEX "${p}remember_tokens_expires_at" ON "${p}remember_tokens" (expires_at);
    CREATE TABLE "${p}failures" (
      "key" TEXT NOT NULL PRIMARY KEY, "count" INTEGER NOT NULL, first_failure_at INTEGER NOT NULL,
      last_failure_at INTEGER NOT NULL, expires_at INTEGER NOT NULL
    );
    CREATE INDEX "${p}failures_expires_at" ON "${p}failures" (expires_at);
  `;
}

/** A row of each table, written as the previous release wrote them. */
function previousReleaseRows(db: TestDatabase, p: string): void {
  db.run(
    `INSERT INTO "${p}sessions" VALUES ('old-session', 'secret', '42', 1, ?, ?, ?, ?, '', 'ua', '::1', 'old-token')`,
    T0,
    T0,
    T0 + DAY,
    T0 + DAY,
  );
  db.run(
    `INSERT INTO "${p}remember_tokens" VALUES ('old-token', ?, NULL, ?, '42', ?, ?)`,
    hashToken("v1"),
    T0,
    T0,
    T0 + 30 * DAY,
  );
  db.run(`INSERT INTO "${p}failures" VALUES ('account:alice', 3, ?, ?, ?)`, T0 - 10, T0 - 5, T0 + DAY);
}

function columnsOf(db: TestDatabase, table: string): string[] {
  return db.all<{ name: string }>("SELECT name FROM pragma_table_info(?)", table).map((row) => row.name);
}

describe.each(
  SQLITE_TEST_DRIVERS.flatMap((driver) =>
    ["login_manager_", "auth_"].map((prefix) => [driver.label, prefix, driver] as const),
  ),
)("a database file created by the previous release, %s, prefix %s", (_label, prefix, driver) => {
  let dir: string;
  let path: string;
  const cleanups: Array<() => unknown> = [];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "login-manager-sqlite-schema-"));
    path = join(dir, "old.db");
    const db = driver.open(path);
    db.run("BEGIN");
    for (const statement of previousReleaseSchema(prefix).split(";")) {
      if (statement.trim() !== "") db.run(statement);
    }
    previousReleaseRows(db, prefix);
    db.run("COMMIT");
    db.close();
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    rmSync(dir, { recursive: true, force: true });
  });

  function open(): TestDatabase {
    const db = driver.open(path);
    cleanups.push(() => db.close());
    return db;
  }

  function store(): SqliteStore {
    const tablePrefix = prefix === "login_manager_" ? {} : { tablePrefix: prefix };
    const created = new SqliteStore({ database: path, driver: driver.name, ...tablePrefix });
    cleanups.push(() => created.close());
    return created;
  }

  it("gains the rotated_by column on first use, keeping the rows and the schema version", async () => {
    await store().initialize();
    const db = open();
    expect(columnsOf(db, `${prefix}remember_tokens`)).toContain("rotated_by");
    expect(db.all(`SELECT version FROM "${prefix}schema_version"`)).toEqual([{ version: 1 }]);
    expect(db.all(`SELECT selector, rotated_by FROM "${prefix}remember_tokens"`)).toEqual([
      { selector: "old-token", rotated_by: "" },
    ]);
  });

  it("gains the one_time_tokens table and its indexes on first use, keeping the schema version", async () => {
    const sqlite = store();
    const token = {
      tokenHash: hashToken("reset"),
      purpose: "password-reset",
      userId: "42",
      data: "",
      epoch: 2,
      createdAt: T0,
      expiresAt: T0 + DAY,
    };
    await sqlite.createOneTimeToken(token);
    const db = open();
    expect(columnsOf(db, `${prefix}one_time_tokens`)).toEqual([
      "token_hash",
      "purpose",
      "user_id",
      "data",
      "epoch",
      "created_at",
      "expires_at",
    ]);
    const indexes = db
      .all<{ name: string }>(
        `SELECT name FROM pragma_index_list(?) ORDER BY name`,
        `${prefix}one_time_tokens`,
      )
      .map((row) => row.name);
    expect(indexes).toEqual(expect.arrayContaining([`${prefix}one_time_tokens_user_id`]));
    expect(db.all(`SELECT version FROM "${prefix}schema_version"`)).toEqual([{ version: 1 }]);
    expect(await store().consumeOneTimeToken(token.tokenHash, T0)).toEqual(token);
    expect(await sqlite.getSession("old-session", T0)).toMatchObject({ userId: "42" });
  });

  it("reads and writes the old rows through the new contract", async () => {
    const sqlite = store();
    expect(await sqlite.getSession("old-session", T0)).toMatchObject({
      userId: "42",
      rememberSelector: "old-token",
    });
    expect(await sqlite.getRememberToken("old-token", T0)).toEqual({
      selector: "old-token",
      validatorHash: hashToken("v1"),
      previousValidatorHash: null,
      rotatedAt: T0,
      rotatedBy: "",
      userId: "42",
      createdAt: T0,
      expiresAt: T0 + 30 * DAY,
    });
    expect(await sqlite.getCounter("account:alice", T0)).toEqual({
      key: "account:alice",
      count: 3,
      firstAt: T0 - 10,
      lastAt: T0 - 5,
      expiresAt: T0 + DAY,
    });

    const rotation = {
      validatorHash: hashToken("v2"),
      previousValidatorHash: hashToken("v1"),
      rotatedAt: T0 + 1,
      rotatedBy: "fp",
    };
    expect(await sqlite.swapRememberValidator("old-token", hashToken("v1"), rotation)).toBe(true);
    expect(await sqlite.getRememberToken("old-token", T0 + 1)).toMatchObject(rotation);
    expect((await sqlite.incrementCounter("account:alice", T0 + 2, 60_000)).count).toBe(4);
    await sqlite.createRememberToken({
      selector: "new-token",
      validatorHash: hashToken("n"),
      previousValidatorHash: null,
      rotatedAt: T0,
      rotatedBy: "creator",
      userId: "7",
      createdAt: T0,
      expiresAt: T0 + DAY,
    });
    expect((await sqlite.getRememberToken("new-token", T0))?.rotatedBy).toBe("creator");
    expect(await sqlite.deleteAllRememberTokens()).toBe(2);
  });

  it('gains sessions.auth_methods on first use: old sessions read it as "", new ones keep theirs', async () => {
    const sqlite = store();
    expect(await sqlite.getSession("old-session", T0)).toMatchObject({ userId: "42", authMethods: "" });
    const db = open();
    expect(columnsOf(db, `${prefix}sessions`).at(-1)).toBe("auth_methods");
    expect(db.all(`SELECT version FROM "${prefix}schema_version"`)).toEqual([{ version: 1 }]);
    const session = {
      ...(await sqlite.getSession("old-session", T0)),
      id: "new-session",
      authMethods: `pwd:${T0} otp:${T0 + 1}`,
    } as SessionRecord;
    await sqlite.createSession(session);
    expect(await store().getSession("new-session", T0)).toEqual(session);
    expect(await sqlite.listUserSessions("42", T0)).toEqual([
      expect.objectContaining({ id: "old-session", authMethods: "" }),
      session,
    ]);
  });

  it("gains the factors table and its index on first use, keeping the schema version", async () => {
    const sqlite = store();
    const factor = {
      kind: "totp",
      id: "42",
      userId: "42",
      label: "",
      data: "sealed",
      counter: 0,
      createdAt: T0,
      lastUsedAt: null,
    };
    expect(await sqlite.createFactor(factor)).toBe(true);
    const db = open();
    expect(columnsOf(db, `${prefix}factors`)).toEqual([
      "kind",
      "id",
      "user_id",
      "label",
      "data",
      "counter",
      "created_at",
      "last_used_at",
    ]);
    const indexes = db
      .all<{ name: string }>(`SELECT name FROM pragma_index_list(?)`, `${prefix}factors`)
      .map((row) => row.name);
    expect(indexes).toContain(`${prefix}factors_user_id`);
    expect(db.all(`SELECT version FROM "${prefix}schema_version"`)).toEqual([{ version: 1 }]);
    expect(await store().getFactor("totp", "42")).toEqual(factor);
  });

  it("adds the columns once: later stores on the migrated file (other processes) just use them", async () => {
    await store().initialize();
    const again = store();
    await again.initialize();
    await store().initialize();
    const db = open();
    expect(columnsOf(db, `${prefix}remember_tokens`).filter((name) => name === "rotated_by")).toHaveLength(1);
    expect(columnsOf(db, `${prefix}sessions`).filter((name) => name === "auth_methods")).toHaveLength(1);
    expect((await again.getRememberToken("old-token", T0))?.rotatedBy).toBe("");
    expect((await again.getSession("old-session", T0))?.authMethods).toBe("");
  });

  it("stays writable by the previous release after the upgrade (its session INSERT names no auth_methods)", async () => {
    await store().initialize();
    open().run(
      `INSERT INTO "${prefix}sessions" (id, secret_hash, user_id, fresh, created_at, last_seen_at, expires_at,
         absolute_expires_at, fingerprint, user_agent, ip_address, remember_selector)
       VALUES ('written-by-rollback', 's', '42', 1, ?, ?, ?, ?, '', 'ua', '::1', NULL)`,
      T0,
      T0,
      T0 + DAY,
      T0 + DAY,
    );
    expect((await store().getSession("written-by-rollback", T0))?.authMethods).toBe("");
  });

  it("stays writable by the previous release after the upgrade (its INSERT names no rotated_by)", async () => {
    await store().initialize();
    const db = open();
    db.run(
      `INSERT INTO "${prefix}remember_tokens" (selector, validator_hash, previous_validator_hash, rotated_at, user_id, created_at, expires_at)
       VALUES ('written-by-rollback', 'h', NULL, ?, '42', ?, ?)`,
      T0,
      T0,
      T0 + DAY,
    );
    expect((await store().getRememberToken("written-by-rollback", T0))?.rotatedBy).toBe("");
  });
});
