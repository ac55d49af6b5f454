import { afterEach, describe, expect, it } from "vitest";
import type { AppClient, StoreTiming, TestEnv } from "./harness.js";
import { ADAPTERS, BODY_LIMIT, Browser, createEnv } from "./harness.js";

const TIMINGS: StoreTiming[] = ["at once", "later"];
const CASES = ADAPTERS.flatMap((adapter) => TIMINGS.map((timing) => ({ ...adapter, timing })));

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
    return { env, app, browser: new Browser(app) };
  }

  describe("login and logout", () => {
    it("login sets an HttpOnly, SameSite=Lax, Path=/ browser-session cookie (no Max-Age, no Domain) and the protected page works", async () => {
      const { browser } = await setup();
      const login = await browser.login("alice");
      expect(login.status).toBe(200);
      const session = login.cookie("session");
      expect(session?.value).toMatch(/^[\w-]{22,}\.[\w-]{22,}$/);
      expect(session?.attributes.has("httponly")).toBe(true);
      expect(session?.attributes.get("samesite")).toBe("Lax");
      expect(session?.attributes.get("path")).toBe("/");
      expect(session?.attributes.has("max-age")).toBe(false);
      expect(session?.attributes.has("expires")).toBe(false);
      expect(session?.attributes.has("domain")).toBe(false);
      expect(session?.attributes.has("secure")).toBe(false);

      const page = await browser.get("/protected");
      expect(page.status).toBe(200);
      expect(page.text).toBe("user 1");
      expect(page.headers["cache-control"]).toBe("no-store");
    });

    it("currentUser() works in an async handler after an await (AsyncLocalStorage context is entered)", async () => {
      const { browser } = await setup();
      await browser.login("bob");
      const page = await browser.get("/protected");
      expect(page.text).toBe("user 2");
    });

    it("logout ends the session, and replaying the old session cookie is anonymous", async () => {
      const { browser, app } = await setup();
      await browser.login("alice");
      const oldSession = browser.jar.get("session") as string;
      const logout = await browser.submit("/logout");
      expect(logout.status).toBe(200);
      expect(logout.cookie("session")?.attributes.get("max-age")).toBe("0");
      expect(browser.jar.has("session")).toBe(false);

      const replay = new Browser(app);
      replay.jar.set("session", oldSession);
      expect((await replay.whoami()).user).toBeNull();
      expect((await replay.get("/protected")).status).toBe(302);
    });

    it("a response carries one Set-Cookie per cookie name even when the core sets it twice", async () => {
      const { browser } = await setup();
      const res = await browser.submit("/login-twice");
      expect(res.status).toBe(200);
      const names = res.cookies.map((cookie) => cookie.name);
      expect(names.filter((name) => name === "session")).toHaveLength(1);
      expect(names.filter((name) => name === "csrf")).toHaveLength(1);
      expect((await browser.whoami()).user).toBe("2");
    });
  });

  describe("remember me", () => {
    it("restores a remembered user whose session cookie is gone, not fresh, and rotates the remember cookie", async () => {
      const { browser } = await setup();
      const login = await browser.login("alice", { remember: true });
      const remember = login.cookie("remember_token");
      expect(Number(remember?.attributes.get("max-age"))).toBe(30 * 86_400);
      expect(remember?.attributes.has("httponly")).toBe(true);

      browser.jar.delete("session");
      const restored = await browser.get("/whoami");
      expect(restored.json()).toEqual({ user: "1", fresh: false, source: "remember" });
      const rotated = restored.cookie("remember_token");
      expect(rotated?.value.split(".")[0]).toBe(remember?.value.split(".")[0]);
      expect(rotated?.value).not.toBe(remember?.value);
      expect(restored.cookie("session")?.value).toBeTruthy();
      expect((await browser.get("/protected")).text).toBe("user 1");
    });

    it("the old remember token presented after the grace window is theft: every session of the user is revoked and rememberTheft is emitted", async () => {
      const { env, app, browser } = await setup();
      await browser.login("alice", { remember: true });
      const stolen = browser.jar.get("remember_token") as string;
      const otherDevice = new Browser(app);
      await otherDevice.login("alice");

      browser.jar.delete("session");
      expect((await browser.whoami()).user).toBe("1");
      env.clock.advance(env.manager.options.rememberMe.raceGraceSeconds + 1);

      const thief = new Browser(app);
      thief.jar.set("remember_token", stolen);
      const attempt = await thief.get("/whoami");
      expect(attempt.json()).toMatchObject({ user: null });
      expect(attempt.cookie("remember_token")?.attributes.get("max-age")).toBe("0");
      expect(env.events).toContainEqual({ name: "rememberTheft", userId: "1" });
      expect(await env.store.listUserSessions("1", env.clock.now())).toEqual([]);
      expect((await browser.whoami()).user).toBeNull();
      expect((await otherDevice.whoami()).user).toBeNull();
    });

    it("a CSRF-refused POST still carries the rotated remember cookie, so the browser is not later taken for a thief", async () => {
      const { env, browser } = await setup();
      await browser.login("alice", { remember: true });
      const before = browser.jar.get("remember_token");
      browser.jar.delete("session");
      const refused = await browser.post("/logout", { form: {} });
      expect(refused.status).toBe(403);
      expect(refused.cookie("remember_token")?.value).not.toBe(before);

      env.clock.advance(env.manager.options.rememberMe.raceGraceSeconds + 1);
      browser.jar.delete("session");
      expect((await browser.whoami()).user).toBe("1");
      expect(env.events.map((event) => event.name)).not.toContain("rememberTheft");
    });
  });

  it("a user loader that throws answers 500 instead of treating the visitor as anonymous", async () => {
    const { env, browser } = await setup();
    await browser.login("alice");
    env.manager.userLoader(() => {
      throw new Error("users table gone");
    });
    const res = await browser.get("/protected");
    expect(res.status).toBe(500);
    expect(res.cookie("session")).toBeUndefined();
  });

  it("a handler error still sends the cookies set while authenticating (the rotated remember cookie)", async () => {
    const { browser } = await setup();
    await browser.login("alice", { remember: true });
    const before = browser.jar.get("remember_token");
    browser.jar.delete("session");
    const res = await browser.get("/boom");
    expect(res.status).toBe(500);
    expect(res.cookie("remember_token")?.value).not.toBe(before);
    expect(res.cookie("session")?.value).toBeTruthy();
  });

  it("session fixation: a session cookie from before login does not survive it and no longer authenticates", async () => {
    const { app, browser } = await setup();
    await browser.login("bob");
    const planted = browser.jar.get("session") as string;
    const login = await browser.login("alice");
    expect(login.cookie("session")?.value).not.toBe(planted);
    expect((await browser.whoami()).user).toBe("1");

    const attacker = new Browser(app);
    attacker.jar.set("session", planted);
    expect((await attacker.whoami()).user).toBeNull();
  });

  describe("guards", () => {
    it("loginRequired redirects an anonymous browser to /login?next=%2Fprotected and flashes the login message", async () => {
      const { browser } = await setup();
      const res = await browser.get("/protected");
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe("/login?next=%2Fprotected");
      expect(res.cookie("flash")?.value).toBeTruthy();
    });

    it("loginRequired answers an API client (Accept: application/json) with 401 JSON", async () => {
      const { browser } = await setup();
      const res = await browser.get("/protected", { headers: { accept: "application/json" } });
      expect(res.status).toBe(401);
      expect(res.headers["content-type"]).toMatch(/^application\/json/);
      expect(res.json()).toMatchObject({ error: "unauthorized" });
    });

    it("loginRequired lets OPTIONS requests through", async () => {
      const { browser } = await setup();
      expect((await browser.request("OPTIONS", "/protected")).status).toBe(204);
    });

    it("freshLoginRequired sends a remembered session to the refresh view, and confirmLogin makes it fresh", async () => {
      const { browser } = await setup();
      await browser.login("alice", { remember: true });
      expect((await browser.get("/fresh")).status).toBe(200);

      browser.jar.delete("session");
      const stale = await browser.get("/fresh");
      expect(stale.status).toBe(302);
      expect(stale.headers.location).toBe("/reauth?next=%2Ffresh");
      expect((await browser.get("/fresh", { headers: { accept: "application/json" } })).status).toBe(401);

      expect((await browser.submit("/reauth")).status).toBe(200);
      expect((await browser.whoami()).fresh).toBe(true);
      expect((await browser.get("/fresh")).text).toBe("fresh ok");
    });
  });

  describe("CSRF", () => {
    it("accepts the token from the _csrf form field, the X-CSRF-Token header and a JSON body", async () => {
      const { browser } = await setup();
      const token = await browser.csrfToken();
      expect((await browser.post("/login", { form: { username: "alice", _csrf: token } })).status).toBe(200);
      const token2 = await browser.csrfToken();
      const byHeader = await browser.post("/login", {
        form: { username: "bob" },
        headers: { "x-csrf-token": token2 },
      });
      expect(byHeader.status).toBe(200);
      const token3 = await browser.csrfToken();
      expect((await browser.post("/login", { json: { username: "alice", _csrf: token3 } })).status).toBe(200);
    });

    it("refuses a POST without a token with 403", async () => {
      const { browser } = await setup();
      await browser.csrfToken();
      const res = await browser.post("/login", { form: { username: "alice" } });
      expect(res.status).toBe(403);
      expect(res.cookie("session")).toBeUndefined();
      expect(res.text).toBe(
        'Forbidden: The request has no CSRF token. Send the token from this site\'s page in the "_csrf" form field or the "x-csrf-token" header, together with the cookies the page set.',
      );
    });

    it("refuses a POST with a wrong token with 403", async () => {
      const { browser } = await setup();
      const token = await browser.csrfToken();
      const res = await browser.post("/login", { form: { username: "alice", _csrf: `${token}x` } });
      expect(res.status).toBe(403);
      expect(res.text).toMatch(/^Forbidden: The CSRF token does not match the one this browser was given/);
      expect(res.text).not.toContain(token);
    });

    it("refuses a cross-site POST (Sec-Fetch-Site: cross-site) with 403 even with a valid token", async () => {
      const { browser } = await setup();
      const token = await browser.csrfToken();
      const res = await browser.post("/login", {
        form: { username: "alice", _csrf: token },
        headers: { "sec-fetch-site": "cross-site", origin: "http://evil.test" },
      });
      expect(res.status).toBe(403);
      expect(res.text).toMatch(/^Forbidden: The browser says the request was sent by another site/);
      expect(res.text).not.toMatch(/evil\.test|app\.test/);
    });

    it("refuses a POST whose Origin names another site (no Sec-Fetch-Site) with 403, saying so without naming either origin", async () => {
      const { browser } = await setup();
      const token = await browser.csrfToken();
      const res = await browser.post("/login", {
        form: { username: "alice", _csrf: token },
        headers: { "sec-fetch-site": undefined, origin: "http://evil.test" },
      });
      expect(res.status).toBe(403);
      expect(res.text).toBe(
        "Forbidden: The request's Origin header names another site, not this one or one it trusts.",
      );
      const api = await browser.post("/login", {
        form: { username: "alice", _csrf: token },
        headers: { "sec-fetch-site": undefined, origin: "http://evil.test", accept: "application/json" },
      });
      expect(api.json()).toEqual({
        error: "csrf_failed",
        reason: "origin-mismatch",
        message: "The request's Origin header names another site, not this one or one it trusts.",
      });
    });

    it("refuses a POST with neither Origin nor Sec-Fetch-Site with 403 even with a valid token", async () => {
      const { browser } = await setup();
      const token = await browser.csrfToken();
      const res = await browser.post("/login", {
        form: { username: "alice", _csrf: token },
        headers: { "sec-fetch-site": undefined, origin: undefined },
      });
      expect(res.status).toBe(403);
      expect(res.text).toMatch(/Forbidden/);
      // What curl gets: the text says which check failed (before, only JSON clients were told).
      expect(res.text).toMatch(/^Forbidden: The request has neither an Origin nor a Sec-Fetch-Site header/);
      expect(res.text).not.toContain(token);
    });
  });

  describe("session protection", () => {
    it("basic: a changed User-Agent makes the session not fresh but keeps the user logged in", async () => {
      const { env, browser } = await setup({ session: { protection: "basic" } });
      await browser.login("alice");
      expect((await browser.whoami()).fresh).toBe(true);
      browser.userAgent = "OtherBrowser/2.0";
      expect(await browser.whoami()).toMatchObject({ user: "1", fresh: false });
      expect(env.events).toContainEqual({ name: "sessionProtected", userId: "1" });
    });

    it("strong: a changed User-Agent ends the session and clears its cookies", async () => {
      const { browser } = await setup({ session: { protection: "strong" } });
      await browser.login("alice", { remember: true });
      browser.userAgent = "OtherBrowser/2.0";
      const res = await browser.get("/whoami");
      expect(res.json()).toMatchObject({ user: null });
      expect(res.cookie("session")?.attributes.get("max-age")).toBe("0");
      expect(res.cookie("remember_token")?.attributes.get("max-age")).toBe("0");
      expect(browser.jar.has("session")).toBe(false);
      expect(browser.jar.has("remember_token")).toBe(false);
    });
  });

  describe("timeouts (fake clock)", () => {
    it("the session ends after the idle timeout, and activity pushes the timeout back", async () => {
      const { env, browser } = await setup();
      await browser.login("alice");
      env.clock.advance(500);
      expect((await browser.whoami()).user).toBe("1");
      env.clock.advance(500);
      expect((await browser.whoami()).user).toBe("1");
      env.clock.advance(601);
      expect((await browser.whoami()).user).toBeNull();
    });

    it("the session ends at the absolute timeout even with constant activity", async () => {
      const { env, browser } = await setup();
      await browser.login("alice");
      for (let elapsed = 0; elapsed + 500 < 3600; elapsed += 500) {
        env.clock.advance(500);
        expect((await browser.whoami()).user).toBe("1");
      }
      env.clock.advance(500);
      expect((await browser.whoami()).user).toBeNull();
    });
  });

  describe("failures", () => {
    it("a store outage answers 503 with Retry-After instead of treating the visitor as anonymous", async () => {
      const { env, browser } = await setup();
      await browser.login("alice");
      env.outage.down = true;
      const page = await browser.get("/protected");
      expect(page.status).toBe(503);
      expect(page.headers["retry-after"]).toBe("5");
      expect(page.headers["content-type"]).toMatch(/^text\/plain/);
      const api = await browser.get("/protected", { headers: { accept: "application/json" } });
      expect(api.status).toBe(503);
      expect(api.json()).toMatchObject({ error: "service_unavailable" });

      env.outage.down = false;
      expect((await browser.get("/protected")).text).toBe("user 1");
    });

    it("an over-limit form body is refused with 413", async () => {
      const { browser } = await setup();
      const token = await browser.csrfToken();
      const res = await browser.post("/login", {
        form: { username: "alice", _csrf: token, padding: "x".repeat(BODY_LIMIT) },
      });
      expect(res.status).toBe(413);
      expect(res.cookie("session")).toBeUndefined();
    });

    it("a malformed JSON body is refused with 400", async () => {
      const { browser } = await setup();
      const token = await browser.csrfToken();
      const res = await browser.post("/login", {
        body: '{"username": "alice", ',
        contentType: "application/json",
        headers: { "x-csrf-token": token },
      });
      expect(res.status).toBe(400);
    });
  });
});
