/**
 * The optional in-process user cache (`userCache.ttlSeconds`), `manager.forgetUser` and its interplay with
 * revocation. Flask-Login calls user_loader on every request (#122, #46); the cache is off by default.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Harness, User } from "./helpers.js";

let harness: Harness;
let loads: string[] = [];

afterEach(async () => {
  await harness?.close();
  loads = [];
});

function cached(options: Record<string, unknown> = {}, asynchronous = false): Harness {
  const created: Harness = new Harness({
    userLoader: (id: string) => {
      loads.push(id);
      const user = created.users.get(id) ?? null;
      return asynchronous ? Promise.resolve(user) : user;
    },
    ...options,
  });
  return created;
}

describe("userCache.ttlSeconds", () => {
  it("is off by default: every request calls the user loader", async () => {
    harness = cached();
    const browser = harness.browser();
    await browser.login(1);
    loads = [];
    for (let i = 0; i < 3; i++) await browser.get("/protected");
    expect(loads).toEqual(["1", "1", "1"]);
  });

  it.each([false, true])("calls the loader once per TTL (async loader: %s)", async (asynchronous) => {
    harness = cached({ userCache: { ttlSeconds: 60 } }, asynchronous);
    const browser = harness.browser();
    await browser.login(1);
    loads = [];
    for (let i = 0; i < 3; i++) expect((await browser.whoami()).name).toBe("Notch");
    expect(loads).toEqual(["1"]);
    harness.clock.advance(60);
    await browser.whoami();
    expect(loads).toEqual(["1", "1"]);
  });

  it("still checks the session on every request: logout and revocation are immediate", async () => {
    harness = cached({ userCache: { ttlSeconds: 600 } });
    const browser = harness.browser();
    await browser.login(1);
    await browser.whoami();
    const copy = browser.clone();
    await browser.post("/logout");
    expect((await copy.whoami()).anonymous).toBe(true);
    const other = harness.browser();
    await other.login(1);
    await harness.manager.revokeUserSessions("1");
    expect((await other.whoami()).anonymous).toBe(true);
  });

  it("serves the cached user until forgetUser evicts it", async () => {
    harness = cached({ userCache: { ttlSeconds: 600 } });
    const browser = harness.browser();
    await browser.login(1);
    await browser.whoami();
    harness.users.set("1", new User(1, "Notch renamed"));
    expect((await browser.whoami()).name).toBe("Notch");
    harness.manager.forgetUser("1");
    expect((await browser.whoami()).name).toBe("Notch renamed");
  });

  it("never caches a missing user", async () => {
    harness = cached({ userCache: { ttlSeconds: 600 } });
    const browser = harness.browser();
    await browser.login(1);
    const removed = harness.users.get("1") as User;
    harness.users.delete("1");
    harness.manager.forgetUser("1");
    expect((await browser.whoami()).anonymous).toBe(true);
    harness.users.set("1", removed);
    await browser.login(1);
    loads = [];
    await browser.whoami();
    expect(loads).toEqual(["1"]);
  });

  it("drops the oldest entry beyond userCache.maxEntries", async () => {
    harness = cached({ userCache: { ttlSeconds: 600, maxEntries: 1 } });
    const notch = harness.browser();
    await notch.login(1);
    const steve = harness.browser();
    await steve.login(2);
    await notch.whoami();
    await steve.whoami();
    loads = [];
    await steve.whoami();
    await notch.whoami();
    expect(loads).toEqual(["1"]);
  });
});
