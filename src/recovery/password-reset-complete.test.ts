import { describe, expect, it, vi } from "vitest";
import {
  linkForAda,
  logIn,
  type MailUser,
  recoverySetup,
  requestFrom,
  resetOf,
  type Setup,
} from "../../test/helpers/recovery.js";
import { ConfigurationError } from "../core/errors.js";
import { LoginManager } from "../core/manager.js";
import { hashToken } from "../core/tokens.js";
import { MemoryStore } from "../stores/memory/index.js";
import { PasswordReset, type PasswordResetOptions } from "./password-reset.js";

describe("PasswordReset.check", () => {
  it("never uses the link", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup);
    const token = await linkForAda(reset, mails);
    expect((await reset.check(token))?.id).toBe("1");
    expect((await reset.check(token))?.id).toBe("1");
    const done = await reset.complete({ token, setPassword: async () => undefined });
    expect(done.ok).toBe(true);
  });

  it("refuses a malformed token before any store call", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup);
    const token = await linkForAda(reset, mails);
    setup.calls.length = 0;
    const setPassword = vi.fn(async () => undefined);
    for (const bad of ["", "abc", "x".repeat(10_000), `${token}x`, token.replace(".", "="), 42, null]) {
      expect(await reset.check(bad as string)).toBeNull();
      expect(await reset.complete({ token: bad as string, setPassword })).toEqual({ ok: false });
    }
    expect(setup.calls).toEqual([]);
    expect(setPassword).not.toHaveBeenCalled();
  });

  it("refuses an expired link, here and in complete", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup, { ttlSeconds: 600 });
    const token = await linkForAda(reset, mails);
    setup.clock.advance(599);
    expect((await reset.check(token))?.id).toBe("1");
    setup.clock.advance(1);
    expect(await reset.check(token)).toBeNull();
    const setPassword = vi.fn(async () => undefined);
    expect(await reset.complete({ token, setPassword })).toEqual({ ok: false });
    expect(setPassword).not.toHaveBeenCalled();
  });

  it("refuses an unknown token and a token of another purpose", async () => {
    const setup = recoverySetup();
    const { reset } = resetOf(setup);
    const other = await setup.manager.issueOneTimeToken({
      purpose: "email-verify",
      userId: "1",
      ttlSeconds: 60,
    });
    expect(await reset.check(`${"a".repeat(22)}.${"b".repeat(22)}`)).toBeNull();
    expect(await reset.check(other)).toBeNull();
    expect(await reset.complete({ token: other, setPassword: async () => undefined })).toEqual({ ok: false });
  });
});

describe("PasswordReset.complete", () => {
  it("sets the password once, ends every session and remember-me token of the user, and emits", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup);
    const ada = setup.users.get("1") as MailUser;
    await logIn(setup.manager, ada);
    await logIn(setup.manager, ada);
    const bob = setup.users.get("2") as MailUser;
    await logIn(setup.manager, bob);
    const revoked: unknown[] = [];
    setup.manager.on("sessionsRevoked", (event) => revoked.push(event));
    const token = await linkForAda(reset, mails);
    const setPassword = vi.fn(async (_user: MailUser) => undefined);
    expect(await reset.complete({ token, setPassword, request: requestFrom() })).toEqual({
      ok: true,
      user: ada,
    });
    expect(setPassword).toHaveBeenCalledExactlyOnceWith(ada);
    expect(await setup.memory.listUserSessions("1", setup.clock.now())).toEqual([]);
    expect(await setup.memory.deleteUserRememberTokens("1")).toBe(0);
    expect(await setup.memory.listUserSessions("2", setup.clock.now())).toHaveLength(1);
    expect(revoked).toEqual([{ userId: "1", reason: "password-reset", count: 2 }]);
    expect(await reset.complete({ token, setPassword })).toEqual({ ok: false });
    expect(setPassword).toHaveBeenCalledTimes(1);
  });

  it("lets exactly one of concurrent uses of a link through", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup);
    const token = await linkForAda(reset, mails);
    const setPassword = vi.fn(async () => undefined);
    const results = await Promise.all(
      Array.from({ length: 5 }, () => reset.complete({ token, setPassword })),
    );
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(setPassword).toHaveBeenCalledTimes(1);
  });

  it("voids the user's other reset links and other one-time tokens", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup);
    const token = await linkForAda(reset, mails);
    const issue = (purpose: string) =>
      setup.manager.issueOneTimeToken({ purpose, userId: "1", ttlSeconds: 600 });
    const otherReset = await issue("password-reset");
    const verify = await issue("email-verify");
    expect((await reset.complete({ token, setPassword: async () => undefined })).ok).toBe(true);
    expect(await reset.check(otherReset)).toBeNull();
    expect(await setup.manager.peekOneTimeToken("email-verify", verify)).toBeNull();
  });

  it("is voided by a password change on any path: afterPasswordChange", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup);
    const token = await linkForAda(reset, mails);
    const auth = await logIn(setup.manager, setup.users.get("1") as MailUser);
    await auth.afterPasswordChange();
    expect(await reset.check(token)).toBeNull();
    const setPassword = vi.fn(async () => undefined);
    expect(await reset.complete({ token, setPassword })).toEqual({ ok: false });
    expect(setPassword).not.toHaveBeenCalled();
  });

  it("is voided by manager.revokeUserSessions, and a link asked for afterwards works", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup);
    const token = await linkForAda(reset, mails);
    await setup.manager.revokeUserSessions("1");
    expect(await reset.check(token)).toBeNull();
    const fresh = await linkForAda(reset, mails);
    expect((await reset.complete({ token: fresh, setPassword: async () => undefined })).ok).toBe(true);
  });

  it("passes on setPassword's error with the link used up and the sessions left alone", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup);
    await logIn(setup.manager, setup.users.get("1") as MailUser);
    const token = await linkForAda(reset, mails);
    const refused = new Error("password too short");
    await expect(reset.complete({ token, setPassword: () => Promise.reject(refused) })).rejects.toBe(refused);
    expect(await setup.memory.listUserSessions("1", setup.clock.now())).toHaveLength(1);
    expect(await reset.complete({ token, setPassword: async () => undefined })).toEqual({ ok: false });
  });

  it("refuses a link whose user is gone", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup);
    const token = await linkForAda(reset, mails);
    setup.users.delete("1");
    expect(await reset.check(token)).toBeNull();
    expect(await reset.complete({ token, setPassword: async () => undefined })).toEqual({ ok: false });
  });

  it("refuses a setPassword that is not a function before using the link", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup);
    const token = await linkForAda(reset, mails);
    await expect(reset.complete({ token, setPassword: "hunter2" as never })).rejects.toThrow(
      ConfigurationError,
    );
    expect((await reset.check(token))?.id).toBe("1");
  });

  it("never puts a token into an error or a log line", async () => {
    const setup = recoverySetup();
    const logged: unknown[] = [];
    const spies = (["log", "info", "warn", "error", "debug"] as const).map((level) =>
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => logged.push(args)),
    );
    try {
      const { reset, mails } = resetOf(setup);
      const token = await linkForAda(reset, mails);
      setup.fail.add("consumeOneTimeToken");
      const error: unknown = await reset
        .complete({ token, setPassword: async () => undefined })
        .catch((e) => e);
      expect(error).toBeInstanceOf(Error);
      const shown = `${String(error)} ${(error as Error).stack} ${JSON.stringify(error)}`;
      expect(shown).not.toContain(token);
      expect(shown).not.toContain(hashToken(token));
      expect(JSON.stringify(logged)).not.toContain(token);
    } finally {
      for (const spy of spies) spy.mockRestore();
    }
  });
});

describe("PasswordReset options", () => {
  const base = (setup: Setup): PasswordResetOptions<MailUser> => ({
    findUserByEmail: setup.byEmail,
    findUserById: setup.byId,
    sendResetMail: async () => undefined,
  });

  it("refuses unknown names with the closest known one", () => {
    const setup = recoverySetup();
    expect(
      () => new PasswordReset(setup.manager, { ...base(setup), sendMail: () => undefined } as never),
    ).toThrow(/PasswordReset: unknown option "sendMail": did you mean "sendResetMail"\?/);
    expect(() => new PasswordReset(setup.manager, { ...base(setup), ttl: 60 } as never)).toThrow(
      /did you mean "ttlSeconds"/,
    );
    expect(
      () => new PasswordReset(setup.manager, { ...base(setup), limits: { perAcount: 2 } } as never),
    ).toThrow(/unknown option "limits.perAcount": did you mean "limits.perAccount"\?/);
  });

  it("refuses missing functions and bad numbers, showing the value given", () => {
    const setup = recoverySetup();
    const make = (extra: object) => () =>
      new PasswordReset(setup.manager, { ...base(setup), ...extra } as never);
    expect(make({ sendResetMail: undefined })).toThrow(/sendResetMail must be a function, got undefined/);
    expect(make({ findUserById: "users" })).toThrow(/findUserById must be a function, got "users"/);
    expect(make({ ttlSeconds: "1800" })).toThrow(
      /ttlSeconds must be a whole number from 1 to 86400, got "1800"/,
    );
    for (const ttlSeconds of [0, 1.5, 86_401, Number.NaN])
      expect(make({ ttlSeconds })).toThrow(ConfigurationError);
    expect(make({ limits: { perAddress: 0 } })).toThrow(/limits.perAddress must be a whole number/);
    expect(make({ limits: 5 })).toThrow(/limits must be an object, got 5/);
    expect(make({ onDeliveryError: true })).toThrow(/onDeliveryError must be a function/);
    expect(() => new PasswordReset(setup.manager, null as never)).toThrow(/options must be an object/);
  });

  it("a store without one-time tokens is refused at setup, by the manager already (they are part of SessionStore)", () => {
    const memory = new MemoryStore();
    const store = new Proxy(memory, {
      get: (target, property) => {
        if (property === "createOneTimeToken") return undefined;
        const value: unknown = Reflect.get(target, property);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
    expect(
      () => new LoginManager<MailUser>({ secret: "recovery-test-secret-0123456789abcdef0123", store }),
    ).toThrow(/createOneTimeToken/);
  });
});
