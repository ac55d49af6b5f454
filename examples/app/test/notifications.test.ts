import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTIFICATION_MESSAGES } from "../src/domain/notifier.js";
import { FIREFOX, FRAMEWORKS, IPHONE, PASSWORD, startTestApp, type TestApp, TestBrowser } from "./helpers.js";

const NEW_PASSWORD = "a brand new passphrase";

describe.each(FRAMEWORKS)("%s", (framework) => {
  let app: TestApp;
  /** Every password, cookie value and CSRF token the tests used: none may appear in a notification. */
  const secrets = new Set<string>([PASSWORD, NEW_PASSWORD]);

  beforeAll(async () => {
    app = await startTestApp({ framework, overrides: { manager: { rememberMe: { raceGraceSeconds: 0 } } } });
  });
  afterAll(async () => {
    await app.close();
  });

  function remember(...browsers: TestBrowser[]): void {
    for (const browser of browsers) {
      for (const cookie of browser.cookies.values()) secrets.add(cookie.value);
      if (browser.csrf) secrets.add(browser.csrf);
    }
  }

  const notifications = () => app.logEntries().filter((entry) => entry.kind === "notification");

  /** The notifications of `kind` once at least `count` of them are there (some are sent after the answer). */
  async function notified(kind: string, count = 1) {
    await expect
      .poll(() => notifications().filter((entry) => entry.notification === kind).length)
      .toBeGreaterThanOrEqual(count);
    return notifications().filter((entry) => entry.notification === kind);
  }

  function expectNoSecret(entries: Array<Record<string, unknown>>): void {
    const text = JSON.stringify(entries);
    expect(secrets.size).toBeGreaterThan(3);
    for (const secret of secrets) expect(text).not.toContain(secret);
    expect(text).not.toMatch(/argon2|passwordHash|token|_csrf/i);
  }

  async function twoDevices(username: string, phoneRemembers = false) {
    const laptop = new TestBrowser(app.baseUrl, FIREFOX);
    await laptop.registerAndLogin(username);
    const phone = new TestBrowser(app.baseUrl, IPHONE);
    await phone.login(username, PASSWORD, phoneRemembers);
    const user = await app.services.users.findByKey(username);
    return { laptop, phone, userId: user?.getId() };
  }

  it("notifies the user whose password changed, with no secret in it [A5 6.3.7]", async () => {
    const bystander = await twoDevices("bystander1");
    const { laptop, phone, userId } = await twoDevices("changer");
    await laptop.get("/account");
    expect(
      (await laptop.post("/account/password", { current_password: PASSWORD, new_password: NEW_PASSWORD }))
        .status,
    ).toBe(303);
    remember(laptop, phone, bystander.laptop, bystander.phone);
    const sent = await notified("password.changed");
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      level: "info",
      userId,
      username: "changer",
      message: NOTIFICATION_MESSAGES["password.changed"],
      ip: expect.stringMatching(/127\.0\.0\.1$/),
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(notifications().filter((entry) => entry.userId === bystander.userId)).toEqual([]);
    expectNoSecret(sent);
  });

  it("does not notify a refused password change", async () => {
    const { laptop, userId } = await twoDevices("refused1");
    await laptop.get("/account");
    const wrong = await laptop.post("/account/password", {
      current_password: "not my password",
      new_password: NEW_PASSWORD,
    });
    expect(wrong.status).toBe(400);
    expect(notifications().filter((entry) => entry.userId === userId)).toEqual([]);
  });

  it("notifies the user who logged out their other sessions [A5 6.3.7]", async () => {
    const { laptop, phone, userId } = await twoDevices("revoker");
    await laptop.get("/account");
    expect((await laptop.post("/account/sessions/revoke-others")).status).toBe(303);
    remember(laptop, phone);
    const sent = (await notified("sessions.revoked-others")).filter((entry) => entry.userId === userId);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      username: "revoker",
      message: NOTIFICATION_MESSAGES["sessions.revoked-others"],
    });
    expectNoSecret(sent);
  });

  it("notifies the user when a used remember-me token is replayed (rememberTheft) [A5 6.3.5]", async () => {
    const { laptop, phone, userId } = await twoDevices("victim", true);
    const stolen = phone.cookies.get("remember_token")?.value ?? "";
    secrets.add(stolen);
    phone.closeBrowser();
    expect((await phone.get("/protected")).status).toBe(200); // rotates the token
    const thief = new TestBrowser(app.baseUrl, IPHONE);
    thief.cookies.set("remember_token", { value: stolen, persistent: true });
    expect((await thief.get("/protected")).status).toBe(302);
    remember(laptop, phone, thief);
    const sent = await notified("remember.theft");
    expect(sent.filter((entry) => entry.userId === userId)).toHaveLength(1);
    expect(sent.at(-1)).toMatchObject({
      level: "info",
      username: "victim",
      message: NOTIFICATION_MESSAGES["remember.theft"],
    });
    expectNoSecret(sent);
  });

  it("notifies the owner once when failed logins lock the account, and nobody for an unknown account [A5 6.3.5]", async () => {
    const owner = new TestBrowser(app.baseUrl);
    await owner.registerAndLogin("lockedout");
    const userId = (await app.services.users.findByKey("lockedout"))?.getId();
    const guesser = new TestBrowser(app.baseUrl, IPHONE);
    await guesser.get("/login");
    for (let i = 0; i < 5; i += 1)
      expect(
        (await guesser.post("/login", { username: "LockedOut", password: `guess-${i}-wrong` })).status,
      ).toBe(i < 4 ? 401 : 429);
    for (let i = 0; i < 3; i += 1)
      expect((await guesser.post("/login", { username: "lockedout", password: PASSWORD })).status).toBe(429);
    for (let i = 0; i < 6; i += 1)
      await guesser.post("/login", { username: "nosuchuser", password: `guess-${i}-wrong` });
    remember(owner, guesser);
    const sent = await notified("account.locked");
    // Give any late lookup the chance to show up before counting.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const all = notifications().filter((entry) => entry.notification === "account.locked");
    expect(all).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      userId,
      username: "lockedout",
      message: NOTIFICATION_MESSAGES["account.locked"],
    });
    expectNoSecret(all);
    expect(JSON.stringify(all)).not.toContain("guess-");
  });
});
