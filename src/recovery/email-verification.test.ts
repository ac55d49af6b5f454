import { describe, expect, it, vi } from "vitest";
import { type MailUser, recoverySetup, requestFrom } from "../../test/helpers/recovery.js";
import { ConfigurationError } from "../core/errors.js";
import { hashToken } from "../core/tokens.js";
import {
  EmailVerification,
  type EmailVerificationOptions,
  type VerificationMessage,
} from "./email-verification.js";

type Setup = ReturnType<typeof recoverySetup>;

function verificationOf(setup: Setup, options: Partial<EmailVerificationOptions<MailUser>> = {}) {
  const mails: VerificationMessage<MailUser>[] = [];
  const verification = new EmailVerification(setup.manager, {
    sendVerificationMail: async (message) => {
      mails.push(message);
    },
    ...options,
  });
  const ada = setup.users.get("1") as MailUser;
  /** Sends a link for `email` (ada's by default) and returns its token. */
  const linkFor = async (email = ada.email, user = ada) => {
    expect(await verification.send({ user, email, request: requestFrom() })).toEqual({ ok: true });
    await verification.deliveriesSettled();
    const mail = mails.at(-1);
    if (!mail) throw new Error("no mail was sent");
    return mail.token;
  };
  return { verification, mails, ada, linkFor };
}

const WRITES = ["consumeOneTimeToken", "deleteUserOneTimeTokens", "createOneTimeToken", "incrementCounter"];

describe("EmailVerification", () => {
  it("mails a link for the address, which check reads without using and confirm uses once", async () => {
    const setup = recoverySetup();
    const { verification, mails, ada, linkFor } = verificationOf(setup);
    const token = await linkFor("ada.new@example.com");
    expect(mails[0]).toMatchObject({ user: ada, email: "ada.new@example.com" });
    expect(mails[0]?.expiresAt.getTime()).toBe(setup.clock.now() + 86_400 * 1000);
    setup.calls.length = 0;
    const expected = { userId: "1", email: "ada.new@example.com" };
    expect(await verification.check(token)).toEqual(expected);
    expect(await verification.check(token)).toEqual(expected);
    expect(setup.calls.filter((call) => WRITES.includes(call.method))).toEqual([]);
    expect(await verification.confirm(token)).toEqual(expected);
    expect(await verification.confirm(token)).toBeNull();
    expect(await verification.check(token)).toBeNull();
  });

  it("answers before the mail is started, and routes a failed delivery to onDeliveryError", async () => {
    const setup = recoverySetup();
    const errors: unknown[] = [];
    const failure = new Error("smtp down");
    const sendVerificationMail = vi.fn(() => Promise.reject(failure));
    const { verification, ada } = verificationOf(setup, {
      sendVerificationMail,
      onDeliveryError: (error) => errors.push(error),
    });
    expect(await verification.send({ user: ada, email: ada.email, request: requestFrom() })).toEqual({
      ok: true,
    });
    expect(sendVerificationMail).not.toHaveBeenCalled();
    await verification.deliveriesSettled();
    expect(errors).toEqual([failure]);
  });

  it("voids the user's earlier links: only the last address asked for can be verified", async () => {
    const setup = recoverySetup();
    const { verification, linkFor } = verificationOf(setup);
    const first = await linkFor("first@example.com");
    const second = await linkFor("second@example.com");
    expect(await verification.confirm(first)).toBeNull();
    expect(await verification.confirm(second)).toEqual({ userId: "1", email: "second@example.com" });
  });

  it("keeps other users' links", async () => {
    const setup = recoverySetup();
    const { verification, linkFor } = verificationOf(setup);
    const bob = setup.users.get("2") as MailUser;
    const bobs = await linkFor(bob.email, bob);
    const adas = await linkFor();
    expect(await verification.confirm(adas)).toEqual({ userId: "1", email: "ada@example.com" });
    expect(await verification.confirm(bobs)).toEqual({ userId: "2", email: "bob@example.com" });
  });

  it("refuses an expired link", async () => {
    const setup = recoverySetup();
    const { verification, linkFor } = verificationOf(setup, { ttlSeconds: 3600 });
    const token = await linkFor();
    setup.clock.advance(3600);
    expect(await verification.check(token)).toBeNull();
    expect(await verification.confirm(token)).toBeNull();
  });

  it("is voided by any revocation of the user's sessions (a password change or reset)", async () => {
    const setup = recoverySetup();
    const { verification, linkFor } = verificationOf(setup);
    const token = await linkFor();
    await setup.manager.revokeUserSessions("1", { reason: "password-reset" });
    expect(await verification.check(token)).toBeNull();
    expect(await verification.confirm(token)).toBeNull();
  });

  it("refuses a malformed token before any store call, and a token of another purpose", async () => {
    const setup = recoverySetup();
    const { verification, linkFor } = verificationOf(setup);
    const token = await linkFor();
    setup.calls.length = 0;
    for (const bad of ["", "x".repeat(5000), `${token}.`, undefined]) {
      expect(await verification.check(bad as string)).toBeNull();
      expect(await verification.confirm(bad as string)).toBeNull();
    }
    expect(setup.calls).toEqual([]);
    const reset = await setup.manager.issueOneTimeToken({
      purpose: "password-reset",
      userId: "1",
      ttlSeconds: 60,
    });
    expect(await verification.confirm(reset)).toBeNull();
    expect(await setup.manager.peekOneTimeToken("password-reset", reset)).not.toBeNull();
  });

  it("refuses an address that is not a string of 1 to 320 characters before any store call", async () => {
    const setup = recoverySetup();
    const { verification, ada } = verificationOf(setup);
    for (const email of ["", `${"a".repeat(310)}@example.com`, 7]) {
      await expect(
        verification.send({ user: ada, email: email as string, request: requestFrom() }),
      ).rejects.toThrow(/email must be a string of 1 to 320 characters/);
    }
    expect(setup.calls).toEqual([]);
  });
});

describe("EmailVerification limits", () => {
  it("counts per user under verify-account:<hash> and refuses a fourth mail in an hour", async () => {
    const setup = recoverySetup();
    const { verification, ada } = verificationOf(setup);
    for (let i = 0; i < 3; i++) {
      const answer = await verification.send({
        user: ada,
        email: ada.email,
        request: requestFrom(`192.0.2.${i}`),
      });
      expect(answer).toEqual({ ok: true });
    }
    expect(await verification.send({ user: ada, email: ada.email, request: requestFrom() })).toEqual({
      ok: false,
      retryAfterSeconds: 3600,
    });
    const keys = new Set(
      setup.calls.filter((call) => call.method === "incrementCounter").map((c) => c.args[0]),
    );
    expect(keys).toContain(`verify-account:${hashToken("1")}`);
    const bob = setup.users.get("2") as MailUser;
    expect(await verification.send({ user: bob, email: bob.email, request: requestFrom() })).toEqual({
      ok: true,
    });
  });

  it("refuses an eleventh mail from one client address in an hour", async () => {
    const setup = recoverySetup();
    const { verification } = verificationOf(setup, { limits: { perAccount: 100 } });
    const ada = setup.users.get("1") as MailUser;
    for (let i = 0; i < 10; i++) {
      await verification.send({ user: ada, email: `a${i}@example.com`, request: requestFrom() });
    }
    const answer = await verification.send({ user: ada, email: ada.email, request: requestFrom() });
    expect(answer).toEqual({ ok: false, retryAfterSeconds: 3600 });
  });
});

describe("EmailVerification options", () => {
  it("refuses unknown names, missing functions and bad numbers", () => {
    const setup = recoverySetup();
    const send = async () => undefined;
    const make = (options: object) => () => new EmailVerification(setup.manager, options as never);
    expect(make({ sendMail: send })).toThrow(
      /unknown option "sendMail": did you mean "sendVerificationMail"\?/,
    );
    expect(make({ sendVerificationMail: send, findUserById: send })).toThrow(/unknown option "findUserById"/);
    expect(make({})).toThrow(/sendVerificationMail must be a function, got undefined/);
    expect(make({ sendVerificationMail: send, ttlSeconds: 604_801 })).toThrow(ConfigurationError);
    expect(make({ sendVerificationMail: send, limits: { windowSeconds: -1 } })).toThrow(
      /limits.windowSeconds/,
    );
    expect(make({ sendVerificationMail: send, ttlSeconds: 604_800 })).not.toThrow();
  });
});
