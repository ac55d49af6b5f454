/**
 * Session protection: a change of client address or User-Agent marks the session not fresh
 * ("basic") or ends it ("strong"). Flask-Login inventory §2 items 49-54, checklist I.65.
 *
 * Not applicable here, and why:
 * - Item 53 (strong + `session.permanent` behaves like basic, Flask-Login #297): there are no
 *   permanent sessions; strong mode always ends the session.
 * - Item 54's "keeps non-Flask-Login session keys": there is no shared session dict. The analogue
 *   (the CSRF and flash cookies survive a strong-mode logout) is tested below.
 * - The 0.6.3 tests that trust X-Forwarded-For (test_login_persists_with_*_x_forwarded_for,
 *   test_session_protection_strong_fires_signal_x_forwarded_for): the header is ignored unless
 *   `network.trustProxyHops` is set (Flask-Login #700 / #883); both settings are tested below.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Browser } from "./helpers.js";
import { clearsCookie, Harness, setCookie } from "./helpers.js";

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

async function loggedIn(headers: Record<string, string> = { "user-agent": "original" }, remember = true) {
  const browser = harness.browser(headers);
  await browser.login(1, { remember });
  harness.events.clear();
  return browser;
}

describe("unchanged clients (item 50)", () => {
  it.each(["basic", "strong"] as const)(
    "%s: keeps the user and the fresh login over successive requests",
    async (mode) => {
      harness = new Harness({ session: { protection: mode } });
      const browser = await loggedIn();
      for (let i = 0; i < 3; i++) {
        expect(await browser.whoami()).toMatchObject({ name: "Notch", fresh: true });
      }
      expect(harness.events.count("sessionProtected")).toBe(0);
    },
  );
});

describe("basic mode (item 51) [checklist I.65]", () => {
  it("keeps the user but makes the login not fresh when the User-Agent changes, and the change persists", async () => {
    harness = new Harness({ session: { protection: "basic" } });
    const browser = await loggedIn();
    const session = browser.cookies.get("session");
    expect(await browser.whoami({ "user-agent": "different" })).toMatchObject({
      name: "Notch",
      fresh: false,
    });
    expect(await browser.whoami()).toMatchObject({ name: "Notch", fresh: false });
    expect((await harness.session(session))?.fresh).toBe(false);
    expect((await browser.get("/very-protected")).status).toBe(401);
  });

  it("emits sessionProtected once with the user id and mode", async () => {
    harness = new Harness({ session: { protection: "basic" } });
    const browser = await loggedIn();
    await browser.get("/whoami", { "user-agent": "different" });
    expect(harness.events.named("sessionProtected")).toEqual([
      expect.objectContaining({ userId: "1", mode: "basic" }),
    ]);
  });

  it("reacts to a change of client address behind a trusted proxy", async () => {
    harness = new Harness({ session: { protection: "basic" }, network: { trustProxyHops: 1 } });
    const browser = await loggedIn({ "user-agent": "ua", "x-forwarded-for": "198.51.100.1" });
    expect(await browser.whoami({ "x-forwarded-for": "203.0.113.9" })).toMatchObject({
      name: "Notch",
      fresh: false,
    });
    expect(harness.events.count("sessionProtected")).toBe(1);
  });

  it("lets confirmLogin make the session fresh again from the new client", async () => {
    harness = new Harness({ session: { protection: "basic" } });
    const browser = await loggedIn();
    browser.headers["user-agent"] = "new browser version";
    expect((await browser.whoami()).fresh).toBe(false);
    await browser.post("/confirm");
    harness.events.clear();
    expect(await browser.whoami()).toMatchObject({ fresh: true });
    expect(harness.events.count("sessionProtected")).toBe(0);
  });
});

describe("strong mode (item 54) [checklist I.65]", () => {
  it("ends the session when the User-Agent changes: anonymous, session and token deleted, cookies cleared", async () => {
    harness = new Harness({ session: { protection: "strong" } });
    const browser = await loggedIn();
    const session = browser.cookies.get("session");
    const selector = browser.cookies.get("remember_token")?.split(".")[0] as string;
    const res = await browser.get("/whoami", { "user-agent": "different" });
    expect(res.body).toMatchObject({ anonymous: true });
    expect(clearsCookie(res, "session")).toBe(true);
    expect(clearsCookie(res, "remember_token")).toBe(true);
    expect(await harness.session(session)).toBeNull();
    expect(await harness.memory.getRememberToken(selector, harness.clock.now())).toBeNull();
  });

  it("emits sessionProtected once with mode strong", async () => {
    harness = new Harness({ session: { protection: "strong" } });
    const browser = await loggedIn();
    await browser.get("/whoami", { "user-agent": "different" });
    expect(harness.events.named("sessionProtected")).toEqual([
      expect.objectContaining({ userId: "1", mode: "strong" }),
    ]);
  });

  it("leaves a thief replaying stolen cookies from another client with nothing, and the owner logged out", async () => {
    harness = new Harness({ session: { protection: "strong" } });
    const owner = await loggedIn();
    const thief = owner.clone({ "user-agent": "thief" });
    expect((await thief.whoami()).anonymous).toBe(true);
    expect((await owner.whoami()).anonymous).toBe(true);
  });

  it("keeps the CSRF and flash cookies (the analogue of keeping non-login session keys)", async () => {
    harness = new Harness({ session: { protection: "strong" } });
    const browser = await loggedIn();
    browser.cookies.set("flash", "kept");
    expect(browser.cookies.has("csrf")).toBe(true);
    const res = await browser.get("/whoami", { "user-agent": "different" });
    expect(res.body).toMatchObject({ anonymous: true });
    expect(setCookie(res, "csrf")).toBeUndefined();
    expect(setCookie(res, "flash")).toBeUndefined();
  });

  it("does not log out a session restored from remember-me on the next request (Flask-Login #685, #248)", async () => {
    harness = new Harness({ session: { protection: "strong" } });
    const browser = await loggedIn({ "user-agent": "at login" });
    browser.cookies.delete("session");
    // The browser restarted and updated itself: a new User-Agent restores from the remember cookie.
    browser.headers["user-agent"] = "after update";
    expect(await browser.whoami()).toMatchObject({ name: "Notch", source: "remember" });
    for (let i = 0; i < 3; i++) {
      expect(await browser.whoami()).toMatchObject({ name: "Notch", source: "session" });
    }
    expect(harness.events.count("sessionProtected")).toBe(0);
  });
});

describe("sessions restored from remember-me (item 52)", () => {
  it.each(["basic", "strong"] as const)(
    "%s: fires no sessionProtected on the restore itself",
    async (mode) => {
      harness = new Harness({ session: { protection: mode } });
      const browser = await loggedIn({ "user-agent": "at login" });
      browser.cookies.delete("session");
      expect(await browser.whoami({ "user-agent": "elsewhere" })).toMatchObject({ name: "Notch" });
      expect(harness.events.count("sessionProtected")).toBe(0);
    },
  );
});

describe("proxy headers [checklist I.65] (Flask-Login #101, #700, #883)", () => {
  it("ignores X-Forwarded-For without network.trustProxyHops: a spoofed header neither helps nor triggers", async () => {
    harness = new Harness({ session: { protection: "strong" } });
    const browser = await loggedIn({ "user-agent": "ua", "x-forwarded-for": "198.51.100.1" });
    expect(await browser.whoami({ "x-forwarded-for": "203.0.113.9" })).toMatchObject({ name: "Notch" });
    expect(harness.events.count("sessionProtected")).toBe(0);
  });

  it("uses only the entry the trusted proxy appended, so a client-supplied prefix changes nothing", async () => {
    harness = new Harness({ session: { protection: "strong" }, network: { trustProxyHops: 1 } });
    const browser = await loggedIn({ "user-agent": "ua", "x-forwarded-for": "1.1.1.1, 198.51.100.1" });
    expect(await browser.whoami({ "x-forwarded-for": "6.6.6.6, 198.51.100.1" })).toMatchObject({
      name: "Notch",
    });
    expect(harness.events.count("sessionProtected")).toBe(0);
    expect((await browser.whoami({ "x-forwarded-for": "1.1.1.1, 203.0.113.9" })).anonymous).toBe(true);
  });

  it("records the trusted client address in the session list", async () => {
    harness = new Harness({ network: { trustProxyHops: 1 } });
    const browser = await loggedIn({ "user-agent": "ua", "x-forwarded-for": "6.6.6.6, 198.51.100.1" });
    const sessions = (await browser.get("/sessions")).body as Array<{ ipAddress: string }>;
    expect(sessions.map((session) => session.ipAddress)).toEqual(["198.51.100.1"]);
  });

  it("records the socket address when no proxy is trusted", async () => {
    harness = new Harness();
    const browser = await loggedIn({ "user-agent": "ua", "x-forwarded-for": "6.6.6.6" });
    const sessions = (await browser.get("/sessions")).body as Array<{ ipAddress: string }>;
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.ipAddress).toMatch(/^(::ffff:)?127\.0\.0\.1$/);
  });
});

describe("protection turned off", () => {
  it("ignores User-Agent changes and stores no fingerprint", async () => {
    harness = new Harness({ session: { protection: false } });
    const browser: Browser = await loggedIn();
    expect(await browser.whoami({ "user-agent": "different" })).toMatchObject({ name: "Notch", fresh: true });
    expect((await harness.session(browser.cookies.get("session")))?.fingerprint).toBe("");
    expect(harness.events.count("sessionProtected")).toBe(0);
  });
});

describe("anonymous requests (item 49)", () => {
  it.each([false, "basic", "strong"] as const)(
    "protection %s: no sessionProtected, no accessed unless the user is read, no session cookie",
    async (mode) => {
      harness = new Harness({ session: { protection: mode } });
      const browser = harness.browser({ "user-agent": "a" });
      const home = await browser.get("/");
      expect(harness.events.count("accessed")).toBe(0);
      const who = await browser.get("/whoami", { "user-agent": "b" });
      expect(who.body).toMatchObject({ anonymous: true });
      expect(harness.events.count("accessed")).toBe(1);
      expect(harness.events.count("sessionProtected")).toBe(0);
      expect(setCookie(home, "session")).toBeUndefined();
      expect(setCookie(who, "session")).toBeUndefined();
      expect(harness.probe.writes()).toEqual([]);
    },
  );
});
