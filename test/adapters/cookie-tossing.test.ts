/**
 * Cookie tossing (issue 16.8) on Express, Fastify and Hono: another party (a sibling subdomain, or an
 * attacker on plain HTTP, where cookie names carry no `__Host-` prefix) adds its own `session` or
 * `remember_token` to the browser, which then sends the name twice. The first value that loads a
 * user wins, and the response deletes a cookie only when every value that might be ours was
 * looked up and found dead [A5 3.3.1] [A5 3.3.3] [checklist F.37, I.64].
 */
import { afterEach, describe, expect, it, vi } from "vitest";
import type { AppClient, BrowserResponse, StoreTiming, TestEnv } from "./harness.js";
import { ADAPTERS, Browser, createEnv } from "./harness.js";

const TIMINGS: StoreTiming[] = ["at once", "later"];
const CASES = ADAPTERS.flatMap((adapter) => TIMINGS.map((timing) => ({ ...adapter, timing })));

/** Junk as another party would toss it: cookie-safe, but not `<id>.<secret>`. */
const JUNK = "junk.junk";
/** A value shaped like ours (two 22-character base64url tokens) that no store ever issued. */
const SHAPED = `${"A".repeat(22)}.${"B".repeat(22)}`;

/** True when the response expires the cookie `name` (Max-Age=0). */
function deletes(res: BrowserResponse, name: string): boolean {
  return res.cookie(name)?.attributes.get("max-age") === "0";
}

describe.each(CASES)("$name adapter, store answering $timing", ({ build, timing }) => {
  let apps: AppClient[] = [];

  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
  });

  async function setup(overrides: Parameters<typeof createEnv>[0] = {}) {
    const env: TestEnv = createEnv(overrides, timing);
    const app = await build(env);
    apps.push(app);
    return { env, app };
  }

  /** A browser of `username` logged in on `app`; its cookie values. */
  async function loggedIn(app: AppClient, username: string, remember = false) {
    const browser = new Browser(app);
    await browser.login(username, { remember });
    return {
      browser,
      session: browser.jar.get("session") as string,
      remember: browser.jar.get("remember_token"),
    };
  }

  /** GET `path` with exactly this Cookie header, as a browser holding tossed cookies sends it. */
  function sendCookies(app: AppClient, cookie: string, path = "/whoami"): Promise<BrowserResponse> {
    return new Browser(app).get(path, { headers: { cookie } });
  }

  describe("session cookie", () => {
    it("junk before the real cookie: the user stays logged in and the real cookie is not deleted", async () => {
      const { app } = await setup();
      const { session } = await loggedIn(app, "alice");
      for (const tossed of [JUNK, SHAPED]) {
        const res = await sendCookies(app, `session=${tossed}; session=${session}`);
        expect(res.json()).toEqual({ user: "1", fresh: true, source: "session" });
        expect(res.cookie("session")).toBeUndefined();
      }
      const page = await sendCookies(app, `session=${JUNK}; session=${session}`, "/protected");
      expect(page.status).toBe(200);
      expect(page.text).toBe("user 1");
    });

    it("the real cookie before junk: logged in, nothing deleted", async () => {
      const { app } = await setup();
      const { session } = await loggedIn(app, "alice");
      const res = await sendCookies(app, `session=${session}; session=${JUNK}; session=${SHAPED}`);
      expect(res.json()).toMatchObject({ user: "1", source: "session" });
      expect(res.cookie("session")).toBeUndefined();
    });

    it("two live sessions of different users: the first valid one wins, also behind junk", async () => {
      const { app } = await setup();
      const alice = await loggedIn(app, "alice");
      const bob = await loggedIn(app, "bob");
      const res = await sendCookies(app, `session=${JUNK}; session=${bob.session}; session=${alice.session}`);
      expect(res.json()).toMatchObject({ user: "2", source: "session" });
      expect(res.cookie("session")).toBeUndefined();
      const other = await sendCookies(
        app,
        `session=${SHAPED}; session=${alice.session}; session=${bob.session}`,
      );
      expect(other.json()).toMatchObject({ user: "1", source: "session" });
      // Neither session was touched: each browser is still itself.
      expect((await alice.browser.whoami()).user).toBe("1");
      expect((await bob.browser.whoami()).user).toBe("2");
    });

    it("junk only: anonymous, and no Set-Cookie deletes a cookie that is not ours", async () => {
      const { app } = await setup();
      for (const cookie of [`session=${JUNK}`, `session=${JUNK}; session=x`, "session=%00"]) {
        const res = await sendCookies(app, cookie);
        expect(res.json()).toEqual({ user: null, fresh: false, source: null });
        expect(res.cookie("session")).toBeUndefined();
      }
    });

    it("a dead session of ours (logged out elsewhere) is still deleted, alone or next to junk", async () => {
      const { app } = await setup();
      const { browser, session } = await loggedIn(app, "alice");
      await browser.submit("/logout");
      for (const cookie of [`session=${session}`, `session=${JUNK}; session=${session}`]) {
        const res = await sendCookies(app, cookie);
        expect(res.json()).toMatchObject({ user: null });
        expect(deletes(res, "session")).toBe(true);
      }
    });

    it("a hundred tossed values cost at most three lookups, and the real cookie they hide is not deleted", async () => {
      const { env, app } = await setup();
      const { session } = await loggedIn(app, "alice");
      const lookups = vi.spyOn(env.store, "getSession");
      const tossed = Array.from(
        { length: 100 },
        (_, i) => `session=${String(i).padStart(22, "A")}.${"B".repeat(22)}`,
      );
      const res = await sendCookies(app, [...tossed, `session=${session}`].join("; "));
      expect(res.json()).toMatchObject({ user: null });
      expect(lookups.mock.calls.length).toBeLessThanOrEqual(3);
      expect(res.cookie("session")).toBeUndefined();
      // The real cookie, sent without the crowd, still works.
      expect((await sendCookies(app, `session=${session}`)).json()).toMatchObject({ user: "1" });
    });

    it("strong protection ends a tossed live session of another client, but logs this one in and deletes nothing", async () => {
      const { env, app } = await setup({ session: { protection: "strong" } });
      const attacker = new Browser(app);
      attacker.userAgent = "AttackerBrowser/9";
      await attacker.login("bob");
      const { session } = await loggedIn(app, "alice");
      const res = await sendCookies(app, `session=${attacker.jar.get("session")}; session=${session}`);
      expect(res.json()).toMatchObject({ user: "1", source: "session" });
      expect(res.cookie("session")).toBeUndefined();
      expect(env.events).toContainEqual({ name: "sessionProtected", userId: "2" });
    });
  });

  describe("remember cookie", () => {
    it("junk before the real remember cookie: the user is restored and the cookie rotated, not deleted", async () => {
      const { app } = await setup();
      const { remember } = await loggedIn(app, "alice", true);
      let current = remember as string;
      for (const tossed of [JUNK, SHAPED]) {
        const res = await sendCookies(app, `remember_token=${tossed}; remember_token=${current}`);
        expect(res.json()).toEqual({ user: "1", fresh: false, source: "remember" });
        expect(deletes(res, "remember_token")).toBe(false);
        const rotated = res.cookie("remember_token")?.value as string;
        expect(rotated).toMatch(/^[\w-]{22}\.[\w-]{22}$/);
        expect(rotated).not.toBe(current);
        current = rotated; // what the browser holds now
      }
    });

    it("junk only, or a junk session with junk remember: anonymous, nothing deleted", async () => {
      const { app } = await setup();
      for (const cookie of [
        `remember_token=${JUNK}`,
        `session=${JUNK}; remember_token=${JUNK}; remember_token=x`,
      ]) {
        const res = await sendCookies(app, cookie);
        expect(res.json()).toMatchObject({ user: null });
        expect(res.cookie("remember_token")).toBeUndefined();
        expect(res.cookie("session")).toBeUndefined();
      }
    });

    it("a tossed stale token of another account trips theft on that account only, and the user is still restored", async () => {
      const { env, app } = await setup();
      const attacker = await loggedIn(app, "bob", true);
      const stale = attacker.remember as string;
      attacker.browser.jar.delete("session");
      await attacker.browser.whoami(); // rotates bob's token: `stale` is now a stale validator
      env.clock.advance(env.manager.options.rememberMe.raceGraceSeconds + 1);
      const { remember } = await loggedIn(app, "alice", true);
      const res = await sendCookies(app, `remember_token=${stale}; remember_token=${remember}`);
      expect(res.json()).toMatchObject({ user: "1", source: "remember" });
      expect(deletes(res, "remember_token")).toBe(false);
      expect(env.events).toContainEqual({ name: "rememberTheft", userId: "2" });
      expect(env.events).not.toContainEqual({ name: "rememberTheft", userId: "1" });
    });

    it("a dead remember token of ours (logged out) is deleted, next to junk too", async () => {
      const { app } = await setup();
      const { browser, remember } = await loggedIn(app, "alice", true);
      await browser.submit("/logout");
      const res = await sendCookies(app, `remember_token=${JUNK}; remember_token=${remember}`);
      expect(res.json()).toMatchObject({ user: null });
      expect(deletes(res, "remember_token")).toBe(true);
    });
  });
});
