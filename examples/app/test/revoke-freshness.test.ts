/**
 * Freshness applied evenly (issue 16.5), on Express, Fastify and Hono: revoking one session needs a
 * fresh login like "log out other sessions" and the password change, so a session restored from a
 * (perhaps stolen) remember-me cookie cannot log the owner out one session at a time
 * [A5 7.5.2] [checklist 54, 58].
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  FIREFOX,
  FRAMEWORKS,
  flashes,
  IPHONE,
  PASSWORD,
  startTestApp,
  type TestApp,
  TestBrowser,
} from "./helpers.js";

describe.each(FRAMEWORKS)("%s", (framework) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ framework, overrides: { manager: { rememberMe: { raceGraceSeconds: 0 } } } });
  });
  afterAll(async () => {
    await app.close();
  });

  let counter = 0;
  /** The owner on a laptop (fresh password login), and a phone restored from remember-me: not fresh. */
  async function ownerAndStalePhone() {
    counter += 1;
    const username = `fresh${counter}`;
    const laptop = new TestBrowser(app.baseUrl, FIREFOX);
    await laptop.registerAndLogin(username);
    const phone = new TestBrowser(app.baseUrl, IPHONE);
    await phone.login(username, PASSWORD, true);
    phone.closeBrowser();
    expect((await phone.get("/protected")).text).toContain("Restored from your remember-me cookie");
    const page = await phone.get("/account");
    // This device first (the phone's restored session), then the laptop's.
    const [phoneHandle = "", laptopHandle = ""] = [
      ...page.text.matchAll(/action="\/account\/sessions\/([\w-]+)\/revoke"/g),
    ].map((match) => match[1] ?? "");
    return { laptop, phone, laptopHandle, phoneHandle };
  }

  it("a remembered, not fresh session revoking another session gets the reauth redirect, and that session survives", async () => {
    const { laptop, phone, laptopHandle } = await ownerAndStalePhone();
    const path = `/account/sessions/${laptopHandle}/revoke`;
    const response = await phone.post(path);
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe(`/reauth?next=${encodeURIComponent(path)}`);
    expect((await laptop.get("/protected")).status).toBe(200);
    expect(
      app.logEntries().some((line) => line.event === "sessions.revoked" && line.reason === "revoke-one"),
    ).toBe(false);
  });

  it("the form variant (handle in a field) needs a fresh login too", async () => {
    const { laptop, phone, laptopHandle } = await ownerAndStalePhone();
    const response = await phone.post("/account/sessions/revoke", { handle: laptopHandle });
    expect(response.status).toBe(302);
    expect(response.headers.location).toBe("/reauth?next=%2Faccount%2Fsessions%2Frevoke");
    expect((await laptop.get("/protected")).status).toBe(200);
  });

  it("after /reauth the user lands back on the account page, and the revocation then works", async () => {
    const { laptop, phone, laptopHandle } = await ownerAndStalePhone();
    const path = `/account/sessions/${laptopHandle}/revoke`;
    await phone.post(path);
    await phone.get(`/reauth?next=${encodeURIComponent(path)}`);
    const confirmed = await phone.post("/reauth", { password: PASSWORD, next: path });
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.location).toBe(path);
    const back = await phone.get(path);
    expect(back.status).toBe(303);
    expect(back.headers.location).toBe("/account");
    const formBack = await phone.get("/account/sessions/revoke");
    expect(formBack.status).toBe(303);
    expect(formBack.headers.location).toBe("/account");
    await phone.get("/account");
    const revoked = await phone.post(path);
    expect(revoked.status).toBe(303);
    expect(flashes((await phone.get("/account")).text)).toEqual([
      "Session ended. That device is logged out.",
    ]);
    expect((await laptop.get("/protected")).status).toBe(302);
  });

  it("the same rule as revoke-others and the password change: all three send a stale session to /reauth", async () => {
    const { laptop, phone, laptopHandle } = await ownerAndStalePhone();
    const refused = [
      await phone.post(`/account/sessions/${laptopHandle}/revoke`),
      await phone.post("/account/sessions/revoke-others"),
      await phone.post("/account/password", {
        current_password: PASSWORD,
        new_password: "a brand new passphrase",
      }),
    ];
    expect(refused.map((response) => [response.status, response.headers.location?.split("?")[0]])).toEqual([
      [302, "/reauth"],
      [302, "/reauth"],
      [302, "/reauth"],
    ]);
    expect((await laptop.get("/protected")).status).toBe(200);
  });

  it("the not-fresh phone's own session is revoked only after /reauth too (one rule for the route)", async () => {
    const { phone, phoneHandle } = await ownerAndStalePhone();
    const response = await phone.post(`/account/sessions/${phoneHandle}/revoke`);
    expect(response.status).toBe(302);
    expect((await phone.get("/protected")).status).toBe(200);
  });
});
