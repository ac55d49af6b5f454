/**
 * One failure budget per account (issue 16.6) in the reference app, on Express, Fastify and Hono:
 * wrong passwords at `POST /login`, `POST /reauth` and the password change form all count against
 * the account, so a holder of a stolen remember-me cookie gets no guesses of their own, and a lock
 * started at any of them refuses the others [A5 6.3.1] [checklist 21].
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TOO_MANY_WRONG } from "../src/web/confirm-password.js";
import {
  FIREFOX,
  FRAMEWORKS,
  flashes,
  IPHONE,
  PASSWORD,
  startTestApp,
  type TestApp,
  TestBrowser,
} from "./helpers.js";

describe.each(FRAMEWORKS)("%s", (framework) => {
  let app: TestApp;
  /** Three wrong passwords lock (the default is five). */
  const overrides = {
    manager: { rememberMe: { raceGraceSeconds: 0 }, throttle: { maxAccountFailures: 3 } },
  };
  beforeAll(async () => {
    app = await startTestApp({ framework, overrides });
  });
  afterAll(async () => {
    await app.close();
  });

  let counter = 0;
  /** A new user, with a phone whose session was restored from remember-me, and a guesser at the login form. */
  async function rememberedOwner() {
    counter += 1;
    const username = `budget${counter}`;
    await new TestBrowser(app.baseUrl, FIREFOX).registerAndLogin(username);
    const phone = new TestBrowser(app.baseUrl, IPHONE);
    await phone.login(username, PASSWORD, true);
    phone.closeBrowser();
    expect((await phone.get("/protected")).text).toContain("Restored from your remember-me cookie");
    await phone.get("/reauth");
    return { username, phone, guesser: new TestBrowser(app.baseUrl) };
  }

  const wrongLogin = (browser: TestBrowser, username: string) => browser.login(username, "not the password");

  it("wrong logins and a wrong re-authentication add up: the third failure, at /reauth, locks the account", async () => {
    const { username, phone, guesser } = await rememberedOwner();
    expect((await wrongLogin(guesser, username)).status).toBe(401);
    expect((await wrongLogin(guesser, username)).status).toBe(401);
    const third = await phone.post("/reauth", { password: "not the password either" });
    expect(third.status).toBe(303);
    expect(third.headers.location).toBe("/login");
    expect(flashes((await phone.get("/login")).text)).toEqual([TOO_MANY_WRONG]);
    const owner = await new TestBrowser(app.baseUrl).login(username);
    expect(owner.status).toBe(429);
    expect(owner.headers["retry-after"]).toBe("30");
  });

  it("a lock started by wrong re-authentications refuses the right password at the login form", async () => {
    const { username, phone } = await rememberedOwner();
    for (const guess of [1, 2]) {
      expect((await phone.post("/reauth", { password: `guess ${guess}` })).status).toBe(401);
    }
    expect((await phone.post("/reauth", { password: "guess 3" })).headers.location).toBe("/login");
    expect((await new TestBrowser(app.baseUrl).login(username)).status).toBe(429);
  });

  it("a lock started at the login form refuses the right password at /reauth and logs that session out", async () => {
    const { username, phone, guesser } = await rememberedOwner();
    for (let i = 0; i < 3; i++) await wrongLogin(guesser, username);
    const right = await phone.post("/reauth", { password: PASSWORD, next: "/account/password" });
    expect(right.status).toBe(303);
    expect(right.headers.location).toBe("/login");
    expect((await phone.get("/protected")).status).toBe(302);
  });

  it("the password change form's current-password check spends from the same budget", async () => {
    const { username, guesser } = await rememberedOwner();
    const laptop = new TestBrowser(app.baseUrl, FIREFOX);
    await laptop.login(username);
    await wrongLogin(guesser, username);
    await laptop.get("/account");
    const change = (current: string) =>
      laptop.post("/account/password", { current_password: current, new_password: "a brand new passphrase" });
    expect((await change("not my password 1")).status).toBe(400);
    await laptop.get("/account");
    expect((await change("not my password 2")).headers.location).toBe("/login");
    expect((await new TestBrowser(app.baseUrl).login(username)).status).toBe(429);
  });

  it("a lock started at /reauth notifies the user, as a lock at the login form does", async () => {
    const { username, phone } = await rememberedOwner();
    for (let i = 0; i < 3; i++) await phone.post("/reauth", { password: `wrong ${i}` });
    await expect
      .poll(() =>
        app
          .logEntries()
          .filter((entry) => entry.kind === "notification" && entry.notification === "account.locked")
          .map((entry) => entry.username),
      )
      .toContain(username);
  });
});
