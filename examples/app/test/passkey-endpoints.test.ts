/**
 * The passkey JSON endpoints (issue 18) on Express, Fastify and Hono, without a browser: what the
 * options carry, who may ask for them, and the 4xx JSON answers to bodies that are not a passkey's.
 * The ceremonies themselves run in Chromium with a virtual authenticator
 * (test/browser/mfa.browser.test.ts).
 */
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FRAMEWORKS, flashes, PASSWORD, startTestApp, type TestApp, TestBrowser } from "./helpers.js";

describe.each(FRAMEWORKS)("%s", (framework) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ framework });
  });
  afterAll(async () => {
    await app.close();
  });

  const postJson = (browser: TestBrowser, path: string, body: unknown, headers?: Record<string, string>) =>
    browser.postJson(path, body, headers);

  let counter = 0;
  async function loggedIn(): Promise<{ browser: TestBrowser; username: string }> {
    counter += 1;
    const username = `keys${counter}`;
    const browser = new TestBrowser(app.baseUrl);
    await browser.registerAndLogin(username);
    await browser.get("/account");
    return { browser, username };
  }

  it("offers usernameless sign-in options for the site's relying party, with user verification required", async () => {
    const visitor = new TestBrowser(app.baseUrl);
    await visitor.get("/login");
    const options = await postJson(visitor, "/passkeys/login/options", {});
    expect(options.status).toBe(200);
    expect(options.headers["content-type"]).toMatch(/^application\/json/);
    expect(options.headers["cache-control"]).toBe("no-store");
    expect(options.body).toMatchObject({ rpId: "localhost", userVerification: "required" });
    expect(options.body.allowCredentials ?? []).toEqual([]);
    expect(options.body.challenge).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    // A new challenge each time.
    const again = await postJson(visitor, "/passkeys/login/options", {});
    expect(again.body.challenge).not.toBe(options.body.challenge);
  });

  it("refuses the options without the CSRF token", async () => {
    const visitor = new TestBrowser(app.baseUrl);
    await visitor.get("/login");
    const refused = await postJson(visitor, "/passkeys/login/options", {}, { "x-csrf-token": "" });
    expect(refused.status).toBe(403);
  });

  it("answers a sign-in without a passkey's answer, or with a made-up one, with a 4xx JSON error", async () => {
    const visitor = new TestBrowser(app.baseUrl);
    await visitor.get("/login");
    for (const body of [{}, { credential: "text" }, { credential: [1, 2] }, [1]]) {
      const refused = await postJson(visitor, "/passkeys/login/verify", body);
      expect(refused.status).toBe(400);
      expect(refused.body).toMatchObject({ error: "bad_request", message: expect.any(String) });
    }
    await postJson(visitor, "/passkeys/login/options", {});
    const madeUp = await postJson(visitor, "/passkeys/login/verify", {
      credential: {
        id: "AAAA",
        rawId: "AAAA",
        type: "public-key",
        response: { clientDataJSON: "e30", authenticatorData: "AAAA", signature: "AAAA", userHandle: "AAAA" },
        clientExtensionResults: {},
      },
    });
    expect(madeUp.status).toBe(401);
    expect(madeUp.body).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    expect((await visitor.get("/protected")).status).toBe(302);
  });

  it("answers a body over 8 KiB with 413, and malformed JSON with 400", async () => {
    const visitor = new TestBrowser(app.baseUrl);
    await visitor.get("/login");
    const big = await postJson(visitor, "/passkeys/login/verify", { credential: { id: "A".repeat(9000) } });
    expect(big.status).toBe(413);
    expect((await postJson(visitor, "/passkeys/login/verify", "{not json")).status).toBe(400);
  });

  it("gives registration options only to a fresh login: 401 JSON for a visitor, needs_refresh for a remembered session", async () => {
    const visitor = new TestBrowser(app.baseUrl);
    await visitor.get("/login");
    const anonymous = await postJson(visitor, "/passkeys/register/options", {});
    expect(anonymous.status).toBe(401);
    expect(anonymous.body).toMatchObject({ error: "unauthorized" });

    const { username } = await loggedIn();
    const phone = new TestBrowser(app.baseUrl);
    await phone.login(username, PASSWORD, true);
    phone.closeBrowser();
    await phone.get("/account");
    const stale = await postJson(phone, "/passkeys/register/options", {});
    expect(stale.status).toBe(401);
    expect(stale.body).toMatchObject({ error: "needs_refresh" });
  });

  it("gives a fresh login registration options for a discoverable credential named after the user", async () => {
    const { browser, username } = await loggedIn();
    const options = await postJson(browser, "/passkeys/register/options", {});
    expect(options.status).toBe(200);
    expect(options.body).toMatchObject({
      rp: { id: "localhost", name: "login-manager demo" },
      user: { name: username, displayName: username },
      authenticatorSelection: { residentKey: "required" },
    });
    expect(options.body.excludeCredentials ?? []).toEqual([]);
  });

  it("refuses a registration without a credential, with a name too long, or made up, with 400 JSON", async () => {
    const { browser } = await loggedIn();
    expect((await postJson(browser, "/passkeys/register/verify", { label: "x" })).body).toMatchObject({
      error: "bad_request",
    });
    await postJson(browser, "/passkeys/register/options", {});
    const long = await postJson(browser, "/passkeys/register/verify", {
      credential: { id: "AAAA" },
      label: "x".repeat(65),
    });
    expect(long.status).toBe(400);
    expect(long.body).toMatchObject({ error: "bad_label" });
    const madeUp = await postJson(browser, "/passkeys/register/verify", {
      credential: {
        id: "AAAA",
        rawId: "AAAA",
        type: "public-key",
        response: { clientDataJSON: "e30", attestationObject: "AAAA" },
        clientExtensionResults: {},
      },
      label: "Made up",
    });
    expect(madeUp.status).toBe(400);
    expect((await browser.get("/account")).text).toContain('data-passkey-count="0"');
  });

  it("says a passkey was already removed when renaming or removing one that is not the user's", async () => {
    const { browser } = await loggedIn();
    for (const path of ["/account/passkeys/rename", "/account/passkeys/remove"]) {
      const answer = await browser.post(path, { id: "bm90LW1pbmU", label: "Mine now" });
      expect(answer.status).toBe(303);
      expect(answer.headers.location).toBe("/account");
      expect(flashes((await browser.get("/account")).text)).toEqual(["That passkey was already removed."]);
    }
  });

  it("shows the passkey script on the login page, from the site, under the CSP", async () => {
    const page = await new TestBrowser(app.baseUrl).get("/login");
    expect(page.text).toContain('<script type="module" src="/static/passkeys.js"></script>');
    expect(page.text).toContain('autocomplete="username webauthn"');
    expect(page.text).toMatch(/<button type="button"[^>]*data-passkey-get="\/passkeys\/login"[^>]*hidden>/);
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    const script = await request(app.baseUrl).get("/static/passkeys.js");
    expect(script.status).toBe(200);
    expect(script.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(script.text).toContain("parseRequestOptionsFromJSON");
  });
});
