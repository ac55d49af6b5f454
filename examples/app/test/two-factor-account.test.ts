/**
 * Two-step verification on the account page (issue 18) on Express, Fastify and Hono: turning TOTP on
 * (QR code and `otpauth://` URI, then the first code, then ten recovery codes shown once), new
 * recovery codes, and turning it off with a code, which mails the user through a real SMTP server.
 * Every change needs a fresh login.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { NOTIFICATION_SUBJECTS } from "../src/domain/notifier.js";
import { FRAMEWORKS, flashes, PASSWORD, TestBrowser } from "./helpers.js";
import { type MailApp, newUser, nextMail, startMailApp } from "./mail-support.js";
import {
  type ClockedApp,
  enrolTotp,
  otpauthUriIn,
  passwordStep,
  recoveryCodesIn,
  secretOf,
  totpCodeAt,
  wrongCodeAt,
} from "./mfa-support.js";

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
    clocked = {
      app: mail.app,
      now,
      advance: move,
      nextStep: () => move(30_000 - (now() % 30_000)),
    };
  });
  afterAll(async () => {
    await mail.close();
  });

  /** A new user, logged in, whose address is confirmed (notices go to confirmed addresses only). */
  async function confirmedUser(label: string) {
    const user = await newUser(mail.app, label);
    const link = await nextMail(mail.smtp, user.email, "Confirm", 0);
    const token = new URL(link.links[0] as string).searchParams.get("token") ?? "";
    await user.browser.get("/account");
    expect((await user.browser.post("/email/verify", { token })).status).toBe(303);
    return user;
  }

  it("shows two-step verification off, and sets it up: QR code, otpauth:// URI, first code, ten recovery codes", async () => {
    const { browser, username } = await newUser(mail.app, "setup");
    const account = await browser.get("/account");
    expect(account.text).toMatch(/Authenticator app <span class="badge badge-pending" data-totp-status>Off/);
    expect(account.text).toContain('action="/account/2fa/totp/start"');

    const start = await browser.post("/account/2fa/totp/start");
    expect(start.status).toBe(200);
    expect(start.headers["cache-control"]).toBe("no-store");
    expect(start.text).toMatch(/<img class="qr" src="data:image\/svg\+xml;base64,[A-Za-z0-9+/=]+"/);
    const uri = otpauthUriIn(start.text);
    const url = new URL(uri);
    expect(decodeURIComponent(url.pathname)).toBe(`/login-manager demo:${username}`);
    expect(url.searchParams.get("issuer")).toBe("login-manager demo");
    const secret = secretOf(uri);
    expect(secret).toMatch(/^[A-Z2-7]{32,}$/);
    // The key is shown for typing too, in groups of four.
    expect(start.text.replaceAll(" ", "")).toContain(secret);

    // A wrong first code turns nothing on.
    const wrong = await browser.post("/account/2fa/totp/confirm", {
      code: wrongCodeAt(secret, clocked.now()),
    });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain("That code is not right.");
    expect((await browser.get("/account")).text).toContain("data-totp-status>Off");

    const confirmed = await browser.post("/account/2fa/totp/confirm", {
      code: totpCodeAt(secret, clocked.now()),
    });
    expect(confirmed.status).toBe(200);
    const codes = recoveryCodesIn(confirmed.text);
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    const after = await browser.get("/account");
    expect(after.text).toContain("data-totp-status>On");
    expect(after.text).toContain("10 of 10 recovery codes left.");
    // Shown once: no page shows them again.
    expect(recoveryCodesIn(after.text)).toEqual([]);
    expect(after.text).not.toContain(codes[0] as string);

    const logged = mail.app.logEntries().filter((entry) => entry.event === "mfa.enabled");
    expect(logged.at(-1)).toMatchObject({ kind: "security", outcome: "success", username });
    for (const secretValue of [secret, ...codes]) expect(mail.app.logText()).not.toContain(secretValue);
    clocked.nextStep();
  });

  it("[A5 7.5.1] needs a fresh login for every change: a remembered session is sent to /reauth", async () => {
    const { username } = await newUser(mail.app, "stale");
    const phone = new TestBrowser(mail.app.baseUrl);
    await phone.login(username, PASSWORD, true);
    phone.closeBrowser();
    await phone.get("/account");
    for (const path of [
      "/account/2fa/totp/start",
      "/account/2fa/totp/confirm",
      "/account/2fa/totp/disable",
      "/account/2fa/recovery-codes",
      "/account/passkeys/rename",
      "/account/passkeys/remove",
    ]) {
      const refused = await phone.post(path, { code: "123456", id: "AAAA", label: "x" });
      expect({ path, status: refused.status }).toEqual({ path, status: 302 });
      expect(refused.headers.location).toBe(`/reauth?next=${encodeURIComponent(path)}`);
    }
  });

  it("makes new recovery codes: the old ones stop working, the new ones log in", async () => {
    const { browser, username } = await newUser(mail.app, "regen");
    const enrolled = await enrolTotp(browser, clocked);
    const fresh = await browser.post("/account/2fa/recovery-codes");
    expect(fresh.status).toBe(200);
    const codes = recoveryCodesIn(fresh.text);
    expect(codes).toHaveLength(10);
    expect(codes.filter((code) => enrolled.recoveryCodes.includes(code))).toEqual([]);
    expect(mail.app.logEntries().some((entry) => entry.event === "mfa.recovery-codes")).toBe(true);
    await browser.post("/logout");

    const other = new TestBrowser(mail.app.baseUrl);
    await passwordStep(other, username);
    expect(
      (await other.post("/login/2fa", { recovery_code: enrolled.recoveryCodes[0] as string })).status,
    ).toBe(401);
    expect((await other.post("/login/2fa", { recovery_code: codes[0] as string })).status).toBe(303);
  });

  it("[A5 6.3.7] turns TOTP off only with a code, and mails the user", async () => {
    const { browser, username, email } = await confirmedUser("off");
    const { secret } = await enrolTotp(browser, clocked);
    await browser.get("/account");
    const empty = await browser.post("/account/2fa/totp/disable", { code: "" });
    expect(empty.status).toBe(400);
    expect(empty.text).toContain("Enter a code to turn it off.");
    const wrong = await browser.post("/account/2fa/totp/disable", {
      code: wrongCodeAt(secret, clocked.now()),
    });
    expect(wrong.status).toBe(400);
    expect(wrong.text).toContain("That code is not right.");
    expect(wrong.text).toContain("data-totp-status>On");

    const seen = mail.smtp.mailsTo(email).length;
    const off = await browser.post("/account/2fa/totp/disable", { code: totpCodeAt(secret, clocked.now()) });
    expect(off.status).toBe(303);
    expect(off.headers.location).toBe("/account");
    const account = await browser.get("/account");
    expect(flashes(account.text)).toEqual(["Two-step verification is off. We sent you a mail about it."]);
    expect(account.text).toContain("data-totp-status>Off");
    const notice = await nextMail(mail.smtp, email, NOTIFICATION_SUBJECTS["mfa.disabled"], seen);
    expect(notice.recipients).toEqual([email]);
    expect(notice.text).toContain("turned off");
    expect(
      mail.app
        .logEntries()
        .filter((entry) => entry.event === "mfa.disabled")
        .at(-1),
    ).toMatchObject({
      outcome: "success",
      username,
    });
    // A password alone logs in again.
    await browser.post("/logout");
    const again = await new TestBrowser(mail.app.baseUrl).login(username);
    expect(again.status).toBe(303);
    expect(again.headers.location).toBe("/");
  });

  it("turns TOTP off with a recovery code too, logging its use", async () => {
    const { browser, username } = await newUser(mail.app, "offrc");
    const { recoveryCodes } = await enrolTotp(browser, clocked);
    await browser.get("/account");
    const off = await browser.post("/account/2fa/totp/disable", { code: recoveryCodes[3] as string });
    expect(off.status).toBe(303);
    expect((await browser.get("/account")).text).toContain("data-totp-status>Off");
    const userId = (await mail.app.services.users.findByKey(username))?.getId();
    expect(
      mail.app
        .logEntries()
        .filter((entry) => entry.event === "mfa.recovery-code-used" && entry.userId === userId),
    ).toEqual([expect.objectContaining({ remaining: 9 })]);
  });

  it("[A5 6.3.1] counts wrong codes at the turn-off form in the account's budget; the lock logs the session out", async () => {
    const { browser, username } = await newUser(mail.app, "offlock");
    const { secret } = await enrolTotp(browser, clocked);
    await browser.get("/account");
    const wrong = wrongCodeAt(secret, clocked.now());
    let last = await browser.post("/account/2fa/totp/disable", { code: wrong });
    for (let attempt = 1; attempt < 10 && last.status === 400; attempt++) {
      last = await browser.post("/account/2fa/totp/disable", { code: wrong });
    }
    expect(last.status).toBe(303);
    expect(last.headers.location).toBe("/login");
    expect((await browser.get("/protected")).status).toBe(302);
    expect((await new TestBrowser(mail.app.baseUrl).login(username)).status).toBe(429);
  });
});
