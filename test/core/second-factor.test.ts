/**
 * Second factors in the core (issue 18): how a session was authenticated (RFC 8176 methods), the
 * pending login a right password leaves for an account with a second factor, its completion against
 * the account's single failure budget, and the step-up guard. Checklist ids: ASVS 5.0 V6.3.3 (a
 * second factor for the whole login), V6.5.1/V6.5.4 (single use), V6.1.1/V6.3.1 (one budget for every
 * secret), V7.2.4 (a new session id at authentication).
 */
import { ConfigurationError } from "login-manager";
import { afterEach, describe, expect, it } from "vitest";
import type { Harness } from "./helpers.js";
import { T0 } from "./helpers.js";
import {
  accountKey,
  hold,
  MAX_FAILURES,
  make,
  passwordStep,
  RIGHT_CODE,
  withTotp,
} from "./second-factor-harness.js";

let harness: Harness;
afterEach(async () => {
  await harness?.close();
});

describe("the pending login [ASVS V6.3.3]", () => {
  it("a right password of an account with TOTP logs nobody in: pending, anonymous, no session cookie", async () => {
    harness = make();
    await withTotp("1");
    const browser = harness.browser();
    const res = await passwordStep(browser);
    expect(res.body).toMatchObject({ ok: false, reason: "second-factor", pending: true });
    expect(browser.cookies.has("session")).toBe(false);
    expect(browser.cookies.has("session_pending")).toBe(true);
    expect((await browser.whoami()).authenticated).toBe(false);
    expect((await browser.get("/protected")).status).toBe(302);
    expect(harness.events.count("loggedIn")).toBe(0);
    const pending = (await browser.get("/pending")).body.pending;
    expect(pending).toEqual({ userId: "1", account: "Notch", remember: false, expiresAt: T0 + 300_000 });
  });

  it("the pending cookie is HttpOnly, SameSite and not cached", async () => {
    harness = make();
    await withTotp("1");
    const res = await passwordStep(harness.browser());
    const raw = String(res.headers["set-cookie"]).toLowerCase();
    expect(raw).toMatch(/session_pending=[^;]+;[^,]*httponly/);
    expect(raw).toMatch(/session_pending=[^;]+;[^,]*samesite=lax/);
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it("the right code completes it: a new session recording both methods, remember-me as chosen [V7.2.4]", async () => {
    harness = make();
    await withTotp("1");
    const browser = harness.browser();
    await passwordStep(browser, true);
    harness.clock.advance(20);
    const res = await browser.post("/second-step", { code: RIGHT_CODE });
    expect(res.body).toMatchObject({ ok: true, seen: [{ userId: "1", account: "Notch", remember: true }] });
    expect(browser.cookies.has("session_pending")).toBe(false);
    expect(browser.cookies.has("remember_token")).toBe(true);
    expect(await browser.whoami()).toMatchObject({ authenticated: true, name: "Notch", fresh: true });
    expect((await browser.get("/methods")).body.methods).toEqual([
      { method: "pwd", provenAt: T0 },
      { method: "otp", provenAt: T0 + 20_000 },
    ]);
    // Single use [V6.5.1]: the same pending cookie, replayed, opens nothing.
    const replay = harness.browser();
    replay.cookies.set("session_pending", "x");
    expect((await replay.post("/second-step", { code: RIGHT_CODE })).status).toBe(410);
  });

  it("a completed pending login cannot be completed again from a copy of its cookie [V6.5.1]", async () => {
    harness = make();
    await withTotp("1");
    const browser = harness.browser();
    await passwordStep(browser);
    const copy = browser.clone();
    expect((await browser.post("/second-step", { code: RIGHT_CODE })).status).toBe(200);
    expect((await copy.post("/second-step", { code: RIGHT_CODE })).status).toBe(410);
    expect((await copy.whoami()).authenticated).toBe(false);
  });

  it("of two completions racing with one pending cookie, exactly one logs in", async () => {
    harness = make();
    await withTotp("1");
    const browser = harness.browser();
    await passwordStep(browser);
    const copy = browser.clone();
    const results = await Promise.all([
      browser.post("/second-step", { code: RIGHT_CODE }),
      copy.post("/second-step", { code: RIGHT_CODE }),
    ]);
    expect(results.map((res) => res.status).sort()).toEqual([200, expect.any(Number)]);
    expect(results.filter((res) => res.status === 200)).toHaveLength(1);
    const sessions = await harness.memory.listUserSessions("1", harness.clock.now());
    expect(sessions).toHaveLength(1);
  });

  it("a cancelled pending login is gone at once, even later in the same request", async () => {
    harness = make();
    await withTotp("1");
    const browser = harness.browser();
    await passwordStep(browser);
    expect((await browser.post("/cancel-then-complete")).body).toEqual({ result: null, pending: null });
    expect(browser.cookies.has("session_pending")).toBe(false);
    expect((await browser.whoami()).authenticated).toBe(false);
  });

  it("the loser of a race between two right completions is told there is nothing to complete, not counted", async () => {
    harness = make();
    await withTotp("1");
    const browser = harness.browser();
    await passwordStep(browser);
    const copy = browser.clone();
    // The winner waits inside its check until the loser has found the pending login too; the loser
    // then checks a right factor against a pending login the winner has used up meanwhile.
    hold.until = harness.probe.count("findOneTimeToken") + 2;
    const [winner, loser] = await Promise.all([
      browser.post("/second-step", { code: "hold" }),
      copy.post("/second-step", { code: RIGHT_CODE }),
    ]);
    expect(winner.status).toBe(200);
    expect(loser.status).toBe(410);
    expect(loser.body.seen ?? []).toBeDefined();
    expect(harness.events.count("loginFailed")).toBe(0);
    const key = accountKey("Notch");
    expect(await harness.memory.getCounter(key, harness.clock.now())).toBeNull();
    expect(await harness.memory.listUserSessions("1", harness.clock.now())).toHaveLength(1);
  });

  it("expires after five minutes", async () => {
    harness = make();
    await withTotp("1");
    const browser = harness.browser();
    await passwordStep(browser);
    harness.clock.advance(301);
    expect((await browser.post("/second-step", { code: RIGHT_CODE })).status).toBe(410);
    expect(browser.cookies.has("session_pending")).toBe(false);
  });

  it("is voided by a revocation of the user's sessions (a password reset elsewhere)", async () => {
    harness = make();
    await withTotp("1");
    const browser = harness.browser();
    await passwordStep(browser);
    await harness.manager.revokeUserSessions("1");
    expect((await browser.post("/second-step", { code: RIGHT_CODE })).status).toBe(410);
  });

  it("a login that names a second factor (a passkey with user verification) is not held", async () => {
    harness = make();
    await withTotp("1");
    const browser = harness.browser();
    expect((await browser.post("/login-methods", { id: 1, methods: ["swk", "mfa"] })).body.ok).toBe(true);
    expect((await browser.whoami()).authenticated).toBe(true);
  });

  it("an account without a second factor logs in on the password alone", async () => {
    harness = make();
    const res = await passwordStep(harness.browser());
    expect(res.body).toMatchObject({ ok: true, pending: false });
  });

  it("completeLogin refuses a step that proves no second factor (a bug in the app)", async () => {
    harness = make();
    await withTotp("1");
    const browser = harness.browser();
    await passwordStep(browser);
    expect((await browser.post("/second-step", { code: RIGHT_CODE, method: "pwd" })).status).toBe(500);
    expect(harness.errors[0]).toBeInstanceOf(ConfigurationError);
  });
});

describe("one failure budget for the password and the second factor [V6.1.1, V6.3.1]", () => {
  it("wrong codes are counted and lock the account; while locked even the right code is refused", async () => {
    harness = make();
    await withTotp("1");
    const browser = harness.browser();
    await passwordStep(browser);
    const statuses: number[] = [];
    // The password step's charge stays counted until the login completes: 1 + 4 wrong codes lock.
    for (let i = 0; i < MAX_FAILURES - 1; i++) {
      statuses.push((await browser.post("/second-step", { code: "000000" })).status);
    }
    expect(statuses.slice(0, -1).every((status) => status === 401)).toBe(true);
    const locked = await browser.post("/second-step", { code: RIGHT_CODE });
    expect(locked.status).toBe(429);
    expect(locked.body.retryAfterSeconds).toBeGreaterThan(0);
    expect((await browser.whoami()).authenticated).toBe(false);
    expect(harness.events.named("loginFailed").length).toBeGreaterThanOrEqual(MAX_FAILURES - 1);
  });

  it("a right password does not reset the budget an attacker spent on codes", async () => {
    harness = make();
    await withTotp("1");
    const attacker = harness.browser();
    for (let round = 0; round < 2; round++) {
      await passwordStep(attacker);
      await attacker.post("/second-step", { code: "000000" });
    }
    // Two password steps and two wrong codes: four of five spent.
    await passwordStep(attacker);
    const res = await attacker.post("/second-step", { code: "111111" });
    expect([401, 429]).toContain(res.status);
    expect((await passwordStep(attacker)).body.reason).toBe("locked");
  });

  it("the right code resets the budget, as a completed login does", async () => {
    harness = make();
    await withTotp("1");
    const browser = harness.browser();
    await passwordStep(browser);
    await browser.post("/second-step", { code: "000000" });
    const key0 = accountKey("Notch");
    expect((await harness.memory.getCounter(key0, harness.clock.now()))?.count).toBe(2);
    await browser.post("/second-step", { code: RIGHT_CODE });
    const key = accountKey("Notch");
    expect(await harness.memory.getCounter(key, harness.clock.now())).toBeNull();
  });

  it("verifySecret spends the same budget", async () => {
    harness = make();
    const browser = harness.browser();
    for (let i = 0; i < MAX_FAILURES - 1; i++) {
      expect((await browser.post("/verify-secret", { account: "Notch", code: "0" })).body).toEqual({
        ok: false,
        reason: "invalid",
      });
    }
    expect((await browser.post("/verify-secret", { account: "Notch", code: "0" })).body).toMatchObject({
      ok: false,
      reason: "invalid",
      retryAfterSeconds: expect.any(Number),
    });
    const res = await browser.post("/password", { account: "Notch", password: "Notch-password" });
    expect(res.body.reason).toBe("locked");
  });
});
