/**
 * Brute-force limits through `attemptLogin`, per account and per client address
 * [checklist C.21-C.25, D.27] [NIST 800-63B 3.2.2] [A5 6.3.1].
 * Flask-Login has no login throttling, so no inventory item maps here.
 */
import type request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import type { Browser } from "./helpers.js";
import { Harness } from "./helpers.js";

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

function attempt(browser: Browser, account: string, password: string, extra: Record<string, unknown> = {}) {
  return browser.post("/attempt", { account, password, ...extra });
}

const wrong = (browser: Browser, account = "Notch") => attempt(browser, account, "wrong");
const right = (browser: Browser, account = "Notch") => attempt(browser, account, `${account}-password`);

function shape(res: request.Response) {
  const { date: _date, etag: _etag, ...headers } = res.headers as Record<string, unknown>;
  return { status: res.status, body: res.body as unknown, headers };
}

describe("per-account limit [checklist C.21] [NIST 800-63B 3.2.2]", () => {
  it("answers 401 to the first failures and 429 with Retry-After once maxAccountFailures is reached", async () => {
    harness = new Harness();
    const browser = harness.browser();
    for (let i = 0; i < 5; i++) expect((await wrong(browser)).status).toBe(401);
    const locked = await right(browser);
    expect(locked.status).toBe(429);
    expect(locked.headers["retry-after"]).toBe("30");
    expect(await browser.whoami()).toMatchObject({ anonymous: true });
  });

  it("says on the failure that reaches maxAccountFailures that it started a lock, and on no earlier one", async () => {
    harness = new Harness();
    const browser = harness.browser();
    for (let i = 0; i < 4; i++) {
      const failure = await wrong(browser);
      expect(failure.status).toBe(401);
      expect(failure.body).not.toHaveProperty("retryAfterSeconds");
    }
    const fifth = await wrong(browser);
    expect(fifth.status).toBe(401);
    expect(fifth.body).toMatchObject({ retryAfterSeconds: 30 });
    expect((await right(browser)).status).toBe(429);
  });

  it("does not check the password while locked, so a correct guess reveals nothing", async () => {
    harness = new Harness();
    const browser = harness.browser();
    for (let i = 0; i < 5; i++) await wrong(browser);
    expect(harness.counters.verify).toBe(5);
    const before = harness.probe.count("incrementCounter");
    const res = await right(browser);
    expect(res.status).toBe(429);
    expect(harness.probe.count("incrementCounter")).toBe(before);
    expect(harness.events.named("loginFailed").at(-1)).toMatchObject({
      reason: "locked",
      retryAfterSeconds: 30,
    });
    expect(harness.counters.verify).toBe(5);
  });

  it("locks the account from every address", async () => {
    harness = new Harness({ network: { trustProxyHops: 1 } });
    const first = harness.browser({ "x-forwarded-for": "198.51.100.1" });
    for (let i = 0; i < 5; i++) await wrong(first);
    const other = harness.browser({ "x-forwarded-for": "203.0.113.9" });
    expect((await right(other)).status).toBe(429);
    expect((await right(other, "Steve")).status).toBe(200);
  });

  it("lets the owner in once the lock has passed, and the lock grows with each further failure", async () => {
    harness = new Harness();
    const browser = harness.browser();
    for (let i = 0; i < 5; i++) await wrong(browser);
    harness.clock.advance(29);
    expect((await right(browser)).status).toBe(429);
    harness.clock.advance(1);
    expect((await wrong(browser)).status).toBe(401);
    const second = await right(browser);
    expect(second.status).toBe(429);
    expect(second.headers["retry-after"]).toBe("60");
    harness.clock.advance(60);
    expect((await wrong(browser)).status).toBe(401);
    expect((await right(browser)).headers["retry-after"]).toBe("120");
    harness.clock.advance(120);
    expect((await right(browser)).status).toBe(200);
    expect((await browser.whoami()).name).toBe("Notch");
  });

  it("resets the account count on success [checklist C.22]", async () => {
    harness = new Harness();
    const browser = harness.browser();
    for (let i = 0; i < 4; i++) await wrong(browser);
    expect((await right(browser)).status).toBe(200);
    for (let i = 0; i < 4; i++) expect((await wrong(browser)).status).toBe(401);
    expect((await right(browser)).status).toBe(200);
  });

  it("counts each attempt before checking its password: a success writes the account counter, then deletes it [A5 6.3.1]", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.csrfToken();
    harness.probe.reset();
    expect((await right(browser)).status).toBe(200);
    // Counter writes with the kind of key each touched (the credential epochs are only read at login).
    const throttleWrites = harness.probe.calls
      .filter((call) => call.method === "incrementCounter" || call.method === "deleteCounter")
      .map((call) => `${call.method} ${String(call.args[0]).split(":")[0]}`);
    expect(throttleWrites).toEqual(["incrementCounter account", "deleteCounter account"]);
    expect(harness.counters.verify).toBe(1);
  });

  it("keeps an attempt whose verify throws counted against the account, and not against the address", async () => {
    harness = new Harness(
      { throttle: { maxAddressFailures: 2 } },
      {
        routes: (app) => {
          app.post("/attempt-broken", async (req, res) => {
            await req.auth.attemptLogin({
              account: String((req.body as { account?: unknown }).account),
              verify: () => Promise.reject(new Error("user database down")),
            });
            res.json({ ok: true });
          });
        },
      },
    );
    const browser = harness.browser();
    for (let i = 0; i < 5; i++) {
      expect((await browser.post("/attempt-broken", { account: "Notch" })).status).toBe(500);
    }
    expect(harness.errors).toHaveLength(5);
    expect((await right(browser)).status).toBe(429);
    // Five thrown attempts from this address, yet the address limit (2) was not reached.
    expect((await right(browser, "Steve")).status).toBe(200);
  });

  it("forgets failures after failureWindowSeconds", async () => {
    harness = new Harness({ throttle: { failureWindowSeconds: 3600 } });
    const browser = harness.browser();
    for (let i = 0; i < 4; i++) await wrong(browser);
    harness.clock.advance(3600);
    await wrong(browser);
    expect((await right(browser)).status).toBe(200);
  });
});

describe("per-address limit [checklist C.24] [A5 6.1.1]", () => {
  it("locks an address spraying many accounts, and only that address", async () => {
    harness = new Harness({ network: { trustProxyHops: 1 }, throttle: { maxAddressFailures: 3 } });
    const sprayer = harness.browser({ "x-forwarded-for": "203.0.113.7" });
    for (const account of ["a", "b", "c"]) expect((await wrong(sprayer, account)).status).toBe(401);
    expect((await right(sprayer, "Steve")).status).toBe(429);
    const bystander = harness.browser({ "x-forwarded-for": "198.51.100.1" });
    expect((await right(bystander, "Steve")).status).toBe(200);
  });

  it("says on the failure that reaches maxAddressFailures that it started a lock", async () => {
    harness = new Harness({ network: { trustProxyHops: 1 }, throttle: { maxAddressFailures: 3 } });
    const sprayer = harness.browser({ "x-forwarded-for": "203.0.113.7" });
    expect((await wrong(sprayer, "a")).body).not.toHaveProperty("retryAfterSeconds");
    expect((await wrong(sprayer, "b")).body).not.toHaveProperty("retryAfterSeconds");
    expect((await wrong(sprayer, "c")).body).toMatchObject({ retryAfterSeconds: 30 });
  });

  it("keeps counting the address after one of its logins succeeds", async () => {
    harness = new Harness({ network: { trustProxyHops: 1 }, throttle: { maxAddressFailures: 3 } });
    const browser = harness.browser({ "x-forwarded-for": "203.0.113.7" });
    await wrong(browser, "x");
    await wrong(browser, "y");
    expect((await right(browser, "Steve")).status).toBe(200);
    await wrong(browser, "z");
    expect((await right(browser, "Notch")).status).toBe(429);
  });
});

describe("answers that reveal nothing [checklist C.25, D.27] [A5 6.3.8]", () => {
  it("answers an unknown account, a wrong password and an inactive account identically", async () => {
    harness = new Harness();
    const browser = harness.browser();
    const unknown = shape(await attempt(browser, "Nobody", "Nobody-password"));
    const badPassword = shape(await wrong(browser, "Steve"));
    const inactive = shape(await right(browser, "Creeper"));
    expect(badPassword).toEqual(unknown);
    expect(inactive).toEqual(unknown);
    expect(unknown.status).toBe(401);
    expect(await browser.whoami()).toMatchObject({ anonymous: true });
  });

  it("counts an inactive account's correct password as a failure", async () => {
    harness = new Harness();
    const browser = harness.browser();
    for (let i = 0; i < 5; i++) expect((await right(browser, "Creeper")).status).toBe(401);
    expect((await right(browser, "Creeper")).status).toBe(429);
  });

  it("reports the reason in loginFailed events only", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await wrong(browser, "Steve");
    await right(browser, "Creeper");
    expect(harness.events.named("loginFailed").map((event) => [event.account, event.reason])).toEqual([
      ["Steve", "invalid"],
      ["Creeper", "inactive"],
    ]);
  });

  it("reports the lock in a loginFailed event when the failure that causes it happens", async () => {
    harness = new Harness();
    const browser = harness.browser();
    for (let i = 0; i < 5; i++) await wrong(browser);
    expect(harness.events.named("loginFailed").filter((event) => event.reason === "locked")).toEqual([
      expect.objectContaining({ account: "Notch", retryAfterSeconds: 30 }),
    ]);
  });
});

describe("successful attempts", () => {
  it("log the user in with a new session and pass remember through", async () => {
    harness = new Harness();
    const browser = harness.browser();
    const res = await attempt(browser, "Notch", "Notch-password", { remember: true });
    expect(res.body).toEqual({ ok: true, id: "1" });
    expect(browser.cookies.has("session")).toBe(true);
    expect(browser.cookies.has("remember_token")).toBe(true);
    expect(await browser.whoami()).toMatchObject({ name: "Notch", fresh: true });
    expect(harness.events.count("loggedIn")).toBe(1);
  });
});
