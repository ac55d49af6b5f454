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
  type TestResponse,
} from "./helpers.js";

describe.each(FRAMEWORKS)("%s", (framework) => {
  let app: TestApp;
  /** Three wrong passwords (at login, or from a logged-in user) lock; the default is five. */
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
  /** A user logged in on two devices: a laptop (fresh password login) and a phone. */
  async function twoDevices(options: { phoneRemembers?: boolean } = {}) {
    counter += 1;
    const username = `user${counter}`;
    const laptop = new TestBrowser(app.baseUrl, FIREFOX);
    await laptop.registerAndLogin(username);
    const phone = new TestBrowser(app.baseUrl, IPHONE);
    await phone.login(username, PASSWORD, options.phoneRemembers ?? false);
    return { username, laptop, phone };
  }

  function handles(html: string): string[] {
    return [...html.matchAll(/action="\/account\/sessions\/([\w-]+)\/revoke"/g)].map(
      (match) => match[1] ?? "",
    );
  }

  describe("GET /account", () => {
    it("needs a login", async () => {
      const response = await new TestBrowser(app.baseUrl).get("/account");
      expect(response.status).toBe(302);
      expect(response.headers.location).toBe("/login?next=%2Faccount");
    });

    it("lists the user's sessions with a readable device, dates and this one marked", async () => {
      const { laptop } = await twoDevices();
      const page = await laptop.get("/account");
      expect(page.status).toBe(200);
      expect(page.headers["cache-control"]).toBe("no-store");
      expect(page.text).toContain("Firefox 128 on Windows");
      expect(page.text).toContain("Safari 17 on iPhone");
      expect(page.text.match(/This device/g)).toHaveLength(1);
      expect(page.text).toMatch(
        /<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">\d{1,2} \w{3} \d{4}, \d\d:\d\d UTC<\/time>/,
      );
      expect(handles(page.text)).toHaveLength(2);
      expect(page.text).toContain('autocomplete="new-password"');
    });
  });

  describe("revoking sessions", () => {
    it("ends another device's session", async () => {
      const { laptop, phone } = await twoDevices();
      const page = await laptop.get("/account");
      const phoneHandle = handles(page.text)[1] ?? "";
      const response = await laptop.post(`/account/sessions/${phoneHandle}/revoke`);
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe("/account");
      const after = await laptop.get("/account");
      expect(handles(after.text)).toHaveLength(1);
      expect(flashes(after.text)).toEqual(["Session ended. That device is logged out."]);
      expect((await phone.get("/protected")).status).toBe(302);
      expect((await laptop.get("/protected")).status).toBe(200);
      expect(
        app.logEntries().some((line) => line.event === "sessions.revoked" && line.reason === "revoke-one"),
      ).toBe(true);
    });

    it("accepts the handle as a form field too", async () => {
      const { laptop, phone } = await twoDevices();
      const phoneHandle = handles((await laptop.get("/account")).text)[1] ?? "";
      const response = await laptop.post("/account/sessions/revoke", { handle: phoneHandle });
      expect(response.status).toBe(303);
      expect((await phone.get("/protected")).status).toBe(302);
    });

    it("logs this device out when it revokes its own session", async () => {
      const { laptop } = await twoDevices();
      const ownHandle = handles((await laptop.get("/account")).text)[0] ?? "";
      const response = await laptop.post(`/account/sessions/${ownHandle}/revoke`);
      expect(response.headers.location).toBe("/login");
      expect((await laptop.get("/protected")).status).toBe(302);
    });

    it("cannot revoke another user's session", async () => {
      const first = await twoDevices();
      const second = await twoDevices();
      const foreign = handles((await first.laptop.get("/account")).text)[1] ?? "";
      await second.laptop.get("/account");
      const response = await second.laptop.post(`/account/sessions/${foreign}/revoke`);
      expect(response.status).toBe(303);
      expect(flashes((await second.laptop.get("/account")).text)).toEqual([
        "That session had already ended.",
      ]);
      expect((await first.phone.get("/protected")).status).toBe(200);
    });

    it("logs out every other session with a fresh login", async () => {
      const { laptop, phone } = await twoDevices();
      const third = new TestBrowser(app.baseUrl, "curl/8.5.0");
      await third.login(`user${counter}`);
      await laptop.get("/account");
      const response = await laptop.post("/account/sessions/revoke-others");
      expect(response.status).toBe(303);
      expect(flashes((await laptop.get("/account")).text)).toEqual(["2 other sessions were logged out."]);
      expect((await phone.get("/protected")).status).toBe(302);
      expect((await third.get("/protected")).status).toBe(302);
      expect((await laptop.get("/protected")).status).toBe(200);
    });
  });

  describe("changing the password", () => {
    it("works on a fresh login, keeps this session and ends every other one", async () => {
      const { username, laptop, phone } = await twoDevices({ phoneRemembers: true });
      const before = laptop.cookies.get("session")?.value;
      await laptop.get("/account");
      const response = await laptop.post("/account/password", {
        current_password: PASSWORD,
        new_password: "a brand new passphrase",
      });
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe("/account");
      expect(laptop.cookies.get("session")?.value).not.toBe(before);
      const page = await laptop.get("/account");
      expect(flashes(page.text)).toEqual(["Password changed. 1 other session was logged out."]);
      expect(handles(page.text)).toHaveLength(1);
      phone.closeBrowser(); // even its remember-me cookie is dead
      expect((await phone.get("/protected")).status).toBe(302);
      expect((await new TestBrowser(app.baseUrl).login(username)).status).toBe(401);
      expect((await new TestBrowser(app.baseUrl).login(username, "a brand new passphrase")).status).toBe(303);
    });

    it("checks the current password", async () => {
      const { laptop } = await twoDevices();
      await laptop.get("/account");
      const response = await laptop.post("/account/password", {
        current_password: "not my password",
        new_password: "a brand new passphrase",
      });
      expect(response.status).toBe(400);
      expect(response.text).toContain("Your current password is not correct.");
    });

    it.each([
      ["short", "at least 8 characters"],
      ["password123", "10,000 most common"],
    ])("applies the password policy to %j", async (newPassword, message) => {
      const { laptop } = await twoDevices();
      await laptop.get("/account");
      const response = await laptop.post("/account/password", {
        current_password: PASSWORD,
        new_password: newPassword,
      });
      expect(response.status).toBe(400);
      expect(response.text).toContain(message);
    });

    it.each([
      ["the username", "my ctxowner passphrase", "can&#39;t contain your username"],
      ["the app's name", "Login Manager is great", "can&#39;t contain the name of this app"],
    ])("refuses a new password containing %s [A5 6.2.11]", async (_kind, newPassword, message) => {
      counter += 1;
      const laptop = new TestBrowser(app.baseUrl);
      await laptop.registerAndLogin(`ctxowner${counter}`);
      await laptop.get("/account");
      const response = await laptop.post("/account/password", {
        current_password: PASSWORD,
        new_password: newPassword.replace("ctxowner", `ctxowner${counter}`),
      });
      expect(response.status).toBe(400);
      expect(response.text).toContain(message);
    });

    it("refuses the username as the new password", async () => {
      const laptop = new TestBrowser(app.baseUrl);
      await laptop.registerAndLogin("passwordowner");
      await laptop.get("/account");
      const response = await laptop.post("/account/password", {
        current_password: PASSWORD,
        new_password: "PasswordOwner",
      });
      expect(response.status).toBe(400);
      expect(response.text).toContain("can&#39;t be your username");
    });
  });

  describe("fresh login (remember-me) and /reauth", () => {
    async function rememberedDevice() {
      const { username, phone } = await twoDevices({ phoneRemembers: true });
      phone.closeBrowser();
      expect(phone.cookies.has("session")).toBe(false);
      const page = await phone.get("/protected");
      expect(page.status).toBe(200);
      expect(page.text).toContain("Restored from your remember-me cookie");
      return { username, phone };
    }

    it("sends a remembered session to /reauth before a password change", async () => {
      const { phone } = await rememberedDevice();
      await phone.get("/account");
      const response = await phone.post("/account/password", {
        current_password: PASSWORD,
        new_password: "a brand new passphrase",
      });
      expect(response.status).toBe(302);
      expect(response.headers.location).toBe("/reauth?next=%2Faccount%2Fpassword");
    });

    it("sends a remembered session to /reauth before logging out other sessions", async () => {
      const { phone } = await rememberedDevice();
      await phone.get("/account");
      const response = await phone.post("/account/sessions/revoke-others");
      expect(response.status).toBe(302);
      expect(response.headers.location).toBe("/reauth?next=%2Faccount%2Fsessions%2Frevoke-others");
    });

    it("confirms the login with the password, then allows the change", async () => {
      const { phone } = await rememberedDevice();
      const form = await phone.get("/reauth?next=%2Faccount%2Fpassword");
      expect(form.status).toBe(200);
      expect(form.text).toContain('name="next" value="/account/password"');
      expect(form.text).toContain('autocomplete="current-password"');
      const wrong = await phone.post("/reauth", { password: "not it at all", next: "/account/password" });
      expect(wrong.status).toBe(401);
      expect(wrong.text).toContain("That password is not correct.");
      const before = phone.cookies.get("session")?.value;
      const right = await phone.post("/reauth", { password: PASSWORD, next: "/account/password" });
      expect(right.status).toBe(303);
      expect(right.headers.location).toBe("/account/password");
      expect(phone.cookies.get("session")?.value).not.toBe(before);
      const back = await phone.get("/account/password");
      expect(back.status).toBe(303);
      expect(back.headers.location).toBe("/account");
      await phone.get("/account");
      const change = await phone.post("/account/password", {
        current_password: PASSWORD,
        new_password: "a brand new passphrase",
      });
      expect(change.status).toBe(303);
      expect(app.logEntries().some((line) => line.event === "reauth.success")).toBe(true);
    });

    it("ignores an unsafe next after reauth", async () => {
      const { phone } = await rememberedDevice();
      await phone.get("/reauth");
      const response = await phone.post("/reauth", { password: PASSWORD, next: "//evil.example" });
      expect(response.headers.location).toBe("/account");
    });

    it("[A5 6.3.1] logs the session out on the wrong password that starts the lock", async () => {
      const { username, phone } = await rememberedDevice();
      await phone.get("/reauth");
      for (const guess of [1, 2]) {
        const wrong = await phone.post("/reauth", { password: `guess number ${guess}` });
        expect(wrong.status).toBe(401);
        expect(wrong.text).toContain("That password is not correct.");
      }
      const locked = await phone.post("/reauth", { password: "guess number 3", next: "/account/password" });
      expect(locked.status).toBe(303);
      expect(locked.headers.location).toBe("/login");
      expect(phone.cookies.has("remember_token")).toBe(false);
      expect(flashes((await phone.get("/login")).text)).toEqual([TOO_MANY_WRONG]);
      expect((await phone.get("/protected")).status).toBe(302);
      const logged = app.logEntries();
      const failures = logged.filter((line) => line.event === "reauth.failure" && line.username === username);
      expect(failures.map((line) => line.reason)).toEqual(["wrong-password", "wrong-password", "locked"]);
      // login-manager's throttle logs the lock under the account's name: one budget with POST /login.
      expect(logged).toContainEqual(expect.objectContaining({ event: "login.locked", username }));
    });

    it("[A5 6.3.1] counts wrong current passwords on the password change form with /reauth's", async () => {
      const { username, laptop } = await twoDevices();
      await laptop.get("/account");
      const change = (current: string) =>
        laptop.post("/account/password", {
          current_password: current,
          new_password: "a brand new passphrase",
        });
      expect((await change("not my password 1")).status).toBe(400);
      expect((await laptop.post("/reauth", { password: "not my password 2" })).status).toBe(401);
      await laptop.get("/account");
      const locked = await change("not my password 3");
      expect(locked.status).toBe(303);
      expect(locked.headers.location).toBe("/login");
      expect(flashes((await laptop.get("/login")).text)).toEqual([TOO_MANY_WRONG]);
      expect((await laptop.get("/account")).status).toBe(302);
      // The password was not changed; the login form is locked too (one failure budget per account).
      const stored = await app.services.users.findByKey(username);
      expect(await app.services.hasher.verify(stored?.passwordHash ?? "", PASSWORD)).toBe(true);
      expect((await new TestBrowser(app.baseUrl).login(username)).status).toBe(429);
      const failures = app
        .logEntries()
        .filter((line) => line.event === "password.change" && line.username === username)
        .map((line) => line.reason);
      expect(failures).toEqual(["wrong-current-password", "locked"]);
    });

    it("[A5 6.3.1] counts wrong passwords in the shared store: two instances allow no more guesses than one", async () => {
      const twin = await startTestApp({
        framework,
        overrides,
        env: { DATA_DIR: app.services.config.dataDir },
      });
      try {
        const { phone } = await rememberedDevice();
        await phone.get("/reauth");
        const reauthOn = (instance: TestApp, password: string) =>
          postOn(instance, phone, "/reauth", { password, next: "/account" });
        expect((await reauthOn(app, "guess number 1")).status).toBe(401);
        expect((await reauthOn(twin, "guess number 2")).status).toBe(401);
        // The third wrong password overall locks, though this instance has seen only two of them.
        const locked = await reauthOn(app, "guess number 3");
        expect(locked.status).toBe(303);
        expect(locked.headers.location).toBe("/login");
        expect((await phone.get("/protected")).status).toBe(302);
      } finally {
        await twin.close();
      }
    });

    it("needs a login itself", async () => {
      const response = await new TestBrowser(app.baseUrl).get("/reauth");
      expect(response.status).toBe(302);
    });
  });

  describe("remember-me theft", () => {
    it("ends every session of the user when a used token is replayed, and logs it", async () => {
      const { laptop, phone } = await twoDevices({ phoneRemembers: true });
      const stolen = phone.cookies.get("remember_token")?.value ?? "";
      phone.closeBrowser();
      expect((await phone.get("/protected")).status).toBe(200); // rotates the token
      const thief = new TestBrowser(app.baseUrl, IPHONE);
      thief.cookies.set("remember_token", { value: stolen, persistent: true });
      expect((await thief.get("/protected")).status).toBe(302);
      expect((await laptop.get("/protected")).status).toBe(302);
      expect(
        app.logEntries().some((line) => line.event === "remember.theft" && line.outcome === "alert"),
      ).toBe(true);
    });
  });
});

/** Posts from `browser` to another app instance (sharing its store), keeping the browser's cookies. */
async function postOn(
  instance: TestApp,
  browser: TestBrowser,
  path: string,
  fields: Record<string, string>,
): Promise<TestResponse> {
  const there = new TestBrowser(instance.baseUrl, browser.userAgent);
  for (const [name, cookie] of browser.cookies) there.cookies.set(name, cookie);
  there.csrf = browser.csrf;
  const response = await there.post(path, fields);
  browser.cookies.clear();
  for (const [name, cookie] of there.cookies) browser.cookies.set(name, cookie);
  browser.csrf = there.csrf;
  return response;
}
