/**
 * A password reset and two-step verification (issues 17 and 18) on Express, Fastify and Hono: the
 * reset goes through the real mail flow (an SMTP server on loopback), and the new password then
 * opens nothing without the second factor, which the reset leaves exactly as it was.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FRAMEWORKS, flashes, TestBrowser } from "./helpers.js";
import { linkIn, type MailApp, newUser, nextMail, startMailApp, tokenOf } from "./mail-support.js";
import { type ClockedApp, enrolTotp, passwordStep, totpCodeAt } from "./mfa-support.js";

const NEW_PASSWORD = "a fresh start for 2027";
const RESET = "Reset your login-manager demo password";

describe.each(FRAMEWORKS)("%s", (framework) => {
  let mail: MailApp;
  let clocked: ClockedApp;
  beforeAll(async () => {
    mail = await startMailApp(framework);
    let offset = 0;
    const now = () => Date.now() + offset;
    const move = (ms: number) => {
      offset += ms;
      mail.skew(offset);
    };
    clocked = { app: mail.app, now, advance: move, nextStep: () => move(30_000 - (now() % 30_000)) };
  });
  afterAll(async () => {
    await mail.close();
  });

  /** The user's factors as the store holds them: kind and id (a recovery code's id is its hash). */
  async function storedFactors(userId: string): Promise<string[]> {
    const factors = await mail.app.services.store.listUserFactors(userId, null);
    return factors.map((factor) => `${factor.kind}:${factor.id}`).sort();
  }

  /** Asks for a reset link from a new browser and sets `password` with it; resolves that browser. */
  async function resetByMail(email: string, password: string): Promise<TestBrowser> {
    const browser = new TestBrowser(mail.app.baseUrl);
    const seen = mail.smtp.mailsTo(email).length;
    await browser.get("/password/forgot");
    expect((await browser.post("/password/forgot", { email })).status).toBe(200);
    const link = linkIn(await nextMail(mail.smtp, email, RESET, seen), "/password/reset");
    expect((await browser.get(link)).status).toBe(200);
    const done = await browser.post("/password/reset", { token: tokenOf(link), password });
    expect(done.status).toBe(303);
    expect(done.headers.location).toBe("/login");
    return browser;
  }

  it("[A5 6.4.3] [checklist L.77] a reset never bypasses TOTP: the new password lands at /login/2fa, /protected stays anonymous until a code, and TOTP and the recovery codes stay as they were", async () => {
    const { browser, username, email } = await newUser(mail.app, "resetotp");
    const { secret, recoveryCodes } = await enrolTotp(browser, clocked);
    // One recovery code spent first, so "unchanged" means 9 left (new codes would make it 10).
    await browser.post("/logout");
    await passwordStep(browser, username);
    expect((await browser.post("/login/2fa", { recovery_code: recoveryCodes[0] as string })).status).toBe(
      303,
    );
    const userId = (await mail.app.services.users.findByKey(username))?.getId() ?? "";
    const before = await storedFactors(userId);
    expect(before.filter((factor) => factor.startsWith("totp:"))).toHaveLength(1);
    expect(before.filter((factor) => factor.startsWith("recovery-code:"))).toHaveLength(9);

    const resetter = await resetByMail(email, NEW_PASSWORD);
    // The reset logged nobody in, and ended the session that was open.
    expect((await resetter.get("/protected")).status).toBe(302);
    expect((await browser.get("/protected")).status).toBe(302);
    expect(await storedFactors(userId)).toEqual(before);

    const person = new TestBrowser(mail.app.baseUrl);
    await person.get("/login");
    const first = await person.post("/login", { username, password: NEW_PASSWORD, next: "/protected" });
    expect(first.status).toBe(303);
    expect(first.headers.location).toBe("/login/2fa?next=%2Fprotected");
    const guarded = await person.get("/protected");
    expect(guarded.status).toBe(302);
    expect(guarded.headers.location).toBe("/login?next=%2Fprotected");
    expect((await person.get("/")).text).toContain("Hello, stranger!");
    expect((await person.get("/account")).status).toBe(302);

    const second = await person.post("/login/2fa", {
      code: totpCodeAt(secret, clocked.now()),
      next: "/protected",
    });
    expect(second.status).toBe(303);
    expect(second.headers.location).toBe("/protected");
    const page = await person.get("/protected");
    expect(page.status).toBe(200);
    expect(page.text).toContain("<dd data-auth-methods>password + authenticator app code</dd>");
    const account = await person.get("/account");
    expect(account.text).toContain("data-totp-status>On");
    expect(account.text).toContain("9 of 10 recovery codes left.");
    expect(await storedFactors(userId)).toEqual(before);
  });

  it("[A5 6.4.3] [checklist L.77] a recovery code from before the reset still completes a login with the new password", async () => {
    const { browser, username, email } = await newUser(mail.app, "resetrc");
    const { recoveryCodes } = await enrolTotp(browser, clocked);
    await resetByMail(email, NEW_PASSWORD);

    const person = new TestBrowser(mail.app.baseUrl);
    await person.get("/login");
    const first = await person.post("/login", { username, password: NEW_PASSWORD });
    expect(first.headers.location).toBe("/login/2fa");
    expect((await person.get("/protected")).status).toBe(302);
    const used = await person.post("/login/2fa", { recovery_code: recoveryCodes[4] as string });
    expect(used.status).toBe(303);
    // (The visit to /protected above left a "Please log in" flash waiting too.)
    expect(flashes((await person.get("/")).text)).toEqual(
      expect.arrayContaining(["You used a recovery code; 9 left.", "Logged in successfully."]),
    );
    expect((await person.get("/protected")).text).toContain("password + recovery code");
  });
});
