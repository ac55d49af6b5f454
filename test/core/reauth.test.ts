/**
 * attemptReauth: re-entering the password on a logged-in (e.g. remember-me) session, with
 * brute-force limits [checklist C.21, H.57-H.58] [A5 7.5.1]. Flask-Login's confirm_login has no
 * password check or throttle of its own (items 45-46 are in test/core/remember-me.test.ts).
 */

import { ConfigurationError } from "login-manager";
import { afterEach, describe, expect, it } from "vitest";
import type { Browser, User } from "./helpers.js";
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
        const result = await req.auth.attemptReauth({
          // What POST /attempt counts for this user: one failure budget for both.
          account: (req.auth.requireUser() as unknown as User).name,
          verify: async () => {
            verified++;
            return password === "right";
          },
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
      expect.objectContaining({ account: "Notch", reason: "invalid" }),
    ]);
  });

  it("says on the wrong password that reaches maxAccountFailures that it started a lock", async () => {
    harness = reauthHarness({ throttle: { maxAccountFailures: 3 } });
    const browser = await remembered();
    const failures = [];
    for (let i = 0; i < 3; i++) failures.push((await browser.post("/reauth", { password: "wrong" })).body);
    expect(failures).toEqual([{ ok: false }, { ok: false }, { ok: false, retryAfterSeconds: 30 }]);
  });

  it("locks after maxAccountFailures wrong passwords without checking the password again", async () => {
    harness = reauthHarness({ throttle: { maxAccountFailures: 3 } });
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

  it("resets the re-authentication counter on success", async () => {
    harness = reauthHarness({ throttle: { maxAccountFailures: 3 } });
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

describe("one failure budget per account for login and re-authentication (issue 16.6) [A5 6.3.1] [checklist 21]", () => {
  const wrongLogin = (browser: Browser) => browser.post("/attempt", { account: "Notch", password: "wrong" });
  const rightLogin = (browser: Browser) =>
    browser.post("/attempt", { account: "Notch", password: "Notch-password" });
  const wrongReauth = (browser: Browser) => browser.post("/reauth", { password: "wrong" });

  it("wrong logins and wrong re-authentications add up: the lock starts at the same count as with logins alone", async () => {
    harness = reauthHarness({ throttle: { maxAccountFailures: 4 } });
    const browser = await remembered();
    const guesser = harness.browser();
    const answers = [
      (await wrongLogin(guesser)).body,
      (await wrongReauth(browser)).body,
      (await wrongLogin(guesser)).body,
      (await wrongReauth(browser)).body,
    ];
    expect(answers.slice(0, 3).map((body) => body.retryAfterSeconds)).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    // The fourth failure, whichever form it came through, starts the lock.
    expect(answers[3]).toEqual({ ok: false, retryAfterSeconds: 30 });
    expect((await rightLogin(guesser)).status).toBe(429);
    expect((await browser.post("/reauth", { password: "right" })).status).toBe(429);
    expect(verified).toBe(2);
    expect(harness.counters.verify).toBe(2);
  });

  it("a lock started by wrong re-authentications refuses the login form, without checking the password", async () => {
    harness = reauthHarness({ throttle: { maxAccountFailures: 3 } });
    const browser = await remembered();
    for (let i = 0; i < 3; i++) await wrongReauth(browser);
    const login = await rightLogin(harness.browser());
    expect(login.status).toBe(429);
    expect(login.headers["retry-after"]).toBe("30");
    expect(harness.counters.verify).toBe(0);
    harness.clock.advance(30);
    expect((await rightLogin(harness.browser())).status).toBe(200);
  });

  it("a lock started by wrong logins refuses re-authentication, without checking the password", async () => {
    harness = reauthHarness({ throttle: { maxAccountFailures: 3 } });
    const browser = await remembered();
    const guesser = harness.browser();
    for (let i = 0; i < 3; i++) await wrongLogin(guesser);
    const reauth = await browser.post("/reauth", { password: "right" });
    expect(reauth.status).toBe(429);
    expect(reauth.body).toEqual({ retryAfterSeconds: 30 });
    expect(verified).toBe(0);
    expect((await browser.whoami()).fresh).toBe(false);
  });

  it("a right password at either form resets the budget for both", async () => {
    harness = reauthHarness({ throttle: { maxAccountFailures: 3 } });
    const browser = await remembered();
    const guesser = harness.browser();
    await wrongLogin(guesser);
    await wrongReauth(browser);
    expect((await browser.post("/reauth", { password: "right" })).status).toBe(200);
    await wrongLogin(guesser);
    await wrongLogin(guesser);
    expect((await rightLogin(guesser)).status).toBe(200);
    await wrongReauth(browser);
    await wrongReauth(browser);
    expect((await wrongLogin(guesser)).body).toMatchObject({ retryAfterSeconds: 30 });
  });

  it("reports both kinds of failure under the account's name", async () => {
    harness = reauthHarness({ throttle: { maxAccountFailures: 2 } });
    const browser = await remembered();
    await wrongLogin(harness.browser());
    await wrongReauth(browser);
    expect(harness.events.named("loginFailed").map(({ account, reason }) => [account, reason])).toEqual([
      ["Notch", "invalid"],
      ["Notch", "invalid"],
      ["Notch", "locked"],
    ]);
  });

  it("refuses the old attemptReauth(verify) form with a ConfigurationError that names the fix, checking nothing", async () => {
    harness = new Harness(
      {},
      {
        routes: (app) => {
          app.post("/old-reauth", async (req, res) => {
            const old = req.auth.attemptReauth as unknown as (
              verify: () => Promise<boolean>,
            ) => Promise<unknown>;
            try {
              await old.call(req.auth, async () => {
                verified++;
                return true;
              });
              res.json({ threw: false });
            } catch (error) {
              res.json({
                threw: error instanceof ConfigurationError,
                message: error instanceof Error ? error.message : "",
              });
            }
          });
        },
      },
    );
    const browser = harness.browser();
    await browser.login(1);
    const res = await browser.post("/old-reauth");
    expect(res.body).toMatchObject({ threw: true, message: expect.stringContaining("{ account, verify }") });
    expect(verified).toBe(0);
    expect(harness.probe.count("incrementCounter")).toBe(0);
  });
});
