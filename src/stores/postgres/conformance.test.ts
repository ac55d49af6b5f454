import pg from "pg";
import { afterAll, afterEach, beforeEach, describe, it } from "vitest";
import { schemaScope } from "../../../test/helpers/postgres.js";
import { describeIfPostgres, postgresConfig, postgresUrl } from "../../../test/helpers/services.js";
import { defineStoreConformanceTests } from "../../testing/store-suite.js";
import { PostgresStore } from "./index.js";

const V1_SQL_FILE = new URL("./testdata/schema-v1.sql", import.meta.url);

await describeIfPostgres("PostgresStore conformance", () => {
  const schemas = schemaScope();
  afterAll(() => schemas.end());

  describe("store-created pool and migration", () => {
    const schemaOf = new Map<PostgresStore, string>();
    defineStoreConformanceTests({
      name: "PostgresStore (connectionString, migrate: true)",
      createStore: () => {
        const schema = schemas.newSchema();
        const store = new PostgresStore({ connectionString: postgresUrl(), schema, poolMax: 5 });
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
    });
  });

  describe("caller's pool and tables from sql/postgres.sql (migrate: false)", () => {
    const pool = new pg.Pool({ ...postgresConfig(), max: 5 });
    pool.on("error", () => undefined);
    const schemaOf = new Map<PostgresStore, string>();
    afterAll(() => pool.end());
    defineStoreConformanceTests({
      name: "PostgresStore (pool, migrate: false)",
      createStore: async () => {
        const schema = schemas.newSchema();
        await schemas.applySql(schema);
        const store = new PostgresStore({ pool, schema, migrate: false });
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
    });
  });

  describe("a schema version 1 database upgraded by the store's migration", () => {
    const schemaOf = new Map<PostgresStore, string>();
    defineStoreConformanceTests({
      name: "PostgresStore (tables of version 1, migrate: true)",
      createStore: async () => {
        const schema = schemas.newSchema();
        await schemas.applySql(schema, V1_SQL_FILE);
        const store = new PostgresStore({ connectionString: postgresUrl(), schema, poolMax: 5 });
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
    });
  });
});
