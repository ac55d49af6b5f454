import { describe, expect, it } from "vitest";
import {
  type FactorSetup,
  factorSetup,
  methodsOf,
  TestBrowser,
  type TestUser,
} from "../../test/helpers/second-factors.js";
import { SoftwareAuthenticator } from "../../test/helpers/webauthn-authenticator.js";
import { ConfigurationError } from "../core/errors.js";
import type { PasskeyEvents } from "./deps.js";
import { Passkeys, type PasskeysOptions } from "./index.js";

const ORIGIN = "https://example.com";

function passkeysOf(setup: FactorSetup, options: Partial<PasskeysOptions<TestUser>> = {}) {
  const passkeys = new Passkeys(setup.manager, {
    rpId: "example.com",
    rpName: "Example",
    origins: [ORIGIN, "https://login.example.com"],
    findUserById: async (id) => setup.users.get(id) ?? null,
    ...options,
  });
  const seen: (keyof PasskeyEvents)[] = [];
  for (const event of ["passkeyAdded", "passkeyRenamed", "passkeyRemoved", "passkeyUsed"] as const) {
    passkeys.events.on(event, () => seen.push(event));
  }
  return { passkeys, seen };
}

/** Registers a passkey of `userId` on `authenticator`; returns the browser it was registered in. */
async function register(
  setup: FactorSetup,
  passkeys: Passkeys<TestUser>,
  authenticator: SoftwareAuthenticator,
  userId = "1",
) {
  const { auth, browser } = await setup.loggedIn(userId, ["pwd"]);
  const options = await passkeys.registrationOptions(auth, {
    userName: `${userId}@example.com`,
    displayName: "Ada",
  });
  const result = await passkeys.finishRegistration(auth, authenticator.create(options), { label: "Laptop" });
  if (!result.ok) throw new Error(`registration failed: ${result.reason}`);
  return { browser, passkey: result.passkey };
}

describe("Passkeys options", () => {
  const setup = factorSetup();
  const base = {
    rpId: "example.com",
    rpName: "Example",
    origins: [ORIGIN],
    findUserById: async () => null,
  };

  it("are frozen, with a 300-second ceremony by default", () => {
    const passkeys = new Passkeys(setup.manager, base);
    expect(passkeys.options).toMatchObject({ rpId: "example.com", origins: [ORIGIN], timeoutSeconds: 300 });
    expect(Object.isFrozen(passkeys.options)).toBe(true);
    expect(Object.isFrozen(passkeys.options.origins)).toBe(true);
  });

  it("accept http on localhost, and subdomains of the rpId", () => {
    expect(
      () => new Passkeys(setup.manager, { ...base, rpId: "localhost", origins: ["http://localhost:3000"] }),
    ).not.toThrow();
    expect(
      () => new Passkeys(setup.manager, { ...base, origins: ["https://a.b.example.com"] }),
    ).not.toThrow();
  });

  it.each([
    [{ origin: [ORIGIN] }, /unknown option "origin": did you mean "origins"\?/],
    [{ rpID: "example.com" }, /unknown option "rpID": did you mean "rpId"\?/],
    [{ timeout: 60 }, /did you mean "timeoutSeconds"\?/],
    [{ rpId: "https://example.com" }, /rpId must be the site's domain name without scheme/],
    [{ rpId: "Example.com" }, /lower-case domain name/],
    [{ rpId: "10.0.0.1" }, /browsers refuse IP addresses/],
    [{ origins: ["https://example.org"] }, /set rpId to "example.org"/],
    [{ origins: ["https://notexample.com"] }, /is on "notexample.com"/],
    [
      { origins: ["https://example.com/"] },
      /write the origin "https:\/\/example.com\/" as "https:\/\/example.com"/,
    ],
    [{ origins: ["https://example.com/login"] }, /no path or trailing slash/],
    [{ origins: ["http://example.com"] }, /must use https/],
    [{ origins: ["ftp://example.com"] }, /http\(s\) origin/],
    [{ origins: [] }, /origins must be a list of 1 to 20/],
    [{ findUserById: undefined }, /findUserById must be a function/],
    [{ rpName: "" }, /rpName must be a string of 1 to 64/],
    [{ timeoutSeconds: 5 }, /timeoutSeconds must be a whole number from 30 to 600/],
  ])("refuse %j at setup, saying the fix", (change, message) => {
    expect(() => new Passkeys(setup.manager, { ...base, ...change } as never)).toThrow(ConfigurationError);
    expect(() => new Passkeys(setup.manager, { ...base, ...change } as never)).toThrow(message);
  });
});

describe("registering a passkey", () => {
  it("offers a discoverable credential with user verification under a random user handle", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const { auth } = await setup.loggedIn("1", ["pwd"]);
    const options = await passkeys.registrationOptions(auth, {
      userName: "ada@example.com",
      displayName: "Ada",
    });
    expect(options.rp).toEqual({ id: "example.com", name: "Example" });
    expect(options.authenticatorSelection).toMatchObject({
      residentKey: "required",
      userVerification: "required",
    });
    expect(options.attestation).toBe("none");
    expect(options.timeout).toBe(300_000);
    expect(Buffer.from(options.challenge, "base64url")).toHaveLength(32);
    expect(Buffer.from(options.user.id, "base64url")).toHaveLength(32);
    expect(options.user.id).not.toBe(Buffer.from("1").toString("base64url"));
    const again = await passkeys.registrationOptions(auth, {
      userName: "ada@example.com",
      displayName: "Ada",
    });
    expect(again.user.id).toBe(options.user.id);
    expect(again.challenge).not.toBe(options.challenge);
  });

  it("stores the passkey with its public key, flags and label, and lists it", async () => {
    const setup = factorSetup();
    const { passkeys, seen } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    authenticator.synced = true;
    const { passkey } = await register(setup, passkeys, authenticator);
    expect(passkey).toMatchObject({
      label: "Laptop",
      backedUp: true,
      deviceType: "multiDevice",
      lastUsedAt: null,
    });
    expect(passkey.id).toBe(authenticator.credentials[0]?.id.toString("base64url"));
    expect(await passkeys.list("1")).toEqual([passkey]);
    const stored = await setup.memory.getFactor("passkey", passkey.id);
    expect(stored).toMatchObject({ userId: "1", label: "Laptop", counter: 0 });
    expect(JSON.parse(stored?.data ?? "{}")).toMatchObject({
      transports: ["internal"],
      backedUp: true,
      deviceType: "multiDevice",
      publicKey: expect.stringMatching(/^[A-Za-z0-9_-]+$/),
    });
    expect(seen).toEqual(["passkeyAdded"]);
  });

  it("excludes the user's passkeys from a new registration", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const { passkey } = await register(setup, passkeys, new SoftwareAuthenticator(ORIGIN));
    const { auth } = await setup.loggedIn("1");
    const options = await passkeys.registrationOptions(auth, { userName: "ada", displayName: "Ada" });
    expect(options.excludeCredentials).toEqual([
      { id: passkey.id, type: "public-key", transports: ["internal"] },
    ]);
  });

  it("refuses a challenge used twice, from another browser, or expired", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const { auth, browser } = await setup.loggedIn("1", ["pwd"]);
    const input = { userName: "ada", displayName: "Ada" };
    const response = authenticator.create(await passkeys.registrationOptions(auth, input));
    expect((await passkeys.finishRegistration(auth, response, { label: "A" })).ok).toBe(true);
    expect(await passkeys.finishRegistration(auth, response, { label: "A" })).toEqual({
      ok: false,
      reason: "challenge",
    });
    const elsewhere = authenticator.create(await passkeys.registrationOptions(auth, input));
    const { auth: other } = await setup.loggedIn("1");
    expect(await passkeys.finishRegistration(other, elsewhere, { label: "B" })).toEqual({
      ok: false,
      reason: "challenge",
    });
    const late = authenticator.create(await passkeys.registrationOptions(await browser.request(), input));
    setup.clock.advance(301);
    const after = await browser.request();
    expect(await passkeys.finishRegistration(after, late, { label: "C" })).toEqual({
      ok: false,
      reason: "challenge",
    });
  });

  it("refuses a response from another origin or for another rpId, or without user verification", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    const { auth } = await setup.loggedIn("1", ["pwd"]);
    const input = { userName: "ada", displayName: "Ada" };
    for (const overrides of [
      { origin: "https://evil.example" },
      { rpId: "evil.example" },
      { userVerified: false },
    ]) {
      const response = authenticator.create(await passkeys.registrationOptions(auth, input), overrides);
      expect(await passkeys.finishRegistration(auth, response, { label: "X" })).toEqual({
        ok: false,
        reason: "unverified",
      });
    }
    expect(await passkeys.list("1")).toEqual([]);
  });

  it("needs a fresh login and a sane label, and refuses oversized responses before any store call", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const { auth: stale } = await setup.restored("1");
    await expect(
      passkeys.registrationOptions(stale, { userName: "ada", displayName: "Ada" }),
    ).rejects.toThrow(/fresh login/);
    const { auth } = await setup.loggedIn("1", ["pwd"]);
    await expect(passkeys.registrationOptions(auth, { userName: "", displayName: "Ada" })).rejects.toThrow(
      /userName must be 1 to 320/,
    );
    const response = new SoftwareAuthenticator(ORIGIN).create(
      await passkeys.registrationOptions(auth, { userName: "ada", displayName: "Ada" }),
    );
    setup.calls.length = 0;
    for (const label of ["x".repeat(65), "tab\there", 42]) {
      expect(await passkeys.finishRegistration(auth, response, { label } as never)).toEqual({
        ok: false,
        reason: "invalid-label",
      });
    }
    const padded = { ...response, padding: "x".repeat(64 * 1024) };
    expect(await passkeys.finishRegistration(auth, padded, { label: "A" })).toEqual({
      ok: false,
      reason: "malformed",
    });
    expect(await passkeys.finishRegistration(auth, "{not json", { label: "A" })).toEqual({
      ok: false,
      reason: "malformed",
    });
    expect(setup.calls).toEqual([]);
    expect((await passkeys.finishRegistration(auth, JSON.stringify(response), { label: "A" })).ok).toBe(true);
  });
});

describe("managing passkeys", () => {
  it("renames and removes only the user's own, removal needing a fresh login", async () => {
    const setup = factorSetup();
    const { passkeys, seen } = passkeysOf(setup);
    const { passkey } = await register(setup, passkeys, new SoftwareAuthenticator(ORIGIN));
    const { auth: bob } = await setup.loggedIn("2", ["pwd"]);
    expect(await passkeys.rename(bob, passkey.id, "Mine now")).toBe(false);
    expect(await passkeys.remove(bob, passkey.id)).toBe(false);
    const { auth } = await setup.loggedIn("1");
    expect(await passkeys.rename(auth, passkey.id, "x".repeat(65))).toBe(false);
    expect(await passkeys.rename(auth, passkey.id, "Work laptop")).toBe(true);
    expect((await passkeys.list("1"))[0]?.label).toBe("Work laptop");
    const { auth: stale } = await setup.restored("1");
    await expect(passkeys.remove(stale, passkey.id)).rejects.toThrow(/fresh login/);
    expect(await passkeys.remove(auth, "not a credential id!")).toBe(false);
    expect(await passkeys.remove(auth, passkey.id)).toBe(true);
    expect(await passkeys.list("1")).toEqual([]);
    expect(seen).toEqual(["passkeyAdded", "passkeyRenamed", "passkeyRemoved"]);
  });

  it("drops the recovery codes with the last second factor", async () => {
    const setup = factorSetup();
    const { passkeys } = passkeysOf(setup);
    const { passkey } = await register(setup, passkeys, new SoftwareAuthenticator(ORIGIN));
    await setup.memory.createFactor({
      kind: "recovery-code",
      id: "code-hash",
      userId: "1",
      label: "",
      data: "",
      counter: 0,
      createdAt: 0,
      lastUsedAt: null,
    });
    const { auth } = await setup.loggedIn("1");
    expect(await passkeys.remove(auth, passkey.id)).toBe(true);
    expect(await setup.memory.listUserFactors("1", "recovery-code")).toEqual([]);
  });
});

describe("signing in usernameless", () => {
  it("logs the passkey's owner in with methods hwk and mfa", async () => {
    const setup = factorSetup();
    const { passkeys, seen } = passkeysOf(setup);
    const authenticator = new SoftwareAuthenticator(ORIGIN);
    await register(setup, passkeys, authenticator);
    const browser = new TestBrowser(setup.manager);
    const auth = await browser.request();
    const options = await passkeys.authenticationOptions(auth);
    expect(options).toMatchObject({
      rpId: "example.com",
      userVerification: "required",
      allowCredentials: [],
    });
    const result = await passkeys.finishAuthentication(auth, authenticator.get(options), { remember: true });
    expect(result).toMatchObject({ ok: true, user: { id: "1" } });
    expect(methodsOf(auth)).toEqual(["hwk", "mfa"]);
    expect(browser.cookies.has(setup.manager.options.cookies.rememberName)).toBe(true);
    expect((await browser.request()).secondFactorProven()).toBe(true);
    expect(seen.at(-1)).toBe("passkeyUsed");
    expect((await passkeys.list("1"))[0]?.lastUsedAt).toEqual(new Date(setup.clock.now()));
  });
});
