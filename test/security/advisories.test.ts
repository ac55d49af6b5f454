// Regression tests for advisories and known weaknesses of the libraries login-manager replaces:
// each test names the advisory or issue it guards against. See SECURITY.md for the mapping.
import type { Express } from "express";
import { safeNextUrl } from "login-manager";
import { fakeRequest } from "login-manager/testing";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  PASSWORD as APP_PASSWORD,
  FRAMEWORKS,
  startTestApp,
  TestBrowser,
} from "../../examples/app/test/helpers.js";
import { addUser, createApp as createTutorialApp } from "../../examples/tutorial/app.js";
import type { Served, TestUser } from "./support.js";
import {
  Browser,
  createExpressApp,
  createTestManager,
  HARNESSES,
  SECRET,
  serve,
  setCookies,
} from "./support.js";

const APP_ORIGIN = "https://app.example";

/** A well-formed `<id>.<secret>` value the server never issued. */
const NEVER_ISSUED = "AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB";

describe.each(HARNESSES)(
  "session fixation on $name [CVE-2022-25896 passport<0.6] [CVE-2023-29019 @fastify/passport] [A5 7.2.4]",
  (harness) => {
    let served: Served;
    beforeAll(async () => {
      served = await harness.start();
    });
    afterAll(async () => served.close());

    it("issues no session id to an anonymous visitor, so there is nothing to fixate before login", async () => {
      const browser = new Browser(served.url);
      await browser.get("/me");
      await browser.csrf();
      expect([...browser.jar.keys()]).toEqual(["csrf"]);
    });

    it("ignores a planted never-issued session id: login issues a new id and the planted one stays anonymous [checklist E.33, G.42]", async () => {
      const victim = new Browser(served.url);
      victim.jar.set("session", NEVER_ISSUED);
      expect((await victim.me()).user).toBeNull();
      victim.jar.set("session", NEVER_ISSUED);
      expect((await victim.post("/login-as", { user: "alice" })).status).toBe(200);
      const issued = victim.jar.get("session");
      expect(issued).toBeDefined();
      expect(issued).not.toBe(NEVER_ISSUED);
      expect((await victim.me()).user).toBe("alice");
      const attacker = new Browser(served.url);
      attacker.jar.set("session", NEVER_ISSUED);
      expect((await attacker.me()).user).toBeNull();
    });

    it("replaces an attacker's own session planted in the victim's browser; the planted id never becomes the victim's [checklist G.42, G.44]", async () => {
      const attacker = new Browser(served.url);
      await attacker.post("/login-as", { user: "bob" });
      const planted = attacker.jar.get("session") as string;
      expect((await attacker.me()).user).toBe("bob");

      const victim = new Browser(served.url);
      victim.jar.set("session", planted);
      await victim.post("/login-as", { user: "alice" });
      expect(victim.jar.get("session")).not.toBe(planted);
      expect((await victim.me()).user).toBe("alice");

      const replay = new Browser(served.url);
      replay.jar.set("session", planted);
      expect(await replay.me()).toEqual({ user: null, source: null, fresh: false });
    });

    it("captures no pre-login cookie that authenticates after login, remember-me included", async () => {
      const victim = new Browser(served.url);
      await victim.csrf();
      const before = new Map(victim.jar);
      await victim.post("/login-as", { user: "alice", remember: "1" });
      for (const [name, value] of before) expect(victim.jar.get(name)).not.toBe(value);
      const replay = new Browser(served.url);
      for (const [name, value] of before) replay.jar.set(name, value);
      expect((await replay.me()).user).toBeNull();
    });

    it("rotates the CSRF cookie at login, so a pre-login token is rejected afterwards [Django test_login_csrf_rotate] [checklist J.68]", async () => {
      const browser = new Browser(served.url);
      const preLoginToken = await browser.csrf();
      const preLoginCookie = browser.jar.get("csrf");
      await browser.post("/login-as", { user: "alice" });
      expect(browser.jar.get("csrf")).not.toBe(preLoginCookie);
      const stale = await request(served.url)
        .post("/logout")
        .set({ cookie: browser.cookieHeader(), "sec-fetch-site": "same-origin" })
        .type("form")
        .send({ _csrf: preLoginToken });
      expect(stale.status).toBe(403);
      expect((await browser.me()).user).toBe("alice");
    });
  },
);

/** Open-redirect payloads: backslash, scheme, control-character and whitespace tricks. */
const HOSTILE = [
  "\\github.com",
  "\\\\github.com",
  "\\\\\\github.com",
  "\\/github.com",
  "/\\github.com",
  "/\\/github.com",
  "/\\evil.example",
  "//evil.example",
  "///evil.example",
  "////evil.example",
  "//evil.example/%2F..",
  "https:evil.example",
  "https:/evil.example",
  "http:///evil.example",
  "https://evil.example",
  "HTTPS://evil.example",
  "ftp://evil.example",
  "http://127.0.0.1/same-host-but-absolute",
  "//app.example@evil.example",
  "javascript:alert(1)",
  "JaVaScRiPt:alert(1)",
  "data:text/html,<script>alert(1)</script>",
  "/\t/evil.example",
  "/\n/evil.example",
  "/\r\n/evil.example",
  "\t//evil.example",
  "\n//evil.example",
  " //evil.example",
  "\u0000//evil.example",
  "/\u0000/evil.example",
  "\u00a0//evil.example",
  "/%09/evil.example/\t",
  "",
];

describe("open redirect through the tutorial's login route [flask-login #211/#737] [Flask-Security CVE-2021-32618] [A5 3.7.2]", () => {
  const EMAIL = "redirects@example.com";
  const PASSWORD = "correct horse battery staple";
  let served: Served;

  beforeAll(async () => {
    await addUser(EMAIL, PASSWORD);
    served = await serve(createTutorialApp(SECRET).app);
  });
  afterAll(async () => served.close());

  /** Logs in through the tutorial's form with `next` in the query string; resolves the Location. */
  async function loginWithNext(query: string): Promise<string> {
    const agent = request.agent(served.url);
    const page = await agent.get("/login");
    const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? "";
    const response = await agent
      .post(`/login?${query}`)
      .set("sec-fetch-site", "same-origin")
      .type("form")
      .send({ email: EMAIL, password: PASSWORD, _csrf: csrf });
    expect(response.status).toBe(303);
    return response.headers.location as string;
  }

  it.each(HOSTILE)("refuses next=%j and falls back to the default page", async (next) => {
    const location = await loginWithNext(`next=${encodeURIComponent(next)}`);
    expect(location).toBe("/protected");
    expect(new URL(location, APP_ORIGIN).origin).toBe(APP_ORIGIN);
  });

  it.each([
    "/protected?tab=1",
    "/view/?param=http://x",
    "/view/?param=//evil.example",
    "/a/b#section",
    "/%5Cevil.example",
  ])("follows the same-origin path next=%j", async (next) => {
    const location = await loginWithNext(`next=${encodeURIComponent(next)}`);
    expect(new URL(location, APP_ORIGIN).origin).toBe(APP_ORIGIN);
    expect(decodeURI(location)).toBe(decodeURI(next));
  });

  it("ignores a repeated next (an array, never a string) and falls back", async () => {
    const location = await loginWithNext("next=%2Fok&next=%2F%2Fevil.example");
    expect(location).toBe("/protected");
  });

  it("safeNextUrl never returns an off-origin URL for the payloads, even after browsers strip tab/newline", () => {
    for (const next of HOSTILE) {
      const result = safeNextUrl(next, "/");
      const stripped = result.replace(/[\t\n\r]/g, "");
      expect(new URL(stripped, APP_ORIGIN).origin).toBe(APP_ORIGIN);
    }
  });
});

/** Adds `POST /attempt`: a password login that always fails (or succeeds for password "right"). */
function withAttemptRoute(
  app: Express,
  users: Map<string, TestUser>,
  paths: string[] = ["/attempt"],
  verifyDelayMs = 0,
): Express {
  for (const path of paths) {
    app.post(path, async (req, res) => {
      const body = (req.body ?? {}) as Record<string, unknown>;
      const account = String(body.account ?? "");
      const result = await req.auth.attemptLogin({
        account,
        verify: async () => {
          // Stands in for the argon2 run, which takes tens of milliseconds.
          if (verifyDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, verifyDelayMs));
          return body.password === "right" ? (users.get(account) ?? null) : null;
        },
      });
      if (result.ok) res.json({ ok: true });
      else if (result.reason === "locked") res.status(429).json({ ok: false, reason: "locked" });
      else res.status(401).json({ ok: false, reason: "invalid" });
    });
  }
  return app;
}

describe("client address from the socket, not X-Forwarded-For [flask-login #700/#883] [checklist I.65]", () => {
  const SPOOFS: Record<string, string>[] = [
    { "x-forwarded-for": "203.0.113.7" },
    { "x-forwarded-for": "198.51.100.1, 203.0.113.8" },
    { "x-real-ip": "203.0.113.9" },
    { forwarded: "for=203.0.113.10" },
  ];

  it("strong mode: a spoofed X-Forwarded-For does not change the fingerprint, while a new User-Agent ends the session", async () => {
    const { manager, users } = createTestManager({ session: { protection: "strong" } });
    const served = await serve(createExpressApp(manager, users));
    try {
      const browser = new Browser(served.url, { "user-agent": "Browser/1" });
      await browser.post("/login-as", { user: "alice" });
      for (const spoof of SPOOFS) {
        expect(await browser.me(spoof)).toEqual({ user: "alice", source: "session", fresh: true });
      }
      expect((await browser.me({ "user-agent": "Other/2" })).user).toBeNull();
      expect((await browser.me()).user).toBeNull();
    } finally {
      await served.close();
    }
  });

  it("basic mode: a spoofed X-Forwarded-For keeps the login fresh, while a new User-Agent marks it not fresh", async () => {
    const { manager, users } = createTestManager({ session: { protection: "basic" } });
    const served = await serve(createExpressApp(manager, users));
    try {
      const browser = new Browser(served.url, { "user-agent": "Browser/1" });
      await browser.post("/login-as", { user: "alice" });
      for (const spoof of SPOOFS) expect((await browser.me(spoof)).fresh).toBe(true);
      expect(await browser.me({ "user-agent": "Other/2" })).toEqual({
        user: "alice",
        source: "session",
        fresh: false,
      });
    } finally {
      await served.close();
    }
  });

  it("with trustProxyHops 1, the proxy-appended entry is the address: it counts, the client-written entries do not", async () => {
    const { manager, users } = createTestManager({
      session: { protection: "strong" },
      network: { trustProxyHops: 1 },
    });
    const served = await serve(createExpressApp(manager, users));
    try {
      const browser = new Browser(served.url, { "x-forwarded-for": "198.51.100.20" });
      await browser.post("/login-as", { user: "alice" });
      expect((await browser.me({ "x-forwarded-for": "203.0.113.1, 198.51.100.20" })).user).toBe("alice");
      expect((await browser.me({ "x-forwarded-for": "198.51.100.21" })).user).toBeNull();
    } finally {
      await served.close();
    }
  });

  it("the address throttle ignores rotating proxy headers without trustProxyHops [better-auth XFF rotation] [checklist C.24]", async () => {
    const { manager, users } = createTestManager({ throttle: { maxAddressFailures: 3 } });
    const served = await serve(withAttemptRoute(createExpressApp(manager, users), users));
    try {
      const browser = new Browser(served.url);
      const statuses: number[] = [];
      for (const [index, spoof] of SPOOFS.entries()) {
        statuses.push(
          (await browser.post("/attempt", { account: `user${index}`, password: "wrong" }, spoof)).status,
        );
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
      const fresh = await browser.post(
        "/attempt",
        { account: "alice", password: "right" },
        { "x-forwarded-for": "192.0.2.200" },
      );
      expect(fresh.status).toBe(429);
    } finally {
      await served.close();
    }
  });
});

describe("cookie flags [Flask-Login < 0.6.0: remember cookie not HttpOnly] [A5 3.3.1, 3.3.4] [checklist F.36-F.38, I.62]", () => {
  let served: Served;
  beforeAll(async () => {
    const { manager, users } = createTestManager({ network: { trustProxyHops: 1 } });
    served = await serve(createExpressApp(manager, users));
  });
  afterAll(async () => served.close());

  it("over HTTPS: __Host- names, HttpOnly, Secure, SameSite=Lax, Path=/, no Domain; remember-me ≤ 30 days, session without expiry", async () => {
    const browser = new Browser(served.url, { "x-forwarded-proto": "https" });
    const csrf = await browser.csrf();
    const login = await request(served.url)
      .post("/login-as")
      .set({ ...browser.headers, cookie: browser.cookieHeader(), "sec-fetch-site": "same-origin" })
      .type("form")
      .send({ user: "alice", remember: "1", _csrf: csrf });
    const cookies = setCookies(login.headers);
    expect(cookies.map((cookie) => cookie.name).sort()).toEqual([
      "__Host-csrf",
      "__Host-remember_token",
      "__Host-session",
    ]);
    for (const cookie of cookies) {
      expect(cookie.attributes.has("httponly")).toBe(true);
      expect(cookie.attributes.has("secure")).toBe(true);
      expect(cookie.attributes.get("samesite")).toBe("Lax");
      expect(cookie.attributes.get("path")).toBe("/");
      expect(cookie.attributes.has("domain")).toBe(false);
    }
    const remember = cookies.find((cookie) => cookie.name === "__Host-remember_token");
    const maxAge = Number(remember?.attributes.get("max-age"));
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(30 * 86_400);
    const session = cookies.find((cookie) => cookie.name === "__Host-session");
    expect(session?.attributes.has("max-age")).toBe(false);
    expect(session?.attributes.has("expires")).toBe(false);
  });

  it("the remember cookie rotated on a restore is HttpOnly too and keeps the original end date", async () => {
    const browser = new Browser(served.url, { "x-forwarded-proto": "https" });
    await browser.post("/login-as", { user: "alice", remember: "1" });
    browser.jar.delete("__Host-session");
    const restore = await request(served.url)
      .get("/me")
      .set({ ...browser.headers, cookie: browser.cookieHeader() });
    expect(restore.body).toMatchObject({ user: "alice", source: "remember", fresh: false });
    const rotated = setCookies(restore.headers).find((cookie) => cookie.name === "__Host-remember_token");
    expect(rotated?.attributes.has("httponly")).toBe(true);
    expect(rotated?.attributes.has("secure")).toBe(true);
    expect(Number(rotated?.attributes.get("max-age"))).toBeLessThanOrEqual(30 * 86_400);
  });

  it("over plain HTTP the cookies are still HttpOnly and SameSite, without the __Host- prefix", async () => {
    const browser = new Browser(served.url);
    const csrf = await browser.csrf();
    const login = await request(served.url)
      .post("/login-as")
      .set({ cookie: browser.cookieHeader(), "sec-fetch-site": "same-origin" })
      .type("form")
      .send({ user: "alice", remember: "1", _csrf: csrf });
    for (const cookie of setCookies(login.headers)) {
      expect(cookie.name.startsWith("__Host-")).toBe(false);
      expect(cookie.attributes.has("httponly")).toBe(true);
      expect(cookie.attributes.get("samesite")).toBe("Lax");
    }
  });
});

describe("strong session protection with remember-me [Flask-Login #685, #241]", () => {
  it("a session restored from the remember cookie is fingerprinted: it survives later requests from the same client", async () => {
    const { manager, users } = createTestManager({ session: { protection: "strong" } });
    const served = await serve(createExpressApp(manager, users));
    try {
      const browser = new Browser(served.url, { "user-agent": "Browser/1" });
      await browser.post("/login-as", { user: "alice", remember: "1" });
      browser.jar.delete("session"); // the browser was restarted: session cookies are gone
      expect(await browser.me()).toEqual({ user: "alice", source: "remember", fresh: false });
      expect(browser.jar.has("session")).toBe(true);
      for (let i = 0; i < 3; i++) {
        expect(await browser.me()).toEqual({ user: "alice", source: "session", fresh: false });
      }
    } finally {
      await served.close();
    }
  });

  it("strong mode still ends a restored session whose fingerprint changes, with its remember token", async () => {
    const { manager, users } = createTestManager({ session: { protection: "strong" } });
    const served = await serve(createExpressApp(manager, users));
    try {
      const browser = new Browser(served.url, { "user-agent": "Browser/1" });
      await browser.post("/login-as", { user: "alice", remember: "1" });
      browser.jar.delete("session");
      await browser.me();
      const stolen = browser.clone({ "user-agent": "Thief/1" });
      expect((await stolen.me()).user).toBeNull();
      expect(stolen.jar.has("remember_token")).toBe(false);
      browser.jar.delete("session");
      expect((await browser.me()).user).toBeNull();
    } finally {
      await served.close();
    }
  });
});

describe("logout ends remember-me [Flask-Login #600] [A5 7.4.1] [checklist G.45-G.46, I.63]", () => {
  let served: Served;
  beforeAll(async () => {
    const { manager, users } = createTestManager();
    served = await serve(createExpressApp(manager, users));
  });
  afterAll(async () => served.close());

  it("expires both cookies and revokes both tokens on the server: replaying either captured cookie is anonymous", async () => {
    const browser = new Browser(served.url);
    await browser.post("/login-as", { user: "alice", remember: "1" });
    const captured = new Map(browser.jar);
    const logout = await browser.post("/logout");
    const cleared = setCookies(logout.headers).filter((cookie) => cookie.value === "");
    expect(cleared.map((cookie) => cookie.name).sort()).toEqual(["remember_token", "session"]);
    for (const cookie of cleared) expect(cookie.attributes.get("max-age")).toBe("0");

    const rememberOnly = new Browser(served.url);
    rememberOnly.jar.set("remember_token", captured.get("remember_token") as string);
    expect((await rememberOnly.me()).user).toBeNull();
    const sessionOnly = new Browser(served.url);
    sessionOnly.jar.set("session", captured.get("session") as string);
    expect((await sessionOnly.me()).user).toBeNull();
  });

  it("expires the remember cookie even when the logout request did not carry it", async () => {
    const browser = new Browser(served.url);
    await browser.post("/login-as", { user: "alice", remember: "1" });
    const remember = browser.jar.get("remember_token") as string;
    browser.jar.delete("remember_token");
    const logout = await browser.post("/logout");
    expect(setCookies(logout.headers).some((c) => c.name === "remember_token" && c.value === "")).toBe(true);
    const replay = new Browser(served.url);
    replay.jar.set("remember_token", remember);
    expect((await replay.me()).user).toBeNull();
  });

  it("GET /logout does not log out (logout is a POST with a CSRF token) [A5 3.5.3] [checklist G.47]", async () => {
    const browser = new Browser(served.url);
    await browser.post("/login-as", { user: "alice" });
    expect((await browser.get("/logout")).status).toBe(404);
    const noToken = await request(served.url)
      .post("/logout")
      .set({ cookie: browser.cookieHeader(), "sec-fetch-site": "same-origin" });
    expect(noToken.status).toBe(403);
    expect((await browser.me()).user).toBe("alice");
  });
});

describe("brute-force throttle cannot be side-stepped [better-auth rate-limit bypasses] [NIST 800-63B 3.2.2] [checklist C.21]", () => {
  it("locks per account whatever the client address: rotating the socket address (a botnet) does not reset it", async () => {
    const { manager } = createTestManager({ throttle: { maxAccountFailures: 3, maxAddressFailures: 100 } });
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) {
      const auth = await manager.authenticate(
        fakeRequest({ method: "POST", url: "/login", remoteAddress: `192.0.2.${i + 1}` }),
        { setCookie: () => undefined, setHeader: () => undefined },
      );
      const result = await auth.attemptLogin({ account: "alice", verify: async () => null });
      outcomes.push(result.ok ? "ok" : result.reason);
    }
    expect(outcomes).toEqual(["invalid", "invalid", "invalid", "locked", "locked"]);
  });

  /** Failed logins, one account each (so only the address counter can lock), from the given sockets. */
  async function sprayFrom(addresses: string[], maxAddressFailures: number): Promise<string[]> {
    const { manager } = createTestManager({ throttle: { maxAddressFailures } });
    const outcomes: string[] = [];
    for (const [index, remoteAddress] of addresses.entries()) {
      const auth = await manager.authenticate(
        fakeRequest({ method: "POST", url: "/login", remoteAddress: remoteAddress }),
        { setCookie: () => undefined, setHeader: () => undefined },
      );
      const result = await auth.attemptLogin({ account: `victim${index}`, verify: async () => null });
      outcomes.push(result.ok ? "ok" : result.reason);
    }
    return outcomes;
  }

  it("counts an IPv6 client per /64: rotating addresses inside its prefix does not reset the address lock [better-auth #7470/#7509] [finding F-5]", async () => {
    const rotating = [
      "2001:db8:7:1::1",
      "2001:db8:7:1::2",
      "2001:db8:7:1:dead:beef:0:1",
      "2001:DB8:7:1::abcd",
    ];
    expect(await sprayFrom(rotating, 3)).toEqual(["invalid", "invalid", "invalid", "locked"]);
    const neighbours = ["2001:db8:7:1::1", "2001:db8:7:1::2", "2001:db8:7:1::3", "2001:db8:7:2::1"];
    expect(await sprayFrom(neighbours, 3)).toEqual(["invalid", "invalid", "invalid", "invalid"]);
  });

  it("counts an IPv4-mapped IPv6 peer (::ffff:a.b.c.d) as the same IPv4 address [better-auth #7300] [finding F-5]", async () => {
    const forms = ["192.0.2.55", "::ffff:192.0.2.55", "::FFFF:192.0.2.55", "192.0.2.55"];
    expect(await sprayFrom(forms, 3)).toEqual(["invalid", "invalid", "invalid", "locked"]);
  });

  it("lets parallel guesses through no faster than sequential ones: 60 concurrent attempts run verify only maxAccountFailures times [finding F-6: check-then-act race]", async () => {
    const { manager } = createTestManager({ throttle: { maxAccountFailures: 5, maxAddressFailures: 100 } });
    let verifies = 0;
    const attempts = Array.from({ length: 60 }, async (_, i) => {
      const auth = await manager.authenticate(
        fakeRequest({ method: "POST", url: "/login", remoteAddress: `198.51.100.${i % 50}` }),
        { setCookie: () => undefined, setHeader: () => undefined },
      );
      return auth.attemptLogin({
        account: "alice",
        verify: async () => {
          verifies++;
          await new Promise((resolve) => setTimeout(resolve, 5));
          return null;
        },
      });
    });
    const results = await Promise.all(attempts);
    expect(verifies).toBe(5);
    expect(results.filter((result) => !result.ok && result.reason === "locked")).toHaveLength(55);
  });

  it("still verifies different accounts in parallel, and a throwing verify does not block the account", async () => {
    const { manager, users } = createTestManager();
    let running = 0;
    let most = 0;
    const attempt = async (account: string, verify: () => Promise<TestUser | null>) => {
      const auth = await manager.authenticate(
        fakeRequest({ method: "POST", url: "/login", remoteAddress: "192.0.2.9" }),
        { setCookie: () => undefined, setHeader: () => undefined },
      );
      return auth.attemptLogin({ account, verify });
    };
    const slow = async () => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 20));
      running--;
      return null;
    };
    await Promise.all(["a1", "a2", "a3", "a4"].map((account) => attempt(account, slow)));
    expect(most).toBe(4);
    await expect(attempt("alice", () => Promise.reject(new Error("database down")))).rejects.toThrow();
    const ok = await attempt("alice", async () => users.get("alice") ?? null);
    expect(ok.ok).toBe(true);
  });

  it("holds the account lock against a burst of parallel HTTP requests", async () => {
    const { manager, users } = createTestManager({ throttle: { maxAccountFailures: 3 } });
    const served = await serve(withAttemptRoute(createExpressApp(manager, users), users, ["/attempt"], 20));
    try {
      const browser = new Browser(served.url);
      const csrf = await browser.csrf();
      const burst = await Promise.all(
        Array.from({ length: 25 }, () =>
          request(served.url)
            .post("/attempt")
            .set({ cookie: browser.cookieHeader(), "sec-fetch-site": "same-origin" })
            .type("form")
            .send({ account: "alice", password: "wrong", _csrf: csrf }),
        ),
      );
      const statuses = burst.map((response) => response.status);
      expect(statuses.filter((status) => status === 401)).toHaveLength(3);
      expect(statuses.filter((status) => status === 429)).toHaveLength(22);
    } finally {
      await served.close();
    }
  });

  it("locks per account whatever proxy headers say", async () => {
    const { manager, users } = createTestManager({ throttle: { maxAccountFailures: 3 } });
    const served = await serve(withAttemptRoute(createExpressApp(manager, users), users));
    try {
      const browser = new Browser(served.url);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        const spoof = { "x-forwarded-for": `203.0.113.${i}`, "x-real-ip": `198.51.100.${i}` };
        statuses.push(
          (await browser.post("/attempt", { account: "alice", password: "wrong" }, spoof)).status,
        );
      }
      expect(statuses).toEqual([401, 401, 401, 429]);
      expect((await browser.post("/attempt", { account: "alice", password: "right" })).status).toBe(429);
    } finally {
      await served.close();
    }
  });

  it("shares one counter per account across login routes and path spellings (/attempt, /ATTEMPT, /attempt/, /api/v1/session)", async () => {
    const { manager, users } = createTestManager({ throttle: { maxAccountFailures: 4 } });
    const app = withAttemptRoute(createExpressApp(manager, users), users, ["/attempt", "/api/v1/session"]);
    const served = await serve(app);
    try {
      const browser = new Browser(served.url);
      const statuses: number[] = [];
      for (const path of ["/attempt", "/ATTEMPT", "/attempt/", "/api/v1/session", "/Api/V1/Session/"]) {
        statuses.push((await browser.post(path, { account: "alice", password: "wrong" })).status);
      }
      expect(statuses).toEqual([401, 401, 401, 401, 429]);
    } finally {
      await served.close();
    }
  });

  it("the tutorial canonicalises the account (trim, lower case) before attemptLogin, so spelling variants share one lock and buy no guesses", async () => {
    const email = "throttle@example.com";
    const password = "correct horse battery staple";
    await addUser(email, password);
    const served = await serve(createTutorialApp(SECRET).app);
    try {
      const attempt = async (account: string, secret: string) => {
        const agent = request.agent(served.url);
        const page = await agent.get("/login");
        const csrf = /name="_csrf" value="([^"]+)"/.exec(page.text)?.[1] ?? "";
        return (
          await agent
            .post("/login")
            .set("sec-fetch-site", "same-origin")
            .type("form")
            .send({ email: account, password: secret, _csrf: csrf })
        ).status;
      };
      // The fifth wrong guess locks the account, and the tutorial says so at once (429).
      for (let i = 0; i < 5; i++) expect(await attempt(email, `wrong guess ${i}`)).toBe(i < 4 ? 401 : 429);
      expect(await attempt(email, password)).toBe(429);
      for (const variant of ["Throttle@example.com", "THROTTLE@EXAMPLE.COM", ` ${email}`, `${email} `]) {
        expect(await attempt(variant, password)).toBe(429);
      }
    } finally {
      await served.close();
    }
  });
});

describe.each(FRAMEWORKS)(
  "the reference app on %s canonicalises the account before attemptLogin [better-auth case/path variants] [checklist C.21, M.78]",
  (framework) => {
    it("spreads guesses over case, width and space variants of one username: they share one lock", async () => {
      const app = await startTestApp({ framework });
      try {
        await new TestBrowser(app.baseUrl).submit("/register", "/register", {
          username: "canon",
          email: "canon@example.com",
          password: APP_PASSWORD,
        });
        const browser = new TestBrowser(app.baseUrl);
        await browser.get("/login");
        const variants = ["Canon", "CANON", "ｃａｎｏｎ", " canon", "canon\t"];
        const statuses: number[] = [];
        for (const [index, username] of variants.entries()) {
          statuses.push(
            (await browser.post("/login", { username, password: `wrong-guess-${index}` })).status,
          );
        }
        // The fifth wrong guess locks the one account all five variants name, and says so (429).
        expect(statuses).toEqual([401, 401, 401, 401, 429]);
        for (const username of ["canon", "Canon", "ＣＡＮＯＮ"]) {
          expect((await browser.post("/login", { username, password: APP_PASSWORD })).status).toBe(429);
        }
      } finally {
        await app.close();
      }
    });

    it("lets every variant log in to the same account once unlocked (lookup and throttle use the same key)", async () => {
      const app = await startTestApp({ framework });
      try {
        await new TestBrowser(app.baseUrl).submit("/register", "/register", {
          username: "twin",
          email: "twin@example.com",
          password: APP_PASSWORD,
        });
        for (const username of ["twin", "TWIN", "ｔｗｉｎ", " Twin "]) {
          const browser = new TestBrowser(app.baseUrl);
          expect((await browser.login(username)).status).toBe(303);
        }
      } finally {
        await app.close();
      }
    });

    it("refuses every open-redirect payload in its login form's next field [flask-login #211/#737] [Flask-Security CVE-2021-32618] [A5 3.7.2]", async () => {
      const app = await startTestApp({ framework });
      try {
        const owner = new TestBrowser(app.baseUrl);
        await owner.submit("/register", "/register", {
          username: "redirected",
          email: "redirected@example.com",
          password: APP_PASSWORD,
        });
        for (const next of HOSTILE) {
          const browser = new TestBrowser(app.baseUrl);
          const response = await browser.submit("/login", "/login", {
            username: "redirected",
            password: APP_PASSWORD,
            next,
          });
          expect(response.status).toBe(303);
          expect(response.headers.location).toBe("/");
        }
      } finally {
        await app.close();
      }
    }, 60_000);
  },
);
