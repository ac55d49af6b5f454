/**
 * Passkey ceremonies through the app's JSON endpoints (issue 18) on Express, Fastify and Hono, with
 * the library tests' software authenticator standing in for the browser and device (the same
 * ceremonies in Chromium with its virtual authenticator: test/browser/mfa.browser.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SoftwareAuthenticator } from "../../../test/helpers/webauthn-authenticator.js";
import { relyingParty } from "../src/domain/second-factors.js";
import { FRAMEWORKS, flashes, PASSWORD, startTestApp, type TestApp, TestBrowser } from "./helpers.js";

describe("the relying party", () => {
  it("is the base URL's host and origin, with localhost for a loopback address", () => {
    expect(relyingParty("https://accounts.example.com")).toEqual({
      rpId: "accounts.example.com",
      origins: ["https://accounts.example.com"],
    });
    expect(relyingParty("http://127.0.0.1:5000")).toEqual({
      rpId: "localhost",
      origins: ["http://localhost:5000"],
    });
    expect(relyingParty("http://[::1]:8080")).toEqual({
      rpId: "localhost",
      origins: ["http://localhost:8080"],
    });
  });
});

describe.each(FRAMEWORKS)("%s", (framework) => {
  let app: TestApp;
  let origin: string;
  beforeAll(async () => {
    app = await startTestApp({
      framework,
      overrides: { manager: { rememberMe: { raceGraceSeconds: 0 }, throttle: { maxAccountFailures: 3 } } },
    });
    origin = app.baseUrl.replace("127.0.0.1", "localhost");
  });
  afterAll(async () => {
    await app.close();
  });

  let counter = 0;
  /** A new user, logged in with the password, holding a registered passkey. */
  async function withPasskey(label = "Laptop") {
    counter += 1;
    const username = `pk${counter}`;
    const browser = new TestBrowser(app.baseUrl);
    await browser.registerAndLogin(username);
    await browser.get("/account");
    const device = new SoftwareAuthenticator(origin);
    const options = await browser.postJson("/passkeys/register/options", {});
    expect(options.status).toBe(200);
    const added = await browser.postJson("/passkeys/register/verify", {
      credential: device.create(options.body),
      label,
    });
    expect(added.status).toBe(200);
    expect(added.body).toEqual({ ok: true, redirect: "/account" });
    const userId = (await app.services.users.findByKey(username))?.getId() as string;
    return { username, userId, browser, device };
  }

  /** Signs in on `browser` with `device` through the login endpoints; the verify answer. */
  async function signIn(
    browser: TestBrowser,
    device: SoftwareAuthenticator,
    extra: Record<string, unknown> = {},
  ) {
    const options = await browser.postJson("/passkeys/login/options", {});
    expect(options.status).toBe(200);
    return browser.postJson("/passkeys/login/verify", { credential: device.get(options.body), ...extra });
  }

  const logged = (event: string, userId: string) =>
    app.logEntries().filter((entry) => entry.event === event && entry.userId === userId);

  it("[A5 6.5.6] adds, lists, renames and removes a passkey, logging each change and telling the user", async () => {
    const { browser, userId, device } = await withPasskey("Work laptop");
    const account = await browser.get("/account");
    expect(flashes(account.text)).toEqual(["Passkey “Work laptop” added."]);
    expect(account.text).toContain('data-passkey-count="1"');
    const id = /data-passkey="([A-Za-z0-9_-]+)"/.exec(account.text)?.[1] as string;
    expect(account.text).toContain("Last used never");

    expect((await browser.post("/account/passkeys/rename", { id, label: "Old laptop" })).status).toBe(303);
    expect((await browser.get("/account")).text).toContain("Old laptop");
    expect((await browser.post("/account/passkeys/remove", { id })).status).toBe(303);
    expect((await browser.get("/account")).text).toContain('data-passkey-count="0"');

    for (const event of ["passkey.added", "passkey.renamed", "passkey.removed"]) {
      expect(logged(event, userId), event).toHaveLength(1);
    }
    await expect
      .poll(() =>
        app
          .logEntries()
          .filter((entry) => entry.kind === "notification" && entry.userId === userId)
          .map((entry) => entry.notification),
      )
      .toEqual(["passkey.added", "passkey.removed"]);
    // The removed passkey signs in no more.
    const stranger = new TestBrowser(app.baseUrl);
    await stranger.get("/login");
    const refused = await signIn(stranger, device);
    expect(refused.status).toBe(401);
    expect(refused.body).toMatchObject({ error: "unknown-credential" });
  });

  it("lists the passkeys the user has in the registration options (excludeCredentials), so a device does not register twice", async () => {
    const { browser, device } = await withPasskey();
    const options = await browser.postJson("/passkeys/register/options", {});
    const id = device.credentials[0]?.id.toString("base64url");
    expect(options.body.excludeCredentials.map((entry: { id: string }) => entry.id)).toEqual([id]);
  });

  it("signs in with the passkey alone: a new session id, both factors proven, next kept", async () => {
    const { username, device } = await withPasskey();
    const browser = new TestBrowser(app.baseUrl);
    await browser.get("/login");
    const before = browser.cookies.get("session")?.value;
    const answer = await signIn(browser, device, { next: "/protected", remember: true });
    expect(answer.status).toBe(200);
    expect(answer.body).toEqual({ ok: true, redirect: "/protected" });
    expect(browser.cookies.get("session")?.value).not.toBe(before);
    expect(browser.cookies.get("remember_token")?.persistent).toBe(true);
    const page = await browser.get("/protected");
    expect(page.text).toContain(`<strong class="username">${username}</strong>`);
    expect(page.text).toContain("<dd data-auth-methods>passkey with your device&#39;s screen lock</dd>");
  });

  it("refuses an unsafe next after a passkey sign-in", async () => {
    const { device } = await withPasskey();
    const browser = new TestBrowser(app.baseUrl);
    await browser.get("/login");
    expect((await signIn(browser, device, { next: "//evil.example" })).body.redirect).toBe("/");
  });

  it("[A5 6.3.3] stops a password login at /login/2fa for a passkey user; the passkey completes it with remember-me", async () => {
    const { username, userId, device } = await withPasskey();
    const browser = new TestBrowser(app.baseUrl);
    expect(username).toMatch(/^pk/);
    const first = await browser.submit("/login", "/login", { username, password: PASSWORD, remember: "1" });
    expect(first.headers.location).toBe("/login/2fa");
    const form = await browser.get("/login/2fa");
    expect(form.text).toContain('data-passkey-get="/passkeys/login"');
    expect(form.text).not.toContain('name="code"');
    expect((await browser.get("/protected")).status).toBe(302);

    // Another account's passkey is refused, and counted.
    const stranger = await withPasskey();
    const options = await browser.postJson("/passkeys/login/options", {});
    expect(options.body.allowCredentials.map((entry: { id: string }) => entry.id)).toEqual([
      device.credentials[0]?.id.toString("base64url"),
    ]);
    const wrong = await browser.postJson("/passkeys/login/verify", {
      credential: stranger.device.get({ challenge: options.body.challenge, rpId: "localhost" }),
    });
    expect(wrong.status).toBe(401);
    expect(logged("mfa.failure", userId).at(-1)).toMatchObject({ factor: "passkey", outcome: "failure" });

    const right = await signIn(browser, device);
    expect(right.status).toBe(200);
    expect(browser.cookies.get("remember_token")?.persistent).toBe(true);
    expect((await browser.get("/protected")).text).toContain("<dd data-auth-methods>password + passkey</dd>");
  });

  it("lets a passkey user who made recovery codes finish the password's second step with one", async () => {
    const { username, browser: owner } = await withPasskey();
    await owner.get("/account");
    const made = await owner.post("/account/2fa/recovery-codes");
    const code = /<code data-recovery-code>([^<]+)<\/code>/.exec(made.text)?.[1] as string;
    expect(code).toBeDefined();
    const browser = new TestBrowser(app.baseUrl);
    await browser.submit("/login", "/login", { username, password: PASSWORD });
    const form = await browser.get("/login/2fa");
    expect(form.text).toContain('name="recovery_code"');
    expect(form.text).toContain("Lost your passkey?");
    expect((await browser.post("/login/2fa", { recovery_code: code })).status).toBe(303);
    expect((await browser.get("/protected")).text).toContain(
      "<dd data-auth-methods>password + recovery code</dd>",
    );
  });

  it("confirms a remembered session at /reauth with the user's own passkey; another account's is refused", async () => {
    const { username, device } = await withPasskey();
    const phone = new TestBrowser(app.baseUrl);
    await phone.get("/login");
    expect((await signIn(phone, device, { remember: true })).status).toBe(200);
    phone.closeBrowser();
    const reauth = await phone.get("/reauth?next=%2Faccount");
    expect(reauth.text).toContain('data-passkey-get="/passkeys/reauth"');
    expect(reauth.text).not.toContain('name="password"');
    expect((await phone.post("/reauth", { password: PASSWORD })).status).toBe(400);

    const stranger = await withPasskey();
    const options = await phone.postJson("/passkeys/reauth/options", {});
    // The options list the user's own passkeys only; a device answers with another account's anyway.
    expect(options.body.allowCredentials.map((entry: { id: string }) => entry.id)).toEqual([
      device.credentials[0]?.id.toString("base64url"),
    ]);
    const foreign = await phone.postJson("/passkeys/reauth/verify", {
      credential: stranger.device.get(options.body, { credential: stranger.device.credentials[0] }),
      next: "/account",
    });
    expect(foreign.status).toBe(401);
    expect((await phone.get("/protected")).text).toContain(`<strong class="username">${username}</strong>`);
    expect((await phone.post("/account/2fa/recovery-codes")).status).toBe(302);

    const own = await phone.postJson("/passkeys/reauth/options", {});
    const confirmed = await phone.postJson("/passkeys/reauth/verify", {
      credential: device.get(own.body),
      next: "/account",
    });
    expect(confirmed.status).toBe(200);
    expect(confirmed.body).toEqual({ ok: true, redirect: "/account" });
    expect(phone.cookies.get("remember_token")?.persistent).toBe(true);
    // Fresh now (the script goes on to the page, whose forms carry the new session's CSRF token).
    expect(flashes((await phone.get("/account")).text)).toEqual([
      "Please confirm it&#39;s you to continue.",
      "Thanks, it&#39;s you.",
    ]);
    const codes = await phone.post("/account/2fa/recovery-codes");
    expect(codes.status).toBe(200);
    expect(codes.text.match(/data-recovery-code/g)).toHaveLength(10);
  });

  it("answers a reused challenge with 401 and logs nobody in", async () => {
    const { device } = await withPasskey();
    const browser = new TestBrowser(app.baseUrl);
    await browser.get("/login");
    const options = await browser.postJson("/passkeys/login/options", {});
    const credential = device.get(options.body);
    expect((await browser.postJson("/passkeys/login/verify", { credential })).status).toBe(200);
    await browser.post("/logout");
    const replay = new TestBrowser(app.baseUrl);
    await replay.get("/login");
    expect((await replay.postJson("/passkeys/login/verify", { credential })).status).toBe(401);
    expect((await replay.get("/protected")).status).toBe(302);
  });
});
