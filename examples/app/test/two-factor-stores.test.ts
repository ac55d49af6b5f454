/**
 * Two-step verification (issue 18) on the shared stores: the other second-factor tests run the app
 * on SQLite; here it runs once with PostgreSQL (`DATABASE_URL`: users, sessions and factors) and
 * once with Redis (`REDIS_URL`: sessions and factors; users in SQLite), and a TOTP login and a
 * recovery-code login go through the pages. The factors are read from the server directly, so the
 * test knows they live where it says. Skipped loudly without the servers, failed with
 * `REQUIRE_SERVICES=1`.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { redisUrl } from "../../../test/helpers/services.js";
import { TestBrowser } from "./helpers.js";
import { type ClockedApp, passwordStep, startClockedApp, totpCodeAt, userWithTotp } from "./mfa-support.js";
import {
  createSchema,
  databaseUrl,
  deleteRedisPrefix,
  describeIfServices,
  uniqueName,
} from "./scale-out/support.js";

/** A shared store the app runs on, and the user's factors read from its server. */
interface StoreSetup {
  name: string;
  needs: "postgres" | "redis";
  /** Makes the server side ready (a schema, a key prefix); resolves the app's environment. */
  prepare(): Promise<Record<string, string>>;
  /** The user's factors on the server as `<kind>:<id>`, bypassing the store's own code. */
  rawFactors(userId: string): Promise<string[]>;
  cleanUp(): Promise<void>;
}

function postgresSetup(): StoreSetup {
  let schema: Awaited<ReturnType<typeof createSchema>> | undefined;
  return {
    name: "PostgreSQL",
    needs: "postgres",
    async prepare() {
      schema = await createSchema("two_factor");
      return { DATABASE_URL: databaseUrl(), DATABASE_SCHEMA: schema.name };
    },
    async rawFactors(userId) {
      if (!schema) throw new Error("not prepared");
      const result = await schema.pool.query<{ kind: string; id: string }>(
        `SELECT kind, id FROM "${schema.name}"."login_manager_factors" WHERE user_id = $1`,
        [userId],
      );
      return result.rows.map((row) => `${row.kind}:${row.id}`);
    },
    async cleanUp() {
      await schema?.drop();
    },
  };
}

function redisSetup(): StoreSetup {
  const prefix = `${uniqueName("so_2fa")}:`;
  const reader = createClient({ url: redisUrl() });
  reader.on("error", () => undefined);
  return {
    name: "Redis",
    needs: "redis",
    async prepare() {
      await reader.connect();
      return { REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: prefix };
    },
    rawFactors: (userId) => reader.sMembers(`${prefix}user:${userId}:factors`),
    async cleanUp() {
      if (reader.isOpen) reader.destroy();
      await deleteRedisPrefix(redisUrl(), prefix);
    },
  };
}

/** How many of `factors` (`<kind>:<id>`) are of `kind`. */
function countOf(factors: string[], kind: string): number {
  return factors.filter((factor) => factor.startsWith(`${kind}:`)).length;
}

for (const setup of [postgresSetup(), redisSetup()]) {
  await describeIfServices([setup.needs], `two-step verification with ${setup.name}`, () => {
    let clocked: ClockedApp;
    beforeAll(async () => {
      clocked = await startClockedApp("express", { env: await setup.prepare() });
      expect(clocked.app.services.backends.sessions).toBe(setup.needs);
    });
    afterAll(async () => {
      await clocked?.app.close();
      await setup.cleanUp();
    });

    const userIdOf = async (username: string) =>
      (await clocked.app.services.users.findByKey(username))?.getId() ?? "";

    it(`[A5 6.3.3] logs in with the password, then /login/2fa and a code, into /protected (${setup.name})`, async () => {
      const { username, secret, browser } = await userWithTotp(clocked, "storeotp");
      const stored = await setup.rawFactors(await userIdOf(username));
      expect([countOf(stored, "totp"), countOf(stored, "recovery-code")]).toEqual([1, 10]);

      const first = await passwordStep(browser, username, { next: "/protected" });
      expect(first.status).toBe(303);
      expect(first.headers.location).toBe("/login/2fa?next=%2Fprotected");
      expect((await browser.get("/protected")).status).toBe(302);
      const code = totpCodeAt(secret, clocked.now());
      const second = await browser.post("/login/2fa", { code, next: "/protected" });
      expect(second.status).toBe(303);
      expect(second.headers.location).toBe("/protected");
      const page = await browser.get("/protected");
      expect(page.status).toBe(200);
      expect(page.text).toContain("<dd data-auth-methods>password + authenticator app code</dd>");

      // The time step is spent in the shared store: the same code is refused to another browser.
      const thief = new TestBrowser(clocked.app.baseUrl);
      await passwordStep(thief, username);
      expect((await thief.post("/login/2fa", { code })).status).toBe(401);
      expect((await thief.get("/protected")).status).toBe(302);
    });

    it(`[A5 6.5.1] logs in with a recovery code once (${setup.name})`, async () => {
      const { username, recoveryCodes, browser } = await userWithTotp(clocked, "storerc");
      const recoveryCode = recoveryCodes[2] as string;
      await passwordStep(browser, username);
      expect((await browser.post("/login/2fa", { recovery_code: recoveryCode })).status).toBe(303);
      expect((await browser.get("/protected")).text).toContain("password + recovery code");
      expect(countOf(await setup.rawFactors(await userIdOf(username)), "recovery-code")).toBe(9);

      const again = new TestBrowser(clocked.app.baseUrl);
      await passwordStep(again, username);
      expect((await again.post("/login/2fa", { recovery_code: recoveryCode })).status).toBe(401);
      expect((await again.get("/protected")).status).toBe(302);
    });
  });
}
