import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { createServer, type Server, type Socket } from "node:net";
import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { describeIfPostgres, postgresConfig, postgresUrl } from "../../../test/helpers/services.js";
import { ConfigurationError, StoreError } from "../../core/errors.js";
import type { RememberTokenRecord, SessionRecord } from "../../core/store.js";
import { hashToken, randomToken } from "../../core/tokens.js";
import { defineStoreConformanceTests } from "../../testing/store-suite.js";
import { PostgresStore, type PostgresStoreOptions } from "./index.js";

const T0 = 2_000_000_000_000;
const HOUR = 3_600_000;
const SQL_FILE = new URL("../../../sql/postgres.sql", import.meta.url);

function randomSchema(): string {
  return `lm_test_${randomBytes(6).toString("hex")}`;
}

function makeSession(overrides: Partial<SessionRecord> = {}): SessionRecord {
  return {
    id: randomToken(),
    secretHash: hashToken(randomToken()),
    userId: `user-${randomToken()}`,
    fresh: true,
    createdAt: T0,
    lastSeenAt: T0,
    expiresAt: T0 + HOUR,
    absoluteExpiresAt: T0 + 24 * HOUR,
    fingerprint: "",
    userAgent: "test",
    ipAddress: "127.0.0.1",
    rememberSelector: null,
    ...overrides,
  };
}

function makeToken(): RememberTokenRecord {
  return {
    selector: randomToken(),
    validatorHash: hashToken(randomToken()),
    previousValidatorHash: null,
    rotatedAt: T0,
    userId: `user-${randomToken()}`,
    createdAt: T0,
    expiresAt: T0 + 30 * 24 * HOUR,
  };
}

/** A pool whose `roundTrips()` counts ReadyForQuery messages: one per request/response exchange. */
function countingPool(max: number): { pool: pg.Pool; roundTrips: () => number } {
  const pool = new pg.Pool({ ...postgresConfig(), max });
  pool.on("error", () => undefined);
  let count = 0;
  pool.on("connect", (client) => {
    (client as unknown as { connection: NodeJS.EventEmitter }).connection.on("readyForQuery", () => {
      count += 1;
    });
  });
  return { pool, roundTrips: () => count };
}

async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

await describeIfPostgres("PostgresStore", () => {
  const admin = new pg.Pool({ ...postgresConfig(), max: 4 });
  admin.on("error", () => undefined);
  const schemas = new Set<string>();

  async function dropSchema(schema: string): Promise<void> {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    schemas.delete(schema);
  }

  function newSchema(): string {
    const schema = randomSchema();
    schemas.add(schema);
    return schema;
  }

  async function applySqlFile(schema: string): Promise<void> {
    const client = await admin.connect();
    try {
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`SET search_path TO "${schema}"`);
      await client.query(await readFile(SQL_FILE, "utf8"));
    } finally {
      await client.query("RESET search_path").catch(() => undefined);
      client.release();
    }
  }

  afterAll(async () => {
    for (const schema of [...schemas]) await dropSchema(schema);
    await admin.end();
  });

  describe("conformance, store-created pool and migration", () => {
    const schemaOf = new Map<PostgresStore, string>();
    defineStoreConformanceTests({
      name: "PostgresStore (connectionString, migrate: true)",
      createStore: () => {
        const schema = newSchema();
        const store = new PostgresStore({ connectionString: postgresUrl(), schema, poolMax: 5 });
        schemaOf.set(store, schema);
        return store;
      },
      destroyStore: async (store) => {
        await store.close();
        await dropSchema(schemaOf.get(store) ?? "");
      },
      describe,
      it,
      beforeEach,
      afterEach,
    });
  });

  describe("conformance, caller's pool and tables from sql/postgres.sql (migrate: false)", () => {
    const pool = new pg.Pool({ ...postgresConfig(), max: 5 });
    pool.on("error", () => undefined);
    const schemaOf = new Map<PostgresStore, string>();
    afterAll(() => pool.end());
    defineStoreConformanceTests({
      name: "PostgresStore (pool, migrate: false)",
      createStore: async () => {
        const schema = newSchema();
        await applySqlFile(schema);
        const store = new PostgresStore({ pool, schema, migrate: false });
        schemaOf.set(store, schema);
        return store;
      },
      destroyStore: async (store) => {
        await store.close();
        await dropSchema(schemaOf.get(store) ?? "");
      },
      describe,
      it,
      beforeEach,
      afterEach,
    });
  });

  describe("schema", () => {
    async function catalog(schema: string): Promise<unknown> {
      const columns = await admin.query(
        `SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = $1 ORDER BY table_name, ordinal_position`,
        [schema],
      );
      const indexes = await admin.query(
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = $1 ORDER BY indexname",
        [schema],
      );
      const constraints = await admin.query(
        `SELECT conrelid::regclass::text AS table_name, conname, contype, pg_get_constraintdef(c.oid) AS definition
         FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
         WHERE n.nspname = $1 ORDER BY conname`,
        [schema],
      );
      const versions = await admin.query(`SELECT version FROM "${schema}".login_manager_schema_version`);
      const strip = (rows: Record<string, unknown>[]) =>
        rows.map((row) =>
          Object.fromEntries(
            Object.entries(row).map(([k, v]) => [
              k,
              typeof v === "string" ? v.replaceAll(`${schema}.`, "") : v,
            ]),
          ),
        );
      return {
        columns: columns.rows,
        indexes: strip(indexes.rows),
        constraints: strip(constraints.rows),
        versions: versions.rows,
      };
    }

    it("sql/postgres.sql and the store's own migration produce the same catalog", async () => {
      const migrated = newSchema();
      const store = new PostgresStore({ connectionString: postgresUrl(), schema: migrated });
      await store.getSession(randomToken(), T0);
      await store.close();

      const fromFile = newSchema();
      await applySqlFile(fromFile);

      const expected = await catalog(migrated);
      expect(expected).toMatchObject({ versions: [{ version: 1 }] });
      expect((expected as { columns: unknown[] }).columns).toHaveLength(26);
      expect(await catalog(fromFile)).toEqual(expected);
    });

    it("applying sql/postgres.sql twice, then migrating over it, changes nothing", async () => {
      const schema = newSchema();
      await applySqlFile(schema);
      const client = await admin.connect();
      try {
        await client.query(`SET search_path TO "${schema}"`);
        await client.query(await readFile(SQL_FILE, "utf8"));
        await client.query("RESET search_path");
      } finally {
        client.release();
      }
      const store = new PostgresStore({ connectionString: postgresUrl(), schema });
      await store.createSession(makeSession());
      await store.close();
      const versions = await admin.query(`SELECT version FROM "${schema}".login_manager_schema_version`);
      expect(versions.rows).toEqual([{ version: 1 }]);
    });

    it("migration is idempotent across stores and runs once per store", async () => {
      const schema = newSchema();
      const { pool, roundTrips } = countingPool(2);
      try {
        const first = new PostgresStore({ pool, schema });
        const session = makeSession();
        await first.createSession(session);
        const second = new PostgresStore({ pool, schema });
        expect(await second.getSession(session.id, T0)).toEqual(session);

        const before = roundTrips();
        await second.listUserSessions(session.userId, T0);
        await first.getSession(session.id, T0);
        expect(roundTrips() - before).toBe(2);
        const versions = await admin.query(`SELECT version FROM "${schema}".login_manager_schema_version`);
        expect(versions.rows).toEqual([{ version: 1 }]);
      } finally {
        await pool.end();
      }
    });

    it("5 stores migrating the same missing schema at once all succeed", async () => {
      const schema = newSchema();
      const stores = Array.from(
        { length: 5 },
        () => new PostgresStore({ connectionString: postgresUrl(), schema, poolMax: 2 }),
      );
      try {
        const sessions = stores.map(() => makeSession());
        await Promise.all(stores.map((store, i) => store.createSession(sessions[i] as SessionRecord)));
        for (const [i, store] of stores.entries()) {
          expect(await store.getSession((sessions[i] as SessionRecord).id, T0)).toEqual(sessions[i]);
        }
        const versions = await admin.query(`SELECT version FROM "${schema}".login_manager_schema_version`);
        expect(versions.rows).toEqual([{ version: 1 }]);
      } finally {
        await Promise.all(stores.map((store) => store.close()));
      }
    });

    it("migrate: false against missing tables fails with a StoreError, not a crash", async () => {
      const store = new PostgresStore({
        connectionString: postgresUrl(),
        schema: newSchema(),
        migrate: false,
      });
      try {
        const error = await storeError(store.getSession(randomToken(), T0));
        expect(error.unavailable).toBe(false);
      } finally {
        await store.close();
      }
    });
  });

  describe("options", () => {
    it("rejects bad combinations and identifiers with a ConfigurationError", () => {
      const pool = new pg.Pool(postgresConfig());
      const bad: PostgresStoreOptions[] = [
        {},
        { pool, connectionString: postgresUrl() },
        { pool, poolMax: 3 },
        { pool, statementTimeoutMillis: 100 },
        { connectionString: postgresUrl(), schema: 'public"; DROP TABLE x; --' },
        { connectionString: postgresUrl(), schema: "Public" },
        { connectionString: postgresUrl(), tablePrefix: "x".repeat(31) },
        { connectionString: postgresUrl(), tablePrefix: "lm-" },
        { connectionString: postgresUrl(), poolMax: 0 },
      ];
      for (const options of bad) expect(() => new PostgresStore(options)).toThrow(ConfigurationError);
      return pool.end();
    });

    it("never ends a pool the caller passed, but ends its own", async () => {
      const pool = new pg.Pool({ ...postgresConfig(), max: 2 });
      try {
        const store = new PostgresStore({ pool, schema: newSchema() });
        await store.createSession(makeSession());
        await store.close();
        await store.close();
        expect(pool.ended).toBe(false);
        expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
      } finally {
        await pool.end();
      }

      const own = new PostgresStore({ connectionString: postgresUrl(), schema: newSchema() });
      await own.createSession(makeSession());
      await own.close();
      await storeError(own.getSession(randomToken(), T0));
    });
  });

  describe("behaviour", () => {
    const { pool, roundTrips } = countingPool(20);
    let store: PostgresStore;
    let schema: string;

    beforeEach(() => {
      schema = newSchema();
      store = new PostgresStore({ pool, schema });
    });
    afterEach(async () => {
      vi.restoreAllMocks();
      await store.close();
      await dropSchema(schema);
    });
    afterAll(() => pool.end());

    it("getSession is one query and one round trip", async () => {
      const session = makeSession();
      await store.createSession(session);
      await store.getSession(session.id, T0);
      const spy = vi.spyOn(pool, "query");
      for (let i = 0; i < 3; i += 1) {
        const before = roundTrips();
        expect(await store.getSession(session.id, T0)).toEqual(session);
        expect(roundTrips() - before).toBe(1);
      }
      expect(spy).toHaveBeenCalledTimes(3);
      const config = spy.mock.calls[0]?.[0] as unknown as pg.QueryConfig;
      expect(config.name).toMatch(/^lm_[0-9a-f]{12}_get_session$/);
    });

    it("50 parallel rotations of one token on separate connections: exactly one rotated", async () => {
      const token = makeToken();
      await store.createRememberToken(token);
      const clients = new Set<unknown>();
      pool.on("acquire", (client) => clients.add(client));
      const results = await Promise.all(
        Array.from({ length: 50 }, () =>
          store.rotateRememberToken({
            selector: token.selector,
            presentedValidatorHash: token.validatorHash,
            newValidatorHash: hashToken(randomToken()),
            now: T0 + 1000,
            graceMs: 10_000,
          }),
        ),
      );
      pool.removeAllListeners("acquire");
      const outcomes = results.map((result) => result.outcome);
      expect(outcomes.filter((outcome) => outcome === "rotated")).toHaveLength(1);
      expect(outcomes.filter((outcome) => outcome === "grace")).toHaveLength(49);
      expect(clients.size).toBeGreaterThan(5);
    });

    it("deleteExpired removes every expired row in batches of 1000", async () => {
      await store.createSession(makeSession());
      await store.incrementFailures("live", T0, HOUR);
      const sessions = `"${schema}".login_manager_sessions`;
      await pool.query(
        `INSERT INTO ${sessions} SELECT 'expired-' || i, 'h', 'u' || (i % 7), false, $1::bigint, $1::bigint, $1::bigint + i, $1::bigint + i, '', '', '', NULL
         FROM generate_series(1, 2500) AS i`,
        [T0 - HOUR],
      );
      await pool.query(
        `INSERT INTO "${schema}".login_manager_failures SELECT 'k' || i, 1, $1::bigint, $1::bigint, $1::bigint + i FROM generate_series(1, 1200) AS i`,
        [T0 - HOUR],
      );
      const spy = vi.spyOn(pool, "query");

      expect(await store.deleteExpired(T0)).toBe(3700);

      const deletes = spy.mock.calls.filter(([config]) =>
        String((config as unknown as pg.QueryConfig).text).startsWith("DELETE"),
      );
      expect(deletes.length).toBe(3 + 1 + 2);
      const left = await pool.query(`SELECT count(*)::int AS n FROM ${sessions}`);
      expect(left.rows).toEqual([{ n: 1 }]);
      expect((await store.getFailures("live", T0))?.count).toBe(1);
      expect(await store.deleteExpired(T0)).toBe(0);
    });

    it("deleteAllSessions deletes tokens, then sessions, 1000 rows per statement, and nothing of another prefix or schema", async () => {
      const samePrefixElsewhere = new PostgresStore({ pool, schema: newSchema() });
      const otherPrefixHere = new PostgresStore({ pool, schema, tablePrefix: "other_" });
      try {
        const keptSession = makeSession();
        const keptToken = makeToken();
        for (const other of [samePrefixElsewhere, otherPrefixHere]) {
          await other.createSession(keptSession);
          await other.createRememberToken(keptToken);
        }
        await store.createSession(makeSession());
        const counter = await store.incrementFailures("account:alice", T0, HOUR);
        const sessions = `"${schema}".login_manager_sessions`;
        const tokens = `"${schema}".login_manager_remember_tokens`;
        await pool.query(
          `INSERT INTO ${sessions} SELECT 's-' || i, 'h', 'u' || (i % 7), false, $1::bigint, $1::bigint, $1::bigint + i, $1::bigint + i, '', '', '', NULL
           FROM generate_series(1, 2499) AS i`,
          [T0],
        );
        await pool.query(
          `INSERT INTO ${tokens} SELECT 't-' || i, 'h', NULL, $1::bigint, 'u' || (i % 7), $1::bigint, $1::bigint + i
           FROM generate_series(1, 1000) AS i`,
          [T0],
        );
        const spy = vi.spyOn(pool, "query");

        expect(await store.deleteAllSessions()).toEqual({ sessions: 2500, rememberTokens: 1000 });

        const statements = spy.mock.calls.map(([config]) =>
          String((config as unknown as pg.QueryConfig).name),
        );
        expect(statements.map((name) => name.replace(/^lm_[0-9a-f]{12}_/, ""))).toEqual([
          "delete_all_tokens",
          "delete_all_tokens",
          "delete_all_sessions",
          "delete_all_sessions",
          "delete_all_sessions",
        ]);
        for (const table of [sessions, tokens]) {
          expect((await pool.query(`SELECT count(*)::int AS n FROM ${table}`)).rows).toEqual([{ n: 0 }]);
        }
        expect(await store.getFailures("account:alice", T0)).toEqual(counter);
        for (const other of [samePrefixElsewhere, otherPrefixHere]) {
          expect(await other.getSession(keptSession.id, T0)).toEqual(keptSession);
          expect(await other.getRememberToken(keptToken.selector, T0)).toEqual(keptToken);
        }
      } finally {
        await samePrefixElsewhere.close();
        await otherPrefixHere.close();
      }
    });

    it("a server-side statement timeout surfaces as StoreError unavailable", async () => {
      const timed = new PostgresStore({
        connectionString: postgresUrl(),
        schema,
        statementTimeoutMillis: 200,
      });
      const token = makeToken();
      await timed.createRememberToken(token);
      const blocker = await pool.connect();
      try {
        await blocker.query("BEGIN");
        await blocker.query(
          `SELECT 1 FROM "${schema}".login_manager_remember_tokens WHERE selector = $1 FOR UPDATE`,
          [token.selector],
        );
        const error = await storeError(
          timed.rotateRememberToken({
            selector: token.selector,
            presentedValidatorHash: token.validatorHash,
            newValidatorHash: hashToken(randomToken()),
            now: T0,
            graceMs: 0,
          }),
        );
        expect(error.unavailable).toBe(true);
        expect(error.code).toBe("ERR_STORE_UNAVAILABLE");
      } finally {
        await blocker.query("ROLLBACK");
        blocker.release();
        await timed.close();
      }
    });

    it("a constraint violation is a StoreError with unavailable false", async () => {
      const session = makeSession();
      await store.createSession(session);
      const error = await storeError(store.createSession(session));
      expect(error.unavailable).toBe(false);
      expect(error.code).toBe("ERR_STORE");
    });
  });

  describe("unavailable server", () => {
    it("an unreachable server (port 1) rejects quickly with StoreError unavailable", async () => {
      const { host } = postgresConfig();
      const store = new PostgresStore({
        connectionString: `postgresql://postgres@${host}:1/test`,
        connectionTimeoutMillis: 300,
      });
      const started = Date.now();
      const error = await storeError(store.getSession(randomToken(), T0));
      expect(error.unavailable).toBe(true);
      expect(error.code).toBe("ERR_STORE_UNAVAILABLE");
      expect(Date.now() - started).toBeLessThan(3000);
      const again = await storeError(store.incrementFailures("k", T0, HOUR));
      expect(again.unavailable).toBe(true);
      await store.close();
    });

    it("a server that never answers hits connectionTimeoutMillis and is unavailable", async () => {
      const sockets = new Set<Socket>();
      const silent: Server = createServer((socket) => sockets.add(socket));
      await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
      const { port } = silent.address() as { port: number };
      const store = new PostgresStore({
        connectionString: `postgresql://postgres@127.0.0.1:${port}/test`,
        connectionTimeoutMillis: 300,
      });
      try {
        const started = Date.now();
        const error = await storeError(store.getSession(randomToken(), T0));
        expect(error.unavailable).toBe(true);
        expect(Date.now() - started).toBeLessThan(3000);
      } finally {
        await store.close();
        for (const socket of sockets) socket.destroy();
        await new Promise((resolve) => silent.close(resolve));
      }
    });

    it("idle connections killed by the server (57P01) do not crash the process; the store recovers", async () => {
      const schema = newSchema();
      const applicationName = `lm_kill_${randomBytes(4).toString("hex")}`;
      const store = new PostgresStore({
        connectionString: `${postgresUrl()}?application_name=${applicationName}`,
        schema,
        poolMax: 3,
      });
      try {
        const session = makeSession();
        await store.createSession(session);
        await Promise.all([1, 2, 3].map(() => store.getSession(session.id, T0)));
        const killed = await admin.query(
          "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
          [applicationName],
        );
        expect(killed.rowCount).toBeGreaterThan(0);
        await new Promise((resolve) => setTimeout(resolve, 200));
        expect(await store.getSession(session.id, T0)).toEqual(session);
      } finally {
        await store.close();
      }
    });
  });
});
