import { describe, expect, it } from "vitest";
import {
  ACCOUNT_BUDGET,
  type FactorSetup,
  factorSetup,
  methodsOf,
  TestBrowser,
  type TestUser,
} from "../../test/helpers/second-factors.js";
import { SoftwareAuthenticator } from "../../test/helpers/webauthn-authenticator.js";
import { Passkeys } from "./index.js";

const ORIGIN = "https://example.com";

function passkeysOf(setup: FactorSetup) {
  const passkeys = new Passkeys(setup.manager, {
    rpId: "example.com",
    rpName: "Example",
    origins: [ORIGIN],
    findUserById: async (id) => setup.users.get(id) ?? null,
  });
  const clones: { id: string; storedCounter: number; presentedCounter: number }[] = [];
  passkeys.events.on("passkeyCloneSuspected", ({ id, storedCounter, presentedCounter }) =>
    clones.push({ id, storedCounter, presentedCounter }),
  );
  return { passkeys, clones };
}

async function register(
  setup: FactorSetup,
  passkeys: Passkeys<TestUser>,
  authenticator: SoftwareAuthenticator,
  userId = "1",
) {
  const { auth } = await setup.loggedIn(userId, ["pwd"]);
  const options = await passkeys.registrationOptions(auth, { userName: "ada", displayName: "Ada" });
  const result = await passkeys.finishRegistration(auth, authenticator.create(options), { label: "Key" });
  if (!result.ok) throw new Error(result.reason);
  return result.passkey;
}

/** A usernameless sign-in from a new browser with `authenticator` and the given overrides. */
async function signIn(
  setup: FactorSetup,
  passkeys: Passkeys<TestUser>,
  authenticator: SoftwareAuthenticator,
  overrides: Parameters<SoftwareAuthenticator["get"]>[1] = {},
) {
  const auth = await new TestBrowser(setup.manager).request();
  const options = await passkeys.authenticationOptions(auth);
  return { auth, result: await passkeys.finishAuthentication(auth, authenticator.get(options, overrides)) };
}

describe("a passkey sign-in's challenge", () => {
  it("works once: a replayed response is refused", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    await register(setup, passkeys, authenticator);
    const auth = await new TestBrowser(setup.manager).request();
    const response = authenticator.get(await passkeys.authenticationOptions(auth));
    expect((await passkeys.finishAuthentication(auth, response)).ok).toBe(true);
    expect(await passkeys.finishAuthentication(auth, response)).toEqual({ ok: false, reason: "challenge" });
  });

  it("is bound to the browser it was issued to", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    await register(setup, passkeys, authenticator);
    const victim = await new TestBrowser(setup.manager).request();
    const response = authenticator.get(await passkeys.authenticationOptions(victim));
    const attacker = await new TestBrowser(setup.manager, "203.0.113.66").request();
    expect(await passkeys.finishAuthentication(attacker, response)).toEqual({
      ok: false,
      reason: "challenge",
    });
    expect(attacker.isAuthenticated).toBe(false);
  });

  it("expires with the ceremony's timeout", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    await register(setup, passkeys, authenticator);
    const browser = new TestBrowser(setup.manager);
    const response = authenticator.get(await passkeys.authenticationOptions(await browser.request()));
    setup.clock.advance(301);
    expect(await passkeys.finishAuthentication(await browser.request(), response)).toEqual({
      ok: false,
      reason: "challenge",
    });
  });

  it("must be one the server issued, for sign-in", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    await register(setup, passkeys, authenticator);
    const forged = Buffer.alloc(32, 7).toString("base64url");
    expect((await signIn(setup, passkeys, authenticator, { challenge: forged })).result).toEqual({
      ok: false,
      reason: "challenge",
    });
    const { auth } = await setup.loggedIn("1");
    const registration = await passkeys.registrationOptions(auth, { userName: "ada", displayName: "Ada" });
    const response = authenticator.get({ challenge: registration.challenge });
    expect(await passkeys.finishAuthentication(auth, response)).toEqual({ ok: false, reason: "challenge" });
  });
});

describe("a passkey sign-in's checks", () => {
  it.each([
    ["another origin", { origin: "https://evil.example" }],
    ["another rpId", { rpId: "evil.example" }],
    ["no user verification (usernameless)", { userVerified: false }],
  ])("refuse %s", async (_, overrides) => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    await register(setup, passkeys, authenticator);
    const { auth, result } = await signIn(setup, passkeys, authenticator, overrides);
    expect(result).toEqual({ ok: false, reason: "unverified" });
    expect(auth.isAuthenticated).toBe(false);
  });

  it("refuse a user handle that does not name the passkey's owner, or none", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    await register(setup, passkeys, authenticator, "1");
    await register(setup, passkeys, new SoftwareAuthenticator(ORIGIN), "2");
    const [bobHandle] = await setup.memory.listUserFactors("2", "passkey-user");
    const credential = authenticator.credentials[0];
    for (const userHandle of [bobHandle?.id ?? "", null]) {
      const { result } = await signIn(setup, passkeys, authenticator, { credential, userHandle });
      expect(result).toEqual({ ok: false, reason: "unknown-credential" });
    }
  });

  it("refuse a passkey the store does not know, and one whose owner is gone", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const passkey = await register(setup, passkeys, authenticator);
    setup.users.delete("1");
    expect((await signIn(setup, passkeys, authenticator)).result).toEqual({
      ok: false,
      reason: "user-unavailable",
    });
    await setup.memory.deleteFactor("passkey", passkey.id);
    expect((await signIn(setup, passkeys, authenticator)).result).toEqual({
      ok: false,
      reason: "unknown-credential",
    });
  });

  it("refuse malformed and oversized responses before any store call", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const auth = await new TestBrowser(setup.manager).request();
    const good = new SoftwareAuthenticator(ORIGIN);
    await register(setup, passkeys, good);
    const response = good.get(await passkeys.authenticationOptions(auth));
    setup.calls.length = 0;
    const inputs: unknown[] = [
      null,
      "x".repeat(70_000),
      { ...response, padding: "x".repeat(64 * 1024) },
      { ...response, id: "not base64url!" },
      { ...response, id: "A".repeat(1401) },
      { ...response, type: "other" },
      { ...response, response: { ...response.response, clientDataJSON: 5 } },
      {
        ...response,
        response: { ...response.response, clientDataJSON: Buffer.from("{}").toString("base64url") },
      },
    ];
    for (const input of inputs) {
      expect(await passkeys.finishAuthentication(auth, input)).toEqual({ ok: false, reason: "malformed" });
    }
    expect(setup.calls).toEqual([]);
  });
});

describe("signature counters", () => {
  it("go up with each use; a clone's lower counter is refused and reported", async () => {
    const setup = factorSetup();
    const { passkeys, clones } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const passkey = await register(setup, passkeys, authenticator);
    const copy = authenticator.clone();
    expect((await signIn(setup, passkeys, authenticator)).result.ok).toBe(true);
    expect((await signIn(setup, passkeys, authenticator)).result.ok).toBe(true);
    expect((await setup.memory.getFactor("passkey", passkey.id))?.counter).toBe(2);
    const { auth, result } = await signIn(setup, passkeys, copy);
    expect(result).toEqual({ ok: false, reason: "counter" });
    expect(auth.isAuthenticated).toBe(false);
    expect(clones).toEqual([{ id: passkey.id, storedCounter: 2, presentedCounter: 1 }]);
    expect((await signIn(setup, passkeys, authenticator, { counter: 2 })).result).toEqual({
      ok: false,
      reason: "counter",
    });
  });

  it("of 0 from an authenticator that does not count are accepted every time", async () => {
    const setup = factorSetup();
    const { passkeys, clones } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    authenticator.counting = false;
    authenticator.synced = true;
    await register(setup, passkeys, authenticator);
    for (let i = 0; i < 3; i++) {
      const { auth, result } = await signIn(setup, passkeys, authenticator);
      expect(result.ok).toBe(true);
      expect(methodsOf(auth)).toEqual(["swk", "mfa"]);
    }
    expect(clones).toEqual([]);
  });

  it("keep the backup flags current", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    await register(setup, passkeys, authenticator);
    expect((await passkeys.list("1"))[0]).toMatchObject({ backedUp: false, deviceType: "singleDevice" });
    authenticator.synced = true;
    expect((await signIn(setup, passkeys, authenticator)).result.ok).toBe(true);
    expect((await passkeys.list("1"))[0]).toMatchObject({ backedUp: true, deviceType: "multiDevice" });
  });
});

describe("a passkey as a login's second step", () => {
  it("is offered for the pending user's passkeys and completes the login (methods pwd + hwk)", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const passkey = await register(setup, passkeys, authenticator);
    const { auth, browser } = await setup.pendingFor("1", true);
    const options = await passkeys.authenticationOptions(auth);
    expect(options.userVerification).toBe("discouraged");
    expect(options.allowCredentials).toEqual([
      { id: passkey.id, type: "public-key", transports: ["internal"] },
    ]);
    const response = authenticator.get(options, { userVerified: false });
    expect(await passkeys.finishAuthentication(auth, response)).toMatchObject({
      ok: true,
      user: { id: "1" },
    });
    expect(methodsOf(auth)).toEqual(["pwd", "hwk"]);
    expect(browser.cookies.has(setup.manager.options.cookies.rememberName)).toBe(true);
  });

  it("refuses another user's passkey, counting it in the pending account's budget", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const adas = new SoftwareAuthenticator(ORIGIN);
    await register(setup, passkeys, adas, "1");
    await register(setup, passkeys, new SoftwareAuthenticator(ORIGIN), "2");
    const { auth } = await setup.pendingFor("2");
    // The password step's attempt stays counted until the login completes.
    for (let i = 2; i < ACCOUNT_BUDGET; i++) {
      const response = adas.get(await passkeys.authenticationOptions(auth), {
        credential: adas.credentials[0],
      });
      expect(await passkeys.finishAuthentication(auth, response)).toEqual({
        ok: false,
        reason: "unknown-credential",
      });
    }
    const last = adas.get(await passkeys.authenticationOptions(auth), { credential: adas.credentials[0] });
    expect(await passkeys.finishAuthentication(auth, last)).toMatchObject({
      ok: false,
      reason: "unknown-credential",
      retryAfterSeconds: expect.any(Number),
    });
    expect(auth.isAuthenticated).toBe(false);
  });

  it("says so when the pending login expired, and refuses the challenge once it is cancelled", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    await register(setup, passkeys, authenticator);
    const { browser } = await setup.pendingFor("1");
    setup.clock.advance(299);
    const response = authenticator.get(await passkeys.authenticationOptions(await browser.request()));
    setup.clock.advance(2);
    const expired = await browser.request();
    expect(await passkeys.finishAuthentication(expired, response)).toEqual({
      ok: false,
      reason: "no-pending-login",
    });
    expect(expired.isAuthenticated).toBe(false);
    const { browser: other } = await setup.pendingFor("1");
    const pending = await other.request();
    const next = authenticator.get(await passkeys.authenticationOptions(pending));
    pending.cancelPendingLogin();
    // Without the pending login's cookie the browser's binding is another: the challenge is not its.
    expect(await passkeys.finishAuthentication(await other.request(), next)).toEqual({
      ok: false,
      reason: "challenge",
    });
  });
});

describe("a passkey to re-authenticate a logged-in browser", () => {
  it("is offered for that user's passkeys and confirms the login: fresh, a new session id, hwk + mfa", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const passkey = await register(setup, passkeys, authenticator);
    const { browser } = await setup.restored("1");
    const auth = await browser.request();
    expect(auth.loginFresh()).toBe(false);
    const before = browser.cookies.get(setup.manager.options.cookies.sessionName);
    const options = await passkeys.authenticationOptions(auth);
    expect(options.userVerification).toBe("required");
    expect(options.allowCredentials?.map((credential) => credential.id)).toEqual([passkey.id]);
    expect(await passkeys.finishAuthentication(auth, authenticator.get(options))).toMatchObject({
      ok: true,
      user: { id: "1" },
    });
    expect(auth.loginFresh()).toBe(true);
    expect(methodsOf(auth)).toEqual(["hwk", "mfa"]);
    expect(browser.cookies.get(setup.manager.options.cookies.sessionName)).not.toBe(before);
  });

  it("never switches the browser to another account: another user's passkey is refused", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const bobs = new SoftwareAuthenticator(ORIGIN);
    await register(setup, passkeys, new SoftwareAuthenticator(ORIGIN), "1");
    await register(setup, passkeys, bobs, "2");
    const { auth } = await setup.loggedIn("1");
    const options = await passkeys.authenticationOptions(auth);
    // Bob's authenticator answers with his discoverable credential anyway.
    const response = bobs.get({ ...options, allowCredentials: [] }, { credential: bobs.credentials[0] });
    expect(await passkeys.finishAuthentication(auth, response)).toEqual({
      ok: false,
      reason: "unknown-credential",
    });
    expect(auth.requireUser().getId()).toBe("1");
    expect(methodsOf(auth)).toEqual(["pwd", "otp"]);
  });
});
