/**
 * The request loader (API keys, bearer tokens): Flask-Login inventory §2 items 58-61 and PR #901.
 *
 * Not applicable here, and why:
 * - Item 60 as Flask-Login tests it reads `session["_user_id"]` inside the request loader, which only
 *   works with client-side sessions. Here the request loader sees the request alone; the part that
 *   carries over ("with only a request loader, it decides even when a session cookie exists") is
 *   tested below.
 */
import { afterEach, describe, expect, it } from "vitest";
import { Harness, setCookie, type User } from "./helpers.js";

let harness: Harness;

afterEach(async () => {
  await harness?.close();
});

function byQuery(users: () => Map<string, User>) {
  return (request: { url: string; header(name: string): string | undefined }) => {
    const fromQuery = new URL(request.url, "http://x").searchParams.get("user_id");
    const fromHeader = request.header("authorization")?.replace(/^Bearer /, "");
    const id = fromQuery ?? fromHeader;
    return id ? (users().get(id) ?? null) : null;
  };
}

function requestOnly(): Harness {
  const created: Harness = new Harness(
    { requestLoader: byQuery(() => created.users) },
    { noUserLoader: true },
  );
  return created;
}

describe("request loader (item 58)", () => {
  it("authenticates a request by its own credentials, as source 'request', not fresh", async () => {
    harness = requestOnly();
    const browser = harness.browser();
    expect(await browser.whoami({ authorization: "Bearer 2" })).toMatchObject({
      name: "Steve",
      authenticated: true,
      source: "request",
      fresh: false,
    });
  });

  it("leaves an unknown id anonymous (401 on protected routes)", async () => {
    harness = requestOnly();
    const browser = harness.browser();
    expect(await browser.whoami({ authorization: "Bearer 9000" })).toMatchObject({ anonymous: true });
    expect((await browser.get("/protected?user_id=9000")).status).toBe(401);
  });

  it("emits loadedFromRequest once with the user", async () => {
    harness = requestOnly();
    await harness.browser().get("/whoami?user_id=1");
    const loads = harness.events.named("loadedFromRequest");
    expect(loads).toHaveLength(1);
    expect(loads[0]?.user).toBe(harness.users.get("1"));
  });

  it("does not call the request loader a second time when the user is read twice", async () => {
    let calls = 0;
    const created: Harness = new Harness(
      {
        requestLoader: (request) => {
          calls++;
          return byQuery(() => created.users)(request);
        },
      },
      {
        noUserLoader: true,
        routes: (app) => {
          app.get("/twice", (req, res) => {
            res.json([req.auth.user.getId(), req.auth.user.getId()]);
          });
        },
      },
    );
    harness = created;
    expect((await harness.browser().get("/twice?user_id=1")).body).toEqual(["1", "1"]);
    expect(calls).toBe(1);
  });

  it("rejects an inactive user it returns on protected routes", async () => {
    harness = requestOnly();
    expect((await harness.browser().get("/protected?user_id=3")).status).toBe(401);
  });
});

describe("request-loader-only setups (items 59-60)", () => {
  it("has no user loader (item 59)", () => {
    harness = requestOnly();
    expect(harness.manager.options.userLoader).toBeUndefined();
    expect(harness.manager.options.requestLoader).toBeTypeOf("function");
  });

  it("lets the request loader decide even when a session cookie exists (item 60)", async () => {
    harness = requestOnly();
    const browser = harness.browser();
    await browser.login(1);
    expect(await browser.whoami({ authorization: "Bearer 2" })).toMatchObject({ name: "Steve" });
    await browser.login(1);
    expect((await browser.get("/protected?user_id=9000")).status).toBe(401);
  });
});

describe("with both loaders", () => {
  it("uses a valid session and never consults the request loader", async () => {
    let calls = 0;
    const created: Harness = new Harness({
      requestLoader: (request) => {
        calls++;
        return byQuery(() => created.users)(request);
      },
    });
    harness = created;
    const browser = harness.browser();
    await browser.login(1);
    calls = 0;
    expect(await browser.whoami({ authorization: "Bearer 2" })).toMatchObject({
      name: "Notch",
      source: "session",
    });
    expect(calls).toBe(0);
  });

  it("falls back to the request loader when the remember cookie is garbage (Flask-Login PR #901)", async () => {
    const created: Harness = new Harness({ requestLoader: byQuery(() => created.users) });
    harness = created;
    const browser = harness.browser();
    browser.cookies.set("remember_token", "foo");
    expect(await browser.whoami({ authorization: "Bearer 2" })).toMatchObject({
      name: "Steve",
      source: "request",
    });
  });

  it("falls back to the request loader when the session cookie is stale", async () => {
    const created: Harness = new Harness({ requestLoader: byQuery(() => created.users) });
    harness = created;
    const browser = harness.browser();
    await browser.login(1);
    await browser.clone().post("/logout");
    expect(await browser.whoami({ authorization: "Bearer 2" })).toMatchObject({
      name: "Steve",
      source: "request",
    });
  });
});

describe("no persistence (item 61)", () => {
  it("creates no session and sets no session or remember cookie; the next request is anonymous", async () => {
    harness = requestOnly();
    const browser = harness.browser();
    const res = await browser.get("/whoami?user_id=2");
    expect(res.body).toMatchObject({ name: "Steve" });
    expect(setCookie(res, "session")).toBeUndefined();
    expect(setCookie(res, "remember_token")).toBeUndefined();
    expect(harness.probe.count("createSession")).toBe(0);
    expect(await browser.whoami()).toMatchObject({ anonymous: true });
  });
});
