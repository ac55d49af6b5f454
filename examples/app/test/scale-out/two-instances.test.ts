/**
 * Two instances of the reference app, as separate processes on different ports, share PostgreSQL
 * (users, and sessions when there is no Redis) and Redis (sessions, remember-me tokens, failure
 * counters). A browser moves between them like behind a load balancer.
 */
import { createClient } from "redis";
import { afterAll, beforeAll, expect, it } from "vitest";
import { redisUrl } from "../../../../test/helpers/services.js";
import { emailFor, PASSWORD } from "../helpers.js";
import {
  type AppProcess,
  BalancedBrowser,
  createSchema,
  databaseUrl,
  deleteRedisPrefix,
  describeIfServices,
  startApp,
  summary,
  uniqueName,
} from "./support.js";

const setups = [
  { name: "PostgreSQL + Redis", redis: true },
  { name: "PostgreSQL only", redis: false },
] as const;

for (const setup of setups) {
  await describeIfServices(
    setup.redis ? ["postgres", "redis"] : ["postgres"],
    `two app instances sharing ${setup.name}`,
    () => {
      let instances: AppProcess[] = [];
      let schema: Awaited<ReturnType<typeof createSchema>> | undefined;
      const prefix = `${uniqueName("so_two")}:`;

      beforeAll(async () => {
        schema = await createSchema("two");
        const env: Record<string, string> = {
          DATABASE_URL: databaseUrl(),
          DATABASE_SCHEMA: schema.name,
          ...(setup.redis ? { REDIS_URL: redisUrl(), REDIS_KEY_PREFIX: prefix } : {}),
        };
        instances = await Promise.all([startApp(env), startApp(env)]);
      }, 60_000);

      afterAll(async () => {
        const results = await Promise.all(instances.map((app) => app.stop()));
        for (const result of results) expect(result.code).toBe(0);
        await schema?.drop();
        if (setup.redis) await deleteRedisPrefix(redisUrl(), prefix);
      });

      const browser = () => new BalancedBrowser(instances.map((app) => app.url));

      it("uses a session made on one instance on the other", async () => {
        const person = browser();
        expect((await person.on(0).registerAndLogin("alice")).status).toBe(303);
        const page = await person.on(1).get("/protected");
        expect(page.status, summary(page)).toBe(200);
        expect(page.text).toContain("alice");
        // A user registered on one instance is a user on the other (same table, same unique key).
        const twin = browser();
        await twin.on(1).get("/register");
        const duplicate = await twin
          .on(1)
          .post("/register", { username: "ALICE", email: emailFor("ALICE"), password: PASSWORD });
        expect(duplicate.status).toBe(409);
      });

      it("refuses the old cookie on one instance as soon as the user logs out on the other", async () => {
        const person = browser();
        await person.on(0).registerAndLogin("bob");
        expect((await person.on(1).get("/protected")).status).toBe(200);
        const stolen = new Map(person.on(1).cookies);
        const logout = await person.on(1).post("/logout");
        expect(logout.status).toBe(303);
        const replay = browser();
        for (const [name, cookie] of stolen) replay.on(0).cookies.set(name, cookie);
        const page = await replay.on(0).get("/protected");
        expect(page.status).toBe(302);
        expect(page.headers.location).toBe("/login?next=%2Fprotected");
      });

      it("ends the other sessions everywhere when the password changes on one instance", async () => {
        const laptop = browser();
        await laptop.on(0).registerAndLogin("carol");
        const phone = browser();
        expect((await phone.on(1).login("carol")).status).toBe(303);
        expect((await phone.on(0).get("/protected")).status).toBe(200);

        await laptop.on(0).get("/account");
        const changed = await laptop.on(0).post("/account/password", {
          current_password: PASSWORD,
          new_password: "a brand new passphrase",
        });
        expect(changed.status, summary(changed)).toBe(303);

        const refused = await phone.on(1).get("/protected");
        expect(refused.status).toBe(302);
        expect((await laptop.on(1).get("/protected")).status).toBe(200);
        expect((await browser().on(1).login("carol")).status).toBe(401);
        expect((await browser().on(1).login("carol", "a brand new passphrase")).status).toBe(303);
      });

      it("locks an account on every instance after repeated bad passwords on one", async () => {
        const owner = browser();
        await owner.on(0).registerAndLogin("dave");
        const attacker = browser();
        for (let attempt = 0; attempt < 5; attempt += 1) {
          // The fifth wrong password locks the account and says so at once.
          const status = (await attacker.on(0).login("dave", `wrong password ${attempt}`)).status;
          expect(status).toBe(attempt < 4 ? 401 : 429);
        }
        const locked = await attacker.on(1).login("dave", PASSWORD);
        expect(locked.status).toBe(429);
        expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
        // The lock is per account: the right password does not get through either, on either instance.
        expect((await browser().on(0).login("dave", PASSWORD)).status).toBe(429);
      });

      it(`keeps users in PostgreSQL and sessions in ${setup.redis ? "Redis" : "PostgreSQL"}`, async () => {
        await browser().on(0).registerAndLogin("frank");
        const count = async (table: string) => {
          const exists = await schema?.pool.query("SELECT to_regclass($1) AS t", [
            `"${schema.name}".${table}`,
          ]);
          if (!exists?.rows[0]?.t) return null;
          const result = await schema?.pool.query(`SELECT count(*)::int AS n FROM "${schema.name}".${table}`);
          return result?.rows[0]?.n as number;
        };
        expect(await count("users")).toBeGreaterThan(0);
        const sessions = await count("login_manager_sessions");
        if (setup.redis) {
          expect(sessions).toBeNull();
          const client = createClient({ url: redisUrl() });
          await client.connect();
          const keys = await client.keys(`${prefix}session:*`);
          client.destroy();
          expect(keys.length).toBeGreaterThan(0);
        } else {
          expect(sessions).toBeGreaterThan(0);
        }
      });

      it("restores a remembered login made on one instance on the other, once", async () => {
        const person = browser();
        await person.on(0).get("/register");
        await person
          .on(0)
          .post("/register", { username: "erin", email: emailFor("erin"), password: PASSWORD });
        expect((await person.on(0).login("erin", PASSWORD, true)).status).toBe(303);
        person.on(0).closeBrowser();
        const restored = await person.on(1).get("/protected");
        expect(restored.status).toBe(200);
        expect(restored.text).toContain("erin");
        expect(String(restored.headers["set-cookie"])).toMatch(/remember/);
        // The rotated token keeps working on the first instance too.
        person.on(1).closeBrowser();
        expect((await person.on(0).get("/protected")).status).toBe(200);
      });
    },
  );
}
