import { describe, expect, it } from "vitest";
import {
  ACCOUNT_BUDGET,
  type FactorSetup,
  factorSetup,
  methodsOf,
  TestBrowser,
  type TestUser,
} from "../../test/helpers/second-factors.js";
import { ConfigurationError, LoginManagerError } from "../core/errors.js";
import { type SecondFactorEvents, SecondFactors } from "./second-factors.js";
import { totpCode } from "./totp.js";

const ISSUER = "Example Co";
const RECOVERY_SHAPE = /^([0-9a-hjkmnp-tv-z]{6}-){3}[0-9a-hjkmnp-tv-z]{6}$/;

function mfaOf(setup: FactorSetup, manager = setup.manager) {
  const mfa = new SecondFactors(manager, { totp: { issuer: ISSUER } });
  const seen: { event: keyof SecondFactorEvents; userId: string; remaining?: number }[] = [];
  for (const event of [
    "totpEnabled",
    "totpDisabled",
    "recoveryCodesRegenerated",
    "recoveryCodeUsed",
  ] as const) {
    mfa.events.on(event, (payload) =>
      seen.push({
        event,
        userId: payload.userId,
        ...("remaining" in payload ? { remaining: payload.remaining } : {}),
      }),
    );
  }
  return { mfa, seen };
}

/** Turns TOTP on for `userId`; returns the secret and the recovery codes. */
async function enrol(setup: FactorSetup, mfa: SecondFactors<TestUser>, userId = "1") {
  const { auth } = await setup.loggedIn(userId, ["pwd"]);
  const { secret } = await mfa.startTotp(auth, { accountName: `${userId}@example.com` });
  const result = await mfa.confirmTotp(auth, totpCode(secret, setup.clock.now()));
  if (!result.ok) throw new Error(`confirm failed: ${result.reason}`);
  return { secret, recoveryCodes: result.recoveryCodes };
}

describe("SecondFactors options", () => {
  const setup = factorSetup();

  it("are frozen, with ten recovery codes by default", () => {
    const { mfa } = mfaOf(setup);
    expect(mfa.options).toEqual({ totp: { issuer: ISSUER }, recoveryCodes: { count: 10 } });
    expect(Object.isFrozen(mfa.options)).toBe(true);
    expect(Object.isFrozen(mfa.options.totp)).toBe(true);
  });

  it.each([
    [
      { totp: { issuer: ISSUER }, recoverycodes: {} },
      /unknown option "recoverycodes": did you mean "recoveryCodes"\?/,
    ],
    [{ totp: { isuer: ISSUER } }, /unknown option "totp.isuer": did you mean "totp.issuer"\?/],
    [{ totp: { issuer: ISSUER }, recoveryCodes: { cout: 5 } }, /did you mean "recoveryCodes.count"\?/],
    [{}, /totp.issuer is required/],
    [{ totp: { issuer: "" } }, /totp.issuer must be a string of 1 to 64/],
    [{ totp: { issuer: "a:b" } }, /must not contain ":"/],
    [
      { totp: { issuer: ISSUER }, recoveryCodes: { count: 0 } },
      /recoveryCodes.count must be a whole number from 1 to 50/,
    ],
    [null, /options must be an object/],
  ])("refuse %j at setup, saying the fix", (options, message) => {
    expect(() => new SecondFactors(setup.manager, options as never)).toThrow(ConfigurationError);
    expect(() => new SecondFactors(setup.manager, options as never)).toThrow(message);
  });
});

describe("turning TOTP on", () => {
  it("shows a secret and an otpauth URI, and turns on with the first code and ten recovery codes", async () => {
    const setup = factorSetup();
    const { mfa, seen } = mfaOf(setup);
    const { auth } = await setup.loggedIn("1", ["pwd"]);
    const { secret, uri } = await mfa.startTotp(auth, { accountName: "ada@example.com" });
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(uri).toBe(
      `otpauth://totp/Example%20Co:ada%40example.com?secret=${secret}&issuer=Example%20Co&algorithm=SHA1&digits=6&period=30`,
    );
    expect(await mfa.status("1")).toEqual({ totp: false, recoveryCodesLeft: 0, passkeys: 0 });
    const result = await mfa.confirmTotp(auth, totpCode(secret, setup.clock.now()));
    if (!result.ok) throw new Error(result.reason);
    expect(result.recoveryCodes).toHaveLength(10);
    for (const code of result.recoveryCodes) expect(code).toMatch(RECOVERY_SHAPE);
    expect(await mfa.status("1")).toEqual({ totp: true, recoveryCodesLeft: 10, passkeys: 0 });
    expect(seen).toEqual([{ event: "totpEnabled", userId: "1" }]);
  });

  it("stores the secret sealed and the recovery codes as hashes only", async () => {
    const setup = factorSetup();
    const { mfa } = mfaOf(setup);
    const { secret, recoveryCodes } = await enrol(setup, mfa);
    const factors = await setup.memory.listUserFactors("1", null);
    const stored = JSON.stringify(factors);
    expect(stored).not.toContain(secret);
    for (const code of recoveryCodes) expect(stored).not.toContain(code.replaceAll("-", ""));
    const totp = factors.find((factor) => factor.kind === "totp");
    expect(totp).toMatchObject({ id: "1", userId: "1", data: expect.stringMatching(/^v1\./) });
  });

  it("refuses a wrong code (the enrolment stays) and then accepts the right one", async () => {
    const setup = factorSetup();
    const { mfa } = mfaOf(setup);
    const { auth } = await setup.loggedIn("1", ["pwd"]);
    const { secret } = await mfa.startTotp(auth, { accountName: "ada" });
    const right = totpCode(secret, setup.clock.now());
    const wrong = right === "000000" ? "000001" : "000000";
    expect(await mfa.confirmTotp(auth, wrong)).toEqual({ ok: false, reason: "invalid" });
    expect(await mfa.confirmTotp(auth, "12345")).toEqual({ ok: false, reason: "invalid" });
    expect((await mfa.confirmTotp(auth, right)).ok).toBe(true);
  });

  it("binds the enrolment to the browser, for ten minutes, once", async () => {
    const setup = factorSetup();
    const { mfa } = mfaOf(setup);
    const { auth, browser } = await setup.loggedIn("1", ["pwd"]);
    const { secret } = await mfa.startTotp(auth, { accountName: "ada" });
    const { auth: other } = await setup.loggedIn("1", ["pwd"]);
    expect(await mfa.confirmTotp(other, totpCode(secret, setup.clock.now()))).toEqual({
      ok: false,
      reason: "expired",
    });
    setup.clock.advance(600);
    const later = await browser.request();
    expect(await mfa.confirmTotp(later, totpCode(secret, setup.clock.now()))).toEqual({
      ok: false,
      reason: "expired",
    });
    const again = await mfa.startTotp(later, { accountName: "ada" });
    const code = totpCode(again.secret, setup.clock.now());
    const [one, two] = [await browser.request(), await browser.request()];
    const both = await Promise.all([mfa.confirmTotp(one, code), mfa.confirmTotp(two, code)]);
    expect(both.filter((result) => result.ok)).toHaveLength(1);
    expect(both.find((result) => !result.ok)).toEqual({ ok: false, reason: "expired" });
  });

  it("needs a fresh login, a sane account name, and TOTP off", async () => {
    const setup = factorSetup();
    const { mfa } = mfaOf(setup);
    const { auth: stale } = await setup.restored("1");
    await expect(mfa.startTotp(stale, { accountName: "ada" })).rejects.toThrow(/fresh login/);
    await expect(mfa.confirmTotp(stale, "123456")).rejects.toThrow(/freshLoginRequired/);
    const anonymous = await new TestBrowser(setup.manager).request();
    await expect(mfa.startTotp(anonymous, { accountName: "ada" })).rejects.toThrow(LoginManagerError);
    const { auth } = await setup.loggedIn("1", ["pwd"]);
    await expect(mfa.startTotp(auth, { accountName: "a:b" })).rejects.toThrow(LoginManagerError);
    await expect(mfa.startTotp(auth, { accountName: "x".repeat(321) })).rejects.toThrow(/1 to 320/);
    await enrol(setup, mfa);
    await expect(mfa.startTotp(auth, { accountName: "ada" })).rejects.toThrow(/on already/);
  });
});

describe("a login's TOTP step", () => {
  it("stops a password-only login at a pending login, then completes it once with the current code", async () => {
    const setup = factorSetup();
    const { mfa } = mfaOf(setup);
    const { secret } = await enrol(setup, mfa);
    setup.clock.advance(30);
    const code = totpCode(secret, setup.clock.now());
    const { auth, browser } = await setup.pendingFor("1", true);
    expect(auth.isAuthenticated).toBe(false);
    expect(await mfa.completeLogin(auth, { code })).toMatchObject({ ok: true });
    expect(methodsOf(auth)).toEqual(["pwd", "otp"]);
    expect(browser.cookies.has(setup.manager.options.cookies.rememberName)).toBe(true);
    expect((await browser.request()).isAuthenticated).toBe(true);
    const { auth: replay } = await setup.pendingFor("1");
    expect(await mfa.completeLogin(replay, { code })).toEqual({ ok: false, reason: "invalid" });
    expect(await replay.pendingLogin()).not.toBeNull();
  });

  it("refuses the code that turned TOTP on", async () => {
    const setup = factorSetup();
    const { mfa } = mfaOf(setup);
    const { secret } = await enrol(setup, mfa);
    const code = totpCode(secret, setup.clock.now());
    const { auth } = await setup.pendingFor("1");
    expect(await mfa.completeLogin(auth, { code })).toEqual({ ok: false, reason: "invalid" });
  });

  it.each([
    [-30, true],
    [30, true],
    [-60, false],
    [60, false],
  ])("takes a code from %i s away: %s", async (offsetSeconds, accepted) => {
    const setup = factorSetup();
    const { mfa } = mfaOf(setup);
    const { secret } = await enrol(setup, mfa);
    setup.clock.advance(300);
    const code = totpCode(secret, setup.clock.now() + offsetSeconds * 1000);
    const { auth } = await setup.pendingFor("1");
    expect((await mfa.completeLogin(auth, { code }))?.ok).toBe(accepted);
  });

  it("lets exactly one of two concurrent uses of one code through", async () => {
    const setup = factorSetup();
    const { mfa } = mfaOf(setup);
    const { secret } = await enrol(setup, mfa);
    setup.clock.advance(30);
    const code = totpCode(secret, setup.clock.now());
    const [one, two] = [await setup.pendingFor("1"), await setup.pendingFor("1")];
    const results = await Promise.all([
      mfa.completeLogin(one.auth, { code }),
      mfa.completeLogin(two.auth, { code }),
    ]);
    expect(results.map((result) => result?.ok).sort()).toEqual([false, true]);
  });

  it("is null without a pending login, and spends the account's budget with the password", async () => {
    const setup = factorSetup();
    const { mfa } = mfaOf(setup);
    const { secret } = await enrol(setup, mfa);
    const { auth: loggedIn } = await setup.loggedIn("1");
    expect(await mfa.completeLogin(loggedIn, { code: "123456" })).toBeNull();
    setup.clock.advance(30);
    const right = totpCode(secret, setup.clock.now());
    const wrong = right === "000000" ? "000001" : "000000";
    const { auth } = await setup.pendingFor("1");
    // The password step's attempt stays counted until the login completes.
    for (let i = 2; i < ACCOUNT_BUDGET; i++) {
      expect(await mfa.completeLogin(auth, { code: wrong })).toEqual({ ok: false, reason: "invalid" });
    }
    expect(await mfa.completeLogin(auth, { code: "x".repeat(65) })).toMatchObject({
      ok: false,
      reason: "invalid",
      retryAfterSeconds: expect.any(Number),
    });
    expect(await mfa.completeLogin(auth, { code: right })).toMatchObject({ reason: "locked" });
    const password = await new TestBrowser(setup.manager).request();
    const user = setup.users.get("1") as TestUser;
    expect(await password.attemptLogin({ account: "ada", verify: async () => user })).toMatchObject({
      reason: "locked",
    });
  });

  it("refuses oversized and non-string input without a factor lookup", async () => {
    const setup = factorSetup();
    const { mfa } = mfaOf(setup);
    await enrol(setup, mfa);
    const { auth } = await setup.pendingFor("1");
    setup.calls.length = 0;
    for (const code of ["1".repeat(65), 123456, ["123456"], null]) {
      expect(await mfa.completeLogin(auth, { code })).toMatchObject({ ok: false });
      expect(await mfa.verifyCode("1", code)).toBe(false);
    }
    expect(await mfa.completeLogin(auth, { recoveryCode: "r".repeat(65) })).toMatchObject({ ok: false });
    expect(setup.calls.filter((call) => call.method.includes("Factor"))).toEqual([]);
  });
});

describe("recovery codes", () => {
  it("complete a login once each, with the method rc, and report what is left", async () => {
    const setup = factorSetup();
    const { mfa, seen } = mfaOf(setup);
    const { recoveryCodes } = await enrol(setup, mfa);
    const [code = ""] = recoveryCodes;
    const { auth } = await setup.pendingFor("1");
    expect(await mfa.completeLogin(auth, { recoveryCode: code.toUpperCase() })).toMatchObject({ ok: true });
    expect(methodsOf(auth)).toEqual(["pwd", "rc"]);
    const { auth: again } = await setup.pendingFor("1");
    expect(await mfa.completeLogin(again, { recoveryCode: code })).toEqual({ ok: false, reason: "invalid" });
    expect(seen.at(-1)).toEqual({ event: "recoveryCodeUsed", userId: "1", remaining: 9 });
    expect((await mfa.status("1")).recoveryCodesLeft).toBe(9);
  });

  it("are single-use under concurrency: of two uses at once exactly one is accepted", async () => {
    const setup = factorSetup();
    const { mfa } = mfaOf(setup);
    const { recoveryCodes } = await enrol(setup, mfa);
    const code = recoveryCodes[3];
    const results = await Promise.all([mfa.verifyCode("1", code), mfa.verifyCode("1", code)]);
    expect(results.sort()).toEqual([false, true]);
  });

  it("codeMethod says which kind of code it was (otp or rc), using it up, so re-authentication records the right method", async () => {
    const setup = factorSetup();
    const { mfa } = mfaOf(setup);
    const { secret, recoveryCodes } = await enrol(setup, mfa);
    setup.clock.advance(30);
    const code = totpCode(secret, setup.clock.now());
    expect(await mfa.codeMethod("1", code)).toBe("otp");
    expect(await mfa.codeMethod("1", code)).toBeNull();
    expect(await mfa.codeMethod("1", recoveryCodes[0])).toBe("rc");
    expect(await mfa.codeMethod("1", recoveryCodes[0])).toBeNull();
    expect(await mfa.codeMethod("1", "nonsense")).toBeNull();
  });

  it("belong to their user", async () => {
    const setup = factorSetup();
    const { mfa } = mfaOf(setup);
    const ada = await enrol(setup, mfa, "1");
    await enrol(setup, mfa, "2");
    expect(await mfa.verifyCode("2", ada.recoveryCodes[0])).toBe(false);
    expect(await mfa.verifyCode("1", ada.recoveryCodes[0])).toBe(true);
  });

  it("are replaced by a regeneration, which needs a fresh login and a second factor", async () => {
    const setup = factorSetup();
    const { mfa, seen } = mfaOf(setup);
    const { auth: before } = await setup.loggedIn("1", ["pwd"]);
    await expect(mfa.regenerateRecoveryCodes(before)).rejects.toThrow(/no second factor/);
    const { recoveryCodes } = await enrol(setup, mfa);
    const { auth: stale } = await setup.restored("1");
    await expect(mfa.regenerateRecoveryCodes(stale)).rejects.toThrow(/fresh login/);
    const { auth } = await setup.loggedIn("1");
    const fresh = await mfa.regenerateRecoveryCodes(auth);
    expect(fresh).toHaveLength(10);
    expect(await mfa.verifyCode("1", recoveryCodes[0])).toBe(false);
    expect(await mfa.verifyCode("1", fresh[0])).toBe(true);
    expect(seen).toContainEqual({ event: "recoveryCodesRegenerated", userId: "1" });
  });
});
