import { describe, expect, it } from "vitest";
import {
  logIn,
  type MailUser,
  recoverySetup,
  requestFrom,
  responseRecorder,
} from "../../test/helpers/recovery.js";
import { AuthContext } from "../core/auth-context.js";
import type { AccountLinkMessage } from "./account-links.js";
import { MagicLink, type MagicLinkOptions } from "./magic-link.js";

type Setup = ReturnType<typeof recoverySetup>;

function magicOf(setup: Setup, options: Partial<MagicLinkOptions<MailUser>> = {}) {
  const mails: AccountLinkMessage<MailUser>[] = [];
  const magic = new MagicLink(setup.manager, {
    findUserByEmail: setup.byEmail,
    findUserById: setup.byId,
    sendMagicLinkMail: async (message) => {
      mails.push(message);
    },
    ...options,
  });
  const linkForAda = async () => {
    expect(await magic.request({ email: "ada@example.com", request: requestFrom() })).toEqual({ ok: true });
    await magic.deliveriesSettled();
    const mail = mails.at(-1);
    if (!mail) throw new Error("no mail was sent");
    return mail.token;
  };
  return { magic, mails, linkForAda };
}

describe("MagicLink", () => {
  it("gives the same answer after the same store calls whether or not the account exists", async () => {
    const known = recoverySetup();
    const unknown = recoverySetup();
    const a = magicOf(known);
    const b = magicOf(unknown);
    expect(await a.magic.request({ email: "ada@example.com", request: requestFrom() })).toEqual(
      await b.magic.request({ email: "nobody@example.com", request: requestFrom() }),
    );
    expect(unknown.calls.map((call) => call.method)).toEqual(known.calls.map((call) => call.method));
    await a.magic.deliveriesSettled();
    await b.magic.deliveriesSettled();
    expect([a.mails.length, b.mails.length]).toEqual([1, 0]);
  });

  it("checks a link without using it, and consumes it once for a login", async () => {
    const setup = recoverySetup();
    const { magic, linkForAda } = magicOf(setup);
    const token = await linkForAda();
    expect((await magic.check(token))?.id).toBe("1");
    const user = await magic.consume(token);
    expect(user?.id).toBe("1");
    await logIn(setup.manager, user as MailUser);
    expect(await magic.consume(token)).toBeNull();
    expect(await magic.check(token)).toBeNull();
  });

  it("a link alone does not log in a user with a second factor: the login waits for it [A5 6.4.3] [checklist L.77]", async () => {
    const setup = recoverySetup();
    const { magic, linkForAda } = magicOf(setup);
    await setup.manager.options.store.createFactor({
      kind: "totp",
      id: "1",
      userId: "1",
      label: "",
      data: "sealed",
      counter: 0,
      createdAt: setup.clock.now(),
      lastUsedAt: null,
    });
    const user = (await magic.consume(await linkForAda())) as MailUser;
    const auth = await setup.manager.authenticate(requestFrom("198.51.100.7"), responseRecorder());
    if (!(auth instanceof AuthContext)) throw new Error("no context");
    expect(await auth.loginUser(user, { methods: ["email"] })).toBe(false);
    expect(auth.secondFactorPending).toBe(true);
    expect(auth.isAuthenticated).toBe(false);
    expect(await setup.manager.options.store.listUserSessions("1", setup.clock.now())).toEqual([]);
  });

  it("works for 15 minutes by default", async () => {
    const setup = recoverySetup();
    const { magic, linkForAda } = magicOf(setup);
    const token = await linkForAda();
    setup.clock.advance(899);
    expect(await magic.check(token)).not.toBeNull();
    setup.clock.advance(1);
    expect(await magic.consume(token)).toBeNull();
  });

  it("is voided by a password change and by a newer link", async () => {
    const setup = recoverySetup();
    const { magic, linkForAda } = magicOf(setup);
    const first = await linkForAda();
    const second = await linkForAda();
    expect(await magic.check(first)).toBeNull();
    const auth = await logIn(setup.manager, setup.users.get("1") as MailUser);
    await auth.afterPasswordChange();
    expect(await magic.consume(second)).toBeNull();
  });

  it("is throttled like a reset request, under its own magic- counters", async () => {
    const setup = recoverySetup();
    const { magic } = magicOf(setup);
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push(await magic.request({ email: "ada@example.com", request: requestFrom() }));
    expect(answers.at(-1)).toEqual({ ok: false, retryAfterSeconds: 3600 });
    const keys = setup.calls
      .filter((call) => call.method === "incrementCounter")
      .map((call) => String(call.args[0]));
    expect(keys.every((key) => key.startsWith("magic-"))).toBe(true);
  });

  it("refuses unknown option names and a lifetime over an hour", () => {
    const setup = recoverySetup();
    const base = {
      findUserByEmail: setup.byEmail,
      findUserById: setup.byId,
      sendMagicLinkMail: async () => undefined,
    };
    expect(
      () => new MagicLink(setup.manager, { ...base, sendMail: base.sendMagicLinkMail } as never),
    ).toThrow(/did you mean "sendMagicLinkMail"\?/);
    expect(() => new MagicLink(setup.manager, { ...base, ttlSeconds: 3601 })).toThrow(
      /from 1 to 3600, got 3601/,
    );
  });
});
