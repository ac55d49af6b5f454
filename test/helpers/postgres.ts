/**
 * What the PostgresStore test files (`src/stores/postgres/*.test.ts`) share: records to store, a
 * throwaway schema per test, `sql/postgres.sql` applied by hand, and a pool that counts round trips.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import pg from "pg";
import { expect } from "vitest";
import { StoreError } from "../../src/core/errors.js";
import type { RememberTokenRecord, SessionRecord } from "../../src/core/store.js";
import { hashToken, randomToken } from "../../src/core/tokens.js";
import { postgresConfig } from "./services.js";

/** The instant the tests measure time from (in the future, like the conformance suites'). @example `store.getSession(id, T0)` */
export const T0 = 2_000_000_000_000;
/** One hour in milliseconds. @example `store.incrementCounter(key, T0, HOUR)` */
export const HOUR = 3_600_000;
/** The DDL file shipped for teams that run their own migrations. @example `schemas.applySql(schema, SQL_FILE)` */
export const SQL_FILE = new URL("../../sql/postgres.sql", import.meta.url);

/**
 * A live session of a new user, with `overrides` applied.
 *
 * @example
 * ```ts
 * await store.createSession(makeSession({ expiresAt: T0 + 1 }));
 * ```
 */
export function makeSession(overrides: Partial<SessionRecord> = {}): SessionRecord {
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
    authMethods: `pwd:${T0}`,
    ...overrides,
  };
}

/**
 * A live remember-me token of a new user, with `overrides` applied.
 *
 * @example
 * ```ts
 * await store.createRememberToken(makeToken({ rotatedBy: "fp" }));
 * ```
 */
export function makeToken(overrides: Partial<RememberTokenRecord> = {}): RememberTokenRecord {
  return {
    selector: randomToken(),
    validatorHash: hashToken(randomToken()),
    previousValidatorHash: null,
    rotatedAt: T0,
    rotatedBy: hashToken(randomToken()),
    userId: `user-${randomToken()}`,
    createdAt: T0,
    expiresAt: T0 + 30 * 24 * HOUR,
    ...overrides,
  };
}

/**
 * Awaits `promise`, expects it to reject with a StoreError, and returns that error.
 *
 * @example
 * ```ts
 * expect((await storeError(store.getSession(id, T0))).unavailable).toBe(true);
 * ```
 */
export async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(StoreError);
  return error as StoreError;
}

/**
 * A pool whose `roundTrips()` counts ReadyForQuery messages: one per request/response exchange.
 *
 * @example
 * ```ts
 * const before = roundTrips();
 * await store.getSession(id, T0);
 * expect(roundTrips() - before).toBe(1);
 * ```
 */
export function countingPool(max: number): { pool: pg.Pool; roundTrips: () => number } {
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

/**
 * What PostgreSQL's catalog says about `schema`: its columns, indexes and constraints, with the
 * schema name taken out, so two schemas made the same way compare equal.
 *
 * @example
 * ```ts
 * expect(await schemaCatalog(admin, upgraded)).toEqual(await schemaCatalog(admin, fresh));
 * ```
 */
export async function schemaCatalog(
  admin: pg.Pool,
  schema: string,
): Promise<{ columns: unknown[]; [part: string]: unknown }> {
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
  const strip = (rows: Record<string, unknown>[]) =>
    rows.map((row) =>
      Object.fromEntries(
        Object.entries(row).map(([k, v]) => [k, typeof v === "string" ? v.replaceAll(`${schema}.`, "") : v]),
      ),
    );
  return { columns: columns.rows, indexes: strip(indexes.rows), constraints: strip(constraints.rows) };
}

/**
 * The schema versions recorded in `schema` (default table prefix), in order.
 *
 * @example
 * ```ts
 * expect(await schemaVersions(admin, schema)).toEqual([3, 4]);
 * ```
 */
export async function schemaVersions(admin: pg.Pool, schema: string): Promise<number[]> {
  const result = await admin.query<{ version: number }>(
    `SELECT version FROM "${schema}".login_manager_schema_version ORDER BY version`,
  );
  return result.rows.map((row) => row.version);
}

/**
 * Throwaway schemas on an admin pool of their own: `newSchema()` names one (the store creates it),
 * `dropSchema()` removes it, `end()` drops what is left and ends the pool (call it in `afterAll`).
 *
 * @example
 * ```ts
 * const schemas = schemaScope();
 * afterAll(() => schemas.end());
 * const store = new PostgresStore({ connectionString: postgresUrl(), schema: schemas.newSchema() });
 * ```
 */
export function schemaScope() {
  const admin = new pg.Pool({ ...postgresConfig(), max: 4 });
  admin.on("error", () => undefined);
  const schemas = new Set<string>();

  async function dropSchema(schema: string): Promise<void> {
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    schemas.delete(schema);
  }

  return {
    admin,
    newSchema(): string {
      const schema = `lm_test_${randomBytes(6).toString("hex")}`;
      schemas.add(schema);
      return schema;
    },
    dropSchema,
    /** Runs the SQL of `file` (default `sql/postgres.sql`) with `schema`, created when missing, first on the path. */
    async applySql(schema: string, file: URL = SQL_FILE): Promise<void> {
      const client = await admin.connect();
      try {
        await client.query(`CREATE SCHEMA IF NOT EXISTS "${schema}"`);
        await client.query(`SET search_path TO "${schema}"`);
        await client.query(await readFile(file, "utf8"));
      } finally {
        await client.query("RESET search_path").catch(() => undefined);
        client.release();
      }
    },
    async end(): Promise<void> {
      for (const schema of [...schemas]) await dropSchema(schema);
      await admin.end();
    },
  };
}
