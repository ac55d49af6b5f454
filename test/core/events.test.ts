/**
 * The manager's events (Flask-Login's signals) and lazy user loading: inventory §2 items 8, 11, 16,
 * 35, 40, 46-49, 51, 58, plus loginFailed, rememberTheft and sessionsRevoked.
 *
 * Not applicable here, and why:
 * - Signals are sent "with the app as sender" in Flask; here every payload carries the request
 *   instead (the manager is the emitter), which is what the assertions below check.
 * - Item 47's `session.modified` flag: there is no client-side session to modify; the equivalent,
 *   "no Set-Cookie and no store write", is tested below.
 */
import type { RequestView } from "login-manager";
import { afterEach, describe, expect, it } from "vitest";
import { Harness, setCookies } from "./helpers.js";

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

function requestOf(payload: Record<string, unknown> | undefined): RequestView {
  return payload?.request as RequestView;
}

describe("every event carries the request it happened in", () => {
  it("loggedIn, accessed, loggedOut, unauthorized, needsRefresh, loginConfirmed", async () => {
    harness = new Harness();
    const browser = harness.browser({ "user-agent": "events-test" });
    await browser.login(1, { fresh: false });
    await browser.get("/whoami");
    await browser.get("/needs-refresh");
    await browser.post("/confirm");
    await browser.post("/logout");
    await browser.get("/secret");
    const names = [
      "loggedIn",
      "accessed",
      "needsRefresh",
      "loginConfirmed",
      "loggedOut",
      "unauthorized",
    ] as const;
    for (const name of names) {
      const payload = harness.events.named(name)[0];
      expect(payload, name).toBeDefined();
      const request = requestOf(payload);
      expect(request.header("user-agent"), name).toBe("events-test");
      expect(typeof request.url).toBe("string");
    }
    expect(requestOf(harness.events.named("loggedIn")[0]).url).toBe("/login");
    expect(requestOf(harness.events.named("loggedOut")[0]).method).toBe("POST");
  });
});

describe("accessed: lazy user loading (items 47-49)", () => {
  it("fires only on requests that read the user, and then exactly once (item 48)", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    harness.events.clear();
    await browser.get("/");
    expect(harness.events.count("accessed")).toBe(0);
    const res = await browser.get("/whoami");
    expect(res.body).toMatchObject({ name: "Notch" });
    expect(harness.events.count("accessed")).toBe(1);
  });

  it("is not fired by guards, which read isAuthenticated only", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1);
    harness.events.clear();
    expect((await browser.get("/protected")).status).toBe(200);
    expect(harness.events.count("accessed")).toBe(0);
  });

  it("leaves the session alone on a request that does nothing with it: no Set-Cookie, no store write (item 47)", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.login(1, { remember: true });
    harness.probe.reset();
    const res = await browser.get("/");
    expect(setCookies(res)).toEqual([]);
    expect(harness.probe.writes()).toEqual([]);
  });
});

describe("payloads", () => {
  it("loadedFromCookie and loadedFromRequest carry the user", async () => {
    const created: Harness = new Harness({
      requestLoader: (request) =>
        request.header("authorization") === "Bearer 2" ? created.users.get("2") : null,
    });
    harness = created;
    const browser = harness.browser();
    await browser.login(1, { remember: true });
    browser.cookies.delete("session");
    await browser.get("/whoami");
    await harness.browser().get("/whoami", { authorization: "Bearer 2" });
    expect(harness.events.named("loadedFromCookie")).toEqual([
      expect.objectContaining({ user: harness.users.get("1") }),
    ]);
    expect(harness.events.named("loadedFromRequest")).toEqual([
      expect.objectContaining({ user: harness.users.get("2") }),
    ]);
  });

  it("sessionProtected carries the user id and mode; rememberTheft and sessionsRevoked the user id", async () => {
    harness = new Harness({ session: { protection: "basic" } });
    const browser = harness.browser({ "user-agent": "a" });
    await browser.login(1, { remember: true });
    await browser.get("/whoami", { "user-agent": "b" });
    expect(harness.events.named("sessionProtected")).toEqual([
      expect.objectContaining({ userId: "1", mode: "basic" }),
    ]);
    const thief = browser.clone();
    thief.cookies.delete("session");
    await thief.get("/whoami");
    harness.clock.advance(3600);
    browser.cookies.delete("session");
    await browser.get("/whoami");
    expect(harness.events.named("rememberTheft")).toEqual([expect.objectContaining({ userId: "1" })]);
    expect(harness.events.named("sessionsRevoked")).toEqual([
      expect.objectContaining({ userId: "1", reason: "theft" }),
    ]);
  });

  it("loginFailed never carries the password", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.post("/attempt", { account: "Notch", password: "hunter2-secret" });
    const [failure] = harness.events.named("loginFailed");
    expect(failure).toMatchObject({ account: "Notch", reason: "invalid" });
    expect(JSON.stringify({ ...failure, request: undefined })).not.toContain("hunter2-secret");
  });
});

describe("subscribing", () => {
  it("calls listeners in registration order and stops after the returned unsubscribe or off()", async () => {
    harness = new Harness();
    const calls: string[] = [];
    const first = () => calls.push("first");
    const unsubscribeSecond = harness.manager.on("loggedIn", () => calls.push("second"));
    harness.manager.on("loggedIn", first);
    const browser = harness.browser();
    await browser.login(1);
    expect(calls).toEqual(["second", "first"]);
    unsubscribeSecond();
    harness.manager.off("loggedIn", first);
    await browser.login(1);
    expect(calls).toEqual(["second", "first"]);
  });
});
