/**
 * `createLoginCookie` (login-manager/testing), the counterpart of Flask-Login's FlaskLoginClient:
 * inventory §2 items 68-69.
 *
 * Differences from Flask-Login, by design:
 * - Item 69: FlaskLoginClient writes `_user_id` without `_id`, so its logins are never fresh under
 *   "basic" protection and anonymous under "strong". createLoginCookie creates a real, fingerprinted
 *   server-side session, so the login keeps its freshness in every mode as long as the test client
 *   sends the address and User-Agent it was created for (tested below, with the failure cases).
 */
import express from "express";
import { LoginManager } from "login-manager";
import { initApp, loginRequired } from "login-manager/express";
import { MemoryStore } from "login-manager/stores/memory";
import { createLoginCookie } from "login-manager/testing";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import { Harness, SECRET, User } from "./helpers.js";

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

/** The address this machine's loopback connections arrive from ("::ffff:127.0.0.1" or "127.0.0.1"). */
async function loopbackAddress(): Promise<string> {
  const app = express();
  app.get("/", (req, res) => {
    res.send(req.socket.remoteAddress);
  });
  const server = app.listen(0);
  try {
    return (await request(server).get("/")).text;
  } finally {
    server.close();
  }
}

function get(path: string, cookie: string, headers: Record<string, string> = {}) {
  const req = request(harness.server).get(path).set("cookie", cookie);
  for (const [name, value] of Object.entries(headers)) req.set(name, value);
  return req;
}

describe("createLoginCookie (item 68)", () => {
  it("gives a Cookie header that logs the user in, fresh, with a real stored session", async () => {
    harness = new Harness({ session: { protection: false } });
    const cookie = await createLoginCookie(harness.manager, harness.users.get("1") as User);
    expect(cookie).toMatch(/(^|; )session=[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}(;|$)/);
    const res = await get("/whoami", cookie);
    expect(res.body).toMatchObject({ name: "Notch", fresh: true, source: "session" });
    expect(await harness.memory.listUserSessions("1", harness.clock.now())).toHaveLength(1);
    expect((await get("/protected", cookie)).status).toBe(200);
  });

  it("leaves a client without the cookie anonymous", async () => {
    harness = new Harness();
    await createLoginCookie(harness.manager, harness.users.get("1") as User);
    expect((await harness.browser().whoami()).anonymous).toBe(true);
  });

  it("makes a stale login with fresh: false", async () => {
    harness = new Harness({ session: { protection: false } });
    const cookie = await createLoginCookie(harness.manager, harness.users.get("1") as User, { fresh: false });
    expect((await get("/whoami", cookie)).body).toMatchObject({ name: "Notch", fresh: false });
    expect((await get("/very-protected", cookie)).status).toBe(401);
  });

  it("adds a remember-me cookie with remember: true that restores the login", async () => {
    harness = new Harness({ session: { protection: false } });
    const cookie = await createLoginCookie(harness.manager, harness.users.get("1") as User, {
      remember: true,
    });
    const remember = cookie.split("; ").find((pair) => pair.startsWith("remember_token=")) as string;
    expect(remember).toBeDefined();
    expect((await get("/whoami", remember)).body).toMatchObject({ name: "Notch", source: "remember" });
  });

  it("includes a CSRF cookie, so the test can post with a token from the app", async () => {
    harness = new Harness({ session: { protection: false } });
    const cookie = await createLoginCookie(harness.manager, harness.users.get("1") as User);
    expect(cookie).toMatch(/(^|; )csrf=/);
    const token = ((await get("/csrf", cookie)).body as { token: string }).token;
    const res = await request(harness.server)
      .post("/logout")
      .set("cookie", cookie)
      .set("sec-fetch-site", "same-origin")
      .send({ _csrf: token });
    expect(res.status).toBe(200);
    expect((await get("/whoami", cookie)).body).toMatchObject({ anonymous: true });
  });

  it("logs in an inactive user (forced), whom the guards still reject", async () => {
    harness = new Harness({ session: { protection: false } });
    const cookie = await createLoginCookie(harness.manager, harness.users.get("3") as User);
    expect((await get("/whoami", cookie)).body).toMatchObject({ name: "Creeper", authenticated: false });
    expect((await get("/protected", cookie)).status).toBe(401);
  });

  it("builds __Host- cookies for an HTTPS app with https: true", async () => {
    harness = new Harness({ session: { protection: false }, network: { trustProxyHops: 1 } });
    const cookie = await createLoginCookie(harness.manager, harness.users.get("1") as User, { https: true });
    expect(cookie).toMatch(/(^|; )__Host-session=/);
    expect(cookie).not.toMatch(/(^|; )session=/);
    expect((await get("/whoami", cookie, { "x-forwarded-proto": "https" })).body).toMatchObject({
      name: "Notch",
    });
  });

  it("works with the default supertest client when protection is off, as in the documented example", async () => {
    const user = new User(1, "Notch");
    const manager = new LoginManager<User>({
      secret: SECRET,
      store: new MemoryStore(),
      userLoader: (id) => (id === "1" ? user : null),
      session: { protection: false },
    });
    const app = express();
    initApp(app, manager);
    app.get("/protected", loginRequired, (_req, res) => {
      res.send("ok");
    });
    const cookie = await createLoginCookie(manager, user);
    await request(app).get("/protected").set("cookie", cookie).expect(200);
  });
});

describe("session protection modes (item 69)", () => {
  it.each([false, "basic", "strong"] as const)(
    "protection %s: logged in and fresh for the client it was made for",
    async (mode) => {
      harness = new Harness({ session: { protection: mode } });
      const remoteAddress = await loopbackAddress();
      const cookie = await createLoginCookie(harness.manager, harness.users.get("1") as User, {
        remoteAddress,
        userAgent: "test-agent",
      });
      expect((await get("/whoami", cookie, { "user-agent": "test-agent" })).body).toMatchObject({
        name: "Notch",
        fresh: true,
      });
    },
  );

  it("basic: a different User-Agent keeps the login but not its freshness", async () => {
    harness = new Harness({ session: { protection: "basic" } });
    const remoteAddress = await loopbackAddress();
    const cookie = await createLoginCookie(harness.manager, harness.users.get("1") as User, {
      remoteAddress,
      userAgent: "test-agent",
    });
    expect((await get("/whoami", cookie, { "user-agent": "other" })).body).toMatchObject({
      name: "Notch",
      fresh: false,
    });
  });

  it("strong: another client address ends the session", async () => {
    harness = new Harness({ session: { protection: "strong" } });
    const cookie = await createLoginCookie(harness.manager, harness.users.get("1") as User, {
      remoteAddress: "192.0.2.10",
    });
    expect((await get("/whoami", cookie)).body).toMatchObject({ anonymous: true });
  });
});
