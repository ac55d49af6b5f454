import { randomBytes } from "node:crypto";
import { createServer, type Server, type Socket } from "node:net";
import { afterAll, expect, it } from "vitest";
import { HOUR, makeSession, makeToken, schemaScope, storeError, T0 } from "../../../test/helpers/postgres.js";
import { describeIfPostgres, postgresConfig, postgresUrl } from "../../../test/helpers/services.js";
import { randomToken } from "../../core/tokens.js";
import { PostgresStore } from "./index.js";

await describeIfPostgres("PostgresStore when the server is unavailable", () => {
  const schemas = schemaScope();
  afterAll(() => schemas.end());

  it("an unreachable server (port 1) rejects every part of the contract quickly with StoreError unavailable", async () => {
    const { host } = postgresConfig();
    const store = new PostgresStore({
      connectionString: `postgresql://postgres@${host}:1/test`,
      connectionTimeoutMillis: 300,
    });
    try {
      const started = Date.now();
      const error = await storeError(store.getSession(randomToken(), T0));
      expect(error.unavailable).toBe(true);
      expect(error.code).toBe("ERR_STORE_UNAVAILABLE");
      expect(Date.now() - started).toBeLessThan(3000);
      const token = makeToken();
      const calls: [string, () => Promise<unknown>][] = [
        ["incrementCounter", () => store.incrementCounter("k", T0, HOUR)],
        [
          "swapRememberValidator",
          () =>
            store.swapRememberValidator(token.selector, token.validatorHash, {
              validatorHash: "v",
              previousValidatorHash: token.validatorHash,
              rotatedAt: T0,
              rotatedBy: "",
            }),
        ],
        ["deleteAllSessions", () => store.deleteAllSessions()],
        ["deleteAllRememberTokens", () => store.deleteAllRememberTokens()],
        ["deleteExpired", () => store.deleteExpired(T0)],
        ["consumeOneTimeToken", () => store.consumeOneTimeToken(token.validatorHash, T0)],
      ];
      for (const [operation, call] of calls) {
        const again = await storeError(call());
        expect(again.unavailable).toBe(true);
        expect(again.message).toContain(`PostgresStore.${operation}: PostgreSQL is unavailable`);
      }
    } finally {
      await store.close();
    }
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
    const applicationName = `lm_kill_${randomBytes(4).toString("hex")}`;
    const store = new PostgresStore({
      connectionString: `${postgresUrl()}?application_name=${applicationName}`,
      schema: schemas.newSchema(),
      poolMax: 3,
    });
    try {
      const session = makeSession();
      await store.createSession(session);
      await Promise.all([1, 2, 3].map(() => store.getSession(session.id, T0)));
      const killed = await schemas.admin.query(
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
