import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SQLITE_TEST_DRIVERS, type TestDatabase } from "../../../test/drivers/sqlite.js";
import type { OneTimeTokenRecord } from "../../core/store.js";
import { hashToken, randomToken } from "../../core/tokens.js";
import { SqliteStore } from "./index.js";

const T0 = 2_000_000_000_000;

function makeOneTimeToken(overrides: Partial<OneTimeTokenRecord> = {}): OneTimeTokenRecord {
  return {
    tokenHash: hashToken(randomToken()),
    purpose: "password-reset",
    userId: "42",
    data: "",
    epoch: 1,
    createdAt: T0,
    expiresAt: T0 + 1_800_000,
    ...overrides,
  };
}

describe.each(SQLITE_TEST_DRIVERS.map((driver) => [driver.label, driver] as const))(
  "SqliteStore one-time tokens, %s",
  (_label, driver) => {
    let dir: string;
    let path: string;
    const cleanups: Array<() => unknown> = [];

    beforeEach(() => {
      dir = mkdtempSync(join(tmpdir(), "login-manager-sqlite-ott-"));
      path = join(dir, "sessions.db");
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

    function store(tablePrefix?: string): SqliteStore {
      const prefix = tablePrefix === undefined ? {} : { tablePrefix };
      const created = new SqliteStore({ database: path, driver: driver.name, ...prefix });
      cleanups.push(() => created.close());
      return created;
    }

    it("two stores on one file (two processes): a token is consumed once, by either", async () => {
      const first = store();
      const second = store();
      const token = makeOneTimeToken();
      await first.createOneTimeToken(token);
      expect(await second.findOneTimeToken(token.tokenHash, T0)).toEqual(token);
      const results = await Promise.all([
        first.consumeOneTimeToken(token.tokenHash, T0),
        second.consumeOneTimeToken(token.tokenHash, T0),
        second.consumeOneTimeToken(token.tokenHash, T0),
      ]);
      expect(results.filter((result) => result !== null)).toEqual([token]);
      expect(open().get("SELECT count(*) AS n FROM login_manager_one_time_tokens")).toEqual({ n: 0 });
    });

    it("consuming an expired token leaves its row for deleteExpired, which counts it", async () => {
      const sqlite = store();
      const token = makeOneTimeToken({ expiresAt: T0 + 1000 });
      await sqlite.createOneTimeToken(token);
      expect(await sqlite.consumeOneTimeToken(token.tokenHash, T0 + 1000)).toBeNull();
      expect(open().get("SELECT count(*) AS n FROM login_manager_one_time_tokens")).toEqual({ n: 1 });
      expect(await sqlite.deleteExpired(T0 + 1000)).toBe(1);
    });

    it("keeps each tablePrefix's tokens apart in one file", async () => {
      const mine = store();
      const theirs = store("other_");
      const token = makeOneTimeToken();
      await theirs.createOneTimeToken(token);
      expect(await mine.findOneTimeToken(token.tokenHash, T0)).toBeNull();
      expect(await mine.deleteUserOneTimeTokens(token.userId, null)).toBe(0);
      expect(await mine.deleteExpired(T0 + 86_400_000)).toBe(0);
      expect(await theirs.consumeOneTimeToken(token.tokenHash, T0)).toEqual(token);
    });

    it("looks tokens up by primary key and a user's tokens through the user_id index", async () => {
      await store().initialize();
      const db = open();
      const plan = (sql: string) =>
        db
          .all<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
          .map((row) => row.detail)
          .join("\n");
      const table = "login_manager_one_time_tokens";
      expect(plan(`DELETE FROM ${table} WHERE token_hash = 'x' AND expires_at > 1 RETURNING *`)).toMatch(
        new RegExp(`SEARCH ${table} USING INDEX sqlite_autoindex_${table}_1 \\(token_hash=\\?\\)`),
      );
      expect(plan(`DELETE FROM ${table} WHERE user_id = 'x'`)).toMatch(
        new RegExp(`USING (COVERING )?INDEX ${table}_user_id \\(user_id=\\?\\)`),
      );
      expect(plan(`DELETE FROM ${table} WHERE user_id = 'x' AND purpose = 'p'`)).toMatch(
        new RegExp(`USING (COVERING )?INDEX ${table}_user_id \\(user_id=\\? AND purpose=\\?\\)`),
      );
    });
  },
);
