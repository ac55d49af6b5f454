/**
 * Logging in with a second factor (issue 18) on Express, Fastify and Hono: the password starts a
 * pending login that is not a login, `/login/2fa` completes it with a code from the authenticator
 * app or a recovery code, and every wrong code spends from the failure budget passwords use. Codes
 * are computed here from the secret in the `otpauth://` URI the setup page showed, at the app's time.
 */
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NO_PENDING_LOGIN } from "../src/web/routes-mfa.js";
import { FRAMEWORKS, flashes, PASSWORD, TestBrowser } from "./helpers.js";
import {
  type ClockedApp,
  passwordStep,
  startClockedApp,
  totpCodeAt,
  userWithTotp,
  wrongCodeAt,
} from "./mfa-support.js";

describe("the tests' own TOTP", () => {
  it("gives RFC 6238's SHA-1 test vectors (last 6 digits)", () => {
    const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // "12345678901234567890"
    expect(totpCodeAt(secret, 59_000)).toBe("287082");
    expect(totpCodeAt(secret, 1_111_111_109_000)).toBe("081804");
    expect(totpCodeAt(secret, 20_000_000_000_000)).toBe("353130");
  });
});

describe.each(FRAMEWORKS)("%s", (framework) => {
  let clocked: ClockedApp;
  /** Three failures lock (the default is five), as in password-budget.test.ts. */
  const overrides = {
    manager: { rememberMe: { raceGraceSeconds: 0 }, throttle: { maxAccountFailures: 3 } },
  };
  beforeAll(async () => {
    clocked = await startClockedApp(framework, { overrides });
  });
  afterAll(async () => {
    await clocked.app.close();
  });
  const code = (secret: string, atMs = clocked.now()) => totpCodeAt(secret, atMs);

  it("[A5 6.3.3] sends the right password to /login/2fa (keeping next) and leaves /protected anonymous until the code", async () => {
    const { username, secret, browser } = await userWithTotp(clocked, "otp");
    const first = await passwordStep(browser, username, { next: "/protected?tab=1" });
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe("/login/2fa?next=%2Fprotected%3Ftab%3D1");
    // Not logged in yet: guards and pages see a visitor.
    const guarded = await browser.get("/protected");
    expect(guarded.status).toBe(302);
    expect(guarded.headers.location).toBe("/login?next=%2Fprotected");
    expect((await browser.get("/")).text).toContain("Hello, stranger!");
    expect((await browser.get("/account")).status).toBe(302);

    const form = await browser.get("/login/2fa?next=%2Fprotected%3Ftab%3D1");
    expect(form.status).toBe(200);
    expect(form.text).toContain('name="code"');
    expect(form.text).toContain('autocomplete="one-time-code"');
    expect(form.text).toContain('name="recovery_code"');
    expect(form.text).toContain('name="next" value="/protected?tab=1"');

    const second = await browser.post("/login/2fa", { code: code(secret), next: "/protected?tab=1" });
    expect(second.status).toBe(303);
    expect(second.headers.location).toBe("/protected?tab=1");
    const page = await browser.get("/protected");
    expect(page.status).toBe(200);
    expect(page.text).toContain("Protected Route");
    expect(page.text).toContain("<dd data-auth-methods>password + authenticator app code</dd>");
  });

  it("drops an unsafe next on the way to the second step", async () => {
    const { username, secret, browser } = await userWithTotp(clocked, "next");
    const first = await passwordStep(browser, username, { next: "//evil.example" });
    expect(first.headers.location).toBe("/login/2fa");
    const second = await browser.post("/login/2fa", { code: code(secret), next: "https://evil.example/" });
    expect(second.headers.location).toBe("/");
  });

  it("[A5 7.2.4] gives a new session id when the second step completes; the old one is dead", async () => {
    const { username, secret, browser } = await userWithTotp(clocked, "rotate");
    // Logged in as someone else first: a session cookie the login must replace.
    await browser.registerAndLogin(`${username}x`);
    const before = browser.cookies.get("session")?.value;
    expect(before).toBeDefined();
    await passwordStep(browser, username);
    expect((await browser.post("/login/2fa", { code: code(secret) })).status).toBe(303);
    const after = browser.cookies.get("session")?.value;
    expect(after).toBeDefined();
    expect(after).not.toBe(before);
    const replay = await request(clocked.app.baseUrl).get("/protected").set("cookie", `session=${before}`);
    expect(replay.status).toBe(302);
    expect((await browser.get("/protected")).text).toContain(`<strong class="username">${username}</strong>`);
  });

  it("[A5 6.5.1] refuses a code used once already (replay), and takes the next step's code", async () => {
    const { username, secret, browser } = await userWithTotp(clocked, "replay");
    await passwordStep(browser, username);
    const used = code(secret);
    expect((await browser.post("/login/2fa", { code: used })).status).toBe(303);
    await browser.post("/logout");

    const thief = new TestBrowser(clocked.app.baseUrl);
    await passwordStep(thief, username);
    const replayed = await thief.post("/login/2fa", { code: used });
    expect(replayed.status).toBe(401);
    expect(replayed.text).toContain("That code is not right.");
    expect((await thief.get("/protected")).status).toBe(302);
    clocked.nextStep();
    expect((await thief.post("/login/2fa", { code: code(secret) })).status).toBe(303);
  });

  it("[A5 6.5.5] refuses the code of two steps ago (a minute old)", async () => {
    const { username, secret, browser } = await userWithTotp(clocked, "stale");
    await passwordStep(browser, username);
    expect((await browser.post("/login/2fa", { code: code(secret, clocked.now() - 60_000) })).status).toBe(
      401,
    );
  });

  it("[A5 6.5.1] logs in with a recovery code once; the same code is refused the second time", async () => {
    const { username, recoveryCodes, browser } = await userWithTotp(clocked, "rc");
    const recoveryCode = recoveryCodes[0] as string;
    await passwordStep(browser, username);
    const used = await browser.post("/login/2fa", { recovery_code: recoveryCode });
    expect(used.status).toBe(303);
    expect(flashes((await browser.get("/")).text)).toEqual([
      "You used a recovery code; 9 left.",
      "Logged in successfully.",
    ]);
    expect((await browser.get("/account")).text).toContain("9 of 10 recovery codes left.");
    expect((await browser.get("/protected")).text).toContain("password + recovery code");
    const userId = (await clocked.app.services.users.findByKey(username))?.getId();
    const logged = clocked.app
      .logEntries()
      .filter((entry) => entry.event === "mfa.recovery-code-used" && entry.userId === userId);
    expect(logged).toEqual([expect.objectContaining({ outcome: "success", remaining: 9, ip: "127.0.0.1" })]);
    expect(clocked.app.logText()).not.toContain(recoveryCode);
    await browser.post("/logout");

    const again = new TestBrowser(clocked.app.baseUrl);
    await passwordStep(again, username);
    const refused = await again.post("/login/2fa", { recovery_code: recoveryCode });
    expect(refused.status).toBe(401);
    expect((await again.get("/protected")).status).toBe(302);
    // Another of the codes still works.
    expect((await again.post("/login/2fa", { recovery_code: recoveryCodes[1] as string })).status).toBe(303);
  });

  it("[A5 6.3.1] [A5 6.6.3] counts wrong codes in the password budget: a wrong password, the pending password step and a wrong code lock with 429 and Retry-After", async () => {
    const { username, secret, browser } = await userWithTotp(clocked, "budget");
    expect((await new TestBrowser(clocked.app.baseUrl).login(username, "not the password")).status).toBe(401);
    // The right password does not give the budget back: its attempt stays counted until the second
    // step succeeds, so re-typing the password buys no extra guesses at the code.
    expect((await passwordStep(browser, username)).headers.location).toBe("/login/2fa");
    const wrong = wrongCodeAt(secret, clocked.now());
    const locking = await browser.post("/login/2fa", { code: wrong });
    expect(locking.status).toBe(429);
    expect(locking.headers["retry-after"]).toBe("30");
    expect(locking.text).toContain("Too many failed attempts.");
    // During the lock even the right code is refused, and so is the right password.
    const right = await browser.post("/login/2fa", { code: code(secret) });
    expect(right.status).toBe(429);
    expect(Number(right.headers["retry-after"])).toBeGreaterThan(0);
    expect((await browser.get("/protected")).status).toBe(302);
    expect((await new TestBrowser(clocked.app.baseUrl).login(username)).status).toBe(429);

    // Once the lock is over, the right code completes the login and the budget is whole again.
    clocked.advance(31_000);
    expect((await browser.post("/login/2fa", { code: code(secret) })).status).toBe(303);
    await browser.post("/logout");
    await passwordStep(browser, username);
    expect((await browser.post("/login/2fa", { code: wrongCodeAt(secret, clocked.now()) })).status).toBe(401);

    const failures = clocked.app
      .logEntries()
      .filter((entry) => entry.event === "mfa.failure" && entry.factor === "totp");
    expect(failures.map((entry) => entry.reason)).toEqual(expect.arrayContaining(["wrong-code", "locked"]));
    // Never a code or the secret in the log.
    expect(clocked.app.logText()).not.toContain(secret);
    expect(clocked.app.logText()).not.toMatch(new RegExp(`"${wrong}"|"${code(secret)}"`));
  });

  it("[A5 6.6.2] completes only the browser's own pending login: a right code elsewhere goes to /login", async () => {
    const { username, secret, browser } = await userWithTotp(clocked, "bound");
    await passwordStep(browser, username);
    const other = new TestBrowser(clocked.app.baseUrl);
    await other.get("/login");
    const elsewhere = await other.post("/login/2fa", { code: code(secret) });
    expect(elsewhere.status).toBe(303);
    expect(elsewhere.headers.location).toBe("/login");
    expect(flashes((await other.get("/login")).text)).toEqual([NO_PENDING_LOGIN]);
    // The code was not spent there: the browser that typed the password completes with it.
    expect((await browser.post("/login/2fa", { code: code(secret) })).status).toBe(303);
  });

  it("answers /login/2fa without a pending login with 303 /login and a flash", async () => {
    const browser = new TestBrowser(clocked.app.baseUrl);
    const page = await browser.get("/login/2fa");
    expect(page.status).toBe(303);
    expect(page.headers.location).toBe("/login");
    expect(flashes((await browser.get("/login")).text)).toEqual([NO_PENDING_LOGIN]);
  });

  it("forgets the pending login after five minutes", async () => {
    const { username, secret, browser } = await userWithTotp(clocked, "late");
    await passwordStep(browser, username);
    clocked.advance(301_000);
    const late = await browser.post("/login/2fa", { code: code(secret) });
    expect(late.status).toBe(303);
    expect(late.headers.location).toBe("/login");
    expect((await browser.get("/protected")).status).toBe(302);
  });

  it("cancels the pending login", async () => {
    const { username, secret, browser } = await userWithTotp(clocked, "cancel");
    await passwordStep(browser, username);
    const cancelled = await browser.post("/login/2fa/cancel");
    expect(cancelled.status).toBe(303);
    expect(cancelled.headers.location).toBe("/login");
    expect((await browser.post("/login/2fa", { code: code(secret) })).headers.location).toBe("/login");
  });

  it("refuses an empty code with 400, spending nothing", async () => {
    const { username, browser } = await userWithTotp(clocked, "empty");
    await passwordStep(browser, username);
    const empty = await browser.post("/login/2fa", { code: "  " });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain("Enter the code from your authenticator app.");
  });

  it("honours remember-me chosen at the password step once the second step completes", async () => {
    const { username, secret, browser } = await userWithTotp(clocked, "remember");
    await passwordStep(browser, username, { remember: "1" });
    expect(browser.cookies.has("remember_token")).toBe(false);
    expect((await browser.post("/login/2fa", { code: code(secret) })).status).toBe(303);
    expect(browser.cookies.get("remember_token")?.persistent).toBe(true);
    browser.closeBrowser();
    const restored = await browser.get("/protected");
    expect(restored.status).toBe(200);
    expect(restored.text).toContain("Restored from your remember-me cookie");

    clocked.nextStep();
    const forgetful = new TestBrowser(clocked.app.baseUrl);
    await passwordStep(forgetful, username);
    await forgetful.post("/login/2fa", { code: code(secret) });
    expect(forgetful.cookies.has("remember_token")).toBe(false);
  });

  it("asks for the password and a code at /reauth; either wrong is 401, both right make the login fresh", async () => {
    const { username, secret, browser } = await userWithTotp(clocked, "reauth");
    await passwordStep(browser, username, { remember: "1" });
    await browser.post("/login/2fa", { code: code(secret) });
    browser.closeBrowser();
    const form = await browser.get("/reauth?next=%2Faccount");
    expect(form.text).toContain('name="password"');
    expect(form.text).toContain('name="code"');
    expect((await browser.post("/reauth", { password: PASSWORD, next: "/account" })).status).toBe(400);
    clocked.nextStep();
    expect((await browser.post("/reauth", { password: "wrong password", code: code(secret) })).status).toBe(
      401,
    );
    const wrongCode = wrongCodeAt(secret, clocked.now());
    expect((await browser.post("/reauth", { password: PASSWORD, code: wrongCode })).status).toBe(401);
    const right = await browser.post("/reauth", { password: PASSWORD, code: code(secret), next: "/account" });
    expect(right.status).toBe(303);
    expect(right.headers.location).toBe("/account");
    // Fresh now: a change that needs a fresh login goes through.
    expect((await browser.post("/account/2fa/recovery-codes")).status).toBe(200);
    expect((await browser.get("/protected")).text).toContain("password + authenticator app code");
  });

  it("takes a recovery code at /reauth and records it as one, not as an app code", async () => {
    const { username, secret, recoveryCodes, browser } = await userWithTotp(clocked, "reauth-rc");
    await passwordStep(browser, username, { remember: "1" });
    await browser.post("/login/2fa", { code: code(secret) });
    browser.closeBrowser();
    await browser.get("/reauth?next=%2Faccount");
    const right = await browser.post("/reauth", {
      password: PASSWORD,
      code: recoveryCodes[0] as string,
      next: "/account",
    });
    expect(right.status).toBe(303);
    expect((await browser.get("/protected")).text).toContain("password + recovery code");
    clocked.nextStep();
    browser.closeBrowser();
    await browser.get("/reauth?next=%2Faccount");
    const again = await browser.post("/reauth", {
      password: PASSWORD,
      code: recoveryCodes[0] as string,
      next: "/account",
    });
    expect(again.status).toBe(401);
  });
});
