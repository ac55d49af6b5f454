// PostgresStore's one-time tokens beyond the conformance suite: each call is one statement and one
// round trip, consume is a DELETE ... RETURNING that one of many connections wins, and the rows are
// what sql/postgres.sql describes.
import type pg from "pg";
import { afterAll, afterEach, beforeEach, expect, it, vi } from "vitest";
import { countingPool, HOUR, schemaScope, storeError, T0 } from "../../../test/helpers/postgres.js";
import { describeIfPostgres } from "../../../test/helpers/services.js";
import type { OneTimeTokenRecord } from "../../core/store.js";
import { hashToken, randomToken } from "../../core/tokens.js";
import { PostgresStore } from "./index.js";

function oneTimeToken(overrides: Partial<OneTimeTokenRecord> = {}): OneTimeTokenRecord {
  return {
    tokenHash: hashToken(randomToken()),
    purpose: "password-reset",
    userId: `user-${randomToken()}`,
    data: "",
    epoch: 7,
    createdAt: T0,
    expiresAt: T0 + HOUR,
    ...overrides,
  };
}

/** The statement names and first words `spy` saw, without the per-store tag. */
function statementsRun(spy: { mock: { calls: unknown[][] } }): string[] {
  return spy.mock.calls.map(([config]) => {
    const { name, text } = config as pg.QueryConfig;
    return `${String(name).replace(/^lm_[0-9a-f]{12}_/, "")} ${String(text).split(" ")[0]}`;
  });
}

await describeIfPostgres("PostgresStore one-time tokens", () => {
  const schemas = schemaScope();
  const { pool, roundTrips } = countingPool(20);
  let store: PostgresStore;
  let schema: string;

  beforeEach(async () => {
    schema = schemas.newSchema();
    store = new PostgresStore({ pool, schema });
    await store.deleteExpired(0); // migrates, so that the tests count only their own statements
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await store.close();
    await schemas.dropSchema(schema);
  });
  afterAll(async () => {
    await pool.end();
    await schemas.end();
  });

  it("every method is one named statement and one round trip", async () => {
    const token = oneTimeToken();
    const spy = vi.spyOn(pool, "query");
    const calls: (() => Promise<unknown>)[] = [
      () => store.createOneTimeToken(token),
      () => store.findOneTimeToken(token.tokenHash, T0),
      () => store.consumeOneTimeToken(token.tokenHash, T0),
      () => store.deleteUserOneTimeTokens(token.userId, null),
    ];
    for (const call of calls) {
      const before = roundTrips();
      await call();
      expect(roundTrips() - before).toBe(1);
    }
    expect(statementsRun(spy)).toEqual([
      "create_one_time_token INSERT",
      "find_one_time_token SELECT",
      "consume_one_time_token DELETE",
      "delete_user_one_time_tokens DELETE",
    ]);
  });

  it("rows hold the record's fields in the table's columns, epoch and times as bigint", async () => {
    const token = oneTimeToken({ epoch: 2 ** 40, data: "ada@example.com", expiresAt: T0 + 400 * 24 * HOUR });
    await store.createOneTimeToken(token);
    const { rows } = await pool.query(`SELECT * FROM "${schema}".login_manager_one_time_tokens`);
    expect(rows).toEqual([
      {
        token_hash: token.tokenHash,
        purpose: token.purpose,
        user_id: token.userId,
        data: token.data,
        epoch: String(token.epoch),
        created_at: String(token.createdAt),
        expires_at: String(token.expiresAt),
      },
    ]);
    expect(await store.findOneTimeToken(token.tokenHash, T0)).toEqual(token);
  });

  it("50 parallel consumes of one hash, on separate connections: exactly one gets the record", async () => {
    const token = oneTimeToken();
    await store.createOneTimeToken(token);
    const clients = new Set<unknown>();
    pool.on("acquire", (client) => clients.add(client));
    const results = await Promise.all(
      Array.from({ length: 50 }, () => store.consumeOneTimeToken(token.tokenHash, T0)),
    );
    pool.removeAllListeners("acquire");
    expect(clients.size).toBeGreaterThan(5);
    expect(results.filter((result) => result !== null)).toEqual([token]);
    expect(await store.findOneTimeToken(token.tokenHash, T0)).toBeNull();
  });

  it("consuming an expired token leaves its row for deleteExpired", async () => {
    const token = oneTimeToken({ expiresAt: T0 });
    await store.createOneTimeToken(token);
    expect(await store.consumeOneTimeToken(token.tokenHash, T0)).toBeNull();
    expect(await store.consumeOneTimeToken(token.tokenHash, T0 - 1)).toEqual(token);
    await store.createOneTimeToken(token);
    expect(await store.deleteExpired(T0)).toBe(1);
    expect(await store.findOneTimeToken(token.tokenHash, T0 - 1)).toBeNull();
  });

  it("deleteUserOneTimeTokens with a null purpose is not a purpose named 'null'", async () => {
    const userId = `user-${randomToken()}`;
    await store.createOneTimeToken(oneTimeToken({ userId, purpose: "null" }));
    await store.createOneTimeToken(oneTimeToken({ userId, purpose: "email-verify" }));
    await store.createOneTimeToken(oneTimeToken({ userId, purpose: "" }));
    expect(await store.deleteUserOneTimeTokens(userId, "null")).toBe(1);
    expect(await store.deleteUserOneTimeTokens(userId, "")).toBe(1);
    expect(await store.deleteUserOneTimeTokens(userId, null)).toBe(1);
  });

  it("a hash stored twice is a StoreError with unavailable false, and the first record stays", async () => {
    const token = oneTimeToken();
    await store.createOneTimeToken(token);
    const error = await storeError(store.createOneTimeToken({ ...token, purpose: "email-verify" }));
    expect(error.unavailable).toBe(false);
    expect(error.message).toContain("PostgresStore.createOneTimeToken failed");
    expect(await store.findOneTimeToken(token.tokenHash, T0)).toEqual(token);
  });
});
