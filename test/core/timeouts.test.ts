/**
 * Idle and absolute timeouts, enforced on the server with a fake clock [A5 7.3.1] [A5 7.3.2]
 * [checklist G.49-G.51]; activity is written to the store at most once per touch interval.
 *
 * Flask-Login has no timeouts of its own (Flask's PERMANENT_SESSION_LIFETIME is a cookie expiry),
 * so none of its tests map here.
 */
import { afterEach, describe, expect, it } from "vitest";
import type { Browser } from "./helpers.js";
import { clearsCookie, Harness, setCookie } from "./helpers.js";

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

const IDLE = 600;
const ABSOLUTE = 3600;
const TOUCH = 60;

/** Moves the clock forward by `seconds` with a request every 5 minutes, so the session never idles. */
async function keepAlive(browser: Browser, seconds: number): Promise<void> {
  for (let left = seconds; left > 0; left -= Math.min(300, left)) {
    harness.clock.advance(Math.min(300, left));
    await browser.whoami();
  }
}

function timed(session: Record<string, unknown> = {}): Harness {
  return new Harness({
    session: {
      idleTimeoutSeconds: IDLE,
      absoluteTimeoutSeconds: ABSOLUTE,
      touchIntervalSeconds: TOUCH,
      ...session,
    },
  });
}

describe("idle timeout [A5 7.3.1] [checklist G.49]", () => {
  it("keeps a session used one second before the idle timeout", async () => {
    harness = timed();
    const browser = harness.browser();
    await browser.login(1);
    harness.clock.advance(IDLE - 1);
    expect((await browser.whoami()).name).toBe("Notch");
  });

  it("ends a session left alone for the idle timeout, and clears its cookie", async () => {
    harness = timed();
    const browser = harness.browser();
    await browser.login(1);
    harness.clock.advance(IDLE);
    const res = await browser.get("/whoami");
    expect(res.body).toMatchObject({ anonymous: true });
    expect(clearsCookie(res, "session")).toBe(true);
    expect((await browser.get("/protected")).status).toBe(401);
  });

  it("is extended by activity: requests every 5 minutes stay logged in well past the idle timeout", async () => {
    harness = timed();
    const browser = harness.browser();
    await browser.login(1);
    for (let elapsed = 0; elapsed < 3 * IDLE; elapsed += 300) {
      harness.clock.advance(300);
      expect((await browser.whoami()).name, `after ${elapsed + 300}s`).toBe("Notch");
    }
  });

  it("counts idle time from the last recorded activity, never from the cookie", async () => {
    harness = timed();
    const browser = harness.browser();
    await browser.login(1);
    const before = browser.cookies.get("session");
    harness.clock.advance(300);
    await browser.whoami();
    // No timestamp travels in the cookie: it is unchanged, so editing it cannot extend anything.
    expect(browser.cookies.get("session")).toBe(before);
    const record = await harness.session(before);
    expect(record?.lastSeenAt).toBe(harness.clock.now());
    expect(record?.expiresAt).toBe(harness.clock.now() + IDLE * 1000);
  });

  it("hides idle-expired sessions from the session list", async () => {
    harness = timed();
    const phone = harness.browser({ "user-agent": "phone" });
    await phone.login(1);
    harness.clock.advance(IDLE - 10);
    const laptop = harness.browser({ "user-agent": "laptop" });
    await laptop.login(1);
    harness.clock.advance(10);
    const sessions = (await laptop.get("/sessions")).body as Array<{ userAgent: string }>;
    expect(sessions.map((session) => session.userAgent)).toEqual(["laptop"]);
  });
});

describe("absolute timeout [A5 7.3.2] [checklist G.50]", () => {
  it("ends the session at the absolute timeout despite continuous activity", async () => {
    harness = timed();
    const browser = harness.browser();
    await browser.login(1);
    for (let t = 300; t < ABSOLUTE; t += 300) {
      harness.clock.advance(300);
      expect((await browser.whoami()).name, `at ${t}s`).toBe("Notch");
    }
    harness.clock.advance(299);
    expect((await browser.whoami()).name).toBe("Notch");
    harness.clock.advance(1);
    const res = await browser.get("/whoami");
    expect(res.body).toMatchObject({ anonymous: true });
    expect(clearsCookie(res, "session")).toBe(true);
  });

  it("never extends expiry past the absolute end when touching", async () => {
    harness = timed();
    const browser = harness.browser();
    await browser.login(1);
    await keepAlive(browser, ABSOLUTE - 100);
    const record = await harness.session(browser.cookies.get("session"));
    expect(record?.expiresAt).toBe(record?.absoluteExpiresAt);
    expect(record?.absoluteExpiresAt).toBe(record ? record.createdAt + ABSOLUTE * 1000 : Number.NaN);
  });

  it("restarts both timers on re-authentication (confirmLogin) [checklist G.50, NIST 'SHALL reset both']", async () => {
    harness = timed();
    const browser = harness.browser();
    await browser.login(1);
    await keepAlive(browser, ABSOLUTE - 60);
    await browser.post("/confirm");
    await keepAlive(browser, 120);
    expect((await browser.whoami()).name).toBe("Notch");
    await keepAlive(browser, ABSOLUTE - 120 - 1);
    expect((await browser.whoami()).name).toBe("Notch");
    harness.clock.advance(1);
    expect((await browser.whoami()).anonymous).toBe(true);
  });

  it("lets remember-me start a new, non-fresh session after the absolute timeout", async () => {
    harness = timed();
    const browser = harness.browser();
    await browser.login(1, { remember: true });
    harness.clock.advance(ABSOLUTE);
    const res = await browser.get("/whoami");
    expect(res.body).toMatchObject({ name: "Notch", fresh: false, source: "remember" });
    expect(setCookie(res, "session")?.value).not.toBe("");
  });
});

describe("touch interval: activity is written at most once per touchIntervalSeconds", () => {
  it("writes nothing for requests inside the interval and one update once it has passed", async () => {
    harness = timed();
    const browser = harness.browser();
    await browser.login(1);
    harness.probe.reset();
    for (let i = 0; i < 10; i++) {
      harness.clock.advance(5);
      await browser.whoami();
    }
    expect(harness.probe.writes()).toEqual([]);
    harness.clock.advance(TOUCH - 50);
    await browser.whoami();
    expect(harness.probe.writes()).toEqual(["updateSession"]);
    for (let i = 0; i < 10; i++) {
      harness.clock.advance(5);
      await browser.whoami();
    }
    expect(harness.probe.writes()).toEqual(["updateSession"]);
  });

  it("writes at most once per interval over a long busy period", async () => {
    harness = timed();
    const browser = harness.browser();
    await browser.login(1);
    harness.probe.reset();
    const seconds = 30 * 60;
    for (let t = 0; t < seconds; t += 10) {
      harness.clock.advance(10);
      await browser.get("/protected");
    }
    expect(harness.probe.count("updateSession")).toBeLessThanOrEqual(seconds / TOUCH);
    expect(harness.probe.count("updateSession")).toBeGreaterThanOrEqual(seconds / TOUCH - 1);
    expect(harness.probe.writes().every((method) => method === "updateSession")).toBe(true);
  });

  it("writes on every request with touchIntervalSeconds 0", async () => {
    harness = timed({ touchIntervalSeconds: 0 });
    const browser = harness.browser();
    await browser.login(1);
    harness.probe.reset();
    for (let i = 0; i < 3; i++) {
      harness.clock.advance(1);
      await browser.whoami();
    }
    expect(harness.probe.count("updateSession")).toBe(3);
  });

  it("sets no cookie on ordinary requests of a logged-in user", async () => {
    harness = timed();
    const browser = harness.browser();
    await browser.login(1);
    harness.clock.advance(TOUCH * 2);
    const res = await browser.get("/protected");
    expect(res.headers["set-cookie"]).toBeUndefined();
  });
});
