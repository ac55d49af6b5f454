/**
 * Freshness applied evenly (issue 16.5) at the library's level, on Express, Fastify and Hono:
 * `revokeSession` (for another session) and `revokeOtherSessions` refuse a login that is not fresh
 * themselves, even on a route guarded by `loginRequired` alone (the test apps' `/sessions/revoke`
 * routes are), so an app that forgets `freshLoginRequired` fails closed: an error, and nothing ended
 * [A5 7.5.2] [checklist 54].
 */
import { afterEach, describe, expect, it } from "vitest";
import type { AppClient, StoreTiming, TestEnv } from "./harness.js";
import { ADAPTERS, Browser, createEnv } from "./harness.js";

const TIMINGS: StoreTiming[] = ["at once", "later"];
const CASES = ADAPTERS.flatMap((adapter) => TIMINGS.map((timing) => ({ ...adapter, timing })));

describe.each(CASES)("$name adapter, store answering $timing", ({ build, timing }) => {
  let apps: AppClient[] = [];

  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
  });

  /** alice on a laptop, and on a phone whose browser restarted: restored from remember-me, not fresh. */
  async function setup() {
    const env: TestEnv = createEnv({}, timing);
    const app = await build(env);
    apps.push(app);
    const laptop = new Browser(app);
    await laptop.login("alice");
    const phone = new Browser(app);
    await phone.login("alice", { remember: true });
    phone.jar.delete("session");
    expect(await phone.whoami()).toMatchObject({ user: "1", fresh: false, source: "remember" });
    // Oldest first: the laptop's session, then the phone's restored one.
    const [laptopHandle, phoneHandle] = (await phone.get("/sessions")).json() as string[];
    env.events.length = 0;
    return { env, laptop, phone, laptopHandle: laptopHandle as string, phoneHandle: phoneHandle as string };
  }

  it("revokeSession throws for another session when the login is not fresh, and that session survives", async () => {
    const { env, laptop, phone, laptopHandle } = await setup();
    const res = await phone.submit("/sessions/revoke", { handle: laptopHandle });
    expect(res.status).toBe(500);
    expect((await laptop.whoami()).user).toBe("1");
    expect(env.events.filter((event) => event.name === "sessionsRevoked")).toEqual([]);
  });

  it("revokeOtherSessions throws when the login is not fresh, and every other session survives", async () => {
    const { env, laptop, phone } = await setup();
    const res = await phone.submit("/sessions/revoke-others");
    expect(res.status).toBe(500);
    expect((await laptop.whoami()).user).toBe("1");
    expect(env.events.filter((event) => event.name === "sessionsRevoked")).toEqual([]);
  });

  it("a stale login may still end its own session: that is a logout", async () => {
    const { laptop, phone, phoneHandle } = await setup();
    expect((await phone.submit("/sessions/revoke", { handle: phoneHandle })).text).toBe("true");
    expect((await phone.whoami()).user).toBeNull();
    expect((await laptop.whoami()).user).toBe("1");
  });

  it("after re-authentication (confirmLogin) the same browser may end the other sessions", async () => {
    const { laptop, phone } = await setup();
    expect((await phone.submit("/reauth")).text).toBe("confirmed");
    expect((await phone.submit("/sessions/revoke-others")).text).toBe("1");
    expect((await laptop.whoami()).user).toBeNull();
  });
});
