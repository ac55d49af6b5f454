import { describe, expect, it, vi } from "vitest";
import {
  linkForAda,
  type MailUser,
  recoverySetup,
  requestFrom,
  resetOf,
  type Setup,
} from "../../test/helpers/recovery.js";
import { hashToken } from "../core/tokens.js";
import type { PasswordReset, PasswordResetOptions } from "./password-reset.js";

describe("PasswordReset.request", () => {
  it("mails a link to an account: its user, the address typed, the token and its expiry", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup);
    await reset.request({ email: " Ada@Example.com", request: requestFrom() });
    await reset.deliveriesSettled();
    expect(mails).toHaveLength(1);
    const [mail] = mails;
    expect(mail?.user.id).toBe("1");
    expect(mail?.email).toBe(" Ada@Example.com");
    expect(mail?.token).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/);
    expect(mail?.expiresAt.getTime()).toBe(setup.clock.now() + 1800 * 1000);
    expect((await reset.check(mail?.token ?? ""))?.id).toBe("1");
  });

  it("gives the same answer after the same store calls whether or not the account exists", async () => {
    const known = recoverySetup();
    const unknown = recoverySetup();
    const knownReset = resetOf(known);
    const unknownReset = resetOf(unknown);
    const a = await knownReset.reset.request({ email: "ada@example.com", request: requestFrom() });
    const b = await unknownReset.reset.request({ email: "nobody@example.com", request: requestFrom() });
    expect(a).toEqual(b);
    const methods = (setup: Setup) => setup.calls.map((call) => call.method);
    expect(methods(unknown)).toEqual(methods(known));
    expect(methods(known)).toContain("createOneTimeToken");
    await knownReset.reset.deliveriesSettled();
    await unknownReset.reset.deliveriesSettled();
    expect(knownReset.mails).toHaveLength(1);
    expect(unknownReset.mails).toHaveLength(0);
  });

  it("does the same work for an address too long or not a string, without looking it up", async () => {
    const plain = recoverySetup();
    await resetOf(plain).reset.request({ email: "nobody@example.com", request: requestFrom() });
    for (const email of ["a".repeat(321), "", 42, ["ada@example.com"]]) {
      const setup = recoverySetup();
      const findUserByEmail = vi.fn(setup.byEmail);
      const { reset } = resetOf(setup, { findUserByEmail });
      expect(await reset.request({ email: email as string, request: requestFrom() })).toEqual({ ok: true });
      expect(findUserByEmail).not.toHaveBeenCalled();
      expect(setup.calls.map((call) => call.method)).toEqual(plain.calls.map((call) => call.method));
    }
  });

  it("answers before the mail is started, and does not wait for it", async () => {
    const setup = recoverySetup();
    let release: () => void = () => undefined;
    const started: string[] = [];
    const { reset } = resetOf(setup, {
      sendResetMail: (message) => {
        started.push(message.token);
        return new Promise<void>((resolve) => {
          release = resolve;
        });
      },
    });
    expect(await reset.request({ email: "ada@example.com", request: requestFrom() })).toEqual({ ok: true });
    expect(started).toEqual([]);
    await new Promise((resolve) => setImmediate(resolve));
    expect(started).toHaveLength(1);
    let settled = false;
    const waiting = reset.deliveriesSettled().then(() => {
      settled = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    release();
    await waiting;
    expect(settled).toBe(true);
  });

  it("routes a failed delivery to onDeliveryError, a throw or a rejection, never to an unhandled rejection", async () => {
    const setup = recoverySetup();
    const errors: unknown[] = [];
    const failures = [new Error("smtp down"), new Error("template broken")];
    let call = 0;
    const { reset } = resetOf(setup, {
      sendResetMail: (() => {
        const failure = failures[call++];
        if (call === 1) return Promise.reject(failure);
        throw failure; // a mail function that throws before returning a promise
      }) as PasswordResetOptions<MailUser>["sendResetMail"],
      onDeliveryError: (error) => errors.push(error),
    });
    await reset.request({ email: "ada@example.com", request: requestFrom() });
    await reset.request({ email: "ada@example.com", request: requestFrom() });
    await reset.deliveriesSettled();
    expect(errors).toEqual(failures);
  });

  it("survives an onDeliveryError that throws", async () => {
    const setup = recoverySetup();
    const { reset } = resetOf(setup, {
      sendResetMail: () => Promise.reject(new Error("smtp down")),
      onDeliveryError: () => {
        throw new Error("logger down");
      },
    });
    await reset.request({ email: "ada@example.com", request: requestFrom() });
    await expect(reset.deliveriesSettled()).resolves.toBeUndefined();
  });

  it("logs a failed delivery with console.error when the app gives no handler", async () => {
    const setup = recoverySetup();
    const logged = vi.spyOn(console, "error").mockImplementation(() => undefined);
    try {
      const { reset } = resetOf(setup, { sendResetMail: () => Promise.reject(new Error("smtp down")) });
      await reset.request({ email: "ada@example.com", request: requestFrom() });
      await reset.deliveriesSettled();
      expect(logged).toHaveBeenCalledTimes(1);
      expect(String(logged.mock.calls[0]?.[0])).toContain("could not be sent");
    } finally {
      logged.mockRestore();
    }
  });

  it("voids the account's earlier links", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup);
    const first = await linkForAda(reset, mails);
    const second = await linkForAda(reset, mails);
    expect(await reset.check(first)).toBeNull();
    expect((await reset.check(second))?.id).toBe("1");
  });
});

describe("PasswordReset limits", () => {
  it("keeps its counters under reset-account:<hash> and reset-address:<address>, never the address typed", async () => {
    const setup = recoverySetup();
    const { reset } = resetOf(setup);
    await reset.request({ email: "ada@example.com", request: requestFrom() });
    const keys = setup.calls
      .filter((call) => call.method === "incrementCounter")
      .map((call) => String(call.args[0]));
    expect(keys).toEqual([`reset-account:${hashToken("ada@example.com")}`, "reset-address:203.0.113.9"]);
  });

  it("refuses a fourth request for one address in an hour, whatever its case, and forgets it after the window", async () => {
    const setup = recoverySetup();
    const { reset, mails } = resetOf(setup);
    for (let i = 0; i < 3; i++) {
      const answer = await reset.request({
        email: "ada@example.com",
        request: requestFrom(`203.0.113.${i}`),
      });
      expect(answer).toEqual({ ok: true });
    }
    setup.calls.length = 0;
    const refused = await reset.request({ email: "ADA@example.com ", request: requestFrom("192.0.2.50") });
    expect(refused).toEqual({ ok: false, retryAfterSeconds: 3600 });
    // Refused before anything else: no lookup, no token, no count.
    expect(setup.calls.map((call) => call.method)).toEqual(["getCounter", "getCounter"]);
    setup.clock.advance(1800);
    expect(await reset.request({ email: "ada@example.com", request: requestFrom() })).toEqual({
      ok: false,
      retryAfterSeconds: 1800,
    });
    setup.clock.advance(1800);
    expect(await reset.request({ email: "ada@example.com", request: requestFrom() })).toEqual({ ok: true });
    await reset.deliveriesSettled();
    expect(mails).toHaveLength(4);
  });

  it("limits an unknown address exactly like a known one", async () => {
    const known = resetOf(recoverySetup()).reset;
    const unknown = resetOf(recoverySetup()).reset;
    const answers = async (reset: PasswordReset<MailUser>, email: string) => {
      const list = [];
      for (let i = 0; i < 5; i++) list.push(await reset.request({ email, request: requestFrom() }));
      return list;
    };
    expect(await answers(unknown, "nobody@example.com")).toEqual(await answers(known, "ada@example.com"));
  });

  it("refuses an eleventh request from one client address (an IPv6 /64) in an hour, not from another", async () => {
    const setup = recoverySetup();
    const { reset } = resetOf(setup);
    for (let i = 0; i < 10; i++) {
      const address = `2001:db8:1:2::${i + 1}`;
      const answer = await reset.request({ email: `user${i}@example.com`, request: requestFrom(address) });
      expect(answer).toEqual({ ok: true });
    }
    const refused = await reset.request({
      email: "ada@example.com",
      request: requestFrom("2001:db8:1:2:ffff::9"),
    });
    expect(refused).toEqual({ ok: false, retryAfterSeconds: 3600 });
    expect(await reset.request({ email: "ada@example.com", request: requestFrom("2001:db8:9::1") })).toEqual({
      ok: true,
    });
  });

  it("takes its limits from the options", async () => {
    const setup = recoverySetup();
    const { reset } = resetOf(setup, { limits: { perAccount: 1, windowSeconds: 60 } });
    expect(await reset.request({ email: "ada@example.com", request: requestFrom() })).toEqual({ ok: true });
    expect(await reset.request({ email: "ada@example.com", request: requestFrom() })).toEqual({
      ok: false,
      retryAfterSeconds: 60,
    });
  });
});
