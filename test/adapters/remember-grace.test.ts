/**
 * Issue 16.4 on Express, Fastify and Hono: a remember-me validator that a request has just replaced
 * is accepted once more, for `rememberMe.raceGraceSeconds`, only from the client that replaced it
 * (same address and User-Agent: a parallel request of the same browser that lost the race). From
 * any other client it is theft: every session and token of the user ends [A5 7.2.4] [checklist F.39].
 */
import { afterEach, describe, expect, it } from "vitest";
import type { AppClient, TestEnv } from "./harness.js";
import { ADAPTERS, Browser, createEnv } from "./harness.js";

describe.each(ADAPTERS)("$name adapter: the remember-me race grace", ({ build }) => {
  let apps: AppClient[] = [];

  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
  });

  /** Alice's browser, logged in with remember-me, whose session is then lost and restored once. */
  async function restoredOnce(): Promise<{ env: TestEnv; app: AppClient; browser: Browser; stale: string }> {
    const env = createEnv();
    const app = await build(env);
    apps.push(app);
    const browser = new Browser(app);
    await browser.login("alice", { remember: true });
    const stale = browser.jar.get("remember_token") as string;
    browser.jar.delete("session");
    expect(await browser.whoami()).toMatchObject({ user: "1", source: "remember" });
    expect(browser.jar.get("remember_token")).not.toBe(stale);
    return { env, app, browser, stale };
  }

  function replay(app: AppClient, stale: string, userAgent: string) {
    const other = new Browser(app);
    other.userAgent = userAgent;
    other.jar.set("remember_token", stale);
    return other.whoami();
  }

  it("the just-replaced validator from the same client within the window: accepted, not rotated again, no alarm", async () => {
    const { env, app, browser, stale } = await restoredOnce();
    expect(await replay(app, stale, browser.userAgent)).toMatchObject({ user: "1", source: "remember" });
    expect(env.events.filter((event) => event.name === "rememberTheft")).toEqual([]);
    expect(await browser.whoami()).toMatchObject({ user: "1" });
  });

  it("the same validator from another client within the window: theft, and the owner's browser is logged out too", async () => {
    const { env, app, browser, stale } = await restoredOnce();
    expect(await replay(app, stale, "Thief/9.9")).toMatchObject({ user: null });
    expect(env.events).toContainEqual({ name: "rememberTheft", userId: "1" });
    expect(await browser.whoami()).toMatchObject({ user: null });
  });

  it("the same client after the window: theft", async () => {
    const { env, app, browser, stale } = await restoredOnce();
    env.clock.advance(env.manager.options.rememberMe.raceGraceSeconds + 1);
    expect(await replay(app, stale, browser.userAgent)).toMatchObject({ user: null });
    expect(env.events).toContainEqual({ name: "rememberTheft", userId: "1" });
  });
});
