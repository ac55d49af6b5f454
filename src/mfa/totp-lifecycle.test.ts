import { describe, expect, it } from "vitest";
import {
  ACCOUNT_BUDGET,
  type FactorSetup,
  factorSetup,
  type TestUser,
} from "../../test/helpers/second-factors.js";
import { SecondFactors } from "./second-factors.js";
import { SecretBoxError } from "./secret-box.js";
import { totpCode } from "./totp.js";

const OLD_SECRET = "second-factor-old-secret-0123456789abcdef";
const NEW_SECRET = "second-factor-new-secret-fedcba9876543210";

async function enrol(setup: FactorSetup, mfa: SecondFactors<TestUser>, userId = "1") {
  const { auth } = await setup.loggedIn(userId, ["pwd"]);
  const { secret } = await mfa.startTotp(auth, { accountName: "ada" });
  const result = await mfa.confirmTotp(auth, totpCode(secret, setup.clock.now()));
  if (!result.ok) throw new Error(result.reason);
  return { secret, recoveryCodes: result.recoveryCodes };
}

function wrongCode(secret: string, now: number): string {
  return totpCode(secret, now) === "000000" ? "000001" : "000000";
}

describe("turning TOTP off", () => {
  it("needs a right code, and takes the recovery codes along when no passkey remains", async () => {
    const setup = factorSetup();
    const mfa = new SecondFactors(setup.manager, { totp: { issuer: "Example" } });
    const disabled: string[] = [];
    mfa.events.on("totpDisabled", ({ userId }) => disabled.push(userId));
    const { secret } = await enrol(setup, mfa);
    setup.clock.advance(30);
    const { auth } = await setup.loggedIn("1");
    const wrong = wrongCode(secret, setup.clock.now());
    expect(await mfa.disableTotp(auth, { account: "ada", code: wrong })).toEqual({
      ok: false,
      reason: "invalid",
    });
    expect((await mfa.status("1")).totp).toBe(true);
    const code = totpCode(secret, setup.clock.now());
    expect(await mfa.disableTotp(auth, { account: "ada", code })).toEqual({ ok: true });
    expect(await mfa.status("1")).toEqual({ totp: false, recoveryCodesLeft: 0, passkeys: 0 });
    expect(disabled).toEqual(["1"]);
  });

  it("takes a recovery code instead, and keeps the codes while a passkey remains", async () => {
    const setup = factorSetup();
    const mfa = new SecondFactors(setup.manager, { totp: { issuer: "Example" } });
    const { recoveryCodes } = await enrol(setup, mfa);
    await setup.memory.createFactor({
      kind: "passkey",
      id: "credential-1",
      userId: "1",
      label: "Laptop",
      data: "{}",
      counter: 0,
      createdAt: setup.clock.now(),
      lastUsedAt: null,
    });
    const { auth } = await setup.loggedIn("1");
    expect(await mfa.disableTotp(auth, { account: "ada", code: recoveryCodes[0] })).toEqual({ ok: true });
    expect(await mfa.status("1")).toEqual({ totp: false, recoveryCodesLeft: 9, passkeys: 1 });
  });

  it("counts wrong codes in the account's failure budget, until it locks", async () => {
    const setup = factorSetup();
    const mfa = new SecondFactors(setup.manager, { totp: { issuer: "Example" } });
    const { secret } = await enrol(setup, mfa);
    setup.clock.advance(30);
    const { auth } = await setup.loggedIn("1");
    const wrong = wrongCode(secret, setup.clock.now());
    for (let i = 1; i < ACCOUNT_BUDGET; i++) {
      expect(await mfa.disableTotp(auth, { account: "ada", code: wrong })).toEqual({
        ok: false,
        reason: "invalid",
      });
    }
    expect(await mfa.disableTotp(auth, { account: "ada", code: wrong })).toEqual({
      ok: false,
      reason: "invalid",
      retryAfterSeconds: expect.any(Number),
    });
    const right = totpCode(secret, setup.clock.now());
    expect(await mfa.disableTotp(auth, { account: "ada", code: right })).toMatchObject({ reason: "locked" });
    expect((await mfa.status("1")).totp).toBe(true);
  });

  it("refuses an oversized code before any store call, uncounted", async () => {
    const setup = factorSetup();
    const mfa = new SecondFactors(setup.manager, { totp: { issuer: "Example" } });
    await enrol(setup, mfa);
    const { auth } = await setup.loggedIn("1");
    setup.calls.length = 0;
    expect(await mfa.disableTotp(auth, { account: "ada", code: "1".repeat(65) })).toEqual({
      ok: false,
      reason: "invalid",
    });
    expect(setup.calls).toEqual([]);
  });
});

describe("verifyCode (re-authentication)", () => {
  it("uses the TOTP step: the same code twice is refused", async () => {
    const setup = factorSetup();
    const mfa = new SecondFactors(setup.manager, { totp: { issuer: "Example" } });
    const { secret } = await enrol(setup, mfa);
    setup.clock.advance(60);
    const code = totpCode(secret, setup.clock.now());
    expect(await mfa.verifyCode("1", code)).toBe(true);
    expect(await mfa.verifyCode("1", code)).toBe(false);
    expect(await mfa.verifyCode("2", code)).toBe(false);
  });
});

describe("rotating the app secret", () => {
  it("keeps TOTP working with the old secret listed second, and seals the secret again on use", async () => {
    const setup = factorSetup(OLD_SECRET);
    const { secret } = await enrol(setup, new SecondFactors(setup.manager, { totp: { issuer: "Example" } }));
    const before = (await setup.memory.getFactor("totp", "1"))?.data ?? "";
    const rotated = new SecondFactors(setup.managerWith([NEW_SECRET, OLD_SECRET]), {
      totp: { issuer: "Example" },
    });
    setup.clock.advance(30);
    expect(await rotated.verifyCode("1", totpCode(secret, setup.clock.now()))).toBe(true);
    const after = (await setup.memory.getFactor("totp", "1"))?.data ?? "";
    expect(after.split(".")[1]).not.toBe(before.split(".")[1]);
    // Sealed again under the new secret: the old one can go.
    const newOnly = new SecondFactors(setup.managerWith(NEW_SECRET), { totp: { issuer: "Example" } });
    setup.clock.advance(30);
    expect(await newOnly.verifyCode("1", totpCode(secret, setup.clock.now()))).toBe(true);
  });

  it("fails loudly when the secret that sealed a TOTP secret is no longer configured", async () => {
    const setup = factorSetup(OLD_SECRET);
    const { secret } = await enrol(setup, new SecondFactors(setup.manager, { totp: { issuer: "Example" } }));
    const newOnly = new SecondFactors(setup.managerWith(NEW_SECRET), { totp: { issuer: "Example" } });
    setup.clock.advance(30);
    await expect(newOnly.verifyCode("1", totpCode(secret, setup.clock.now()))).rejects.toThrow(
      SecretBoxError,
    );
  });

  it("keeps a pending enrolment confirmable across a rotation", async () => {
    const setup = factorSetup(OLD_SECRET);
    const { auth } = await setup.loggedIn("1");
    const { secret } = await new SecondFactors(setup.manager, { totp: { issuer: "Example" } }).startTotp(
      auth,
      {
        accountName: "ada",
      },
    );
    const rotated = new SecondFactors(setup.managerWith([NEW_SECRET, OLD_SECRET]), {
      totp: { issuer: "Example" },
    });
    expect((await rotated.confirmTotp(auth, totpCode(secret, setup.clock.now()))).ok).toBe(true);
    const data = (await setup.memory.getFactor("totp", "1"))?.data ?? "";
    const newOnly = new SecondFactors(setup.managerWith(NEW_SECRET), { totp: { issuer: "Example" } });
    setup.clock.advance(30);
    expect(data).toMatch(/^v1\./);
    expect(await newOnly.verifyCode("1", totpCode(secret, setup.clock.now()))).toBe(true);
  });
});
