/**
 * Listing and ending sessions: listSessions, revokeSession, revokeOtherSessions,
 * afterPasswordChange, manager.revokeUserSessions and manager.revokeAllSessions [A5 7.4.2]
 * [A5 7.4.3] [A5 7.4.5] [A5 7.5.2] [checklist G.52-G.55, I.63].
 *
 * Flask-Login has no revocation at all (#155: the remember cookie can only be invalidated by
 * rotating SECRET_KEY or an "alternative token"), so no inventory item maps here.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Browser } from "./helpers.js";
import { clearsCookie, Harness, setCookie, User } from "./helpers.js";

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

interface ListedSession {
  handle: string;
  createdAt: string;
  lastSeenAt: string;
  userAgent: string;
  ipAddress: string;
  current: boolean;
  remembered: boolean;
}

async function list(browser: Browser): Promise<ListedSession[]> {
  const res = await browser.get("/sessions");
  expect(res.status).toBe(200);
  return res.body as ListedSession[];
}

async function devices(remember = true) {
  const laptop = harness.browser({ "user-agent": "laptop" });
  await laptop.login(1, { remember });
  harness.clock.advance(60);
  const phone = harness.browser({ "user-agent": "phone" });
  await phone.login(1, { remember });
  harness.clock.advance(60);
  const steve = harness.browser({ "user-agent": "steve" });
  await steve.login(2, { remember });
  harness.events.clear();
  return { laptop, phone, steve };
}

/** The browser after it was closed and reopened: only the remember cookie is left. */
function reopened(browser: Browser): Browser {
  const copy = browser.clone();
  copy.cookies.delete("session");
  return copy;
}

describe("listSessions [A5 7.5.2] [checklist G.54]", () => {
  it("lists the user's own sessions oldest first, the current one marked, with its details", async () => {
    harness = new Harness();
    const { phone } = await devices();
    const sessions = await list(phone);
    expect(sessions.map((session) => [session.userAgent, session.current, session.remembered])).toEqual([
      ["laptop", false, true],
      ["phone", true, true],
    ]);
    expect(new Date(sessions[0]?.createdAt as string).getTime()).toBe(harness.clock.now() - 120_000);
    expect(sessions[0]?.ipAddress).toMatch(/127\.0\.0\.1$/);
  });

  it("identifies sessions by a handle that does not reveal the session id or secret", async () => {
    harness = new Harness();
    const { laptop, phone } = await devices();
    const res = await phone.get("/sessions");
    for (const browser of [laptop, phone]) {
      const [id, secret] = (browser.cookies.get("session") as string).split(".") as [string, string];
      expect(res.text).not.toContain(id);
      expect(res.text).not.toContain(secret);
    }
    const handles = (res.body as ListedSession[]).map((session) => session.handle);
    expect(new Set(handles).size).toBe(2);
    for (const handle of handles) expect(handle).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it("needs a logged-in user", async () => {
    harness = new Harness();
    expect((await harness.browser().get("/sessions")).status).toBe(401);
  });
});

describe("revokeSession", () => {
  it("ends another device's session and its remember token", async () => {
    harness = new Harness();
    const { laptop, phone } = await devices();
    const target = (await list(phone)).find((session) => session.userAgent === "laptop") as ListedSession;
    expect((await phone.post("/sessions/revoke", { handle: target.handle })).body).toEqual({ ok: true });
    expect((await laptop.whoami()).anonymous).toBe(true);
    expect((await reopened(laptop).whoami()).anonymous).toBe(true);
    expect((await phone.whoami()).name).toBe("Notch");
    expect(harness.events.named("sessionsRevoked")).toEqual([
      expect.objectContaining({ userId: "1", reason: "revoke-one", count: 1 }),
    ]);
  });

  it("ends the current session like a logout when given its own handle", async () => {
    harness = new Harness();
    const { phone } = await devices();
    const own = (await list(phone)).find((session) => session.current) as ListedSession;
    const res = await phone.post("/sessions/revoke", { handle: own.handle });
    expect(res.body).toEqual({ ok: true });
    expect(clearsCookie(res, "session")).toBe(true);
    expect(clearsCookie(res, "remember_token")).toBe(true);
    expect((await phone.whoami()).anonymous).toBe(true);
  });

  it("returns false for an unknown handle and for another user's session", async () => {
    harness = new Harness();
    const { phone, steve } = await devices();
    const stevesHandle = (await list(steve))[0]?.handle as string;
    expect((await phone.post("/sessions/revoke", { handle: "A".repeat(22) })).body).toEqual({ ok: false });
    expect((await phone.post("/sessions/revoke", { handle: stevesHandle })).body).toEqual({ ok: false });
    expect((await steve.whoami()).name).toBe("Steve");
    expect(harness.events.count("sessionsRevoked")).toBe(0);
  });
});

describe("revokeOtherSessions [A5 7.5.2] [checklist G.54]", () => {
  it("ends every other session of the user and their remember tokens, keeping this one", async () => {
    harness = new Harness();
    const { laptop, phone, steve } = await devices();
    expect((await phone.post("/sessions/revoke-others")).body).toEqual({ count: 1 });
    expect((await laptop.whoami()).anonymous).toBe(true);
    expect((await reopened(laptop).whoami()).anonymous).toBe(true);
    expect((await phone.whoami()).name).toBe("Notch");
    expect((await steve.whoami()).name).toBe("Steve");
    expect((await list(phone)).map((session) => session.userAgent)).toEqual(["phone"]);
    expect(harness.events.named("sessionsRevoked")).toEqual([
      expect.objectContaining({ userId: "1", reason: "revoke-others", count: 1 }),
    ]);
  });

  it("also ends the remember-me login of a device whose browser session already ended (regression)", async () => {
    harness = new Harness();
    const { laptop, phone } = await devices();
    // Both browsers were closed and their server sessions timed out; only remember tokens live.
    harness.clock.advance(harness.manager.options.session.idleTimeoutSeconds);
    phone.cookies.delete("session");
    expect((await phone.whoami()).source).toBe("remember");
    // The laptop's login is not listed, yet its remember cookie would still log it in.
    expect((await list(phone)).map((session) => session.userAgent)).toEqual(["phone"]);
    await phone.post("/confirm"); // ending other sessions needs a fresh login (issue 16.5)
    await phone.post("/sessions/revoke-others");
    expect((await reopened(laptop).whoami()).anonymous).toBe(true);
    expect(harness.events.count("rememberTheft")).toBe(0);
    expect((await phone.whoami()).name).toBe("Notch");
    expect((await reopened(phone).whoami()).name).toBe("Notch");
  });

  it("gives this browser a new remember token that expires when the old one would have", async () => {
    harness = new Harness();
    const { phone } = await devices();
    const oldSelector = phone.cookies.get("remember_token")?.split(".")[0] as string;
    const oldToken = await harness.memory.getRememberToken(oldSelector, harness.clock.now());
    harness.clock.advance(3600);
    // An hour on, the phone's session has timed out: the remember cookie restores a stale one, and
    // ending other sessions needs a fresh login (issue 16.5).
    await phone.post("/confirm");
    const res = await phone.post("/sessions/revoke-others");
    const newSelector = phone.cookies.get("remember_token")?.split(".")[0] as string;
    expect(newSelector).not.toBe(oldSelector);
    expect(await harness.memory.getRememberToken(oldSelector, harness.clock.now())).toBeNull();
    const newToken = await harness.memory.getRememberToken(newSelector, harness.clock.now());
    expect(newToken?.expiresAt).toBe(oldToken?.expiresAt);
    expect(setCookie(res, "remember_token")?.attributes.get("max-age")).toBe(
      String(((oldToken?.expiresAt ?? 0) - harness.clock.now()) / 1000),
    );
    expect((await harness.session(phone.cookies.get("session")))?.rememberSelector).toBe(newSelector);
    expect((await list(phone)).map((session) => session.remembered)).toEqual([true]);
  });

  it("keeps this browser's remember-me login working", async () => {
    harness = new Harness();
    const { phone } = await devices();
    await phone.post("/sessions/revoke-others");
    expect((await reopened(phone).whoami()).name).toBe("Notch");
  });
});

describe("ending other sessions needs a fresh login (issue 16.5) [A5 7.5.2] [checklist 54]", () => {
  /** The phone after its browser restarted: restored from remember-me, not fresh. */
  async function stalePhone() {
    const { laptop, phone } = await devices();
    const stale = reopened(phone);
    expect(await stale.whoami()).toMatchObject({ source: "remember", fresh: false });
    harness.events.clear();
    return { laptop, stale };
  }

  it("revokeSession refuses to end another session from a stale login, even on a route guarded by loginRequired alone: it throws, and the session survives", async () => {
    harness = new Harness();
    const { laptop, stale } = await stalePhone();
    const target = (await list(stale)).find((session) => session.userAgent === "laptop") as ListedSession;
    const res = await stale.post("/sessions/revoke", { handle: target.handle });
    expect(res.status).toBe(500);
    expect(harness.errors).toEqual([
      expect.objectContaining({
        code: "ERR_NOT_AUTHENTICATED",
        message: expect.stringContaining("freshLoginRequired"),
      }),
    ]);
    expect((await laptop.whoami()).name).toBe("Notch");
    expect((await reopened(laptop).whoami()).name).toBe("Notch");
    expect(harness.events.count("sessionsRevoked")).toBe(0);
  });

  it("revokeSession answers the same refusal for a handle that matches nothing, so a stale login learns nothing", async () => {
    harness = new Harness();
    const { stale } = await stalePhone();
    expect((await stale.post("/sessions/revoke", { handle: "A".repeat(22) })).status).toBe(500);
    expect(harness.errors).toEqual([expect.objectContaining({ code: "ERR_NOT_AUTHENTICATED" })]);
  });

  it("revokeOtherSessions refuses a stale login: it throws, and every other session and remember token survives", async () => {
    harness = new Harness();
    const { laptop, stale } = await stalePhone();
    expect((await stale.post("/sessions/revoke-others")).status).toBe(500);
    expect(harness.errors).toEqual([expect.objectContaining({ code: "ERR_NOT_AUTHENTICATED" })]);
    expect((await laptop.whoami()).name).toBe("Notch");
    expect((await reopened(laptop).whoami()).name).toBe("Notch");
    expect(harness.events.count("sessionsRevoked")).toBe(0);
  });

  it("a stale login may still end its own session (a logout needs no fresh login)", async () => {
    harness = new Harness();
    const { laptop, stale } = await stalePhone();
    const own = (await list(stale)).find((session) => session.current) as ListedSession;
    expect((await stale.post("/sessions/revoke", { handle: own.handle })).body).toEqual({ ok: true });
    expect((await stale.whoami()).anonymous).toBe(true);
    expect((await laptop.whoami()).name).toBe("Notch");
  });

  it("after re-authentication (confirmLogin) the same stale browser may end the other session", async () => {
    harness = new Harness();
    const { laptop, stale } = await stalePhone();
    await stale.post("/confirm");
    const target = (await list(stale)).find((session) => session.userAgent === "laptop") as ListedSession;
    expect((await stale.post("/sessions/revoke", { handle: target.handle })).body).toEqual({ ok: true });
    expect((await laptop.whoami()).anonymous).toBe(true);
  });

  it("a login marked not fresh by session protection is refused the same way", async () => {
    harness = new Harness();
    const { laptop, phone } = await devices();
    const moved = phone.clone({ "user-agent": "phone, after an update" });
    expect(await moved.whoami()).toMatchObject({ source: "session", fresh: false });
    expect((await moved.post("/sessions/revoke-others")).status).toBe(500);
    expect((await laptop.whoami()).name).toBe("Notch");
  });

  it("listing sessions needs no fresh login (reading changes nothing)", async () => {
    harness = new Harness();
    const { stale } = await stalePhone();
    expect((await list(stale)).map((session) => session.userAgent)).toEqual(["laptop", "phone"]);
  });
});

describe("afterPasswordChange [A5 7.4.3] [checklist G.43, G.53, I.63]", () => {
  it("keeps this browser logged in under a new session id and ends every other session", async () => {
    harness = new Harness();
    const { laptop, phone, steve } = await devices();
    const before = phone.cookies.get("session") as string;
    const captured = phone.clone();
    const res = await phone.post("/password-changed");
    expect(res.body).toEqual({ count: 1 });
    expect(phone.cookies.get("session")).not.toBe(before);
    expect(await harness.session(before)).toBeNull();
    expect((await captured.whoami()).anonymous).toBe(true);
    expect(await phone.whoami()).toMatchObject({ name: "Notch", fresh: true });
    expect((await laptop.whoami()).anonymous).toBe(true);
    expect((await steve.whoami()).name).toBe("Steve");
    expect(harness.events.named("sessionsRevoked")).toEqual([
      expect.objectContaining({ userId: "1", reason: "password-change", count: 1 }),
    ]);
  });

  it("revokes every remember-me token of the user, this browser's included, and clears its cookie", async () => {
    harness = new Harness();
    const { laptop, phone, steve } = await devices();
    const phoneBefore = reopened(phone);
    const res = await phone.post("/password-changed");
    expect(clearsCookie(res, "remember_token")).toBe(true);
    expect(phone.cookies.has("remember_token")).toBe(false);
    expect((await reopened(laptop).whoami()).anonymous).toBe(true);
    expect((await phoneBefore.whoami()).anonymous).toBe(true);
    expect((await reopened(steve).whoami()).name).toBe("Steve");
  });

  it("no longer lists the kept session as remembered once its token is gone (regression)", async () => {
    harness = new Harness();
    const { phone } = await devices();
    await phone.post("/password-changed");
    expect((await list(phone)).map((session) => [session.userAgent, session.remembered])).toEqual([
      ["phone", false],
    ]);
    const kept = await harness.session(phone.cookies.get("session"));
    expect(kept?.rememberSelector).toBeNull();
    expect((await phone.whoami()).remembered).toBe(false);
  });

  it("needs a fresh login in this app (freshLoginRequired)", async () => {
    harness = new Harness();
    const { phone } = await devices();
    const stale = reopened(phone);
    expect((await stale.post("/password-changed")).status).toBe(401);
  });
});

describe("manager.revokeUserSessions (admin, account disabled) [A5 7.4.2] [A5 7.4.5] [checklist G.52, G.55]", () => {
  it("ends every session and remember token of the user, from outside any request", async () => {
    harness = new Harness();
    const { laptop, phone, steve } = await devices();
    expect(await harness.manager.revokeUserSessions("1")).toBe(2);
    for (const browser of [laptop, phone, reopened(laptop), reopened(phone)]) {
      expect((await browser.whoami()).anonymous).toBe(true);
    }
    expect((await steve.whoami()).name).toBe("Steve");
    expect(harness.events.named("sessionsRevoked")).toEqual([{ userId: "1", reason: "admin", count: 2 }]);
  });
});

describe("manager.revokeAllSessions (admin: log everyone out)", () => {
  it("[A5 7.4.5] ends every session and remember token of every user, from outside any request", async () => {
    harness = new Harness();
    const { laptop, phone, steve } = await devices();
    const afterRestart = [reopened(laptop), reopened(phone), reopened(steve)];
    harness.probe.reset();

    expect(await harness.manager.revokeAllSessions()).toEqual({ sessions: 3, rememberTokens: 3 });
    // Revocation raises the credential epochs first (so a login racing it is undone), then empties
    // the remember tokens, then the sessions.
    expect(harness.probe.writes()).toEqual([
      "incrementCounter",
      "incrementCounter",
      "deleteAllRememberTokens",
      "deleteAllSessions",
    ]);
    expect(
      harness.probe.calls.filter((call) => call.method === "incrementCounter").map((call) => call.args[0]),
    ).toEqual(["epoch:any", "epoch:all"]);

    for (const browser of [laptop, phone, steve, ...afterRestart]) {
      expect((await browser.whoami()).anonymous).toBe(true);
    }
    expect(harness.events.named("allSessionsRevoked")).toEqual([{ sessions: 3, rememberTokens: 3 }]);
    expect(harness.events.count("rememberTheft")).toBe(0);
    expect(await harness.memory.listUserSessions("1", harness.clock.now())).toEqual([]);
    expect(await harness.memory.listUserSessions("2", harness.clock.now())).toEqual([]);
  });

  it("[A5 7.4.5] keeps the login failure counters: a locked account stays locked", async () => {
    harness = new Harness({ throttle: { maxAccountFailures: 2 } });
    const attacker = harness.browser();
    for (let i = 0; i < 2; i++) {
      expect((await attacker.post("/attempt", { account: "Notch", password: "guess" })).status).toBe(401);
    }
    const owner = harness.browser();
    expect((await owner.post("/attempt", { account: "Notch", password: "Notch-password" })).status).toBe(429);

    await harness.manager.revokeAllSessions();

    expect((await owner.post("/attempt", { account: "Notch", password: "Notch-password" })).status).toBe(429);
    expect((await owner.whoami()).anonymous).toBe(true);
  });

  it("empties the user cache, so users load afresh on their next login", async () => {
    harness = new Harness({
      userCache: { ttlSeconds: 600 },
      userLoader: (id) => harness.users.get(id) ?? null,
    });
    const browser = harness.browser();
    await browser.login(1);
    expect((await browser.whoami()).name).toBe("Notch");
    harness.users.set("1", new User(1, "Notch renamed"));
    expect((await browser.whoami()).name).toBe("Notch");

    await harness.manager.revokeAllSessions();

    await browser.login(1);
    expect((await browser.whoami()).name).toBe("Notch renamed");
  });

  it("logs nobody in again: users sign in afresh as usual", async () => {
    harness = new Harness();
    const { phone } = await devices();
    await harness.manager.revokeAllSessions();
    expect((await phone.whoami()).anonymous).toBe(true);
    await phone.login(1, { remember: true });
    expect((await phone.whoami()).name).toBe("Notch");
    expect((await reopened(phone).whoami()).name).toBe("Notch");
  });
});
