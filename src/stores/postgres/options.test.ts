import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { makeSession, schemaScope, storeError, T0 } from "../../../test/helpers/postgres.js";
import { describeIfPostgres, postgresConfig, postgresUrl } from "../../../test/helpers/services.js";
import { ConfigurationError } from "../../core/errors.js";
import { randomToken } from "../../core/tokens.js";
import { PostgresStore, type PostgresStoreOptions } from "./index.js";

function configurationError(options: unknown): ConfigurationError {
  try {
    new PostgresStore(options as PostgresStoreOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error(`new PostgresStore(${JSON.stringify(options)}) did not throw`);
}

describe("PostgresStore options (no server needed)", () => {
  const url = "postgresql://nobody@127.0.0.1:1/none";

  it("refuses an unknown option, suggesting the closest known name and listing them all", () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ connectionString: url, tablePrefx: "auth_" }, "tablePrefx", "tablePrefix"],
      [{ connectionString: url, poolmax: 3 }, "poolmax", "poolMax"],
      [{ connectionString: url, statementTimeout: 100 }, "statementTimeout", "statementTimeoutMillis"],
      [{ connectionString: url, migration: false }, "migration", "migrate"],
      [{ connectionstring: url }, "connectionstring", "connectionString"],
      [{ connectionString: url, Schema: "auth" }, "Schema", "schema"],
    ];
    for (const [options, unknown, hint] of cases) {
      const { message } = configurationError(options);
      expect(message).toContain(`PostgresStore: unknown option "${unknown}": did you mean "${hint}"?`);
      expect(message).toContain(
        "Known options: pool, connectionString, schema, tablePrefix, poolMax, connectionTimeoutMillis, statementTimeoutMillis, migrate.",
      );
    }
  });

  it("refuses a name with no likely match without a hint, even when its value is undefined", () => {
    const { message } = configurationError({ connectionString: url, ssl: undefined });
    expect(message).toContain('PostgresStore: unknown option "ssl". Known options: pool,');
    expect(message).not.toContain("did you mean");
  });

  it("rejects bad combinations, values and identifiers with a ConfigurationError", () => {
    const pool = new pg.Pool(postgresConfig());
    const bad: unknown[] = [
      undefined,
      null,
      {},
      { connectionString: "" },
      { pool, connectionString: url },
      { pool, poolMax: 3 },
      { pool, connectionTimeoutMillis: 100 },
      { pool, statementTimeoutMillis: 100 },
      { connectionString: url, schema: 'public"; DROP TABLE x; --' },
      { connectionString: url, schema: "Public" },
      { connectionString: url, tablePrefix: "x".repeat(31) },
      { connectionString: url, tablePrefix: "lm-" },
      { connectionString: url, poolMax: 0 },
      { connectionString: url, poolMax: 2.5 },
      { connectionString: url, statementTimeoutMillis: -1 },
      { connectionString: url, migrate: "false" },
    ];
    for (const options of bad) configurationError(options);
    return pool.end();
  });

  it("accepts every known option, and connectionString undefined next to a pool", async () => {
    const pool = new pg.Pool(postgresConfig());
    const stores = [
      new PostgresStore({
        pool,
        connectionString: undefined,
        schema: "auth",
        tablePrefix: "lm_",
        migrate: false,
      }),
      new PostgresStore({
        connectionString: url,
        schema: "public",
        tablePrefix: "login_manager_",
        poolMax: 2,
        connectionTimeoutMillis: 100,
        statementTimeoutMillis: 100,
        migrate: true,
      }),
    ];
    for (const store of stores) await store.close();
    await pool.end();
  });
});

await describeIfPostgres("PostgresStore pool ownership", () => {
  const schemas = schemaScope();
  afterAll(() => schemas.end());

  it("never ends a pool the caller passed, but ends its own", async () => {
    const pool = new pg.Pool({ ...postgresConfig(), max: 2 });
    try {
      const store = new PostgresStore({ pool, schema: schemas.newSchema() });
      await store.createSession(makeSession());
      await store.close();
      await store.close();
      expect(pool.ended).toBe(false);
      expect((await pool.query("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
    } finally {
      await pool.end();
    }

    const own = new PostgresStore({ connectionString: postgresUrl(), schema: schemas.newSchema() });
    await own.createSession(makeSession());
    await own.close();
    await storeError(own.getSession(randomToken(), T0));
  });
});
