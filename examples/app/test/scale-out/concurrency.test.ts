/**
 * Concurrency at library level, against the real PostgresStore and RedisStore with a LoginManager
 * and Express in process: parallel logins, remember-me rotations, logouts and an admin revoke-all
 * for ONE user must leave no orphaned session or token, keep the per-user index equal to the
 * records, never rotate one token twice, and never raise a false theft alarm.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { Jar, type LibraryApp, startLibraryApp, TestUser } from "./library-app.js";
import { postgresSubject, redisSubject, type StoreUnderTest, sorted } from "./stores.js";
import { describeIfServices } from "./support.js";

const PARALLEL = 50;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const subjects = [
  { name: "PostgresStore", service: "postgres", make: () => postgresSubject() },
  { name: "RedisStore", service: "redis", make: () => redisSubject() },
] as const;

for (const subject of subjects) {
  await describeIfServices(
    [subject.service],
    `${subject.name} under ${PARALLEL} parallel requests for one user`,
    () => {
      let under: StoreUnderTest;
      let app: LibraryApp;
      const users = new Map<string, TestUser>();

      function newUser(): TestUser {
        const user = new TestUser(`u-${randomBytes(6).toString("hex")}`, "someone");
        users.set(user.id, user);
        return user;
      }

      /** The records and the per-user index agree, and every session's token is its client's. */
      async function expectIndexMatchesRecords(userId: string): Promise<void> {
        const raw = await under.rawSessions(userId);
        expect(sorted(await under.indexedSessions(userId))).toEqual(sorted(raw.map((s) => s.id)));
        expect(sorted(await under.indexedTokens(userId))).toEqual(sorted(await under.rawTokens(userId)));
      }

      beforeAll(async () => {
        under = await subject.make();
        app = await startLibraryApp(under.store, (id) => users.get(id) ?? null);
      });

      afterAll(async () => {
        await app?.close();
        await under?.close();
      });

      it("parallel logins, then parallel rotations, logouts and plain requests leave exactly the live sessions", async () => {
        const user = newUser();
        const clients = Array.from({ length: PARALLEL }, () => new Jar(app.url));
        const logins = await Promise.all(
          clients.map((client) => client.post("/login", { id: user.id, remember: true })),
        );
        for (const login of logins) expect(login.status).toBe(200);
        expect(new Set(clients.map((client) => client.sessionId())).size).toBe(PARALLEL);
        expect(sorted((await under.rawSessions(user.id)).map((s) => s.id))).toEqual(
          sorted(clients.map((c) => c.sessionId())),
        );
        expect(sorted(await under.rawTokens(user.id))).toEqual(
          sorted(clients.map((c) => c.rememberSelector())),
        );
        await expectIndexMatchesRecords(user.id);

        // i % 3 == 0 logs out, 1 comes back with the remember-me cookie only (a browser restart), 2 browses.
        const before = clients.map((client) => client.copy(["session", "remember_token"]));
        const replies = await Promise.all(
          clients.map((client, i) => {
            if (i % 3 === 0) return client.post("/logout");
            if (i % 3 === 1) client.cookies.delete("session");
            return client.get("/me");
          }),
        );
        for (const [i, reply] of replies.entries()) {
          expect(reply.status).toBe(200);
          if (i % 3 === 1) {
            expect(reply.body).toEqual({ id: user.id, source: "remember" });
            expect(reply.setCookies.get("remember_token")).toMatch(/.+/);
            expect(clients[i]?.rememberSelector()).toBe(before[i]?.rememberSelector());
          }
          if (i % 3 === 2) expect(reply.body).toEqual({ id: user.id, source: "session" });
        }

        const live = clients.filter((_client, i) => i % 3 !== 0);
        const raw = await under.rawSessions(user.id);
        expect(sorted(raw.map((s) => s.id))).toEqual(sorted(live.map((c) => c.sessionId())));
        expect(sorted(await under.rawTokens(user.id))).toEqual(sorted(live.map((c) => c.rememberSelector())));
        for (const client of live) {
          expect(raw.find((s) => s.id === client.sessionId())?.rememberSelector).toBe(
            client.rememberSelector(),
          );
        }
        await expectIndexMatchesRecords(user.id);
        expect(app.events.get("rememberTheft") ?? 0).toBe(0);

        // What each browser now holds works; what the logged-out ones held does not.
        const checks = await Promise.all([
          ...live.map((client) => client.copy(["session"]).get("/me")),
          ...before.filter((_c, i) => i % 3 === 0).map((old) => old.copy(["session"]).get("/me")),
          ...before.filter((_c, i) => i % 3 === 0).map((old) => old.copy(["remember_token"]).get("/me")),
        ]);
        for (const [index, check] of checks.entries()) {
          expect(check.status).toBe(index < live.length ? 200 : 401);
        }
      });

      it(`${PARALLEL} parallel requests with the same remember-me cookie rotate it exactly once, with no theft alarm`, async () => {
        const user = newUser();
        const browser = new Jar(app.url);
        expect((await browser.post("/login", { id: user.id, remember: true })).status).toBe(200);
        const thefts = app.events.get("rememberTheft") ?? 0;
        const tabs = Array.from({ length: PARALLEL }, () => browser.copy(["remember_token"]));
        const replies = await Promise.all(tabs.map((tab) => tab.get("/me")));

        const rotated = replies.filter((reply) => (reply.setCookies.get("remember_token") ?? "") !== "");
        expect(rotated).toHaveLength(1);
        const graced = replies.filter(
          (reply) => reply.status === 200 && !reply.setCookies.has("remember_token"),
        );
        const anonymous = replies.filter((reply) => reply.status === 401);
        expect(rotated.length + graced.length + anonymous.length).toBe(PARALLEL);
        for (const reply of replies) expect(reply.setCookies.get("remember_token")).not.toBe("");
        console.log(
          `[measured] ${subject.name}: ${PARALLEL} parallel uses of one remember cookie -> ${rotated.length} rotation, ${graced.length} within the grace window, ${anonymous.length} anonymous`,
        );
        expect(app.events.get("rememberTheft") ?? 0).toBe(thefts);

        // One session came out of it (the login's own session was ended as an earlier session of the token).
        const raw = await under.rawSessions(user.id);
        const winner = tabs[replies.indexOf(rotated[0] as (typeof replies)[number])] as Jar;
        expect(raw.map((s) => s.id)).toEqual([winner.sessionId()]);
        expect(await under.rawTokens(user.id)).toEqual([browser.rememberSelector()]);
        await expectIndexMatchesRecords(user.id);
        // The new token works on its own, and rotates again.
        const again = await winner.copy(["remember_token"]).get("/me");
        expect(again.status).toBe(200);
        expect(again.setCookies.get("remember_token")).toMatch(/.+/);
      });

      it("revoke-all during parallel logins leaves only sessions of logins that ended after it began", async () => {
        for (let round = 0; round < 3; round += 1) {
          const user = newUser();
          const clients = Array.from({ length: PARALLEL }, () => new Jar(app.url));
          const doneBeforeRevoke = new Set<Jar>();
          let revokeStarted = false;
          let finished = 0;
          let startRevoke: () => void = () => undefined;
          const halfway = new Promise<void>((resolve) => {
            startRevoke = resolve;
          });
          // Staggered over ~250 ms, so the revoke lands in the middle of the stream.
          const logins = clients.map((client, i) =>
            delay(i * 5).then(async () => {
              const reply = await client.post("/login", { id: user.id, remember: true });
              if (!revokeStarted) doneBeforeRevoke.add(client);
              finished += 1;
              if (finished === PARALLEL / 5) startRevoke();
              return reply;
            }),
          );
          await halfway;
          revokeStarted = true;
          const revoke = new Jar(app.url).post("/revoke-all", { id: user.id });
          const replies = await Promise.all(logins);
          expect((await revoke).status).toBe(200);
          for (const reply of replies) expect(reply.status).toBe(200);
          expect(doneBeforeRevoke.size).toBeGreaterThanOrEqual(PARALLEL / 5);

          // Logins that had finished before the revoke began are gone: session and remember-me token.
          const earlier = [...doneBeforeRevoke];
          const checks = await Promise.all([
            ...earlier.map((client) => client.copy(["session"]).get("/me")),
            ...earlier.map((client) => client.copy(["remember_token"]).get("/me")),
          ]);
          for (const check of checks) expect(check.status).toBe(401);

          const later = new Set(clients.filter((client) => !doneBeforeRevoke.has(client)));
          const raw = await under.rawSessions(user.id);
          const laterSessions = new Set([...later].map((client) => client.sessionId()));
          const laterTokens = new Set([...later].map((client) => client.rememberSelector()));
          for (const session of raw) expect(laterSessions.has(session.id)).toBe(true);
          const tokens = await under.rawTokens(user.id);
          for (const selector of tokens) expect(laterTokens.has(selector)).toBe(true);
          await expectIndexMatchesRecords(user.id);
          const sessionTokens = new Set(raw.map((s) => s.rememberSelector));
          const tokensWithoutSession = tokens.filter((selector) => !sessionTokens.has(selector)).length;
          console.log(
            `[measured] ${subject.name} revoke-all round ${round + 1}: ${earlier.length} logins before it (all revoked), ${raw.length}/${later.size} later sessions kept, ${tokensWithoutSession} token(s) without a session`,
          );

          // Nothing escaped the per-user index: a second revoke leaves nothing at all.
          await new Jar(app.url).post("/revoke-all", { id: user.id });
          expect(await under.rawSessions(user.id)).toEqual([]);
          expect(await under.rawTokens(user.id)).toEqual([]);
          await expectIndexMatchesRecords(user.id);
          expect(await under.indexedSessions(user.id)).toEqual([]);
        }
        expect(app.events.get("rememberTheft") ?? 0).toBe(0);
      });
    },
  );
}
