/**
 * The account's e-mail address over HTTP on every framework, with mail through a real SMTP server
 * (issue 17): the verification mail at registration, the confirm button (a GET changes nothing),
 * "send again" with its limits, an address change that waits for the new address, and the
 * development outbox.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { MailNotifier } from "../src/domain/notifier.js";
import {
  emailFor,
  FRAMEWORKS,
  flashes,
  PASSWORD,
  startTestApp,
  type TestApp,
  TestBrowser,
} from "./helpers.js";
import { linkIn, type MailApp, newUser, nextMail, startMailApp, tokenOf } from "./mail-support.js";

const CONFIRM = "Confirm your e-mail address";
const RESET = "Reset your login-manager demo password";

describe.each(FRAMEWORKS)("%s", (framework) => {
  let mail: MailApp;
  beforeAll(async () => {
    mail = await startMailApp(framework, { limits: { perAccount: 3, perAddress: 100_000 } });
  });
  afterAll(async () => {
    await mail.close();
  });

  /** The verification link mailed to `email` after the `seen` mails it already had. */
  async function verifyLink(email: string, seen = 0): Promise<string> {
    return linkIn(await nextMail(mail.smtp, email, CONFIRM, seen), "/email/verify");
  }

  const userOf = (username: string) => mail.app.services.users.findByKey(username);

  describe("registration", () => {
    it("takes an address, mails a link to confirm it, and shows it unconfirmed on the account page", async () => {
      const { browser, email, username } = await newUser(mail.app, "reg");
      const sent = await nextMail(mail.smtp, email, CONFIRM, 0);
      expect(sent.recipients).toEqual([email]);
      expect(sent.text).toContain(`Hello ${username},`);
      expect(sent.text).toContain("works once, for 24 hours");
      const account = await browser.get("/account");
      expect(account.text).toContain(email);
      expect(account.text).toContain("Not confirmed");
      expect(account.text).toContain('action="/account/email/resend"');
      expect(await userOf(username)).toMatchObject({ email, emailVerified: false });
    });

    it.each([
      ["", "Enter your e-mail address."],
      ["not-an-address", "Enter an e-mail address like name@example.com."],
      [`${"a".repeat(60)}@${"b".repeat(190)}.com`, "at most 254 characters"],
    ])("refuses the address %j with 400", async (email, message) => {
      const browser = new TestBrowser(mail.app.baseUrl);
      await browser.get("/register");
      const response = await browser.post("/register", { username: "noaddress", email, password: PASSWORD });
      expect(response.status).toBe(400);
      expect(response.text).toContain(message);
    });

    it("refuses an address another account has, in any case, with 409", async () => {
      const { email } = await newUser(mail.app, "first");
      const browser = new TestBrowser(mail.app.baseUrl);
      await browser.get("/register");
      const response = await browser.post("/register", {
        username: "second_owner",
        email: email.toUpperCase(),
        password: PASSWORD,
      });
      expect(response.status).toBe(409);
      expect(response.text).toContain("That e-mail address is already registered.");
      expect(await userOf("second_owner")).toBeNull();
    });
  });

  describe("GET/POST /email/verify", () => {
    it("shows a confirm button without confirming, sends no Referer, then confirms once on POST", async () => {
      const { browser, email, username } = await newUser(mail.app, "verify");
      const link = await verifyLink(email);
      const scanner = new TestBrowser(mail.app.baseUrl);
      for (let visit = 0; visit < 2; visit += 1) {
        const page = await scanner.get(link);
        expect(page.status).toBe(200);
        expect(page.headers["referrer-policy"]).toBe("no-referrer");
        expect(page.text).toContain(`name="token" value="${tokenOf(link)}"`);
        expect(page.text).toContain(email);
      }
      expect((await userOf(username))?.emailVerified).toBe(false);
      await browser.get(link);
      const confirmed = await browser.post("/email/verify", { token: tokenOf(link) });
      expect(confirmed.status).toBe(303);
      expect(confirmed.headers.location).toBe("/account");
      const account = await browser.get("/account");
      expect(flashes(account.text)).toEqual(["Your e-mail address is confirmed."]);
      expect(account.text).toContain("Confirmed");
      expect(account.text).not.toContain('action="/account/email/resend"');
      expect((await userOf(username))?.emailVerified).toBe(true);
      expect((await browser.post("/email/verify", { token: tokenOf(link) })).status).toBe(400);
      expect((await scanner.get(link)).status).toBe(400);
      expect(
        mail.app.logEntries().some((line) => line.event === "email.verify" && line.reason === "confirm"),
      ).toBe(true);
    });

    it("confirms from another browser, without a login, and sends it to the login page", async () => {
      const { email, username } = await newUser(mail.app, "elsewhere");
      const link = await verifyLink(email);
      const phone = new TestBrowser(mail.app.baseUrl);
      await phone.get(link);
      const confirmed = await phone.post("/email/verify", { token: tokenOf(link) });
      expect(confirmed.headers.location).toBe("/login");
      expect((await userOf(username))?.emailVerified).toBe(true);
    });

    it.each([
      ["no token", "/email/verify"],
      ["an unknown token", "/email/verify?token=AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA"],
    ])("answers %s with the 400 page", async (_label, path) => {
      const page = await new TestBrowser(mail.app.baseUrl).get(path);
      expect(page.status).toBe(400);
      expect(page.headers["referrer-policy"]).toBe("no-referrer");
      expect(page.text).toContain('href="/account#email"');
    });

    it("needs the CSRF token", async () => {
      const { email } = await newUser(mail.app, "verifycsrf");
      const link = await verifyLink(email);
      const browser = new TestBrowser(mail.app.baseUrl);
      await browser.get(link);
      expect((await browser.post("/email/verify", { token: tokenOf(link), _csrf: "" })).status).toBe(403);
      expect((await browser.get(link)).status).toBe(200);
    });
  });

  describe("POST /account/email/resend", () => {
    it("mails a new link (voiding the earlier one), then answers 429 with Retry-After past the limit", async () => {
      const { browser, email } = await newUser(mail.app, "resend");
      const first = await verifyLink(email);
      await browser.get("/account");
      const again = await browser.post("/account/email/resend");
      expect(again.status).toBe(303);
      expect(flashes((await browser.get("/account")).text)).toEqual([`We sent a new link to ${email}.`]);
      const second = await verifyLink(email, 1);
      expect((await browser.get(first)).status).toBe(400);
      expect((await browser.get(second)).status).toBe(200);
      expect((await browser.post("/account/email/resend")).status).toBe(303);
      const refused = await browser.post("/account/email/resend");
      expect(refused.status).toBe(429);
      expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
      expect(refused.text).toContain("Too many mails asked for.");
    });

    it("needs a login", async () => {
      const browser = new TestBrowser(mail.app.baseUrl);
      await browser.get("/login");
      expect((await browser.post("/account/email/resend")).headers.location).toBe(
        "/login?next=%2Faccount%2Femail%2Fresend",
      );
    });
  });

  describe("POST /account/email", () => {
    async function verified(label: string) {
      const user = await newUser(mail.app, label);
      const link = await verifyLink(user.email);
      await user.browser.get(link);
      expect((await user.browser.post("/email/verify", { token: tokenOf(link) })).status).toBe(303);
      return user;
    }

    it("mails a link to the new address and a notice to the current one; the change waits for the link", async () => {
      const { browser, email, username } = await verified("mover");
      const next = `moved-${username}@example.org`;
      await browser.get("/account");
      const asked = await browser.post("/account/email", { email: next });
      expect(asked.status).toBe(303);
      expect(flashes((await browser.get("/account")).text)).toEqual([
        `We sent a link to ${next}. Your address changes once you open it.`,
      ]);
      const notice = await nextMail(
        mail.smtp,
        email,
        "Your login-manager demo e-mail address is being changed",
        0,
      );
      expect(notice.text).toContain(next);
      expect(notice.links).toEqual(["https://accounts.example.test/password/forgot"]);
      const link = await verifyLink(next);
      expect(await userOf(username)).toMatchObject({ email, emailVerified: true });
      await browser.get(link);
      expect((await browser.post("/email/verify", { token: tokenOf(link) })).status).toBe(303);
      expect(flashes((await browser.get("/account")).text)).toEqual([`Your e-mail address is now ${next}.`]);
      expect(await userOf(username)).toMatchObject({ email: next, emailVerified: true });
      // The old address no longer reaches the account.
      const stranger = new TestBrowser(mail.app.baseUrl);
      await stranger.get("/password/forgot");
      expect((await stranger.post("/password/forgot", { email })).status).toBe(200);
      await mail.app.services.recovery.settled();
      expect(mail.smtp.mailsTo(email).filter((sent) => sent.subject === RESET)).toEqual([]);
    });

    it("[checklist L.73] voids a reset link mailed to the former address once the change is confirmed", async () => {
      const { browser, email, username } = await verified("resetter");
      const stranger = new TestBrowser(mail.app.baseUrl);
      await stranger.get("/password/forgot");
      expect((await stranger.post("/password/forgot", { email })).status).toBe(200);
      const reset = linkIn(await nextMail(mail.smtp, email, RESET, 0), "/password/reset");
      expect((await new TestBrowser(mail.app.baseUrl).get(reset)).status).toBe(200);
      const next = `moved-${username}@example.org`;
      await browser.get("/account");
      expect((await browser.post("/account/email", { email: next })).status).toBe(303);
      const link = await verifyLink(next);
      await browser.get(link);
      expect((await browser.post("/email/verify", { token: tokenOf(link) })).status).toBe(303);
      expect((await new TestBrowser(mail.app.baseUrl).get(reset)).status).toBe(400);
    });

    it("needs a fresh login: a remembered session is sent to /reauth", async () => {
      const { username } = await newUser(mail.app, "stale");
      const phone = new TestBrowser(mail.app.baseUrl);
      await phone.login(username, PASSWORD, true);
      phone.closeBrowser();
      await phone.get("/account");
      const response = await phone.post("/account/email", { email: "thief@example.net" });
      expect(response.status).toBe(302);
      expect(response.headers.location).toBe("/reauth?next=%2Faccount%2Femail");
      await mail.app.services.recovery.settled();
      expect(mail.smtp.mailsTo("thief@example.net")).toEqual([]);
    });

    it.each([
      ["not an address", 400, "Enter an e-mail address like name@example.com."],
      ["", 400, "Enter your e-mail address."],
    ])("refuses %j with %i", async (email, status, message) => {
      const { browser } = await newUser(mail.app, "badnew");
      await browser.get("/account");
      const response = await browser.post("/account/email", { email });
      expect(response.status).toBe(status);
      expect(response.text).toContain(message);
    });

    it("refuses the current confirmed address", async () => {
      const { browser, email } = await verified("same");
      await browser.get("/account");
      const response = await browser.post("/account/email", { email: email.toUpperCase() });
      expect(response.status).toBe(400);
      expect(response.text).toContain("That is already your address.");
    });

    it("does not say that another account has the address; confirming it then answers 409", async () => {
      const { email: taken } = await newUser(mail.app, "owner");
      const { browser, username } = await newUser(mail.app, "taker");
      await browser.get("/account");
      await verifyLink(taken); // the owner's own, at registration
      expect((await browser.post("/account/email", { email: taken })).status).toBe(303);
      const link = await verifyLink(taken, 1);
      await browser.get(link);
      const confirmed = await browser.post("/email/verify", { token: tokenOf(link) });
      expect(confirmed.status).toBe(409);
      expect(confirmed.text).toContain("That address is taken");
      expect((await userOf(username))?.email).toBe(emailFor(username));
    });
  });

  describe("security notices", () => {
    async function changePassword(browser: TestBrowser) {
      await browser.get("/account");
      const changed = await browser.post("/account/password", {
        current_password: PASSWORD,
        new_password: "a brand new passphrase",
      });
      expect(changed.status).toBe(303);
    }

    it("[A5 6.3.7] mails a password change to the confirmed address, with no secret in it", async () => {
      const { browser, email } = await newUser(mail.app, "notified");
      const link = await verifyLink(email);
      await browser.get(link);
      await browser.post("/email/verify", { token: tokenOf(link) });
      await changePassword(browser);
      const notice = await nextMail(mail.smtp, email, "Your password was changed", 1);
      expect(notice.text).toContain("Your password was changed, and every other session was logged out.");
      expect(notice.links).toEqual([]);
      expect(notice.raw).not.toMatch(/a brand new passphrase|correct horse|argon2|token=/);
    });

    it("mails nothing to an address that was never confirmed (it may be someone else's)", async () => {
      const { browser, email } = await newUser(mail.app, "unconfirmed");
      await verifyLink(email);
      await changePassword(browser);
      await (mail.app.services.notifier as MailNotifier).settled();
      expect(mail.smtp.mailsTo(email).map((sent) => sent.subject)).toEqual([
        "Confirm your e-mail address for login-manager demo",
      ]);
      const logged = mail.app.logEntries().filter((line) => line.notification === "password.changed");
      expect(logged.length).toBeGreaterThan(0);
    });
  });

  it("lets an account made before addresses add one, which counts once confirmed", async () => {
    const { db, hasher } = mail.app.services;
    db?.prepare(
      "INSERT INTO users (username, username_key, password_hash, created_at) VALUES (?, ?, ?, ?)",
    ).run("legacy", "legacy", await hasher.hash(PASSWORD), Date.now());
    const browser = new TestBrowser(mail.app.baseUrl);
    expect((await browser.login("legacy")).status).toBe(303);
    const account = await browser.get("/account");
    expect(account.text).toContain("No address yet");
    expect(account.text).toContain("Add address");
    expect((await browser.post("/account/email", { email: "legacy@example.com" })).status).toBe(303);
    const link = await verifyLink("legacy@example.com");
    await browser.get(link);
    expect((await browser.post("/email/verify", { token: tokenOf(link) })).status).toBe(303);
    expect(await userOf("legacy")).toMatchObject({ email: "legacy@example.com", emailVerified: true });
  });

  it("has no outbox page when mail goes out over SMTP", async () => {
    expect((await new TestBrowser(mail.app.baseUrl).get("/dev/outbox")).status).toBe(404);
  });
});

describe.each(FRAMEWORKS)("%s without SMTP_URL", (framework) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ framework });
  });
  afterAll(async () => {
    await app.close();
  });

  it("writes mail to DATA_DIR/outbox and lists it at /dev/outbox with its links", async () => {
    const browser = new TestBrowser(app.baseUrl);
    expect((await browser.registerAndLogin("outboxer")).status).toBe(303);
    await app.services.recovery.settled();
    const page = await browser.get("/dev/outbox");
    expect(page.status).toBe(200);
    expect(page.text).toContain(`To ${emailFor("outboxer")}`);
    expect(page.text).toContain("Confirm your e-mail address for login-manager demo");
    const link = /href="(http:\/\/127\.0\.0\.1:\d+\/email\/verify\?token=[^"]+)"/.exec(page.text)?.[1] ?? "";
    expect(link.startsWith(`${app.baseUrl}/email/verify?token=`)).toBe(true);
    expect((await browser.get(link.slice(app.baseUrl.length))).status).toBe(200);
  });
});

describe.each(FRAMEWORKS)("%s, past the limit of verification mails", (framework) => {
  let mail: MailApp;
  beforeAll(async () => {
    mail = await startMailApp(framework, { limits: { perAccount: 3, perAddress: 1 } });
  });
  afterAll(async () => {
    await mail.close();
  });

  it("still creates the account, and says where to ask for the link later", async () => {
    await newUser(mail.app, "within");
    const browser = new TestBrowser(mail.app.baseUrl);
    await browser.get("/register");
    const response = await browser.post("/register", {
      username: "beyond",
      email: emailFor("beyond"),
      password: PASSWORD,
    });
    expect(response.status).toBe(303);
    expect(flashes((await browser.get("/login")).text)).toEqual([
      "Account created for beyond. You can log in now, and ask for the link that confirms your address on your account page.",
    ]);
    await mail.app.services.recovery.settled();
    expect(mail.smtp.mailsTo(emailFor("beyond"))).toEqual([]);
  });
});
