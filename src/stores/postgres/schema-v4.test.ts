/**
 * Schema version 4 (`sessions.auth_methods`, the `factors` table) over a database of version 3, the
 * release before it: upgraded by the store's migration or by applying `sql/postgres.sql` again, and
 * still writable by a version 3 release during a rolling deploy or a rollback.
 */
import { afterAll, expect, it } from "vitest";
import {
  HOUR,
  makeSession,
  SQL_FILE,
  schemaCatalog,
  schemaScope,
  schemaVersions,
  storeError,
  T0,
} from "../../../test/helpers/postgres.js";
import { describeIfPostgres, postgresUrl } from "../../../test/helpers/services.js";
import type { FactorRecord } from "../../core/store.js";
import { randomToken } from "../../core/tokens.js";
import { PostgresStore } from "./index.js";

const V3_SQL_FILE = new URL("./testdata/schema-v3.sql", import.meta.url);

const SESSION_COLUMNS_V3 =
  "id, secret_hash, user_id, fresh, created_at, last_seen_at, expires_at, absolute_expires_at, fingerprint, user_agent, ip_address, remember_selector";

function makeFactor(userId: string): FactorRecord {
  return {
    kind: "passkey",
    id: randomToken(),
    userId,
    label: "Laptop",
    data: '{"publicKey":"pQECAyYgASFYIA"}',
    counter: 0,
    createdAt: T0,
    lastUsedAt: null,
  };
}

await describeIfPostgres("PostgresStore schema version 4 over version 3", () => {
  const schemas = schemaScope();
  const { admin } = schemas;
  afterAll(() => schemas.end());

  /** Inserts a session the way a version 3 release does (no auth_methods); returns it as read now. */
  async function insertAsVersionThree(schema: string) {
    const { authMethods: _, ...row } = makeSession();
    await admin.query(
      `INSERT INTO "${schema}".login_manager_sessions (${SESSION_COLUMNS_V3})
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      Object.values(row),
    );
    return { ...row, authMethods: "" };
  }

  async function versionThreeSchema() {
    const schema = schemas.newSchema();
    await schemas.applySql(schema, V3_SQL_FILE);
    return { schema, session: await insertAsVersionThree(schema) };
  }

  async function newSchemaCatalog() {
    const schema = schemas.newSchema();
    await schemas.applySql(schema, SQL_FILE);
    return schemaCatalog(admin, schema);
  }

  it("the store's migration adds auth_methods and the factors table: same catalog as a new database, rows kept", async () => {
    const { schema, session } = await versionThreeSchema();
    const store = new PostgresStore({ connectionString: postgresUrl(), schema });
    try {
      expect(await store.getSession(session.id, T0)).toEqual(session);
      const proven = makeSession({
        userId: session.userId,
        createdAt: T0 + 1,
        authMethods: `pwd:${T0} otp:${T0}`,
      });
      await store.createSession(proven);
      expect(await store.listUserSessions(session.userId, T0)).toEqual([session, proven]);
      const factor = makeFactor(session.userId);
      expect(await store.createFactor(factor)).toBe(true);
      expect(await store.listUserFactors(session.userId, null)).toEqual([factor]);
    } finally {
      await store.close();
    }
    expect(await schemaCatalog(admin, schema)).toEqual(await newSchemaCatalog());
    expect(await schemaVersions(admin, schema)).toEqual([3, 4]);
  });

  it("applying the current sql/postgres.sql over a version 3 database upgrades it the same way", async () => {
    const { schema, session } = await versionThreeSchema();
    await schemas.applySql(schema);
    expect(await schemaCatalog(admin, schema)).toEqual(await newSchemaCatalog());
    expect(await schemaVersions(admin, schema)).toEqual([3, 4]);
    const store = new PostgresStore({ connectionString: postgresUrl(), schema, migrate: false });
    try {
      expect(await store.getSession(session.id, T0)).toEqual(session);
      const factor = makeFactor(session.userId);
      expect(await store.createFactor(factor)).toBe(true);
      expect(await store.advanceFactorCounter(factor.kind, factor.id, 1, T0 + HOUR)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it("a release still on version 3 keeps inserting sessions into the upgraded table (auth_methods defaults to '')", async () => {
    const { schema } = await versionThreeSchema();
    const store = new PostgresStore({ connectionString: postgresUrl(), schema });
    try {
      await store.getSession(randomToken(), T0);
      const written = await insertAsVersionThree(schema);
      expect(await store.getSession(written.id, T0)).toEqual(written);
    } finally {
      await store.close();
    }
  });

  it("migrate: false on version 3 tables fails with StoreErrors naming what is missing", async () => {
    const { schema, session } = await versionThreeSchema();
    const store = new PostgresStore({ connectionString: postgresUrl(), schema, migrate: false });
    try {
      const read = await storeError(Promise.resolve(store.getSession(session.id, T0)));
      expect(read.unavailable).toBe(false);
      expect(read.message).toContain("auth_methods");
      const factor = await storeError(store.createFactor(makeFactor(session.userId)));
      expect(factor.unavailable).toBe(false);
      expect(factor.message).toContain("factors");
    } finally {
      await store.close();
    }
  });

  it("5 stores upgrading the same version 3 database at once all succeed", async () => {
    const { schema, session } = await versionThreeSchema();
    const stores = Array.from(
      { length: 5 },
      () => new PostgresStore({ connectionString: postgresUrl(), schema, poolMax: 2 }),
    );
    try {
      const found = await Promise.all(stores.map((store) => store.getSession(session.id, T0)));
      expect(found).toEqual(stores.map(() => session));
      expect(await schemaVersions(admin, schema)).toEqual([3, 4]);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });
});
