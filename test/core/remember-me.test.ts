/**
 * Remember-me: split selector.validator tokens, hashed at rest, rotated on use, theft detection.
 * Flask-Login inventory §2 items 27-38 and 45-46; security checklist section I.
 *
 * Not applicable here, and why:
 * - Items 28-29 REMEMBER_COOKIE_PATH / REMEMBER_COOKIE_DOMAIN: cookies are always Path=/ with no
 *   Domain so they stay valid `__Host-` cookies [A5 3.3.3]; only the name and duration are options.
 * - Item 30 "an int duration is read as seconds" and items 31-32's `timedelta` type errors: durations
 *   are always whole seconds (`rememberMe.durationSeconds`, `durationSeconds`); the equivalent invalid
 *   values (fractions, zero, strings) are tested below.
 * - Item 34 REMEMBER_COOKIE_REFRESH_EACH_REQUEST: the token is rotated on every use instead, with a
 *   fixed lifetime that use never extends (checklist I.60-I.62); item 33's "same expiry" is kept.
 * - Items 64-65 encode_cookie / decode_cookie test vectors and latin-1 SECRET_KEY handling: the
 *   remember cookie is not an HMAC of the user id but a random selector and validator checked against
 *   the store, so there is no cookie encoding to pin down (see src/core/tokens.test.ts).
 * - Flask's `_remember="clear"` session marker and #600 (session.clear() losing it): logout deletes
 *   the token on the server, so no client-side marker exists to lose.
 */
import { createHash } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import type { Browser } from "./helpers.js";
import { clearsCookie, Harness, setCookie, User } from "./helpers.js";

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

const DAY = 86_400;

function sha256(value: string): string {
  return createHash("sha256").update(value).digest("base64url");
}

function split(value: string | undefined): [string, string] {
  return (value ?? "").split(".") as [string, string];
}

/** Drops the session cookie, as a browser does when it is closed. */
function closeBrowser(browser: Browser): void {
  browser.cookies.delete("session");
}

async function rememberedBrowser(options: Record<string, unknown> = {}): Promise<Browser> {
  const browser = harness.browser();
  await browser.login(1, { remember: true, ...options });
  closeBrowser(browser);
  return browser;
}

describe("restoring a login from the remember-me cookie (items 27, 35)", () => {
  it("restores the user after the browser session ended; not fresh, remembered (item 27)", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser();
    expect(await browser.whoami()).toMatchObject({
      authenticated: true,
      name: "Notch",
      fresh: false,
      remembered: true,
      source: "remember",
    });
    // The next request runs on the new server-side session it created, still not fresh.
    expect(await browser.whoami()).toMatchObject({ name: "Notch", fresh: false, source: "session" });
  });

  it("restores with a custom duration too (item 27, test_remember_me_custom_duration)", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser({ duration: 7 * 3600 });
    expect(await browser.whoami()).toMatchObject({ name: "Notch", fresh: false, remembered: true });
  });

  it("creates a new fingerprinted session, not fresh, pointing at the token [checklist H.58]", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser();
    const res = await browser.get("/whoami");
    const session = await harness.session(setCookie(res, "session")?.value);
    expect(session).toMatchObject({ userId: "1", fresh: false });
    expect(session?.fingerprint).not.toBe("");
    expect(session?.rememberSelector).toBe(split(browser.cookies.get("remember_token"))[0]);
  });

  it("emits loadedFromCookie once with the user (item 35)", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser();
    harness.events.clear();
    await browser.get("/whoami");
    await browser.get("/whoami");
    const loads = harness.events.named("loadedFromCookie");
    expect(loads).toHaveLength(1);
    expect(loads[0]?.user).toBe(harness.users.get("1"));
  });

  it("round-trips a Unicode user id (item 38)", async () => {
    harness = new Harness();
    harness.users.set("\u4f50\u85e4", new User("\u4f50\u85e4", "M\u00fcller"));
    const browser = harness.browser();
    await browser.login("\u4f50\u85e4", { remember: true });
    closeBrowser(browser);
    expect(await browser.whoami()).toMatchObject({ id: "\u4f50\u85e4", name: "M\u00fcller" });
  });

  it("rejects a restored user on fresh-only routes (item 56, checklist H.58)", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser();
    expect((await browser.get("/protected")).status).toBe(200);
    expect((await browser.get("/very-protected")).status).toBe(401);
  });

  it("does not restore a user who no longer loads, and deletes the token", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser();
    const [selector] = split(browser.cookies.get("remember_token"));
    harness.users.delete("1");
    const res = await browser.get("/whoami");
    expect(res.body).toMatchObject({ anonymous: true });
    expect(clearsCookie(res, "remember_token")).toBe(true);
    expect(await harness.memory.getRememberToken(selector, harness.clock.now())).toBeNull();
  });
});

describe("the remember-me cookie and token [checklist I.59, I.62]", () => {
  it("holds <selector>.<validator> (two 128-bit tokens); the store keeps only SHA-256(validator)", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1, { remember: true });
    const value = browser.cookies.get("remember_token") as string;
    expect(value).toMatch(/^[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{22}$/);
    const [selector, validator] = split(value);
    const token = await harness.memory.getRememberToken(selector, harness.clock.now());
    expect(token).toMatchObject({ selector, userId: "1", validatorHash: sha256(validator) });
    expect(JSON.stringify(token)).not.toContain(validator);
  });

  it("lasts 30 days by default: Max-Age 2592000 and a matching server-side expiry (not Flask's 365)", async () => {
    harness = new Harness();
    const browser = harness.browser();
    const res = await browser.login(1, { remember: true });
    expect(setCookie(res, "remember_token")?.attributes.get("max-age")).toBe(String(30 * DAY));
    const token = await harness.memory.getRememberToken(
      split(browser.cookies.get("remember_token"))[0],
      harness.clock.now(),
    );
    expect(token?.expiresAt).toBe(harness.clock.now() + 30 * DAY * 1000);
  });

  it("honours cookies.rememberName and rememberMe.durationSeconds (item 28)", async () => {
    harness = new Harness({ cookies: { rememberName: "myname" }, rememberMe: { durationSeconds: 2 * DAY } });
    const browser = harness.browser();
    const res = await browser.login(1, { remember: true });
    expect(setCookie(res, "myname")?.attributes.get("max-age")).toBe(String(2 * DAY));
    expect(setCookie(res, "remember_token")).toBeUndefined();
    closeBrowser(browser);
    expect((await browser.whoami()).name).toBe("Notch");
  });

  it("lets the login's durationSeconds override the configured duration (item 29)", async () => {
    harness = new Harness({ rememberMe: { durationSeconds: 2 * DAY } });
    const res = await harness.browser().login(1, { remember: true, duration: 7 * 3600 });
    expect(setCookie(res, "remember_token")?.attributes.get("max-age")).toBe(String(7 * 3600));
  });

  it.each([
    ["a string", "123"],
    ["a fraction", 1.5],
    ["zero", 0],
    ["a negative number", -60],
  ])(
    "answers 500 for a durationSeconds that is %s, naming the option (items 31-32)",
    async (_label, duration) => {
      harness = new Harness();
      const browser = harness.browser();
      const res = await browser.post("/login", { id: 1, remember: true, duration });
      expect(res.status).toBe(500);
      expect((harness.errors[0] as Error).message).toMatch(/durationSeconds must be a positive whole number/);
      expect(harness.probe.writes()).toEqual([]);
      expect(await browser.whoami()).toMatchObject({ anonymous: true });
    },
  );

  it("is not issued without remember: true", async () => {
    harness = new Harness();
    const res = await harness.browser().login(1);
    expect(setCookie(res, "remember_token")).toBeUndefined();
    expect(harness.probe.count("createRememberToken")).toBe(0);
  });

  it("is revoked and cleared when the user logs in again without remember", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1, { remember: true });
    const [selector] = split(browser.cookies.get("remember_token"));
    const res = await browser.login(1);
    expect(clearsCookie(res, "remember_token")).toBe(true);
    expect(await harness.memory.getRememberToken(selector, harness.clock.now())).toBeNull();
  });

  it("expires on the server after its lifetime, whatever the cookie says", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser();
    harness.clock.advance(30 * DAY);
    const res = await browser.get("/whoami");
    expect(res.body).toMatchObject({ anonymous: true });
    expect(clearsCookie(res, "remember_token")).toBe(true);
  });
});

describe("rotation on every use [checklist I.60] (item 33)", () => {
  it("sends a new validator under the same selector and stores its hash", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser();
    const [selector, before] = split(browser.cookies.get("remember_token"));
    const res = await browser.get("/whoami");
    const [sameSelector, after] = split(setCookie(res, "remember_token")?.value);
    expect(sameSelector).toBe(selector);
    expect(after).not.toBe(before);
    const token = await harness.memory.getRememberToken(selector, harness.clock.now());
    expect(token?.validatorHash).toBe(sha256(after));
    expect(token?.previousValidatorHash).toBe(sha256(before));
  });

  it("does not extend the lifetime: same server expiry, Max-Age counts down (item 33)", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser();
    const [selector] = split(browser.cookies.get("remember_token"));
    const expiresAt = (await harness.memory.getRememberToken(selector, harness.clock.now()))?.expiresAt;
    harness.clock.advance(DAY);
    const res = await browser.get("/whoami");
    expect(setCookie(res, "remember_token")?.attributes.get("max-age")).toBe(String(29 * DAY));
    expect((await harness.memory.getRememberToken(selector, harness.clock.now()))?.expiresAt).toBe(expiresAt);
  });

  it("rotates again on the next restore, and the browser keeps working across several restores", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser();
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      harness.clock.advance(3600);
      expect((await browser.whoami()).name).toBe("Notch");
      seen.add(browser.cookies.get("remember_token") as string);
      closeBrowser(browser);
    }
    expect(seen.size).toBe(3);
    expect(harness.events.count("rememberTheft")).toBe(0);
  });

  it("does not re-issue the remember cookie on requests that run on the restored session", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser();
    await browser.get("/whoami");
    const res = await browser.get("/whoami");
    expect(setCookie(res, "remember_token")).toBeUndefined();
  });
});

describe("theft detection [checklist I.61] (Jaspan's persistent login, Flask-Login #155)", () => {
  it("treats a stale validator after the grace window as theft: every session and token of the user is revoked", async () => {
    harness = new Harness();
    const victim = harness.browser({ "user-agent": "victim" });
    await victim.login(1, { remember: true });
    const otherDevice = harness.browser({ "user-agent": "phone" });
    await otherDevice.login(1, { remember: true });
    const bystander = harness.browser();
    await bystander.login(2, { remember: true });

    // The thief copies the remember cookie and uses it first: it rotates.
    const thief = victim.clone({ "user-agent": "thief" });
    closeBrowser(thief);
    expect((await thief.whoami()).name).toBe("Notch");

    // Later the victim presents the now stale validator.
    harness.clock.advance(60);
    closeBrowser(victim);
    const res = await victim.get("/whoami");
    expect(res.body).toMatchObject({ anonymous: true });
    expect(clearsCookie(res, "remember_token")).toBe(true);

    const theft = harness.events.named("rememberTheft");
    expect(theft).toHaveLength(1);
    expect(theft[0]?.userId).toBe("1");
    // The thief's restore already ended the victim's original session (same remember token), so
    // the theft revokes the two left: the phone's and the thief's.
    expect(harness.events.named("sessionsRevoked")).toEqual([
      expect.objectContaining({ userId: "1", reason: "theft", count: 2 }),
    ]);

    // The thief's session, the other device's session and remember token are gone too.
    expect((await thief.whoami()).anonymous).toBe(true);
    expect((await otherDevice.whoami()).anonymous).toBe(true);
    closeBrowser(otherDevice);
    expect((await otherDevice.whoami()).anonymous).toBe(true);
    expect(await harness.memory.listUserSessions("1", harness.clock.now())).toEqual([]);
    // Other users are untouched.
    expect((await bystander.whoami()).name).toBe("Steve");
  });

  it("also treats the thief's late use of a stale validator as theft", async () => {
    harness = new Harness();
    const victim = await rememberedBrowser();
    const thief = victim.clone({ "user-agent": "thief" });
    expect((await victim.whoami()).name).toBe("Notch");
    harness.clock.advance(3600);
    expect((await thief.whoami()).anonymous).toBe(true);
    expect(harness.events.count("rememberTheft")).toBe(1);
    expect((await victim.whoami()).anonymous).toBe(true);
  });

  it("treats a random validator for a known selector as theft", async () => {
    harness = new Harness();
    const victim = harness.browser();
    await victim.login(1, { remember: true });
    const [selector] = split(victim.cookies.get("remember_token"));
    const forger = harness.browser();
    forger.cookies.set("remember_token", `${selector}.${"A".repeat(22)}`);
    expect((await forger.whoami()).anonymous).toBe(true);
    expect(harness.events.count("rememberTheft")).toBe(1);
    expect((await victim.whoami()).anonymous).toBe(true);
  });

  it("accepts the previous validator within the grace window without rotating again (parallel requests)", async () => {
    harness = new Harness({ rememberMe: { raceGraceSeconds: 10 } });
    const browser = await rememberedBrowser();
    const sibling = browser.clone();
    const first = await browser.get("/whoami");
    expect(first.body).toMatchObject({ name: "Notch" });
    harness.probe.reset();
    harness.clock.advance(10);
    const second = await sibling.get("/whoami");
    expect(second.body).toMatchObject({
      name: "Notch",
      authenticated: true,
      fresh: false,
      source: "remember",
    });
    expect(setCookie(second, "remember_token")).toBeUndefined();
    expect(setCookie(second, "session")).toBeUndefined();
    expect(harness.probe.count("createSession")).toBe(0);
    expect(harness.events.count("rememberTheft")).toBe(0);
    // The winner's cookies keep working.
    expect((await browser.whoami()).name).toBe("Notch");
  });

  it("treats the previous validator as theft one second after the grace window", async () => {
    harness = new Harness({ rememberMe: { raceGraceSeconds: 10 } });
    const browser = await rememberedBrowser();
    const sibling = browser.clone();
    await browser.get("/whoami");
    harness.clock.advance(11);
    expect((await sibling.whoami()).anonymous).toBe(true);
    expect(harness.events.count("rememberTheft")).toBe(1);
  });

  it("with a grace window of 0, treats any replay of the previous validator as theft", async () => {
    harness = new Harness({ rememberMe: { raceGraceSeconds: 0 } });
    const browser = await rememberedBrowser();
    const sibling = browser.clone();
    await browser.get("/whoami");
    harness.clock.advance(1);
    expect((await sibling.whoami()).anonymous).toBe(true);
    expect(harness.events.count("rememberTheft")).toBe(1);
  });
});

describe("bad remember-me cookies (item 37) [checklist I.64]", () => {
  it("treats an unknown token-shaped value as anonymous, clears it, and reports no theft", async () => {
    harness = new Harness();
    const browser = harness.browser();
    browser.cookies.set("remember_token", `${"A".repeat(22)}.${"B".repeat(22)}`);
    const res = await browser.get("/whoami");
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ anonymous: true });
    expect(clearsCookie(res, "remember_token")).toBe(true);
    expect(harness.events.count("rememberTheft")).toBe(0);
  });

  // Issue 16.8: a value that cannot be ours may have been tossed in by another party (a sibling
  // subdomain, plain HTTP); deleting "remember_token" would then delete the user's real cookie.
  it.each(["foo", "", `${"A".repeat(22)}`, "a.b.c"])(
    "treats %j as anonymous, reports no theft, and leaves it alone: a value not shaped as ours is not ours to clear",
    async (value) => {
      harness = new Harness();
      const browser = harness.browser();
      browser.cookies.set("remember_token", value);
      const res = await browser.get("/whoami");
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ anonymous: true });
      expect(setCookie(res, "remember_token")).toBeUndefined();
      expect(harness.events.count("rememberTheft")).toBe(0);
      // Not looked up at all (a restore is getRememberToken, then swapRememberValidator).
      expect(harness.probe.count("getRememberToken")).toBe(0);
      expect(harness.probe.count("swapRememberValidator")).toBe(0);
    },
  );
});

describe("logout with remember-me (item 36) [checklist I.63]", () => {
  it.each([
    ["the default duration", {}],
    ["a custom duration", { duration: 7 * 3600 }],
  ])("stays logged out with %s", async (_label, options) => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1, { remember: true, ...options });
    const captured = browser.clone();
    await browser.post("/logout");
    expect(await browser.whoami()).toMatchObject({ anonymous: true });
    closeBrowser(captured);
    expect(await captured.whoami()).toMatchObject({ anonymous: true });
    expect(harness.events.count("rememberTheft")).toBe(0);
  });

  it("revokes the token of a session that was itself restored from remember-me", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser();
    await browser.get("/whoami");
    const captured = browser.clone();
    await browser.post("/logout");
    closeBrowser(captured);
    expect(await captured.whoami()).toMatchObject({ anonymous: true });
  });
});

describe("confirmLogin on a remembered session (items 45-46)", () => {
  it("makes the session fresh, keeps it remembered, and issues a new session id", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser();
    expect(await browser.whoami()).toMatchObject({ fresh: false, remembered: true });
    const before = browser.cookies.get("session") as string;
    expect((await browser.post("/confirm")).body).toEqual({ ok: true });
    expect(browser.cookies.get("session")).not.toBe(before);
    expect(await harness.session(before)).toBeNull();
    expect(await browser.whoami()).toMatchObject({ fresh: true, remembered: true });
    expect((await browser.get("/very-protected")).status).toBe(200);
  });

  it("emits loginConfirmed once (item 46)", async () => {
    harness = new Harness();
    const browser = await rememberedBrowser();
    await browser.get("/whoami");
    await browser.post("/confirm");
    expect(harness.events.named("loginConfirmed")).toEqual([
      expect.objectContaining({ user: harness.users.get("1") }),
    ]);
  });

  it("fails for an anonymous visitor instead of confirming nobody", async () => {
    harness = new Harness();
    const res = await harness.browser().post("/confirm");
    expect(res.status).toBe(500);
    expect(harness.events.count("loginConfirmed")).toBe(0);
  });
});

describe("one live session per remember token", () => {
  let harness: Harness;
  afterEach(() => harness?.close());

  it("ends the earlier session of the same remember token when the token restores a new one", async () => {
    harness = new Harness();
    const browser = harness.browser({ "user-agent": "laptop" });
    await browser.login(1, { remember: true });
    const copy = browser.clone({ "user-agent": "laptop" });
    const [original] = await harness.memory.listUserSessions("1", harness.clock.now());

    closeBrowser(copy);
    expect((await copy.whoami()).name).toBe("Notch");

    const sessions = await harness.memory.listUserSessions("1", harness.clock.now());
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.id).not.toBe(original?.id);
    // Past the grace window, the browser still holding the original cookies is not let back in by
    // its old session, and its stale remember validator trips theft detection.
    harness.clock.advance(60);
    expect((await browser.whoami()).anonymous).toBe(true);
    expect(harness.events.named("rememberTheft")).toHaveLength(1);
  });
});

describe("logout racing a remember-me restore from the same token", () => {
  let harness: Harness;
  afterEach(() => harness?.close());

  it("a session restored while a parallel logout deleted the token does not outlive the token", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1, { remember: true });
    closeBrowser(browser);
    const memory = harness.memory;
    const createSession = memory.createSession.bind(memory);
    // The parallel logout lands between the rotation and the restored session's creation.
    memory.createSession = async (session) => {
      await createSession(session);
      if (session.rememberSelector) await memory.deleteRememberToken(session.rememberSelector);
    };

    const res = await browser.get("/whoami");

    expect(res.body).toMatchObject({ anonymous: true });
    expect(clearsCookie(res, "remember_token")).toBe(true);
    expect(await memory.listUserSessions("1", harness.clock.now())).toEqual([]);
  });

  it("logout also ends a session that a parallel request restored from the same token", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1, { remember: true });
    const [current] = await harness.memory.listUserSessions("1", harness.clock.now());
    if (!current) throw new Error("no session after login");
    // What a parallel tab's restore leaves in the store: another session carrying the same token.
    await harness.memory.createSession({ ...current, id: "r".repeat(22), createdAt: current.createdAt + 1 });

    await browser.post("/logout");

    expect(await harness.memory.listUserSessions("1", harness.clock.now())).toEqual([]);
  });
});
