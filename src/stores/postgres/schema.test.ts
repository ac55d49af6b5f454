import { afterAll, describe, expect, it } from "vitest";
import {
  countingPool,
  HOUR,
  makeSession,
  makeToken,
  SQL_FILE,
  schemaCatalog,
  schemaScope,
  schemaVersions,
  storeError,
  T0,
} from "../../../test/helpers/postgres.js";
import { describeIfPostgres, postgresUrl } from "../../../test/helpers/services.js";
import type { OneTimeTokenRecord, SessionRecord } from "../../core/store.js";
import { hashToken, randomToken } from "../../core/tokens.js";
import { PostgresStore, SCHEMA_VERSION } from "./index.js";

const V1_SQL_FILE = new URL("./testdata/schema-v1.sql", import.meta.url);
const V2_SQL_FILE = new URL("./testdata/schema-v2.sql", import.meta.url);

await describeIfPostgres("PostgresStore schema", () => {
  const schemas = schemaScope();
  const { admin } = schemas;
  afterAll(() => schemas.end());

  const catalog = (schema: string) => schemaCatalog(admin, schema);
  const versions = (schema: string) => schemaVersions(admin, schema);

  async function migratedSchema(): Promise<string> {
    const schema = schemas.newSchema();
    const store = new PostgresStore({ connectionString: postgresUrl(), schema });
    await store.getSession(randomToken(), T0);
    await store.close();
    return schema;
  }

  /** A database as the previous release left it: version 1 tables, with a live session and token. */
  async function versionOneSchema() {
    const schema = schemas.newSchema();
    await schemas.applySql(schema, V1_SQL_FILE);
    const { authMethods: _, ...row } = makeSession();
    // Read back through the current contract, a session of that release has no recorded methods.
    const session = { ...row, authMethods: "" };
    const { rotatedBy: __, ...token } = makeToken();
    await admin.query(
      `INSERT INTO "${schema}".login_manager_sessions VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      Object.values(row),
    );
    await admin.query(
      `INSERT INTO "${schema}".login_manager_remember_tokens
       (selector, validator_hash, previous_validator_hash, rotated_at, user_id, created_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [
        token.selector,
        token.validatorHash,
        token.previousValidatorHash,
        token.rotatedAt,
        token.userId,
        token.createdAt,
        token.expiresAt,
      ],
    );
    await admin.query(
      `INSERT INTO "${schema}".login_manager_failures VALUES ('account:alice', 2, $1::bigint, $1::bigint + 5, $1::bigint + $2::bigint)`,
      [T0, HOUR],
    );
    return { schema, session, token };
  }

  it("is version 4, and sql/postgres.sql and the store's own migration produce the same catalog", async () => {
    expect(SCHEMA_VERSION).toBe(4);
    const migrated = await migratedSchema();
    const fromFile = schemas.newSchema();
    await schemas.applySql(fromFile);

    const expected = await catalog(migrated);
    expect(expected.columns).toHaveLength(43);
    expect(expected.columns).toContainEqual({
      table_name: "login_manager_remember_tokens",
      column_name: "rotated_by",
      ordinal_position: 8,
      data_type: "text",
      is_nullable: "NO",
      column_default: "''::text",
    });
    const oneTime = expected.columns.filter(
      (column) => (column as { table_name: string }).table_name === "login_manager_one_time_tokens",
    );
    expect(oneTime.map((column) => (column as { column_name: string }).column_name)).toEqual([
      "token_hash",
      "purpose",
      "user_id",
      "data",
      "epoch",
      "created_at",
      "expires_at",
    ]);
    expect(expected.indexes).toContainEqual(
      expect.objectContaining({ indexname: "login_manager_one_time_tokens_user_id_idx" }),
    );
    expect(expected.columns).toContainEqual({
      table_name: "login_manager_sessions",
      column_name: "auth_methods",
      ordinal_position: 13,
      data_type: "text",
      is_nullable: "NO",
      column_default: "''::text",
    });
    const factors = expected.columns.filter(
      (column) => (column as { table_name: string }).table_name === "login_manager_factors",
    );
    expect(factors.map((column) => Object.values(column as object).slice(1, 5))).toEqual([
      ["kind", 1, "text", "NO"],
      ["id", 2, "text", "NO"],
      ["user_id", 3, "text", "NO"],
      ["label", 4, "text", "NO"],
      ["data", 5, "text", "NO"],
      ["counter", 6, "bigint", "NO"],
      ["created_at", 7, "bigint", "NO"],
      ["last_used_at", 8, "bigint", "YES"],
    ]);
    expect(expected.indexes).toContainEqual(
      expect.objectContaining({ indexname: "login_manager_factors_user_id_idx" }),
    );
    expect(await catalog(fromFile)).toEqual(expected);
    expect(await versions(migrated)).toEqual([4]);
    expect(await versions(fromFile)).toEqual([4]);
  });

  it("the store's migration upgrades a version 1 database in place: same catalog as a new one, rows kept", async () => {
    const { schema, session, token } = await versionOneSchema();
    const store = new PostgresStore({ connectionString: postgresUrl(), schema });
    try {
      expect(await store.getSession(session.id, T0)).toEqual(session);
      expect(await store.getRememberToken(token.selector, T0)).toEqual({ ...token, rotatedBy: "" });
      expect(await store.getCounter("account:alice", T0)).toEqual({
        key: "account:alice",
        count: 2,
        firstAt: T0,
        lastAt: T0 + 5,
        expiresAt: T0 + HOUR,
      });
      const rotation = {
        validatorHash: "v2",
        previousValidatorHash: token.validatorHash,
        rotatedAt: T0 + 1,
        rotatedBy: "fp",
      };
      expect(await store.swapRememberValidator(token.selector, token.validatorHash, rotation)).toBe(true);
      expect(await store.getRememberToken(token.selector, T0)).toEqual({ ...token, ...rotation });
    } finally {
      await store.close();
    }
    expect(await catalog(schema)).toEqual(await catalog(await migratedSchema()));
    expect(await versions(schema)).toEqual([1, 4]);
  });

  it("applying the current sql/postgres.sql over a version 1 database upgrades it the same way", async () => {
    const { schema, token } = await versionOneSchema();
    await schemas.applySql(schema);
    expect(await catalog(schema)).toEqual(await catalog(await migratedSchema()));
    expect(await versions(schema)).toEqual([1, 4]);
    const store = new PostgresStore({ connectionString: postgresUrl(), schema, migrate: false });
    try {
      expect(await store.getRememberToken(token.selector, T0)).toEqual({ ...token, rotatedBy: "" });
    } finally {
      await store.close();
    }
  });

  it("a release still on version 1 keeps inserting tokens into an upgraded table (rotated_by defaults to '')", async () => {
    const { schema } = await versionOneSchema();
    await schemas.applySql(schema);
    const { rotatedBy: _, ...token } = makeToken();
    await admin.query(
      `INSERT INTO "${schema}".login_manager_remember_tokens
       (selector, validator_hash, previous_validator_hash, rotated_at, user_id, created_at, expires_at)
       VALUES ($1, $2, NULL, $3, $4, $3, $5)`,
      [token.selector, token.validatorHash, T0, token.userId, token.expiresAt],
    );
    const store = new PostgresStore({ connectionString: postgresUrl(), schema, migrate: false });
    try {
      expect(await store.getRememberToken(token.selector, T0)).toEqual({ ...token, rotatedBy: "" });
    } finally {
      await store.close();
    }
  });

  it("migrate: false on version 1 tables fails with a StoreError naming the missing column", async () => {
    const { schema, token } = await versionOneSchema();
    const store = new PostgresStore({ connectionString: postgresUrl(), schema, migrate: false });
    try {
      const error = await storeError(store.getRememberToken(token.selector, T0));
      expect(error.unavailable).toBe(false);
      expect(error.message).toContain("rotated_by");
    } finally {
      await store.close();
    }
  });

  /** A database as the release before one-time tokens left it: version 2 tables, with a live session. */
  async function versionTwoSchema() {
    const schema = schemas.newSchema();
    await schemas.applySql(schema, V2_SQL_FILE);
    const { authMethods: _, ...row } = makeSession();
    const session = { ...row, authMethods: "" };
    await admin.query(
      `INSERT INTO "${schema}".login_manager_sessions VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
      Object.values(row),
    );
    return { schema, session };
  }

  function oneTimeToken(): OneTimeTokenRecord {
    return {
      tokenHash: hashToken(randomToken()),
      purpose: "password-reset",
      userId: `user-${randomToken()}`,
      data: "",
      epoch: 1,
      createdAt: T0,
      expiresAt: T0 + HOUR,
    };
  }

  it("the store's migration gives a version 2 database the one-time token table: same catalog as a new one, rows kept", async () => {
    const { schema, session } = await versionTwoSchema();
    const store = new PostgresStore({ connectionString: postgresUrl(), schema });
    try {
      expect(await store.getSession(session.id, T0)).toEqual(session);
      const token = oneTimeToken();
      await store.createOneTimeToken(token);
      expect(await store.consumeOneTimeToken(token.tokenHash, T0)).toEqual(token);
    } finally {
      await store.close();
    }
    expect(await catalog(schema)).toEqual(await catalog(await migratedSchema()));
    expect(await versions(schema)).toEqual([2, 4]);
  });

  it("applying the current sql/postgres.sql over a version 2 database upgrades it the same way", async () => {
    const { schema, session } = await versionTwoSchema();
    await schemas.applySql(schema);
    expect(await catalog(schema)).toEqual(await catalog(await migratedSchema()));
    expect(await versions(schema)).toEqual([2, 4]);
    const store = new PostgresStore({ connectionString: postgresUrl(), schema, migrate: false });
    try {
      expect(await store.getSession(session.id, T0)).toEqual(session);
      const token = oneTimeToken();
      await store.createOneTimeToken(token);
      expect(await store.findOneTimeToken(token.tokenHash, T0)).toEqual(token);
    } finally {
      await store.close();
    }
  });

  it("migrate: false on version 2 tables: sessions fail naming auth_methods (version 4), one-time tokens naming their table", async () => {
    const { schema, session } = await versionTwoSchema();
    const store = new PostgresStore({ connectionString: postgresUrl(), schema, migrate: false });
    try {
      const read = await storeError(Promise.resolve(store.getSession(session.id, T0)));
      expect(read.unavailable).toBe(false);
      expect(read.message).toContain("auth_methods");
      const error = await storeError(store.createOneTimeToken(oneTimeToken()));
      expect(error.unavailable).toBe(false);
      expect(error.message).toContain("one_time_tokens");
    } finally {
      await store.close();
    }
  });

  it("applying sql/postgres.sql twice, then migrating over it, changes nothing", async () => {
    const schema = schemas.newSchema();
    await schemas.applySql(schema);
    const before = await catalog(schema);
    await schemas.applySql(schema, SQL_FILE);
    const store = new PostgresStore({ connectionString: postgresUrl(), schema });
    await store.createSession(makeSession());
    await store.close();
    expect(await catalog(schema)).toEqual(before);
    expect(await versions(schema)).toEqual([4]);
  });

  it("migration is idempotent across stores and runs once per store", async () => {
    const schema = schemas.newSchema();
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
      expect(await versions(schema)).toEqual([4]);
    } finally {
      await pool.end();
    }
  });

  it("5 stores migrating the same missing schema at once all succeed", async () => {
    const schema = schemas.newSchema();
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
      expect(await versions(schema)).toEqual([4]);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it("5 stores upgrading the same version 1 database at once all succeed", async () => {
    const { schema, token } = await versionOneSchema();
    const stores = Array.from(
      { length: 5 },
      () => new PostgresStore({ connectionString: postgresUrl(), schema, poolMax: 2 }),
    );
    try {
      const found = await Promise.all(stores.map((store) => store.getRememberToken(token.selector, T0)));
      expect(found).toEqual(stores.map(() => ({ ...token, rotatedBy: "" })));
      expect(await versions(schema)).toEqual([1, 4]);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  describe("migrate: false", () => {
    it("against missing tables fails with a StoreError, not a crash", async () => {
      const store = new PostgresStore({
        connectionString: postgresUrl(),
        schema: schemas.newSchema(),
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
});
