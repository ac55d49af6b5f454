/**
 * Login, logout and the server-side session, through a real Express app over HTTP.
 * Flask-Login inventory §2 items 1-15 (LoginTestCase, InitializationTestCase, StaticTestCase).
 *
 * Not applicable here, and why:
 * - Item 1 `LoginManager(app)` vs `init_app(app)`: there is one constructor; the Express binding is
 *   `initApp(app, manager)` or `loginManagerMiddleware(manager)`, both tested below.
 * - Item 5 "bare request context" (`test_request_context`): there is no request context outside a
 *   request; `currentUser()` there throws NoRequestContextError instead (test/core/context.test.ts).
 * - Item 12 deletes `_user_id` from a client-side session by hand; sessions here are server-side, so
 *   the closest case, logout with no logged-in user, is tested instead.
 * - Flask's `session.permanent` (permanent sessions): no such concept; the session cookie is always
 *   a browser-session cookie and timeouts are enforced on the server (test/core/timeouts.test.ts).
 */

import { createHash } from "node:crypto";
import express from "express";
import { LoginManager } from "login-manager";
import { initApp, loginManagerMiddleware } from "login-manager/express";
import { MemoryStore } from "login-manager/stores/memory";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import type { Harness as HarnessType } from "./helpers.js";
import { clearsCookie, Harness, SECRET, setCookie, setCookies, type User } from "./helpers.js";

let harness: HarnessType;

afterEach(async () => {
  await harness?.close();
});

function sha256(value: string): string {
  return createHash("sha256").update(value).digest("base64url");
}

describe("binding the manager to Express (item 1)", () => {
  it("works through initApp and through loginManagerMiddleware", async () => {
    for (const mount of ["initApp", "middleware"] as const) {
      const manager = new LoginManager<User>({
        secret: SECRET,
        store: new MemoryStore(),
        userLoader: () => null,
      });
      const app = express();
      if (mount === "initApp") initApp(app, manager);
      else app.use(loginManagerMiddleware(manager));
      app.get("/", (req, res) => {
        res.json({ anonymous: req.auth.user.isAnonymous });
      });
      const res = await request(app).get("/");
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ anonymous: true });
    }
  });
});

describe("missing loaders (item 2)", () => {
  it("answers 500 with 'Missing userLoader or requestLoader' when neither is registered", async () => {
    harness = new Harness({}, { noUserLoader: true });
    const res = await harness.browser().get("/whoami");
    expect(res.status).toBe(500);
    expect(harness.errors).toHaveLength(1);
    expect(String((harness.errors[0] as Error).message)).toMatch(/^Missing userLoader or requestLoader/);
  });

  it("works once a user loader is registered later with manager.userLoader(fn)", async () => {
    harness = new Harness({}, { noUserLoader: true });
    const returned = harness.manager.userLoader((id) => harness.users.get(id) ?? null);
    expect(typeof returned).toBe("function");
    const browser = harness.browser();
    await browser.login(1);
    expect((await browser.whoami()).name).toBe("Notch");
  });
});

describe("routes mounted before the middleware (item 3, static files)", () => {
  it("never load the user, fire no event, set no cookie and touch no store", async () => {
    harness = new Harness(
      {},
      {
        before: (app) => {
          app.get("/static/favicon.ico", (_req, res) => {
            res.send("icon");
          });
        },
      },
    );
    const browser = harness.browser();
    await browser.login(1);
    harness.events.clear();
    harness.probe.reset();
    const res = await browser.get("/static/favicon.ico");
    expect(res.status).toBe(200);
    expect(setCookies(res)).toEqual([]);
    expect(harness.events.entries).toEqual([]);
    expect(harness.probe.calls).toEqual([]);
  });
});

describe("anonymous visitors (item 5)", () => {
  it("are anonymous without cookies, get no session cookie and cause no store write", async () => {
    harness = new Harness();
    const res = await harness.browser().get("/whoami");
    expect(res.body).toMatchObject({ authenticated: false, anonymous: true, id: null, source: null });
    expect(setCookie(res, "session")).toBeUndefined();
    expect(harness.probe.writes()).toEqual([]);
  });
});

describe("loginUser (items 6-9, 15)", () => {
  it("returns true and sets the current user and a fresh login within the same request (item 6)", async () => {
    harness = new Harness(
      {},
      {
        routes: (app) => {
          app.post("/login-and-show", async (req, res) => {
            const user = harness.users.get("1") as User;
            const ok = await req.auth.loginUser(user);
            res.json({
              ok,
              id: req.auth.user.getId(),
              fresh: req.auth.loginFresh(),
              source: req.auth.source,
            });
          });
        },
      },
    );
    const res = await harness.browser().post("/login-and-show");
    expect(res.body).toEqual({ ok: true, id: "1", fresh: true, source: "login" });
  });

  it("persists the login to the next request, fresh and not remembered (items 13, 15)", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    expect(await browser.whoami()).toMatchObject({
      authenticated: true,
      name: "Notch",
      fresh: true,
      remembered: false,
      source: "session",
    });
  });

  it("logs in without freshness when fresh: false (item 7)", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1, { fresh: false });
    expect(await browser.whoami()).toMatchObject({ name: "Notch", fresh: false });
  });

  it("emits loggedIn once with the user (item 8)", async () => {
    harness = new Harness();
    await harness.browser().login(1);
    const logins = harness.events.named("loggedIn");
    expect(logins).toHaveLength(1);
    expect(logins[0]?.user).toBe(harness.users.get("1"));
  });

  it("refuses an inactive user: false, still anonymous, no session created (item 9)", async () => {
    harness = new Harness();
    const browser = harness.browser();
    harness.probe.reset();
    const res = await browser.post("/login", { id: 3 });
    expect(res.body).toEqual({ ok: false });
    expect(setCookie(res, "session")).toBeUndefined();
    expect(harness.probe.writes()).toEqual([]);
    expect(harness.events.count("loggedIn")).toBe(0);
    expect(await browser.whoami()).toMatchObject({ anonymous: true });
  });

  it("logs an inactive user in with force, but guards still reject them (item 9, Flask-Login 'inactive users')", async () => {
    harness = new Harness();
    const browser = harness.browser();
    expect((await browser.post("/login", { id: 3, force: true })).body).toEqual({ ok: true });
    expect(await browser.whoami()).toMatchObject({ name: "Creeper", authenticated: false, anonymous: false });
    expect((await browser.get("/protected")).status).toBe(401);
  });

  it("rejects a user who became inactive after logging in on their next request to a protected page", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    (harness.users.get("1") as User).active = false;
    expect((await browser.get("/protected")).status).toBe(401);
  });
});

describe("server-side sessions [A5 7.2.3] [checklist E.31-E.32]", () => {
  it("sets a session cookie <id>.<secret> of two 128-bit tokens, and stores only SHA-256(secret)", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    const value = browser.cookies.get("session") as string;
    expect(value).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/);
    const [id, secret] = value.split(".") as [string, string];
    const record = await harness.session(value);
    expect(record).not.toBeNull();
    expect(record?.id).toBe(id);
    expect(record?.secretHash).toBe(sha256(secret));
    expect(record?.userId).toBe("1");
    expect(JSON.stringify(record)).not.toContain(secret);
  });

  it("rejects a cookie whose secret half is wrong although the id exists (the id alone is not a credential)", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    const [id] = (browser.cookies.get("session") as string).split(".");
    const forged = harness.browser();
    forged.cookies.set("session", `${id}.${"A".repeat(22)}`);
    const res = await forged.get("/whoami");
    expect(res.body).toMatchObject({ anonymous: true });
    expect(clearsCookie(res, "session")).toBe(true);
    // The real session is untouched.
    expect((await browser.whoami()).name).toBe("Notch");
  });

  it("keeps the session token out of the response body (only Set-Cookie carries it) [A5 3.3.4]", async () => {
    harness = new Harness();
    const browser = harness.browser();
    const res = await browser.login(1);
    const value = browser.cookies.get("session") as string;
    expect(res.text).not.toContain(value.split(".")[1]);
  });

  it("ignores a session id in the query string or body [checklist E.34]", async () => {
    harness = new Harness();
    const owner = harness.browser();
    await owner.login(1);
    const value = owner.cookies.get("session") as string;
    const other = harness.browser();
    expect((await other.get(`/whoami?session=${value}`)).body).toMatchObject({ anonymous: true });
    const res = await other.post("/logout", { session: value });
    expect(res.status).toBe(200);
    expect((await owner.whoami()).name).toBe("Notch");
  });

  it("sends Cache-Control: no-store on the login response that carries the new session cookie [A5 14.3.2]", async () => {
    harness = new Harness();
    const res = await harness.browser().login(1, { remember: true });
    expect(setCookie(res, "session")).toBeDefined();
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it("sends Cache-Control: no-store and Vary: Cookie on pages for a logged-in user [A5 14.3.2]", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    const res = await browser.get("/whoami");
    expect(res.headers["cache-control"]).toBe("no-store");
    expect(res.headers.vary).toMatch(/cookie/i);
  });
});

describe("cookie attributes [A5 3.3.1] [A5 3.3.3] [checklist F.36-F.38]", () => {
  it("names the cookies session / remember_token over HTTP, HttpOnly, SameSite=Lax, Path=/, no Domain, no Secure", async () => {
    harness = new Harness();
    const res = await harness.browser().login(1, { remember: true });
    for (const name of ["session", "remember_token"]) {
      const cookie = setCookie(res, name);
      expect(cookie, name).toBeDefined();
      expect(cookie?.attributes.has("httponly")).toBe(true);
      expect(cookie?.attributes.get("samesite")).toBe("Lax");
      expect(cookie?.attributes.get("path")).toBe("/");
      expect(cookie?.attributes.has("domain")).toBe(false);
      expect(cookie?.attributes.has("secure")).toBe(false);
    }
  });

  it("gives the session cookie no Max-Age or Expires (a browser-session cookie)", async () => {
    harness = new Harness();
    const res = await harness.browser().login(1, { remember: true });
    const session = setCookie(res, "session");
    expect(session?.attributes.has("max-age")).toBe(false);
    expect(session?.attributes.has("expires")).toBe(false);
  });

  it("uses __Host- names with Secure over HTTPS behind a trusted proxy (X-Forwarded-Proto: https)", async () => {
    harness = new Harness({ network: { trustProxyHops: 1 } });
    const browser = harness.browser({ "x-forwarded-proto": "https" });
    const res = await browser.post(
      "/login",
      { id: 1, remember: true },
      { headers: { "x-forwarded-proto": "https" } },
    );
    expect(res.status).toBe(200);
    const names = setCookies(res).map((cookie) => cookie.name);
    expect(names).toEqual(expect.arrayContaining(["__Host-session", "__Host-remember_token", "__Host-csrf"]));
    expect(names.filter((name) => !name.startsWith("__Host-"))).toEqual([]);
    for (const cookie of setCookies(res)) {
      expect(cookie.attributes.has("secure"), cookie.name).toBe(true);
      expect(cookie.attributes.get("path")).toBe("/");
      expect(cookie.attributes.has("domain")).toBe(false);
    }
    expect((await browser.whoami()).name).toBe("Notch");
  });

  it("ignores X-Forwarded-Proto when no proxy is trusted (trustProxyHops 0)", async () => {
    harness = new Harness();
    const browser = harness.browser({ "x-forwarded-proto": "https" });
    const res = await browser.login(1);
    expect(setCookie(res, "session")?.attributes.has("secure")).toBe(false);
    expect(setCookie(res, "__Host-session")).toBeUndefined();
  });

  it("does not accept a plain 'session' cookie on an HTTPS request (only __Host-session)", async () => {
    harness = new Harness({ network: { trustProxyHops: 1 } });
    const plain = harness.browser();
    await plain.login(1);
    const res = await plain.get("/whoami", { "x-forwarded-proto": "https" });
    expect(res.body).toMatchObject({ anonymous: true });
  });
});

describe("session fixation [A5 7.2.4] [CVE-2022-25896] [CVE-2023-29019] [checklist G.42-G.44]", () => {
  it("issues a new session id on every login and the previous cookie stops working", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    const first = browser.cookies.get("session") as string;
    const captured = browser.clone();
    await browser.login(1);
    const second = browser.cookies.get("session") as string;
    expect(second.split(".")[0]).not.toBe(first.split(".")[0]);
    expect(await harness.session(first)).toBeNull();
    expect((await captured.whoami()).anonymous).toBe(true);
    expect((await browser.whoami()).name).toBe("Notch");
  });

  it("gives user B a new, separate session when B logs in on top of A's session", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    const asNotch = browser.clone();
    await browser.login(2);
    expect((await browser.whoami()).name).toBe("Steve");
    expect((await asNotch.whoami()).anonymous).toBe(true);
    expect(await harness.manager.options.store.listUserSessions("1", harness.clock.now())).toEqual([]);
  });

  it("does not let an attacker plant their session cookie and ride the victim's login", async () => {
    harness = new Harness();
    const attacker = harness.browser();
    await attacker.login(2);
    const planted = attacker.cookies.get("session") as string;
    const victim = harness.browser();
    victim.cookies.set("session", planted);
    await victim.login(1);
    expect(victim.cookies.get("session")).not.toBe(planted);
    expect((await victim.whoami()).name).toBe("Notch");
    expect((await attacker.whoami()).anonymous).toBe(true);
  });

  it("creates no session before login, so there is nothing to fixate", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.get("/whoami");
    await browser.get("/csrf");
    expect(browser.cookies.has("session")).toBe(false);
    expect(harness.probe.count("createSession")).toBe(0);
  });
});

describe("logoutUser (items 10-13, 36) [A5 7.4.1] [checklist G.45-G.47]", () => {
  it("logs out, and the logout persists (items 10, 13)", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    expect((await browser.post("/logout")).body).toEqual({ ok: true });
    expect(await browser.whoami()).toMatchObject({ anonymous: true });
  });

  it("emits loggedOut once with the previous user (item 11)", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    await browser.post("/logout");
    const logouts = harness.events.named("loggedOut");
    expect(logouts).toHaveLength(1);
    expect(logouts[0]?.user).toBe(harness.users.get("1"));
  });

  it("returns true and emits loggedOut (user null) when nobody is logged in (item 12)", async () => {
    harness = new Harness();
    const res = await harness.browser().post("/logout");
    expect(res.body).toEqual({ ok: true });
    expect(harness.events.named("loggedOut")).toEqual([expect.objectContaining({ user: null })]);
  });

  it("deletes the session and remember token on the server and clears both cookies", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1, { remember: true });
    const session = browser.cookies.get("session") as string;
    const selector = (browser.cookies.get("remember_token") as string).split(".")[0] as string;
    const res = await browser.post("/logout");
    expect(clearsCookie(res, "session")).toBe(true);
    expect(clearsCookie(res, "remember_token")).toBe(true);
    expect(await harness.session(session)).toBeNull();
    expect(await harness.memory.getRememberToken(selector, harness.clock.now())).toBeNull();
  });

  it("makes a cookie captured before logout anonymous when replayed from another client [A5 7.4.1]", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1, { remember: true });
    const thief = browser.clone({ "user-agent": "thief" });
    await browser.post("/logout");
    const res = await thief.get("/whoami");
    expect(res.body).toMatchObject({ anonymous: true });
    expect(harness.events.count("loadedFromCookie")).toBe(0);
    expect((await thief.get("/protected")).status).toBe(401);
  });

  it("refuses a logout without a CSRF token (403) and stays logged in [A5 3.5.3] [checklist G.47]", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    expect((await browser.post("/logout", {}, { csrf: false })).status).toBe(403);
    expect((await browser.whoami()).name).toBe("Notch");
  });

  it("rotates the CSRF cookie at logout", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    const before = browser.cookies.get("csrf");
    await browser.post("/logout");
    expect(browser.cookies.get("csrf")).toBeDefined();
    expect(browser.cookies.get("csrf")).not.toBe(before);
  });
});

describe("a user that no longer loads (item 14)", () => {
  it("is anonymous, and the dead session is deleted and its cookie cleared", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    const value = browser.cookies.get("session") as string;
    harness.users.delete("1");
    const res = await browser.get("/whoami");
    expect(res.body).toMatchObject({ anonymous: true });
    expect(clearsCookie(res, "session")).toBe(true);
    expect(await harness.session(value)).toBeNull();
  });
});

describe("forged, expired or malformed cookies never throw [checklist E.33] [checklist I.64]", () => {
  const garbage = [
    "",
    "garbage",
    ".",
    "..",
    "a.b",
    `${"A".repeat(22)}.${"A".repeat(22)}`,
    `${"A".repeat(22)}.${"A".repeat(23)}`,
    `${"A".repeat(22)}:${"A".repeat(22)}`,
    "%00%0d%0a",
    '"quoted.value"',
    "x".repeat(4000),
    "\u00e9\u00e8",
  ];

  it.each(garbage)("treats the session cookie %j as anonymous", async (value) => {
    harness = new Harness();
    const browser = harness.browser();
    browser.cookies.set("session", value);
    browser.cookies.set("remember_token", value);
    const res = await browser.get("/whoami");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ anonymous: true });
    expect(harness.errors).toEqual([]);
  });

  it("treats an oversized Cookie header as no cookies at all", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    browser.cookies.set("padding", "x".repeat(9000));
    const res = await browser.get("/whoami");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ anonymous: true });
  });
});
