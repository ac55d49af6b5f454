import { existsSync, mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApp, type TestApp } from "../../examples/app/test/helpers.js";

const CHROMIUM = "/usr/bin/chromium";
const available = existsSync(CHROMIUM);
if (!available) {
  const message = `\n\n!!! ${CHROMIUM} is missing: the browser tests are SKIPPED. Install it with \`apt-get install -y chromium\`. !!!\n`;
  if (process.env.REQUIRE_SERVICES === "1")
    throw new Error(`${message}(REQUIRE_SERVICES=1 makes this a failure)`);
  console.warn(message);
}

const screenshots = fileURLToPath(new URL("../../docs/screenshots/", import.meta.url));
const USERNAME = "ada_lovelace";
const PASSWORD = "analytical engine 1843";
const NEW_PASSWORD = "notes on the engine by A.A.L.";

describe.skipIf(!available)("the reference app in a real browser", () => {
  let app: TestApp;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const problems: string[] = [];

  async function open(ctx: BrowserContext): Promise<Page> {
    const opened = await ctx.newPage();
    opened.on("console", (message) => {
      // The wrong-password login below answers 401 on purpose; anything else (a CSP violation) is a problem.
      const expected = /^Failed to load resource: the server responded with a status of 401/.test(
        message.text(),
      );
      if ((message.type() === "error" || message.type() === "warning") && !expected)
        problems.push(message.text());
    });
    opened.on("pageerror", (error) => problems.push(error.message));
    return opened;
  }

  async function logIn(target: Page, password: string): Promise<void> {
    await target.goto(`${app.baseUrl}/login`);
    await target.getByLabel("Username").fill(USERNAME);
    await target.getByLabel("Password").fill(password);
    await target.getByRole("button", { name: "Log in" }).click();
    await target.waitForURL(`${app.baseUrl}/`);
  }

  async function shot(name: string, target: Page = page): Promise<void> {
    await target.screenshot({ path: `${screenshots}${name}.png`, fullPage: true });
  }

  beforeAll(async () => {
    mkdirSync(screenshots, { recursive: true });
    app = await startTestApp();
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
    });
    context = await browser.newContext({ viewport: { width: 1200, height: 800 }, colorScheme: "light" });
    page = await open(context);
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it("registers, logs in with remember-me, survives a browser restart, re-authenticates, changes the password and logs out", async () => {
    // Home, as a stranger.
    await page.goto(`${app.baseUrl}/`);
    await expect.poll(() => page.locator("h1").textContent()).toBe("Hello, stranger!");
    await shot("home");

    // Register.
    await page.getByRole("link", { name: "Create an account" }).click();
    await page.waitForURL("**/register");
    await page.getByLabel("Username").fill(USERNAME);
    await page.getByLabel("E-mail address").fill("ada@example.com");
    await page.getByLabel("Password").fill(PASSWORD);
    await shot("register");
    await page.getByRole("button", { name: "Create account" }).click();
    await page.waitForURL("**/login");
    expect(await page.locator(".flash").textContent()).toContain(`Account created for ${USERNAME}`);

    // Log in with "remember me".
    await page.getByLabel("Username").fill(USERNAME);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByLabel("Remember me on this device").check();
    await shot("login");
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${app.baseUrl}/`);
    expect(await page.locator("h1").textContent()).toBe(`Hello, ${USERNAME}!`);
    expect(await page.locator(".user-chip").textContent()).toContain(USERNAME);

    // The protected page.
    await page.getByRole("link", { name: "Open the protected page" }).click();
    await page.waitForURL("**/protected");
    expect(await page.locator("h1").textContent()).toBe("Protected Route");
    expect(await page.locator(".username").textContent()).toBe(USERNAME);
    await shot("protected");

    // Close the browser: only cookies with an expiry survive.
    const state = await context.storageState();
    const persistent = state.cookies.filter((cookie) => cookie.expires > 0);
    expect(persistent.map((cookie) => cookie.name)).toEqual(["remember_token"]);
    await context.close();
    context = await browser.newContext({
      viewport: { width: 1200, height: 800 },
      colorScheme: "light",
      storageState: { cookies: persistent, origins: [] },
    });
    page = await open(context);

    // Back again: still logged in, restored from remember-me.
    await page.goto(`${app.baseUrl}/protected`);
    expect(await page.locator("h1").textContent()).toBe("Protected Route");
    expect(await page.locator(".facts").textContent()).toContain("Restored from your remember-me cookie");

    // Restoring from remember-me ended the closed browser's session (one live session per token);
    // a second device logs in with the password, so the account page has another session to list.
    const laptop = await browser.newContext({ viewport: { width: 1200, height: 800 } });
    const laptopPage = await open(laptop);
    await logIn(laptopPage, PASSWORD);
    await laptop.close();

    // The account page lists both sessions, this one marked.
    await page.getByRole("link", { name: "Account" }).click();
    await page.waitForURL("**/account");
    await expect.poll(() => page.locator(".session").count()).toBe(2);
    expect(await page.locator(".badge-current").count()).toBe(1);
    await shot("account");

    // Changing the password asks for a fresh login first.
    await page.getByLabel("Current password").fill(PASSWORD);
    await page.getByLabel("New password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.waitForURL("**/reauth?next=%2Faccount%2Fpassword");
    expect(await page.locator("h1").textContent()).toBe("Confirm it's you");
    await page.getByLabel("Password", { exact: true }).fill(PASSWORD);
    await shot("reauth");
    await page.getByRole("button", { name: "Confirm password" }).click();
    await page.waitForURL("**/account");
    expect(await page.locator(".flash").textContent()).toContain("your password is confirmed");

    // Now the change goes through and ends the other session.
    await page.getByLabel("Current password").fill(PASSWORD);
    await page.getByLabel("New password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Change password" }).click();
    await page.waitForURL("**/account");
    expect(await page.locator(".flash").textContent()).toBe(
      "Password changed. 1 other session was logged out.",
    );
    expect(await page.locator(".session").count()).toBe(1);

    // Log out through the confirmation page.
    await page.goto(`${app.baseUrl}/logout`);
    expect(await page.locator("h1").textContent()).toBe("Log out?");
    await shot("logout");
    await page.locator("main").getByRole("button", { name: "Log out" }).click();
    await page.waitForURL(`${app.baseUrl}/logout`);
    expect(await page.locator("h1").textContent()).toBe("You're logged out");
    expect(await page.locator(".user-chip").count()).toBe(0);
    // Clear-Site-Data on the logout response removed every cookie; the logged-out page set a new
    // CSRF cookie only.
    expect((await context.cookies()).map((cookie) => cookie.name).sort()).toEqual(["csrf"]);

    // The new password works, the old one does not.
    await page.goto(`${app.baseUrl}/login`);
    await page.getByLabel("Username").fill(USERNAME);
    await page.getByLabel("Password").fill(PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    expect(await page.locator(".form-error").textContent()).toBe("Invalid username or password.");
    await page.getByLabel("Password").fill(NEW_PASSWORD);
    await page.getByRole("button", { name: "Log in" }).click();
    await page.waitForURL(`${app.baseUrl}/`);
    expect(await page.locator("h1").textContent()).toBe(`Hello, ${USERNAME}!`);

    // No CSP violation or script error on any page.
    expect(problems).toEqual([]);
  });

  it("logging out makes the browser delete the site's cookies and stored data (Clear-Site-Data) [A5 14.3.1]", async () => {
    const ctx = await browser.newContext();
    const target = await open(ctx);
    await target.goto(`${app.baseUrl}/register`);
    await target.getByLabel("Username").fill("grace_hopper");
    await target.getByLabel("E-mail address").fill("grace@example.com");
    await target.getByLabel("Password").fill(PASSWORD);
    await target.getByRole("button", { name: "Create account" }).click();
    await target.waitForURL("**/login");
    await target.getByLabel("Username").fill("grace_hopper");
    await target.getByLabel("Password").fill(PASSWORD);
    await target.getByRole("button", { name: "Log in" }).click();
    await target.waitForURL(`${app.baseUrl}/`);
    // Data a page script could have left behind, and a cookie the server never set.
    await target.evaluate(
      "localStorage.setItem('draft', 'private notes'); sessionStorage.setItem('tab', 'x')",
    );
    await ctx.addCookies([{ name: "theme", value: "dark", url: app.baseUrl }]);
    expect(await target.evaluate("localStorage.getItem('draft')")).toBe("private notes");
    await target.locator(".nav-user").getByRole("button", { name: "Log out" }).click();
    await target.waitForURL(`${app.baseUrl}/logout`);
    expect(await target.evaluate("localStorage.length + sessionStorage.length")).toBe(0);
    expect((await ctx.cookies()).map((cookie) => cookie.name)).toEqual(["csrf"]);
    await ctx.close();
    expect(problems).toEqual([]);
  });

  it("lets people paste into every password field, with the real clipboard and Control+V [A5 6.2.7]", async () => {
    const ctx = await browser.newContext();
    await ctx.grantPermissions(["clipboard-read", "clipboard-write"], { origin: app.baseUrl });
    const target = await open(ctx);
    const pasted = "pasted from a password manager 7Qx!";
    /** Puts `text` on the system clipboard, pastes it into `selector` with Control+V, returns the field's value. */
    async function paste(selector: string, text: string): Promise<string> {
      await target.evaluate(`navigator.clipboard.writeText(${JSON.stringify(text)})`);
      const input = target.locator(selector);
      await input.fill("");
      await input.focus();
      await target.keyboard.press("Control+V");
      return input.inputValue();
    }
    /** What could block pasting or password managers on the field. */
    async function blockers(selector: string): Promise<unknown> {
      return target.evaluate(`(() => {
        const input = document.querySelector(${JSON.stringify(selector)});
        const data = new DataTransfer();
        data.setData("text/plain", "x");
        const event = new ClipboardEvent("paste", { clipboardData: data, bubbles: true, cancelable: true });
        input.dispatchEvent(event);
        const attributes = [...input.attributes].map((a) => a.name).filter((n) => /^on/.test(n));
        return { type: input.type, prevented: event.defaultPrevented, handlers: attributes,
          autocomplete: input.getAttribute("autocomplete"), formAutocomplete: input.form.getAttribute("autocomplete") };
      })()`);
    }
    const fields: Array<[path: string, selector: string, autocomplete: string]> = [
      ["/register", "#password", "new-password"],
      ["/login", "#password", "current-password"],
      ["/account", "#current_password", "current-password"],
      ["/account", "#new_password", "new-password"],
      ["/reauth", "#password", "current-password"],
    ];
    for (const [path, selector, autocomplete] of fields) {
      if (path === "/account") {
        // The account and reauth pages need a login: register one with a pasted password.
        await target.goto(`${app.baseUrl}/register`);
        if (!(await target.locator(".user-chip").count())) {
          await target.getByLabel("Username").fill("paste_user");
          await target.getByLabel("E-mail address").fill("paste@example.com");
          expect(await paste("#password", pasted)).toBe(pasted);
          await target.getByRole("button", { name: "Create account" }).click();
          await target.waitForURL("**/login");
          await target.getByLabel("Username").fill("paste_user");
          expect(await paste("#password", pasted)).toBe(pasted);
          await target.getByRole("button", { name: "Log in" }).click();
          await target.waitForURL(`${app.baseUrl}/`);
        }
      }
      await target.goto(`${app.baseUrl}${path}`);
      expect({ path, selector, value: await paste(selector, `${pasted} ${path}`) }).toEqual({
        path,
        selector,
        value: `${pasted} ${path}`,
      });
      expect({ path, selector, ...((await blockers(selector)) as object) }).toEqual({
        path,
        selector,
        type: "password",
        prevented: false,
        handlers: [],
        autocomplete,
        formAutocomplete: null,
      });
    }
    await ctx.close();
    expect(problems).toEqual([]);
  });

  it("looks right on a phone", async () => {
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2 });
    const mobile = await open(phone);
    await logIn(mobile, NEW_PASSWORD);
    await mobile.goto(`${app.baseUrl}/account`);
    // A string expression: this file is type-checked without the DOM library.
    const overflow = Number(
      await mobile.evaluate("document.documentElement.scrollWidth - window.innerWidth"),
    );
    expect(overflow).toBeLessThanOrEqual(0);
    await shot("account-mobile", mobile);
    await phone.close();
    expect(problems).toEqual([]);
  });
});

// The same site on the other frameworks: a short journey, checking the pages work in a browser
// under each one's security headers (no CSP violation, no script error).
describe.skipIf(!available).each(["fastify", "hono"] as const)(
  "the reference app on %s in a real browser",
  (framework) => {
    let app: TestApp;
    let browser: Browser;
    const problems: string[] = [];

    beforeAll(async () => {
      app = await startTestApp({ framework });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
      });
    });

    afterAll(async () => {
      await browser?.close();
      await app?.close();
    });

    it("registers, logs in, sees the protected page and logs out", async () => {
      const context = await browser.newContext();
      const page = await context.newPage();
      page.on("console", (message) => {
        if (message.type() === "error" || message.type() === "warning") problems.push(message.text());
      });
      page.on("pageerror", (error) => problems.push(error.message));

      await page.goto(`${app.baseUrl}/register`);
      await page.getByLabel("Username").fill(USERNAME);
      await page.getByLabel("E-mail address").fill("ada@example.com");
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Create account" }).click();
      await page.waitForURL("**/login");
      expect(await page.locator(".flash").textContent()).toContain(`Account created for ${USERNAME}`);

      await page.getByLabel("Username").fill(USERNAME);
      await page.getByLabel("Password").fill(PASSWORD);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.waitForURL(`${app.baseUrl}/`);
      expect(await page.locator("h1").textContent()).toBe(`Hello, ${USERNAME}!`);

      await page.getByRole("link", { name: "Open the protected page" }).click();
      await page.waitForURL("**/protected");
      expect(await page.locator(".username").textContent()).toBe(USERNAME);
      // The stylesheet loaded (the CSP allows it): the page is laid out, not bare HTML.
      expect(await page.evaluate("getComputedStyle(document.querySelector('.nav')).display")).toBe("flex");

      await page.locator(".nav-user").getByRole("button", { name: "Log out" }).click();
      await page.waitForURL(`${app.baseUrl}/logout`);
      expect(await page.locator("h1").textContent()).toBe("You're logged out");
      expect((await page.goto(`${app.baseUrl}/protected`))?.url()).toContain("/login?next=%2Fprotected");

      await context.close();
      expect(problems).toEqual([]);
    });
  },
);
