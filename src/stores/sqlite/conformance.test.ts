import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, it } from "vitest";
import { SQLITE_TEST_DRIVERS, type TestDatabase } from "../../../test/drivers/sqlite.js";
import { defineOneTimeTokenStorageTests, defineStoreConformanceTests } from "../../testing/store-suite.js";
import { SqliteStore } from "./index.js";

// One-time tokens are not yet part of SessionStore: their suite runs beside the full one.
const SUITES = [defineStoreConformanceTests, defineOneTimeTokenStorageTests];

for (const [driver, defineSuite] of SQLITE_TEST_DRIVERS.flatMap((d) => SUITES.map((f) => [d, f] as const))) {
  const dirs = new Map<SqliteStore, string>();
  defineSuite({
    name: `SqliteStore on a file, ${driver.label}`,
    createStore: () => {
      const dir = mkdtempSync(join(tmpdir(), "login-manager-sqlite-"));
      const store = new SqliteStore({ database: join(dir, "sessions.db"), driver: driver.name });
      dirs.set(store, dir);
      return store;
    },
    destroyStore: async (store) => {
      await store.close();
      const dir = dirs.get(store);
      dirs.delete(store);
      if (dir) rmSync(dir, { recursive: true, force: true });
    },
    describe,
    it,
  });

  defineSuite({
    name: `SqliteStore on :memory:, ${driver.label}`,
    createStore: () => new SqliteStore({ database: ":memory:", driver: driver.name }),
    describe,
    it,
    beforeEach,
    afterEach,
  });

  const connections = new Map<SqliteStore, TestDatabase>();
  defineSuite({
    name: `SqliteStore on a caller's connection with tablePrefix, ${driver.label}`,
    createStore: () => {
      const db = driver.open(":memory:");
      const store = new SqliteStore({ database: db.connection, tablePrefix: "auth_" });
      connections.set(store, db);
      return store;
    },
    destroyStore: async (store) => {
      await store.close();
      connections.get(store)?.close();
      connections.delete(store);
    },
    describe,
    it,
  });
}
