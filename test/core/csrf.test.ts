/**
 * CSRF protection on every unsafe method, through Express [A5 3.5.1] [checklist J.66-J.70].
 * Flask-Login has no CSRF protection (Flask-WTF does), so no inventory item maps here.
 */
import type { AddressInfo } from "node:net";
import request from "supertest";
import { afterEach, describe, expect, it } from "vitest";
import type { Browser, HarnessSetup } from "./helpers.js";
import { Harness, setCookie } from "./helpers.js";

let harness: Harness;
let handled = 0;

afterEach(async () => {
  await harness?.close();
  handled = 0;
});

const thingRoutes: HarnessSetup = {
  routes: (app) => {
    const handler = (_req: unknown, res: { json: (body: unknown) => void }) => {
      handled++;
      res.json({ ok: true });
    };
    app.post("/thing", handler);
    app.put("/thing", handler);
    app.patch("/thing", handler);
    app.delete("/thing", handler);
    app.get("/thing", handler);
    app.post("/api/thing", handler);
  },
};

function origin(): string {
  return `http://127.0.0.1:${(harness.server.address() as AddressInfo).port}`;
}

async function send(browser: Browser, method: "put" | "patch" | "delete", headers: Record<string, string>) {
  const cookie = browser.cookieHeader();
  const req = request(harness.server)[method]("/thing").set(headers);
  if (cookie) req.set("cookie", cookie);
  return req;
}

describe("unsafe methods need a token [A5 3.5.1] [checklist J.66]", () => {
  it("refuses POST without a token with 403 and never runs the handler", async () => {
    harness = new Harness({}, thingRoutes);
    const browser = harness.browser();
    await browser.csrfToken();
    const res = await browser.post("/thing", {}, { csrf: false });
    expect(res.status).toBe(403);
    expect(handled).toBe(0);
  });

  it("emits csrfFailed with the reason, so the refusal can be logged [A5 16.3.3]", async () => {
    harness = new Harness({}, thingRoutes);
    const browser = harness.browser();
    await browser.csrfToken();
    await browser.post("/thing", {}, { csrf: "forged-token" });
    expect(harness.events.named("csrfFailed")).toEqual([
      expect.objectContaining({ reason: "invalid-token" }),
    ]);
  });

  it.each(["put", "patch", "delete"] as const)(
    "refuses %s without a token and accepts it with the header",
    async (method) => {
      harness = new Harness({}, thingRoutes);
      const browser = harness.browser();
      const token = await browser.csrfToken();
      expect((await send(browser, method, { "sec-fetch-site": "same-origin" })).status).toBe(403);
      expect(handled).toBe(0);
      expect(
        (await send(browser, method, { "sec-fetch-site": "same-origin", "x-csrf-token": token })).status,
      ).toBe(200);
      expect(handled).toBe(1);
    },
  );

  it("accepts the token in a urlencoded form field", async () => {
    harness = new Harness({}, thingRoutes);
    const browser = harness.browser();
    expect((await browser.post("/thing", { name: "x" }, { form: true })).status).toBe(200);
  });

  it("accepts the token in the X-CSRF-Token header of a JSON request", async () => {
    harness = new Harness({}, thingRoutes);
    const browser = harness.browser();
    const token = await browser.csrfToken();
    const res = await browser.post("/thing", {}, { csrf: false, headers: { "x-csrf-token": token } });
    expect(res.status).toBe(200);
  });

  it("protects the login form itself: no token, no login [checklist J.66]", async () => {
    harness = new Harness();
    const browser = harness.browser();
    await browser.csrfToken();
    expect((await browser.post("/login", { id: 1 }, { csrf: false })).status).toBe(403);
    expect(await browser.whoami()).toMatchObject({ anonymous: true });
    expect(harness.events.count("loggedIn")).toBe(0);
  });

  it("never checks safe methods", async () => {
    harness = new Harness({}, thingRoutes);
    const res = await harness.browser().get("/thing", { "sec-fetch-site": "cross-site" });
    expect(res.status).toBe(200);
  });

  it("answers 403 JSON with the reason to JSON clients", async () => {
    harness = new Harness({}, thingRoutes);
    const browser = harness.browser();
    const res = await browser.post("/thing", {}, { csrf: false, headers: { accept: "application/json" } });
    expect(res.status).toBe(403);
    expect(res.body).toMatchObject({ error: "csrf_failed", reason: "missing-token" });
  });

  it("rejects another browser's token", async () => {
    harness = new Harness({}, thingRoutes);
    const mine = harness.browser();
    await mine.csrfToken();
    const theirs = await harness.browser().csrfToken();
    expect((await mine.post("/thing", {}, { csrf: theirs })).status).toBe(403);
  });

  it("rejects a token without its cookie", async () => {
    harness = new Harness({}, thingRoutes);
    const browser = harness.browser();
    const token = await browser.csrfToken();
    browser.cookies.delete("csrf");
    expect((await browser.post("/thing", {}, { csrf: token })).status).toBe(403);
  });
});

describe("origin checks [checklist J.69]", () => {
  it("rejects Sec-Fetch-Site: cross-site even with a valid token", async () => {
    harness = new Harness({}, thingRoutes);
    const browser = harness.browser();
    const res = await browser.post("/thing", {}, { headers: { "sec-fetch-site": "cross-site" } });
    expect(res.status).toBe(403);
    expect(handled).toBe(0);
  });

  it("without Sec-Fetch-Site, accepts the exact Origin and rejects look-alikes", async () => {
    harness = new Harness({}, thingRoutes);
    const browser = harness.browser();
    const token = await browser.csrfToken();
    const post = (headers: Record<string, string>) =>
      browser.post("/thing", {}, { csrf: token, headers: { "sec-fetch-site": "", ...headers } });
    expect((await post({ origin: origin() })).status).toBe(200);
    expect((await post({ origin: `${origin()}.attacker.com` })).status).toBe(403);
    expect((await post({ origin: origin().replace("http:", "https:") })).status).toBe(403);
    expect((await post({ origin: "null" })).status).toBe(403);
  });

  it("blocks when both Sec-Fetch-Site and Origin are missing", async () => {
    harness = new Harness({}, thingRoutes);
    const browser = harness.browser();
    const token = await browser.csrfToken();
    const res = await browser.post("/thing", {}, { csrf: token, headers: { "sec-fetch-site": "" } });
    expect(res.status).toBe(403);
  });

  it("expects an https Origin over HTTPS behind a trusted proxy", async () => {
    harness = new Harness({ network: { trustProxyHops: 1 } }, thingRoutes);
    const browser = harness.browser({ "x-forwarded-proto": "https" });
    const token = await browser.csrfToken();
    expect(browser.cookies.has("__Host-csrf")).toBe(true);
    const https = origin().replace("http:", "https:");
    const post = (value: string) =>
      browser.post("/thing", {}, { csrf: token, headers: { "sec-fetch-site": "", origin: value } });
    expect((await post(https)).status).toBe(200);
    expect((await post(origin())).status).toBe(403);
  });

  it("accepts an Origin listed in csrf.trustedOrigins", async () => {
    harness = new Harness({ csrf: { trustedOrigins: ["https://admin.example.com"] } }, thingRoutes);
    const browser = harness.browser();
    const token = await browser.csrfToken();
    const res = await browser.post(
      "/thing",
      {},
      { csrf: token, headers: { "sec-fetch-site": "cross-site", origin: "https://admin.example.com" } },
    );
    expect(res.status).toBe(200);
  });
});

describe("token lifecycle [checklist J.67-J.68]", () => {
  it("issues a pre-session token to anonymous visitors (login forms need one)", async () => {
    harness = new Harness();
    const browser = harness.browser();
    const res = await browser.get("/csrf");
    expect(setCookie(res, "csrf")).toBeDefined();
    expect(browser.cookies.has("session")).toBe(false);
  });

  it("keeps the same token across pages until login or logout", async () => {
    harness = new Harness();
    const browser = harness.browser();
    const first = await browser.csrfToken();
    expect(await browser.csrfToken()).toBe(first);
  });

  it("rotates the token at login: the pre-login token stops working [checklist J.68]", async () => {
    harness = new Harness({}, thingRoutes);
    const browser = harness.browser();
    const before = await browser.csrfToken();
    const cookieBefore = browser.cookies.get("csrf");
    await browser.post("/login", { id: 1 }, { csrf: before });
    expect(browser.cookies.get("csrf")).not.toBe(cookieBefore);
    expect((await browser.post("/thing", {}, { csrf: before })).status).toBe(403);
    expect((await browser.post("/thing")).status).toBe(200);
  });

  it("rotates the token at logout", async () => {
    harness = new Harness({}, thingRoutes);
    const browser = harness.browser();
    await browser.login(1);
    const before = await browser.csrfToken();
    await browser.post("/logout", {}, { csrf: before });
    expect((await browser.post("/thing", {}, { csrf: before })).status).toBe(403);
  });

  it("keeps the token out of the cookie: the cookie value is not accepted as a token", async () => {
    harness = new Harness({}, thingRoutes);
    const browser = harness.browser();
    const token = await browser.csrfToken();
    const cookie = browser.cookies.get("csrf") as string;
    expect(token).not.toBe(cookie);
    expect((await browser.post("/thing", {}, { csrf: cookie })).status).toBe(403);
  });
});

describe("csrf.onFailure", () => {
  it("builds the reply from the failure reason, and falls back to the default when it declines", async () => {
    const reasons: string[] = [];
    harness = new Harness(
      {
        csrf: {
          onFailure: (request, reason) => {
            reasons.push(reason);
            return request.url === "/thing"
              ? { status: 419, headers: {}, body: { expired: reason } }
              : undefined;
          },
        },
      },
      thingRoutes,
    );
    const browser = harness.browser();
    const custom = await browser.post("/thing", {}, { csrf: false });
    expect(custom.status).toBe(419);
    expect(custom.body).toEqual({ expired: "missing-token" });
    const fallback = await browser.post("/api/thing", {}, { headers: { "sec-fetch-site": "cross-site" } });
    expect(fallback.status).toBe(403);
    expect(reasons).toEqual(["missing-token", "cross-site"]);
    expect(handled).toBe(0);
  });
});

describe("configuration", () => {
  it("skips the check when csrf.enabled is false", async () => {
    harness = new Harness({ csrf: { enabled: false } }, thingRoutes);
    const res = await harness
      .browser()
      .post("/thing", {}, { csrf: false, headers: { "sec-fetch-site": "cross-site" } });
    expect(res.status).toBe(200);
  });

  it("skips the check for requests csrf.skip selects (a bearer-token API) and only those", async () => {
    harness = new Harness({ csrf: { skip: (request) => request.url.startsWith("/api/") } }, thingRoutes);
    const browser = harness.browser();
    expect((await browser.post("/api/thing", {}, { csrf: false })).status).toBe(200);
    expect((await browser.post("/thing", {}, { csrf: false })).status).toBe(403);
  });

  it("reads custom field and header names", async () => {
    harness = new Harness(
      { csrf: { fieldName: "authenticity_token", headerName: "X-XSRF-Token" } },
      thingRoutes,
    );
    const browser = harness.browser();
    const token = await browser.csrfToken();
    expect((await browser.post("/thing", { authenticity_token: token }, { csrf: false })).status).toBe(200);
    expect(
      (await browser.post("/thing", {}, { csrf: false, headers: { "x-xsrf-token": token } })).status,
    ).toBe(200);
    expect((await browser.post("/thing", { _csrf: token }, { csrf: false })).status).toBe(403);
  });
});
