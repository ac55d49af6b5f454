/**
 * attemptReauth: re-entering the password on a logged-in (e.g. remember-me) session, with
 * brute-force limits [checklist C.21, H.57-H.58] [A5 7.5.1]. Flask-Login's confirm_login has no
 * password check or throttle of its own (items 45-46 are in test/core/remember-me.test.ts).
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Browser } from "./helpers.js";
import { Harness } from "./helpers.js";

let harness: Harness;
let verified = 0;

afterEach(async () => {
  await harness?.close();
  verified = 0;
});

function reauthHarness(options: Record<string, unknown> = {}): Harness {
  return new Harness(options, {
    routes: (app) => {
      app.post("/reauth", async (req, res) => {
        const password = (req.body as { password?: unknown }).password;
        const result = await req.auth.attemptReauth(async () => {
          verified++;
          return password === "right";
        });
        if (result.ok) res.json({ ok: true });
        else if (result.reason === "locked")
          res.status(429).json({ retryAfterSeconds: result.retryAfterSeconds });
        else res.status(401).json({ ok: false, retryAfterSeconds: result.retryAfterSeconds });
      });
    },
  });
}

async function remembered(): Promise<Browser> {
  const browser = harness.browser();
  await browser.login(1, { remember: true });
  browser.cookies.delete("session");
  expect((await browser.whoami()).fresh).toBe(false);
  harness.events.clear();
  return browser;
}

describe("attemptReauth", () => {
  it("confirms the login on the right password: fresh, new session id, loginConfirmed", async () => {
    harness = reauthHarness();
    const browser = await remembered();
    const before = browser.cookies.get("session") as string;
    expect((await browser.post("/reauth", { password: "right" })).body).toEqual({ ok: true });
    expect(browser.cookies.get("session")).not.toBe(before);
    expect(await harness.session(before)).toBeNull();
    expect(await browser.whoami()).toMatchObject({ name: "Notch", fresh: true });
    expect(harness.events.count("loginConfirmed")).toBe(1);
  });

  it("leaves the login stale on a wrong password and reports the failure", async () => {
    harness = reauthHarness();
    const browser = await remembered();
    expect((await browser.post("/reauth", { password: "wrong" })).status).toBe(401);
    expect((await browser.whoami()).fresh).toBe(false);
    expect(harness.events.named("loginFailed")).toEqual([
      expect.objectContaining({ account: "reauth:1", reason: "invalid" }),
    ]);
  });

  it("says on the wrong password that reaches maxAccountFailures that it started a lock", async () => {
    harness = reauthHarness({ maxAccountFailures: 3 });
    const browser = await remembered();
    const failures = [];
    for (let i = 0; i < 3; i++) failures.push((await browser.post("/reauth", { password: "wrong" })).body);
    expect(failures).toEqual([{ ok: false }, { ok: false }, { ok: false, retryAfterSeconds: 30 }]);
  });

  it("locks after maxAccountFailures wrong passwords without checking the password again", async () => {
    harness = reauthHarness({ maxAccountFailures: 3 });
    const browser = await remembered();
    for (let i = 0; i < 3; i++)
      expect((await browser.post("/reauth", { password: "wrong" })).status).toBe(401);
    const locked = await browser.post("/reauth", { password: "right" });
    expect(locked.status).toBe(429);
    expect(locked.body).toEqual({ retryAfterSeconds: 30 });
    expect(verified).toBe(3);
    expect((await browser.whoami()).fresh).toBe(false);
    harness.clock.advance(30);
    expect((await browser.post("/reauth", { password: "right" })).status).toBe(200);
  });

  it("counts re-authentication separately from the login form's account counter", async () => {
    harness = reauthHarness({ maxAccountFailures: 3 });
    const browser = await remembered();
    for (let i = 0; i < 3; i++) await browser.post("/reauth", { password: "wrong" });
    const login = await browser.post("/attempt", { account: "Notch", password: "Notch-password" });
    expect(login.status).toBe(200);
  });

  it("resets the re-authentication counter on success", async () => {
    harness = reauthHarness({ maxAccountFailures: 3 });
    const browser = await remembered();
    for (let i = 0; i < 2; i++) await browser.post("/reauth", { password: "wrong" });
    expect((await browser.post("/reauth", { password: "right" })).status).toBe(200);
    for (let i = 0; i < 2; i++)
      expect((await browser.post("/reauth", { password: "wrong" })).status).toBe(401);
    expect((await browser.post("/reauth", { password: "right" })).status).toBe(200);
  });

  it("fails (500) for an anonymous visitor without calling verify", async () => {
    harness = reauthHarness();
    expect((await harness.browser().post("/reauth", { password: "right" })).status).toBe(500);
    expect(verified).toBe(0);
  });
});
