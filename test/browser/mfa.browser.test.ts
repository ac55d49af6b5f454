import { existsSync } from "node:fs";
import { type Browser, type BrowserContext, type CDPSession, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FRAMEWORKS } from "../../examples/app/test/helpers.js";
import { type ClockedApp, startClockedApp, totpCodeAt } from "../../examples/app/test/mfa-support.js";

const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) {
  const message = `\n\n!!! ${CHROMIUM} is missing: the browser tests are SKIPPED. Install it with \`apt-get install -y chromium\`. !!!\n`;
  if (process.env.REQUIRE_SERVICES === "1")
    throw new Error(`${message}(REQUIRE_SERVICES=1 makes this a failure)`);
  console.warn(message);
}

const PASSWORD = "a long passphrase for two steps";

// Issue 18: a person turns on two-step verification with an authenticator app, registers a passkey
// and signs in with it alone, in Chromium, with the DevTools protocol's virtual authenticator standing
// in for the device's. WebAuthn refuses IP addresses, so the pages are opened at localhost (the app's
// relying party for a loopback base URL).
describe.skipIf(!available)("second factors in a real browser", () => {
  let browser: Browser;

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  describe.each(FRAMEWORKS)("on %s", (framework) => {
    let clocked: ClockedApp;
    let base: string;
    let context: BrowserContext;
    let page: Page;
    const problems: string[] = [];

    beforeAll(async () => {
      clocked = await startClockedApp(framework);
      base = clocked.app.baseUrl.replace("127.0.0.1", "localhost");
    });
    afterAll(async () => {
      await context?.close();
      await clocked?.app.close();
    });

    async function open(): Promise<Page> {
      context = await browser.newContext({ viewport: { width: 1200, height: 900 }, colorScheme: "light" });
      const opened = await context.newPage();
      opened.on("console", (message) => {
        // The refused passkey at the end answers 401 on purpose; anything else (a CSP violation) is a problem.
        const expected = /^Failed to load resource: the server responded with a status of 401/.test(
          message.text(),
        );
        if ((message.type() === "error" || message.type() === "warning") && !expected)
          problems.push(message.text());
      });
      opened.on("pageerror", (error) => problems.push(error.message));
      return opened;
    }

    async function registerAndLogIn(username: string): Promise<void> {
      await page.goto(`${base}/register`);
      await page.getByLabel("Username").fill(username);
      await page.getByLabel("E-mail address").fill(`${username}@example.com`);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.waitForURL("**/login");
      await page.getByLabel("Username").fill(username);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Log in", exact: true }).click();
      await page.waitForURL(`${base}/`);
    }

    async function logOut(): Promise<void> {
      await page.getByRole("button", { name: "Log out" }).first().click();
      await page.waitForURL("**/logout");
    }

    /**
     * Lets the test say whether `target` offers passkey autofill: while `on` is false, the page sees
     * a browser without it (`isConditionalMediationAvailable()` false) and waits for the button.
     * Chromium's virtual authenticator answers an autofill request at once, as a person picking the
     * passkey would.
     */
    async function autofillSwitch(target: Page): Promise<{ on: boolean }> {
      const state = { on: true };
      await target.exposeFunction("autofillOffered", () => state.on);
      // A string: the test's TypeScript has no DOM types.
      await target.addInitScript(`{
        const available = PublicKeyCredential.isConditionalMediationAvailable.bind(PublicKeyCredential);
        Object.defineProperty(PublicKeyCredential, "isConditionalMediationAvailable", {
          value: async () => (await window.autofillOffered()) && (await available()),
        });
      }`);
      return state;
    }

    async function virtualAuthenticator(target: Page): Promise<{ cdp: CDPSession; id: string }> {
      const cdp = await context.newCDPSession(target);
      await cdp.send("WebAuthn.enable");
      const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
        options: {
          protocol: "ctap2",
          transport: "internal",
          hasResidentKey: true,
          hasUserVerification: true,
          isUserVerified: true,
        },
      });
      return { cdp, id: authenticatorId };
    }

    it("registers a passkey on the account page, signs in with it alone, and removes it", async () => {
      page = await open();
      const username = `keyholder_${framework}`;
      const { cdp, id } = await virtualAuthenticator(page);
      await registerAndLogIn(username);

      // Add a passkey, named.
      await page.goto(`${base}/account`);
      await page.getByLabel("Name for the new passkey").fill("Work laptop");
      await page.getByRole("button", { name: "Add a passkey" }).click();
      await expect
        .poll(() => page.locator(".passkey-name").allTextContents())
        .toEqual([expect.stringContaining("Work laptop")]);
      expect(await page.locator(".flash").textContent()).toContain("Passkey “Work laptop” added.");
      const stored = await cdp.send("WebAuthn.getCredentials", { authenticatorId: id });
      expect(stored.credentials).toHaveLength(1);
      expect(stored.credentials[0]?.isResidentCredential).toBe(true);

      // The passkey is a second factor now: the password alone stops at /login/2fa.
      await logOut();
      const buttonOnly = page;
      const autofill = await autofillSwitch(page);
      autofill.on = false;
      await page.goto(`${base}/login`);
      await page.getByLabel("Username").fill(username);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Log in", exact: true }).click();
      await page.waitForURL("**/login/2fa");
      expect(await page.locator('input[name="code"]').count()).toBe(0);
      await page.getByRole("button", { name: "Use your passkey" }).click();
      await page.waitForURL(`${base}/`);
      await page.goto(`${base}/protected`);
      expect(await page.locator("[data-auth-methods]").textContent()).toBe("password + passkey");

      // Log out, then sign in without a username or password: with the button, in a browser that
      // offers no passkey autofill...
      await logOut();
      await buttonOnly.goto(`${base}/login`);
      await buttonOnly.getByRole("button", { name: "Sign in with a passkey" }).click();
      await buttonOnly.waitForURL(`${base}/`);
      expect(await buttonOnly.locator("h1").textContent()).toBe(`Hello, ${username}!`);
      await buttonOnly.goto(`${base}/protected`);
      expect(await buttonOnly.locator("h1").textContent()).toBe("Protected Route");
      expect(await buttonOnly.locator("[data-auth-methods]").textContent()).toBe(
        "passkey with your device's screen lock",
      );
      await buttonOnly.getByRole("button", { name: "Log out" }).click();
      await buttonOnly.waitForURL("**/logout");

      // ...and through autofill, where the virtual authenticator picks the passkey for the person as
      // soon as the login page asks (conditional mediation).
      autofill.on = true;
      await page.goto(`${base}/login`);
      await page.waitForURL(`${base}/`);
      expect(await page.locator("h1").textContent()).toBe(`Hello, ${username}!`);

      // The account page lists it as used; remove it.
      await page.goto(`${base}/account`);
      expect(await page.locator(".passkey .session-meta").textContent()).not.toContain("never");
      await page.getByRole("button", { name: "Remove the passkey Work laptop" }).click();
      await page.waitForURL(`${base}/account`);
      expect(await page.locator("[data-passkey-count]").getAttribute("data-passkey-count")).toBe("0");

      // The authenticator still holds it, but the site no longer takes it.
      await logOut();
      autofill.on = false;
      await buttonOnly.goto(`${base}/login`);
      await buttonOnly.getByRole("button", { name: "Sign in with a passkey" }).click();
      await expect
        .poll(() => buttonOnly.locator("#passkey-error").textContent())
        .toContain("could not sign you in");
      expect(new URL(buttonOnly.url()).pathname).toBe("/login");
      await buttonOnly.goto(`${base}/protected`);
      expect(new URL(buttonOnly.url()).pathname).toBe("/login");
      await context.close();
      expect(problems).toEqual([]);
    });

    it("confirms it's you at /reauth with the passkey after a browser restart (remembered, not fresh)", async () => {
      page = await open();
      const username = `returning_${framework}`;
      const first = await virtualAuthenticator(page);
      await registerAndLogIn(username);
      await page.goto(`${base}/account`);
      await page.getByLabel("Name for the new passkey").fill("Phone");
      await page.getByRole("button", { name: "Add a passkey" }).click();
      await expect.poll(() => page.locator(".passkey-name").count()).toBe(1);
      await logOut();
      const autofill = await autofillSwitch(page);
      autofill.on = false;
      await page.goto(`${base}/login`);
      await page.getByLabel("Remember me on this device").check();
      await page.getByRole("button", { name: "Sign in with a passkey" }).click();
      await page.waitForURL(`${base}/`);

      // Restart the browser: only the remember-me cookie survives; the device keeps its passkey.
      const { credentials } = await first.cdp.send("WebAuthn.getCredentials", { authenticatorId: first.id });
      const persistent = (await context.storageState()).cookies.filter((cookie) => cookie.expires > 0);
      expect(persistent.map((cookie) => cookie.name)).toEqual(["remember_token"]);
      await context.close();
      context = await browser.newContext({ storageState: { cookies: persistent, origins: [] } });
      page = await context.newPage();
      page.on("pageerror", (error) => problems.push(error.message));
      const second = await virtualAuthenticator(page);
      for (const credential of credentials) {
        await second.cdp.send("WebAuthn.addCredential", { authenticatorId: second.id, credential });
      }

      // Restored, so a change asks to confirm it's you: with the passkey alone (no password form).
      await page.goto(`${base}/account`);
      await page.getByRole("button", { name: "Set up an authenticator app" }).click();
      await page.waitForURL("**/reauth?next=*");
      expect(await page.locator('input[name="password"]').count()).toBe(0);
      await page.getByRole("button", { name: "Confirm with your passkey" }).click();
      await page.waitForURL(`${base}/account`);
      expect(await page.locator(".flash").textContent()).toContain("Thanks, it's you.");
      await page.getByRole("button", { name: "Set up an authenticator app" }).click();
      await page.waitForURL("**/account/2fa/totp/start");
      expect(await page.locator("h1").textContent()).toBe("Set up your authenticator app");
      await context.close();
      expect(problems).toEqual([]);
    });

    it("turns on two-step verification from the QR page's URI and logs in with a code", async () => {
      page = await open();
      const username = `otp_${framework}`;
      await registerAndLogIn(username);

      await page.goto(`${base}/account`);
      await page.getByRole("button", { name: "Set up an authenticator app" }).click();
      await page.waitForURL("**/account/2fa/totp/start");
      expect(await page.locator("img.qr").getAttribute("src")).toMatch(/^data:image\/svg\+xml;base64,/);
      const uri = (await page.locator("#otpauth-uri").textContent()) ?? "";
      const secret = new URL(uri).searchParams.get("secret") ?? "";
      expect(secret).toMatch(/^[A-Z2-7]+$/);
      await page.getByLabel("Code from the app").fill(totpCodeAt(secret, clocked.now()));
      await page.getByRole("button", { name: "Turn on two-step verification" }).click();
      await page.waitForURL("**/account/2fa/totp/confirm");
      expect(await page.locator("[data-recovery-code]").count()).toBe(10);
      await page.getByRole("link", { name: "I saved them" }).click();
      expect(await page.locator("[data-totp-status]").textContent()).toBe("On");
      clocked.nextStep();

      // The password alone is not enough any more.
      await logOut();
      await page.goto(`${base}/login?next=%2Fprotected`);
      await page.getByLabel("Username").fill(username);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Log in", exact: true }).click();
      await page.waitForURL("**/login/2fa?next=%2Fprotected");
      expect(await page.locator("h1").textContent()).toBe("Two-step verification");
      expect(await page.locator(".user-chip").count()).toBe(0);
      await page.getByLabel("Code from your authenticator app").fill(totpCodeAt(secret, clocked.now()));
      await page.getByRole("button", { name: "Verify" }).click();
      await page.waitForURL(`${base}/protected`);
      expect(await page.locator("h1").textContent()).toBe("Protected Route");
      await context.close();
      expect(problems).toEqual([]);
    });
  });
});
