/**
 * Issue 16.2: a `next` beyond U+00FF (`/cafą`) made POST /login and POST /reauth answer 500
 * (ERR_INVALID_CHAR on the Location header) after the login had succeeded: logged in behind an error
 * page on Express and Fastify, an orphan session on Hono. safeNextUrl now percent-encodes the target.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { emailFor, FRAMEWORKS, PASSWORD, startTestApp, type TestApp, TestBrowser } from "./helpers.js";

const TARGETS: ReadonlyArray<[string, string]> = [
  ["/caf\u0105", "/caf%C4%85"],
  ["/caf\u00e9?q=\u65e5\u672c", "/caf%C3%A9?q=%E6%97%A5%E6%9C%AC"],
  ["/\u{1f600}#\u00e0", "/%F0%9F%98%80#%C3%A0"],
];

describe.each(FRAMEWORKS)("%s: a next beyond ASCII [A5 3.7.2]", (framework) => {
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({ framework });
    const registered = await new TestBrowser(app.baseUrl).submit("/register", "/register", {
      username: "alice",
      email: emailFor("alice"),
      password: PASSWORD,
    });
    expect(registered.status).toBe(303);
  });
  afterAll(async () => {
    await app.close();
  });

  it.each(TARGETS)(
    "POST /login with next %j answers 303 to %j and the session works",
    async (next, location) => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.get(`/login?next=${encodeURIComponent(next)}`);
      const response = await browser.post("/login", { username: "alice", password: PASSWORD, next });
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe(location);
      expect((await browser.get("/protected")).status).toBe(200);
      const sessions = await app.services.store.listUserSessions(
        String((await app.services.users.findByKey("alice"))?.id),
        Date.now(),
      );
      expect(sessions.length).toBeGreaterThan(0);
    },
  );

  it.each(TARGETS)("POST /reauth with next %j answers 303 to %j", async (next, location) => {
    const browser = new TestBrowser(app.baseUrl);
    expect((await browser.login("alice", PASSWORD, true)).status).toBe(303);
    browser.closeBrowser(); // the remembered login comes back not fresh
    await browser.get("/account");
    await browser.get(`/reauth?next=${encodeURIComponent(next)}`);
    const response = await browser.post("/reauth", { password: PASSWORD, next });
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe(location);
  });
});
