import type pg from "pg";
import { afterAll, afterEach, beforeEach, expect, it, vi } from "vitest";
import {
  countingPool,
  HOUR,
  makeSession,
  makeToken,
  schemaScope,
  storeError,
  T0,
} from "../../../test/helpers/postgres.js";
import { describeIfPostgres, postgresUrl } from "../../../test/helpers/services.js";
import type { RememberRotation } from "../../core/store.js";
import { hashToken, randomToken } from "../../core/tokens.js";
import { PostgresStore } from "./index.js";

function rotation(overrides: Partial<RememberRotation> = {}): RememberRotation {
  return {
    validatorHash: hashToken(randomToken()),
    previousValidatorHash: hashToken(randomToken()),
    rotatedAt: T0 + 1000,
    rotatedBy: hashToken(randomToken()),
    ...overrides,
  };
}

/** The statement names `spy` saw, without the per-store tag. */
function statementsRun(spy: { mock: { calls: unknown[][] } }): string[] {
  return spy.mock.calls.map(([config]) =>
    String((config as pg.QueryConfig).name).replace(/^lm_[0-9a-f]{12}_/, ""),
  );
}

await describeIfPostgres("PostgresStore", () => {
  const schemas = schemaScope();
  const { pool, roundTrips } = countingPool(20);
  let store: PostgresStore;
  let schema: string;

  beforeEach(() => {
    schema = schemas.newSchema();
    store = new PostgresStore({ pool, schema });
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

  it("swapRememberValidator is one UPDATE and one round trip, and keeps rotatedBy", async () => {
    const token = makeToken({ rotatedBy: "" });
    await store.createRememberToken(token);
    expect(await store.getRememberToken(token.selector, T0)).toEqual(token);
    const next = rotation({ previousValidatorHash: token.validatorHash });
    const spy = vi.spyOn(pool, "query");
    const before = roundTrips();

    expect(await store.swapRememberValidator(token.selector, token.validatorHash, next)).toBe(true);

    expect(roundTrips() - before).toBe(1);
    expect(statementsRun(spy)).toEqual(["swap_remember_validator"]);
    expect(String((spy.mock.calls[0]?.[0] as unknown as pg.QueryConfig | undefined)?.text)).toMatch(
      /^UPDATE /,
    );
    expect(await store.getRememberToken(token.selector, T0)).toEqual({ ...token, ...next });
  });

  it("50 parallel swaps expecting the same hash, on separate connections: exactly one succeeds", async () => {
    const token = makeToken();
    await store.createRememberToken(token);
    const clients = new Set<unknown>();
    pool.on("acquire", (client) => clients.add(client));
    const rotations = Array.from({ length: 50 }, () =>
      rotation({ previousValidatorHash: token.validatorHash }),
    );
    const results = await Promise.all(
      rotations.map((next) => store.swapRememberValidator(token.selector, token.validatorHash, next)),
    );
    pool.removeAllListeners("acquire");
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(clients.size).toBeGreaterThan(5);
    const winner = rotations[results.indexOf(true)];
    expect(await store.getRememberToken(token.selector, T0)).toEqual({ ...token, ...winner });
  });

  it("chained swaps racing: each expected hash is swapped away exactly once", async () => {
    const token = makeToken();
    await store.createRememberToken(token);
    let expected = token.validatorHash;
    for (let round = 0; round < 5; round += 1) {
      const rotations = Array.from({ length: 10 }, () => rotation({ previousValidatorHash: expected }));
      const results = await Promise.all(
        rotations.map((next) => store.swapRememberValidator(token.selector, expected, next)),
      );
      expect(results.filter(Boolean)).toHaveLength(1);
      expected = (rotations[results.indexOf(true)] as RememberRotation).validatorHash;
    }
    expect((await store.getRememberToken(token.selector, T0))?.validatorHash).toBe(expected);
  });

  it("deleteExpired removes every expired row in batches of 1000", async () => {
    await store.createSession(makeSession());
    await store.incrementCounter("live", T0, HOUR);
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
    await pool.query(
      `INSERT INTO "${schema}".login_manager_one_time_tokens SELECT 't' || i, 'p', 'u', '', 0, $1::bigint, $1::bigint + i FROM generate_series(1, 1100) AS i`,
      [T0 - HOUR],
    );
    const spy = vi.spyOn(pool, "query");

    expect(await store.deleteExpired(T0)).toBe(4800);

    const deletes = spy.mock.calls.filter(([config]) =>
      String((config as unknown as pg.QueryConfig).text).startsWith("DELETE"),
    );
    // Sessions, remember-me tokens (none), counters, one-time tokens: each until a batch comes back short.
    expect(deletes.length).toBe(3 + 1 + 2 + 2);
    const left = await pool.query(`SELECT count(*)::int AS n FROM ${sessions}`);
    expect(left.rows).toEqual([{ n: 1 }]);
    expect((await store.getCounter("live", T0))?.count).toBe(1);
    expect(await store.deleteExpired(T0)).toBe(0);
  });

  it("deleteAllSessions and deleteAllRememberTokens each empty their own table, 1000 rows per statement, and nothing of another prefix or schema", async () => {
    const samePrefixElsewhere = new PostgresStore({ pool, schema: schemas.newSchema() });
    const otherPrefixHere = new PostgresStore({ pool, schema, tablePrefix: "other_" });
    try {
      const keptSession = makeSession();
      const keptToken = makeToken();
      for (const other of [samePrefixElsewhere, otherPrefixHere]) {
        await other.createSession(keptSession);
        await other.createRememberToken(keptToken);
      }
      const ownToken = makeToken();
      await store.createSession(makeSession());
      await store.createRememberToken(ownToken);
      const counter = await store.incrementCounter("account:alice", T0, HOUR);
      const sessions = `"${schema}".login_manager_sessions`;
      const tokens = `"${schema}".login_manager_remember_tokens`;
      await pool.query(
        `INSERT INTO ${sessions} SELECT 's-' || i, 'h', 'u' || (i % 7), false, $1::bigint, $1::bigint, $1::bigint + i, $1::bigint + i, '', '', '', NULL
         FROM generate_series(1, 2499) AS i`,
        [T0],
      );
      await pool.query(
        `INSERT INTO ${tokens} (selector, validator_hash, rotated_at, rotated_by, user_id, created_at, expires_at)
         SELECT 't-' || i, 'h', $1::bigint, '', 'u' || (i % 7), $1::bigint, $1::bigint + i FROM generate_series(1, 999) AS i`,
        [T0],
      );
      const count = async (table: string) =>
        (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0]?.n;
      const spy = vi.spyOn(pool, "query");

      expect(await store.deleteAllSessions()).toBe(2500);
      expect(statementsRun(spy)).toEqual([
        "delete_all_sessions",
        "delete_all_sessions",
        "delete_all_sessions",
      ]);
      expect(await count(sessions)).toBe(0);
      expect(await store.getRememberToken(ownToken.selector, T0)).toEqual(ownToken);

      spy.mockClear();
      expect(await store.deleteAllRememberTokens()).toBe(1000);
      expect(statementsRun(spy)).toEqual(["delete_all_remember_tokens", "delete_all_remember_tokens"]);
      expect(await count(tokens)).toBe(0);

      expect(await store.getCounter("account:alice", T0)).toEqual(counter);
      for (const other of [samePrefixElsewhere, otherPrefixHere]) {
        expect(await other.getSession(keptSession.id, T0)).toEqual(keptSession);
        expect(await other.getRememberToken(keptToken.selector, T0)).toEqual(keptToken);
      }
    } finally {
      await samePrefixElsewhere.close();
      await otherPrefixHere.close();
    }
  });

  it("counters keep the failures table and its columns: first_failure_at is firstAt, last_failure_at is lastAt", async () => {
    await store.incrementCounter("account:bob", T0, HOUR);
    const record = await store.incrementCounter("account:bob", T0 + 7, HOUR);
    expect(record).toEqual({
      key: "account:bob",
      count: 2,
      firstAt: T0,
      lastAt: T0 + 7,
      expiresAt: T0 + 7 + HOUR,
    });
    const row = await pool.query(
      `SELECT key, count, first_failure_at::float8 AS first, last_failure_at::float8 AS last FROM "${schema}".login_manager_failures`,
    );
    expect(row.rows).toEqual([{ key: "account:bob", count: 2, first: T0, last: T0 + 7 }]);
  });

  it("updateSession writes only the fields of the contract's patch", async () => {
    const session = makeSession({ fingerprint: "fp-at-login" });
    await store.createSession(session);
    const patch = { fresh: false, fingerprint: "ignored" } as Parameters<PostgresStore["updateSession"]>[1];
    expect(await store.updateSession(session.id, patch)).toBe(true);
    expect(await store.getSession(session.id, T0)).toEqual({ ...session, fresh: false });
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
        timed.swapRememberValidator(token.selector, token.validatorHash, rotation()),
      );
      expect(error.unavailable).toBe(true);
      expect(error.code).toBe("ERR_STORE_UNAVAILABLE");
      expect(error.message).toContain("PostgresStore.swapRememberValidator");
    } finally {
      await blocker.query("ROLLBACK");
      blocker.release();
      await timed.close();
    }
    expect(await store.getRememberToken(token.selector, T0)).toEqual(token);
  });

  it("a constraint violation is a StoreError with unavailable false", async () => {
    const session = makeSession();
    await store.createSession(session);
    const error = await storeError(store.createSession(session));
    expect(error.unavailable).toBe(false);
    expect(error.code).toBe("ERR_STORE");
  });
});
