/**
 * "Forgot your password?" over HTTP on every framework, with mail through a real SMTP server
 * (issue 17, ASVS V6.4): the same answer whether or not an account exists, limits, links built from
 * APP_BASE_URL that expire, work once and are not used by a GET, and a reset that ends every session.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FRAMEWORKS, flashes, IPHONE, PASSWORD, TestBrowser } from "./helpers.js";
import {
  linkIn,
  type MailApp,
  newUser,
  nextMail,
  PUBLIC_ORIGIN,
  startMailApp,
  tokenOf,
} from "./mail-support.js";

const NEW_PASSWORD = "a fresh start for 2027";
const RESET = "Reset your login-manager demo password";

describe.each(FRAMEWORKS)("%s", (framework) => {
  let mail: MailApp;
  beforeAll(async () => {
    mail = await startMailApp(framework);
  });
  afterAll(async () => {
    await mail.close();
  });

  /** Asks for a reset link for `email` from a new browser; resolves the answer. */
  async function forgot(email: string, headers: Record<string, string> = {}) {
    const browser = new TestBrowser(mail.app.baseUrl);
    await browser.get("/password/forgot", headers);
    return browser.post("/password/forgot", { email }, headers);
  }

  /** Asks for a reset link for `email` and resolves the path of the link mailed. */
  async function resetLink(email: string): Promise<string> {
    const seen = mail.smtp.mailsTo(email).length;
    expect((await forgot(email)).status).toBe(200);
    return linkIn(await nextMail(mail.smtp, email, RESET, seen), "/password/reset");
  }

  describe("GET/POST /password/forgot", () => {
    it("shows a labelled form, linked from the login page", async () => {
      const browser = new TestBrowser(mail.app.baseUrl);
      expect((await browser.get("/login")).text).toContain('href="/password/forgot"');
      const page = await browser.get("/password/forgot");
      expect(page.status).toBe(200);
      expect(page.text).toContain('<label for="email">');
      expect(page.text).toMatch(/type="email" value="" autocomplete="email"/);
      expect(page.text).toMatch(/name="_csrf" value="[^"]+"/);
    });

    it("[A5 6.4.1] answers an existing and an unknown address with the same page, and mails only the account", async () => {
      const { email } = await newUser(mail.app, "known");
      const unknown = "nobody-here@example.com";
      const known = await forgot(email);
      const missing = await forgot(unknown);
      expect([known.status, missing.status]).toEqual([200, 200]);
      const page = (response: { text: string }, address: string) =>
        response.text.replaceAll(address, "ADDRESS").replace(/name="_csrf" value="[^"]+"/g, "");
      expect(page(known, email)).toBe(page(missing, unknown));
      expect(known.text).toContain("If an account has the address");
      expect(Object.keys(known.headers).sort()).toEqual(Object.keys(missing.headers).sort());
      const sent = await nextMail(mail.smtp, email, RESET, 0);
      expect(sent.recipients).toEqual([email]);
      expect(sent.from).toBe('"Example Accounts" <accounts@example.test>');
      await mail.app.services.recovery.settled();
      expect(mail.smtp.mailsTo(unknown)).toEqual([]);
    });

    it("[A5 6.4.1] builds the link from APP_BASE_URL, not from the Host header, and the token appears only in it", async () => {
      const { email } = await newUser(mail.app, "host");
      const seen = mail.smtp.mailsTo(email).length;
      expect((await forgot(email, { host: "evil.example" })).status).toBe(200);
      const sent = await nextMail(mail.smtp, email, RESET, seen);
      expect(sent.links[0]).toMatch(
        new RegExp(`^${PUBLIC_ORIGIN}/password/reset\\?token=[\\w-]+\\.[\\w-]+$`),
      );
      expect(sent.raw).not.toContain("evil.example");
      const token = tokenOf(linkIn(sent, "/password/reset"));
      expect(sent.text.split(token)).toHaveLength(2);
      expect(sent.subject).not.toContain(token);
      expect(sent.text).toContain("works once, for 30 minutes");
    });

    it("refuses something that is no address with 400, without counting it as a request", async () => {
      const response = await forgot("not an address");
      expect(response.status).toBe(400);
      expect(response.text).toContain("Enter an e-mail address like name@example.com.");
    });

    it("needs the CSRF token", async () => {
      const browser = new TestBrowser(mail.app.baseUrl);
      expect((await browser.post("/password/forgot", { email: "a@example.com", _csrf: "" })).status).toBe(
        403,
      );
    });

    it("sends nothing for a disabled account, with the same page", async () => {
      const { email, username } = await newUser(mail.app, "disabled");
      const user = await mail.app.services.users.findByKey(username);
      await mail.app.services.users.setActive(user?.id ?? 0, false);
      expect((await forgot(email)).status).toBe(200);
      await mail.app.services.recovery.settled();
      expect(mail.smtp.mailsTo(email).filter((sent) => sent.subject === RESET)).toEqual([]);
    });

    it("logs each request alike, with neither the address nor the token", async () => {
      const { email } = await newUser(mail.app, "logged");
      const link = await resetLink(email);
      await forgot("nobody-logged@example.com");
      const requests = mail.app.logEntries().filter((entry) => entry.event === "password.reset-request");
      expect(requests.length).toBeGreaterThanOrEqual(2);
      for (const entry of requests)
        expect(Object.keys(entry).sort()).toEqual(["event", "ip", "kind", "level", "msg", "outcome", "time"]);
      const text = mail.app.logText();
      expect(text).not.toContain(tokenOf(link));
      expect(text).not.toContain(email);
      expect(text).toContain('"mail":"password.reset-link"');
    });
  });

  describe("GET /password/reset", () => {
    it("[A5 6.4.2] shows the form with the token hidden, sends no Referer, and does not use the link", async () => {
      const { email, username } = await newUser(mail.app, "peek");
      const link = await resetLink(email);
      const browser = new TestBrowser(mail.app.baseUrl);
      for (let visit = 0; visit < 3; visit += 1) {
        const page = await browser.get(link);
        expect(page.status).toBe(200);
        expect(page.headers["referrer-policy"]).toBe("no-referrer");
        expect(page.headers["cache-control"]).toBe("no-store");
        expect(page.text).toContain(`name="token" value="${tokenOf(link)}"`);
        expect(page.text).toContain(username);
      }
      expect(
        (await browser.post("/password/reset", { token: tokenOf(link), password: NEW_PASSWORD })).status,
      ).toBe(303);
    });

    it.each([
      ["no token", "/password/reset"],
      ["a malformed token", "/password/reset?token=abc"],
      ["an unknown token", "/password/reset?token=AAAAAAAAAAAAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA"],
    ])("answers %s with the 400 page offering a new link", async (_label, path) => {
      const page = await new TestBrowser(mail.app.baseUrl).get(path);
      expect(page.status).toBe(400);
      expect(page.headers["referrer-policy"]).toBe("no-referrer");
      expect(page.text).toContain("This link no longer works");
      expect(page.text).toContain('href="/password/forgot"');
    });

    it("[A5 6.4.2] answers an expired link with 400 (RESET_TOKEN_TTL_SECONDS, 30 minutes)", async () => {
      const { email } = await newUser(mail.app, "expiry");
      const link = await resetLink(email);
      const browser = new TestBrowser(mail.app.baseUrl);
      try {
        mail.skew(29 * 60_000);
        expect((await browser.get(link)).status).toBe(200);
        mail.skew(31 * 60_000);
        expect((await browser.get(link)).status).toBe(400);
        expect(
          (await browser.post("/password/reset", { token: tokenOf(link), password: NEW_PASSWORD })).status,
        ).toBe(400);
      } finally {
        mail.skew(0);
      }
    });

    it("voids an earlier link when a newer one is asked for", async () => {
      const { email } = await newUser(mail.app, "newer");
      const first = await resetLink(email);
      const second = await resetLink(email);
      const browser = new TestBrowser(mail.app.baseUrl);
      expect((await browser.get(first)).status).toBe(400);
      expect((await browser.get(second)).status).toBe(200);
    });

    it("[A5 6.4.2] voids the link when the password is changed on the account page", async () => {
      const { browser, email } = await newUser(mail.app, "changer");
      const link = await resetLink(email);
      await browser.get("/account");
      const changed = await browser.post("/account/password", {
        current_password: PASSWORD,
        new_password: NEW_PASSWORD,
      });
      expect(changed.status).toBe(303);
      expect((await new TestBrowser(mail.app.baseUrl).get(link)).status).toBe(400);
    });
  });

  describe("POST /password/reset", () => {
    it("[A5 6.4.3] changes the password, ends every session and remember-me token, mails a notice, marks the address verified, 303 /login", async () => {
      const { browser: laptop, username, email } = await newUser(mail.app, "resetter");
      const phone = new TestBrowser(mail.app.baseUrl, IPHONE);
      expect((await phone.login(username, PASSWORD, true)).status).toBe(303);
      expect((await mail.app.services.users.findByKey(username))?.emailVerified).toBe(false);
      const link = await resetLink(email);
      const stranger = new TestBrowser(mail.app.baseUrl);
      await stranger.get(link);
      const seen = mail.smtp.mailsTo(email).length;
      const done = await stranger.post("/password/reset", { token: tokenOf(link), password: NEW_PASSWORD });
      expect(done.status).toBe(303);
      expect(done.headers.location).toBe("/login");
      expect(flashes((await stranger.get("/login")).text)).toEqual([
        "Your password was changed, and every session was logged out. Log in with the new password.",
      ]);
      // Every session ended, the remembered phone too (even without its session cookie).
      expect((await laptop.get("/protected")).headers.location).toBe("/login?next=%2Fprotected");
      phone.closeBrowser();
      expect((await phone.get("/protected")).headers.location).toBe("/login?next=%2Fprotected");
      // The old password is gone, the new one works.
      expect((await new TestBrowser(mail.app.baseUrl).login(username, PASSWORD)).status).toBe(401);
      expect((await new TestBrowser(mail.app.baseUrl).login(username, NEW_PASSWORD)).status).toBe(303);
      expect((await mail.app.services.users.findByKey(username))?.emailVerified).toBe(true);
      const notice = await nextMail(mail.smtp, email, "Your password was changed", seen);
      expect(notice.text).toContain("Your password was reset with a link sent to this address");
      expect(notice.links).toEqual([]);
      const revoked = mail.app
        .logEntries()
        .find((entry) => entry.event === "sessions.revoked" && entry.reason === "password-reset");
      expect(revoked).toBeDefined();
      expect(
        mail.app
          .logEntries()
          .some((entry) => entry.event === "password.reset" && entry.username === username),
      ).toBe(true);
    });

    it("[A5 6.4.2] works once: the same link again is the 400 page", async () => {
      const { email } = await newUser(mail.app, "once");
      const link = await resetLink(email);
      const browser = new TestBrowser(mail.app.baseUrl);
      await browser.get(link);
      expect(
        (await browser.post("/password/reset", { token: tokenOf(link), password: NEW_PASSWORD })).status,
      ).toBe(303);
      const again = await browser.post("/password/reset", {
        token: tokenOf(link),
        password: "yet another one 2028",
      });
      expect(again.status).toBe(400);
      expect(again.text).toContain('href="/password/forgot"');
      expect((await browser.get(link)).status).toBe(400);
    });

    it.each([
      ["short", "at least 8"],
      ["password123", "10,000 most common passwords"],
    ])("applies the password policy (%j) and keeps the link usable", async (password, message) => {
      const { email, username } = await newUser(mail.app, "policy");
      const link = await resetLink(email);
      const browser = new TestBrowser(mail.app.baseUrl);
      await browser.get(link);
      const refused = await browser.post("/password/reset", { token: tokenOf(link), password });
      expect(refused.status).toBe(400);
      expect(refused.text).toContain(message);
      expect(refused.text).toContain(`name="token" value="${tokenOf(link)}"`);
      expect(
        (
          await browser.post("/password/reset", {
            token: tokenOf(link),
            password: `${username} is not in it`,
          })
        ).status,
      ).toBe(400);
      expect(
        (await browser.post("/password/reset", { token: tokenOf(link), password: NEW_PASSWORD })).status,
      ).toBe(303);
    });

    it("needs the CSRF token, and a refused post leaves the link usable", async () => {
      const { email } = await newUser(mail.app, "csrf");
      const link = await resetLink(email);
      const browser = new TestBrowser(mail.app.baseUrl);
      await browser.get(link);
      expect(
        (await browser.post("/password/reset", { token: tokenOf(link), password: NEW_PASSWORD, _csrf: "" }))
          .status,
      ).toBe(403);
      expect((await browser.get(link)).status).toBe(200);
    });
  });

  describe("when the mail server refuses", () => {
    it("still answers the same page, and logs the failure by code only", async () => {
      const { email } = await newUser(mail.app, "bounce");
      mail.smtp.refusing = true;
      try {
        expect((await forgot(email)).status).toBe(200);
        await mail.app.services.recovery.settled();
      } finally {
        mail.smtp.refusing = false;
      }
      const failed = mail.app
        .logEntries()
        .filter((entry) => entry.kind === "mail" && entry.outcome === "failed");
      expect(failed.at(-1)).toMatchObject({ mail: "password.reset-link", responseCode: 550, level: "warn" });
      expect(JSON.stringify(failed)).not.toContain(email);
    });
  });
});

describe.each(FRAMEWORKS)("%s, limits", (framework) => {
  let mail: MailApp;
  beforeAll(async () => {
    mail = await startMailApp(framework, {
      limits: { perAccount: 2, perAddress: 3 },
      env: { TRUST_PROXY: "1" },
    });
  });
  afterAll(async () => {
    await mail.close();
  });

  async function forgotFrom(address: string, email: string) {
    const browser = new TestBrowser(mail.app.baseUrl);
    const headers = { "x-forwarded-for": address };
    await browser.get("/password/forgot", headers);
    return browser.post("/password/forgot", { email }, headers);
  }

  it("[A5 6.4.1] answers 429 with Retry-After past the limit per address typed, alike for an unknown address", async () => {
    const { email } = await newUser(mail.app, "limited");
    for (const typed of [email, "no-such-person@example.com"]) {
      expect((await forgotFrom("198.51.100.1", typed)).status).toBe(200);
      expect((await forgotFrom("198.51.100.2", typed.toUpperCase())).status).toBe(200);
      const refused = await forgotFrom("198.51.100.3", typed);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers["retry-after"])).toBeGreaterThan(0);
      expect(refused.text).toContain("Too many reset requests");
    }
    await mail.app.services.recovery.settled();
    expect(mail.smtp.mailsTo(email).filter((sent) => sent.subject === RESET)).toHaveLength(2);
  });

  it("answers 429 past the limit per client address", async () => {
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      expect((await forgotFrom("203.0.113.7", `person${attempt}@example.com`)).status).toBe(200);
    }
    const refused = await forgotFrom("203.0.113.7", "person4@example.com");
    expect(refused.status).toBe(429);
    expect(refused.headers["retry-after"]).toMatch(/^\d+$/);
    expect(
      mail.app
        .logEntries()
        .some((entry) => entry.event === "password.reset-request" && entry.outcome === "blocked"),
    ).toBe(true);
  });
});
