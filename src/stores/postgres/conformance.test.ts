import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, it } from "vitest";
import { schemaScope } from "../../../test/helpers/postgres.js";
import { describeIfPostgres, postgresConfig, postgresUrl } from "../../../test/helpers/services.js";
import {
  defineOneTimeTokenStorageTests,
  defineStoreConformanceTests,
  type StoreConformanceOptions,
} from "../../testing/store-suite.js";
import { PostgresStore } from "./index.js";

const V1_SQL_FILE = new URL("./testdata/schema-v1.sql", import.meta.url);
const V2_SQL_FILE = new URL("./testdata/schema-v2.sql", import.meta.url);
const V3_SQL_FILE = new URL("./testdata/schema-v3.sql", import.meta.url);

await describeIfPostgres("PostgresStore conformance", () => {
  const schemas = schemaScope();
  afterAll(() => schemas.end());

  /**
   * Runs the store conformance suite and the one-time token suite on stores that `create` builds,
   * each in a new schema of its own, dropped after the test.
   */
  function defineSuites(name: string, create: (schema: string) => Promise<PostgresStore>): void {
    const schemaOf = new Map<PostgresStore, string>();
    const options: StoreConformanceOptions<PostgresStore> = {
      name,
      createStore: async () => {
        const schema = schemas.newSchema();
        const store = await create(schema);
        schemaOf.set(store, schema);
        return store;
      },
      destroyStore: async (store) => {
        await store.close();
        await schemas.dropSchema(schemaOf.get(store) ?? "");
      },
      describe,
      it,
      beforeEach,
      afterEach,
    };
    defineStoreConformanceTests(options);
    defineOneTimeTokenStorageTests(options);
  }

  describe("store-created pool and migration", () => {
    defineSuites(
      "PostgresStore (connectionString, migrate: true)",
      async (schema) => new PostgresStore({ connectionString: postgresUrl(), schema, poolMax: 5 }),
    );
  });

  describe("caller's pool and tables from sql/postgres.sql (migrate: false)", () => {
    const pool = new pg.Pool({ ...postgresConfig(), max: 5 });
    pool.on("error", () => undefined);
    afterAll(() => pool.end());
    defineSuites("PostgresStore (pool, migrate: false)", async (schema) => {
      await schemas.applySql(schema);
      return new PostgresStore({ pool, schema, migrate: false });
    });
  });

  describe("a schema version 1 database upgraded by the store's migration", () => {
    defineSuites("PostgresStore (tables of version 1, migrate: true)", async (schema) => {
      await schemas.applySql(schema, V1_SQL_FILE);
      return new PostgresStore({ connectionString: postgresUrl(), schema, poolMax: 5 });
    });
  });

  describe("a schema version 2 database upgraded by the store's migration", () => {
    defineSuites("PostgresStore (tables of version 2, migrate: true)", async (schema) => {
      await schemas.applySql(schema, V2_SQL_FILE);
      return new PostgresStore({ connectionString: postgresUrl(), schema, poolMax: 5 });
    });
  });

  describe("a schema version 3 database upgraded by the store's migration", () => {
    defineSuites("PostgresStore (tables of version 3, migrate: true)", async (schema) => {
      await schemas.applySql(schema, V3_SQL_FILE);
      return new PostgresStore({ connectionString: postgresUrl(), schema, poolMax: 5 });
    });
  });
});
