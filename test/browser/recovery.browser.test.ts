import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../../examples/app/test/helpers.js";
import { TestMailServer } from "../../examples/app/test/mail-server.js";

const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) {
  const message = `\n\n!!! ${CHROMIUM} is missing: the browser tests are SKIPPED. Install it with \`apt-get install -y chromium\`. !!!\n`;
  if (process.env.REQUIRE_SERVICES === "1")
    throw new Error(`${message}(REQUIRE_SERVICES=1 makes this a failure)`);
  console.warn(message);
}

const USERNAME = "forgetful_fred";
const EMAIL = "fred@example.com";
const PASSWORD = "a password I will forget";
const NEW_PASSWORD = "one I will remember 2027";

// Issue 17: a person who forgot the password gets back in through a mailed link (a real SMTP server
// on loopback), and the browser still logged in elsewhere is logged out by the reset.
describe.skipIf(!available)("password reset in a real browser", () => {
  let app: TestApp;
  let smtp: TestMailServer;
  let browser: Browser;
  const problems: string[] = [];

  async function open(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    page.on("console", (message) => {
      // The wrong-password login (401) and the used link (400) fail on purpose; anything else (a CSP
      // violation) is a problem.
      const expected = /^Failed to load resource: the server responded with a status of 40[01]/.test(
        message.text(),
      );
      if ((message.type() === "error" || message.type() === "warning") && !expected)
        problems.push(message.text());
    });
    page.on("pageerror", (error) => problems.push(error.message));
    return page;
  }

  async function logIn(page: Page, password: string, remember = false): Promise<void> {
    await page.goto(`${app.baseUrl}/login`);
    await page.getByLabel("Username").fill(USERNAME);
    await page.getByLabel("Password").fill(password);
    if (remember) await page.getByLabel("Remember me on this device").check();
    await page.getByRole("button", { name: "Log in" }).click();
  }

  beforeAll(async () => {
    smtp = await TestMailServer.start();
    app = await startTestApp({ env: { SMTP_URL: smtp.url } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
    await smtp?.close();
  });

  it("forgets the password, opens the mailed link, resets it, and finds the other browser logged out", async () => {
    // On the laptop: register and stay logged in, remembered.
    const laptop = await browser.newContext();
    const laptopPage = await open(laptop);
    await laptopPage.goto(`${app.baseUrl}/register`);
    await laptopPage.getByLabel("Username").fill(USERNAME);
    await laptopPage.getByLabel("E-mail address").fill(EMAIL);
    await laptopPage.getByLabel("Password").fill(PASSWORD);
    await laptopPage.getByRole("button", { name: "Create account" }).click();
    await laptopPage.waitForURL("**/login");
    await logIn(laptopPage, PASSWORD, true);
    await laptopPage.waitForURL(`${app.baseUrl}/`);
    expect(await laptopPage.locator("h1").textContent()).toBe(`Hello, ${USERNAME}!`);

    // On the phone: the password is forgotten.
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
    const page = await open(phone);
    await logIn(page, "what was it again");
    expect(await page.locator(".form-error").textContent()).toBe("Invalid username or password.");
    await page.getByRole("link", { name: "Forgot your password?" }).click();
    await page.waitForURL("**/password/forgot");
    await page.getByLabel("E-mail address").fill(EMAIL);
    await page.getByRole("button", { name: "Send the link" }).click();
    expect(await page.locator("h1").textContent()).toBe("Check your inbox");

    // The mail arrives through SMTP; its one link is built from the app's base URL.
    const mail = await smtp.waitFor((sent) => sent.subject === "Reset your login-manager demo password");
    expect(mail.recipients).toEqual([EMAIL]);
    expect(mail.links).toHaveLength(1);
    const link = mail.links[0] as string;
    expect(link.startsWith(`${app.baseUrl}/password/reset?token=`)).toBe(true);

    // Opening it shows the form (no Referer leaves the page), and the new password is saved.
    const opened = await page.goto(link);
    expect(opened?.status()).toBe(200);
    expect(opened?.headers()["referrer-policy"]).toBe("no-referrer");
    expect(await page.locator("h1").textContent()).toBe("Choose a new password");
    await page.getByLabel("New password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Save the new password" }).click();
    await page.waitForURL("**/login");
    expect(await page.locator(".flash").textContent()).toContain("Your password was changed");

    // The link is used up.
    expect((await page.goto(link))?.status()).toBe(400);
    expect(await page.locator("h1").textContent()).toBe("This link no longer works");

    // The new password works.
    await logIn(page, NEW_PASSWORD);
    await page.waitForURL(`${app.baseUrl}/`);
    expect(await page.locator("h1").textContent()).toBe(`Hello, ${USERNAME}!`);

    // The laptop was logged out by the reset: its session and its remember-me cookie are dead.
    await laptopPage.goto(`${app.baseUrl}/protected`);
    expect(new URL(laptopPage.url()).pathname).toBe("/login");
    expect(await laptopPage.locator(".user-chip").count()).toBe(0);

    // And the "password changed" notice reached the (now confirmed) address.
    const notice = await smtp.waitFor((sent) => sent.subject.startsWith("Your password was changed"));
    expect(notice.recipients).toEqual([EMAIL]);

    await laptop.close();
    await phone.close();
    expect(problems).toEqual([]);
  });
});
