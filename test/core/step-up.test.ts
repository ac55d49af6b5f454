/**
 * How a session was authenticated (RFC 8176 methods with times), the step-up guard
 * `secondFactorRequired`, re-authentication recording what it proved, and `browserBinding` (issue 18).
 * ASVS 5.0 V6.3.3 (a second factor where required), V7.5.1 (re-authentication before sensitive steps).
 */
import { ConfigurationError } from "login-manager";
import { secondFactorRequired } from "login-manager/express";
import { afterEach, describe, expect, it } from "vitest";
import type { Harness } from "./helpers.js";
import { T0 } from "./helpers.js";
import { make } from "./second-factor-harness.js";

let harness: Harness;
afterEach(async () => {
  await harness?.close();
});

describe("how a session was authenticated", () => {
  it("records the password with its time by default, and the methods a login names", async () => {
    harness = make();
    const browser = harness.browser();
    await browser.login(1);
    expect((await browser.get("/methods")).body).toEqual({
      methods: [{ method: "pwd", provenAt: T0 }],
      proven: false,
    });
    const other = harness.browser();
    expect((await other.post("/login-methods", { id: 1, methods: ["swk", "mfa"] })).body).toEqual({
      ok: true,
      pending: false,
    });
    expect((await other.get("/methods")).body.proven).toBe(true);
  });

  it("refuses a method name that is not one at setup-like misuse, with the fix in the message", async () => {
    harness = make();
    const res = await harness.browser().post("/login-methods", { id: 1, methods: ["Password!"] });
    expect(res.status).toBe(500);
    expect(harness.errors[0]).toBeInstanceOf(ConfigurationError);
    expect(String(harness.errors[0])).toMatch(/RFC 8176/);
  });

  it("records nothing for a session restored from remember-me: a step-up guard asks again", async () => {
    harness = make();
    const browser = harness.browser();
    await browser.post("/login-methods", { id: 1, methods: ["pwd", "otp"] });
    expect((await browser.get("/step-up")).status).toBe(200);
    const remembered = harness.browser();
    await remembered.login(1, { remember: true });
    remembered.cookies.delete("session");
    expect((await remembered.get("/methods")).body.methods).toEqual([]);
    expect((await remembered.get("/step-up")).status).toBe(302);
  });
});

describe("step-up: secondFactorRequired", () => {
  it("sends a password-only login to the refresh view, then lets it through once a factor is proven", async () => {
    harness = make();
    const browser = harness.browser();
    await browser.login(1);
    const refused = await browser.get("/step-up");
    expect(refused.status).toBe(302);
    expect(refused.headers.location).toMatch(/next=%2Fstep-up/);
    expect((await browser.post("/confirm-otp")).body).toEqual({ ok: true });
    expect((await browser.get("/step-up")).status).toBe(200);
    expect(
      (await browser.get("/methods")).body.methods.map((proof: { method: string }) => proof.method),
    ).toEqual(["pwd", "otp"]);
  });

  it("attemptReauth records the methods a function names once verify has found them (a recovery code: rc)", async () => {
    harness = make();
    const browser = harness.browser();
    await browser.login(1);
    expect((await browser.post("/reauth-code", { kind: "rc" })).body).toEqual({ ok: true });
    expect(
      (await browser.get("/methods")).body.methods.map((proof: { method: string }) => proof.method),
    ).toEqual(["pwd", "rc"]);
    expect((await browser.get("/step-up")).status).toBe(200);
  });

  it("withinSeconds: a factor proven longer ago than that is asked for again", async () => {
    harness = make();
    const browser = harness.browser();
    await browser.post("/login-methods", { id: 1, methods: ["pwd", "otp"] });
    expect((await browser.get("/step-up-recent")).status).toBe(200);
    harness.clock.advance(601);
    expect((await browser.get("/step-up-recent")).status).toBe(302);
    expect((await browser.get("/step-up")).status).toBe(200);
  });

  it("refuses a bad option at setup with the fix in the message", () => {
    expect(() => secondFactorRequired({ withinSeconds: 0 })).toThrow(/positive whole number/);
    expect(() => secondFactorRequired({ within: 60 } as never)).toThrow(/withinSeconds/);
  });
});

describe("browserBinding", () => {
  it("names this browser's login: stable within it, different for another browser and after login", async () => {
    harness = make();
    const one = harness.browser();
    const two = harness.browser();
    const first = (await one.get("/binding")).body.binding as string;
    expect((await one.get("/binding")).body.binding).toBe(first);
    expect((await two.get("/binding")).body.binding).not.toBe(first);
    await one.login(1);
    const loggedIn = (await one.get("/binding")).body.binding as string;
    expect(loggedIn).not.toBe(first);
    expect(loggedIn.startsWith("s.")).toBe(true);
    expect(loggedIn).not.toContain((one.cookies.get("session") as string).split(".")[0]);
  });
});
