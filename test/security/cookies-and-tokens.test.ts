// Session tokens and cookies: entropy, opacity, where the token may travel (only Set-Cookie/Cookie),
// cookie sizes, storage at rest, and what the manager's events expose to loggers.
import { createHash } from "node:crypto";
import { inspect } from "node:util";
import type { RequestView } from "login-manager";
import { StoreError } from "login-manager";
import type { ResponseView } from "login-manager/adapter";
import { freshLoginRequired, loginRequired } from "login-manager/express";
import type { SessionRecord } from "login-manager/store";
import { MemoryStore } from "login-manager/stores/memory";
import { fakeRequest } from "login-manager/testing";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FRAMEWORKS, startTestApp, TestBrowser } from "../../examples/app/test/helpers.js";
import type { Served } from "./support.js";
import {
  ALL_EVENTS,
  Browser,
  createExpressApp,
  createTestManager,
  serve,
  setCookies,
  TestUser,
} from "./support.js";

const TOKEN = /^[A-Za-z0-9_-]{22}$/;

function view(): RequestView {
  return fakeRequest({ remoteAddress: "192.0.2.1" });
}

/** A ResponseView that records the cookies set, by name (last value wins, as adapters do). */
function recorder(): ResponseView & { cookies: Map<string, string> } {
  const cookies = new Map<string, string>();
  return {
    cookies,
    setCookie: (name, serialized) => {
      cookies.set(name, serialized.slice(name.length + 1, serialized.indexOf(";")));
    },
    setHeader: () => undefined,
  };
}

function halves(value: string): [string, string] {
  const [id = "", secret = ""] = value.split(".");
  return [id, secret];
}

describe("session token generation [A5 7.2.3, 11.5.1] [checklist E.31-E.32]", () => {
  const COUNT = 10_000;
  const USER_ID = "uid-7f3a9c-alice@example.com";
  const sessionCookies: string[] = [];
  const rememberCookies: string[] = [];
  let store: MemoryStore;

  beforeAll(async () => {
    const users = new Map([[USER_ID, new TestUser(USER_ID)]]);
    const fixture = createTestManager({ userLoader: (id) => users.get(id) ?? null });
    store = fixture.store;
    const user = users.get(USER_ID) as TestUser;
    for (let i = 0; i < COUNT; i++) {
      const response = recorder();
      const auth = await fixture.manager.authenticate(view(), response);
      await auth.loginUser(user, { remember: i % 10 === 0 });
      sessionCookies.push(response.cookies.get("session") as string);
      if (i % 10 === 0) rememberCookies.push(response.cookies.get("remember_token") as string);
    }
  });

  it("issues 10,000 distinct session ids and secrets, each 128 random bits (16 bytes, base64url)", () => {
    const parts = sessionCookies.flatMap(halves);
    for (const part of parts) {
      expect(part).toMatch(TOKEN);
      expect(Buffer.from(part, "base64url")).toHaveLength(16);
    }
    expect(new Set(parts).size).toBe(2 * COUNT);
  });

  it("uses every bit: each of the 128 bit positions is set in 45-55% of 10,000 ids (a CSPRNG, not a counter or timestamp)", () => {
    for (const which of [0, 1] as const) {
      const ones = new Array<number>(128).fill(0);
      for (const cookie of sessionCookies) {
        const bytes = Buffer.from(halves(cookie)[which], "base64url");
        for (let bit = 0; bit < 128; bit++) {
          if ((bytes[bit >> 3] ?? 0) & (0x80 >> (bit & 7))) ones[bit] = (ones[bit] ?? 0) + 1;
        }
      }
      for (const count of ones) {
        expect(count / COUNT).toBeGreaterThan(0.45);
        expect(count / COUNT).toBeLessThan(0.55);
      }
    }
  });

  it("remember-me selectors and validators are 128-bit random tokens too, all distinct", () => {
    const parts = rememberCookies.flatMap(halves);
    for (const part of parts) expect(Buffer.from(part, "base64url")).toHaveLength(16);
    expect(new Set([...parts, ...sessionCookies.flatMap(halves)]).size).toBe(parts.length + 2 * COUNT);
  });

  it("is opaque: neither cookie contains or encodes the user id [CS-Session] [N 5.1.1]", () => {
    for (const cookie of [...sessionCookies.slice(0, 500), ...rememberCookies.slice(0, 100)]) {
      expect(cookie).not.toContain(USER_ID);
      for (const part of halves(cookie)) {
        const decoded = Buffer.from(part, "base64url");
        expect(decoded.toString("latin1")).not.toContain("alice");
        expect(decoded.toString("utf8")).not.toContain("alice");
      }
    }
  });

  it("stores only SHA-256 of the secret half: the store never holds a usable cookie [token disclosure at rest] [A5 11.4.1]", async () => {
    const sha256 = (value: string) => createHash("sha256").update(value).digest("base64url");
    for (const cookie of sessionCookies.slice(-50)) {
      const [id, secret] = halves(cookie);
      const record = await store.getSession(id, Date.now());
      expect(record).not.toBeNull();
      expect(JSON.stringify(record)).not.toContain(secret);
      expect(record?.secretHash).toBe(sha256(secret));
    }
    for (const cookie of rememberCookies.slice(-10)) {
      const [selector, validator] = halves(cookie);
      const token = await store.getRememberToken(selector, Date.now());
      expect(JSON.stringify(token)).not.toContain(validator);
      expect(token?.validatorHash).toBe(sha256(validator));
    }
  });
});

describe("the session id travels only in the Cookie header [A5 14.2.1, 3.3.4] [checklist E.34, F.40]", () => {
  let served: Served;
  let session: string;
  let remember: string;

  beforeAll(async () => {
    const { manager, users } = createTestManager({ views: { loginView: "/login" } });
    const app = createExpressApp(manager, users);
    app.post("/whoami", (req, res) => {
      res.json({ user: req.auth.isAuthenticated ? req.auth.requireUser().getId() : null });
    });
    app.get("/page", (req, res) => {
      res.type("html").send(`<p>${req.auth.isAuthenticated ? req.auth.requireUser().getId() : "guest"}</p>
        <form method="post"><input type="hidden" name="_csrf" value="${req.auth.csrfToken()}"></form>`);
    });
    app.get("/sessions", loginRequired, async (req, res) => {
      res.json(await req.auth.listSessions());
    });
    app.get("/fresh-only", freshLoginRequired, (_req, res) => {
      res.send("fresh");
    });
    served = await serve(app);
    const browser = new Browser(served.url);
    await browser.post("/login-as", { user: "alice", remember: "1" });
    session = browser.jar.get("session") as string;
    remember = browser.jar.get("remember_token") as string;
  });
  afterAll(async () => served.close());

  it.each([
    ["?session=", "/me?session=%s"],
    ["?session_id=", "/me?session_id=%s"],
    ["?remember_token=", "/me?remember_token=%r"],
    [";jsessionid path parameter", "/me;session=%s"],
  ])("ignores a token in the URL (%s)", async (_case, template) => {
    const path = template
      .replace("%s", encodeURIComponent(session))
      .replace("%r", encodeURIComponent(remember));
    const response = await request(served.url).get(path);
    expect(response.status === 404 || response.body.user === null).toBe(true);
  });

  it.each([
    ["Authorization: Bearer", (s: string) => ({ authorization: `Bearer ${s}` })],
    ["X-Session-Id", (s: string) => ({ "x-session-id": s })],
    [
      "a cookie with another case",
      (s: string, r: string) => ({ cookie: `Session=${s}; REMEMBER_TOKEN=${r}` }),
    ],
    ["a cookie under another name", (s: string) => ({ cookie: `session_id=${s}; sid=${s}` })],
  ])("ignores a token in %s", async (_case, headers) => {
    expect((await request(served.url).get("/me").set(headers(session, remember))).body.user).toBeNull();
  });

  it("ignores tokens in a form or JSON body", async () => {
    const browser = new Browser(served.url);
    const form = await browser.post("/whoami", { session, remember_token: remember, sid: session });
    expect(form.body).toEqual({ user: null });
    const csrf = await browser.csrf();
    const json = await request(served.url)
      .post("/whoami")
      .set({ cookie: browser.cookieHeader(), "sec-fetch-site": "same-origin", "x-csrf-token": csrf })
      .send({ session, remember_token: remember });
    expect(json.body).toEqual({ user: null });
  });

  it("never writes either token into a body or a non-Set-Cookie header (JSON, HTML, redirects, 401, 403, session lists)", async () => {
    const secrets = [session, remember, ...halves(session), ...halves(remember)];
    const cookie = `session=${session}; remember_token=${remember}`;
    const responses = [
      await request(served.url).get("/me").set({ cookie }),
      await request(served.url).get("/page").set({ cookie }),
      await request(served.url).get("/protected").set({ cookie }),
      await request(served.url).get("/sessions").set({ cookie }),
      await request(served.url).get("/csrf").set({ cookie }),
      await request(served.url).get("/protected"),
      await request(served.url).get("/protected").set({ accept: "application/json" }),
      await request(served.url).post("/logout").set({ cookie, accept: "application/json" }),
      await request(served.url).post("/logout").set({ cookie, "sec-fetch-site": "cross-site" }),
    ];
    expect(responses.map((response) => response.status)).toEqual([
      200, 200, 200, 200, 200, 302, 401, 403, 403,
    ]);
    for (const response of responses) {
      const { "set-cookie": _cookies, ...headers } = response.headers as Record<string, unknown>;
      const exposed = `${response.text}\n${JSON.stringify(headers)}`;
      for (const secret of secrets) expect(exposed).not.toContain(secret);
    }
  });

  it("answers authenticated requests with Cache-Control: no-store and Vary: Cookie [A5 14.3.2] [checklist F.41]", async () => {
    const response = await request(served.url)
      .get("/me")
      .set({ cookie: `session=${session}` });
    expect(response.body.user).toBe("alice");
    expect(response.headers["cache-control"]).toBe("no-store");
    expect(String(response.headers.vary)).toMatch(/cookie/i);
  });
});

describe("cookie size [A5 3.3.5] [RFC 6265bis] [checklist F.39]", () => {
  it("keeps every cookie the library sets (name + value) within 4096 bytes, with the longest names over HTTPS", async () => {
    const { manager, users } = createTestManager({
      network: { trustProxyHops: 1 },
      cookies: {
        sessionName: "s".repeat(64),
        rememberName: "r".repeat(64),
        csrfName: "c".repeat(64),
        flashName: "f".repeat(64),
      },
    });
    const served = await serve(createExpressApp(manager, users));
    try {
      const browser = new Browser(served.url, { "x-forwarded-proto": "https" });
      await browser.csrf();
      const login = await browser.post("/login-as", { user: "alice", remember: "1" });
      const cookies = setCookies(login.headers);
      expect(cookies).toHaveLength(3);
      for (const cookie of cookies) {
        expect(cookie.name.startsWith("__Host-")).toBe(true);
        expect(Buffer.byteLength(`${cookie.name}=${cookie.value}`)).toBeLessThanOrEqual(4096);
      }
    } finally {
      await served.close();
    }
  });
});

describe("flash cookie size [finding: 5 flashes of 300 non-ASCII characters made a 4.2-13.5 KB cookie, dropped by browsers] [A5 3.3.5]", () => {
  const WORST_CASES: [string, string][] = [
    ["JSON-escaped control characters", "\u0001"],
    ["two-byte UTF-8", "é"],
    ["three-byte UTF-8", "界"],
    ["astral emoji", "😀"],
    ["quotes and backslashes", '"\\'],
  ];

  it.each(WORST_CASES)(
    "keeps the flash cookie within 4096 bytes for six long messages of %s, newest kept",
    async (_case, unit) => {
      const { manager, users } = createTestManager({
        network: { trustProxyHops: 1 },
        cookies: { flashName: "f".repeat(64) },
      });
      const app = createExpressApp(manager, users);
      app.get("/flash-lots", (req, res) => {
        for (let i = 0; i < 6; i++) req.auth.flash(`${i}${unit.repeat(400)}`, unit.repeat(40));
        res.send("flashed");
      });
      app.get("/flashes", (req, res) => {
        res.json(req.auth.takeFlashes());
      });
      const served = await serve(app);
      try {
        const browser = new Browser(served.url, { "x-forwarded-proto": "https" });
        const flashed = setCookies((await browser.get("/flash-lots")).headers);
        expect(flashed).toHaveLength(1);
        for (const cookie of flashed) {
          expect(Buffer.byteLength(`${cookie.name}=${cookie.value}`)).toBeLessThanOrEqual(4096);
        }
        const shown = (await browser.get("/flashes")).body as { message: string }[];
        expect(shown.length).toBeGreaterThanOrEqual(1);
        expect(shown.at(-1)?.message.startsWith("5")).toBe(true);
      } finally {
        await served.close();
      }
    },
  );
});

describe("event payloads expose no secrets to loggers [A5 16.2.5] [CS-Logging] [checklist N.82]", () => {
  it("no payload of any event, serialised or inspected, contains a session, remember or CSRF value, or a password", async () => {
    const API_KEY = "api-key-0123456789abcdef";
    const PASSWORD = "hunter2-correct-horse-battery";
    const { manager, users } = createTestManager({
      rememberMe: { raceGraceSeconds: 0 },
      throttle: { maxAccountFailures: 2 },
      views: { loginView: "/login" },
      requestLoader: (req) => (req.header("x-api-key") === API_KEY ? (users.get("bob") ?? null) : null),
    });
    const payloads: { event: string; payload: unknown }[] = [];
    for (const event of Object.keys(ALL_EVENTS) as (keyof typeof ALL_EVENTS)[]) {
      manager.on(event, (payload: unknown) => payloads.push({ event, payload }));
    }
    const app = createExpressApp(manager, users);
    app.get("/hello", (req, res) => {
      res.send(`hello ${req.auth.user.getId() ?? "guest"}`);
    });
    app.get("/fresh-only", freshLoginRequired, (_req, res) => {
      res.send("fresh");
    });
    app.post("/reauth", loginRequired, async (req, res) => {
      await req.auth.confirmLogin();
      res.send("confirmed");
    });
    app.post("/password-changed", loginRequired, async (req, res) => {
      res.json({ revoked: await req.auth.afterPasswordChange() });
    });
    app.post("/sign-out-others", loginRequired, async (req, res) => {
      res.json({ revoked: await req.auth.revokeOtherSessions() });
    });
    app.post("/attempt", async (req, res) => {
      const result = await req.auth.attemptLogin({
        account: String((req.body as Record<string, unknown>).account),
        verify: async () => null,
      });
      res.status(result.ok ? 200 : 401).json({ ok: result.ok });
    });
    const served = await serve(app);
    const secrets = new Set<string>([PASSWORD, API_KEY]);
    const remember = (browser: Browser) => {
      for (const value of browser.jar.values()) {
        secrets.add(value);
        for (const part of halves(value)) if (part.length >= 16) secrets.add(part);
      }
    };
    try {
      const alice = new Browser(served.url, { "user-agent": "Browser/1" });
      await alice.post("/login-as", { user: "alice", remember: "1" }); // loggedIn
      remember(alice);
      await alice.get("/hello"); // accessed
      await alice.get("/me", { "user-agent": "Other/2" }); // sessionProtected (basic mode)
      alice.jar.delete("session");
      const stale = alice.clone();
      await alice.get("/me"); // loadedFromCookie (the remember token rotates)
      remember(alice);
      await alice.get("/fresh-only"); // needsRefresh
      await alice.post("/reauth"); // loginConfirmed
      remember(alice);
      await stale.get("/me"); // rememberTheft + sessionsRevoked (theft): the pre-rotation validator
      await alice.post("/login-as", { user: "alice", remember: "1" });
      remember(alice);
      await alice.post("/sign-out-others"); // sessionsRevoked (revoke-others)
      await alice.post("/password-changed"); // sessionsRevoked (password-change)
      remember(alice);
      await new Browser(served.url).get("/protected"); // unauthorized
      await request(served.url).get("/me").set("x-api-key", API_KEY); // loadedFromRequest
      const guesser = new Browser(served.url);
      for (let i = 0; i < 3; i++) await guesser.post("/attempt", { account: "alice", password: PASSWORD }); // loginFailed
      await manager.options.store.createFactor({
        kind: "totp",
        id: "bob",
        userId: "bob",
        label: "",
        data: "sealed",
        counter: 0,
        createdAt: Date.now(),
        lastUsedAt: null,
      });
      const pending = new Browser(served.url);
      await pending.post("/login-as", { user: "bob" }); // secondFactorRequired
      remember(pending);
      await manager.options.store.deleteUserFactors("bob", null);
      const bob = new Browser(served.url);
      await bob.post("/login-as", { user: "bob" });
      remember(bob);
      await bob.post("/logout"); // loggedOut
      remember(bob);
      await request(served.url)
        .post("/logout")
        .set("cookie", `csrf=${"c".repeat(22)}`)
        .set("x-csrf-token", "forged"); // csrfFailed
      await manager.revokeUserSessions("alice"); // sessionsRevoked (admin)
      await manager.revokeAllSessions(); // allSessionsRevoked
      for (const browser of [alice, stale, guesser, bob, pending])
        for (const token of browser.csrfTokens) secrets.add(token);
    } finally {
      await served.close();
    }

    expect([...new Set(payloads.map((entry) => entry.event))].sort()).toEqual(Object.keys(ALL_EVENTS).sort());
    expect(secrets.size).toBeGreaterThan(10);
    for (const { event, payload } of payloads) {
      const text = `${JSON.stringify(payload)}\n${inspect(payload, { depth: 10, getters: true, showHidden: true })}`;
      for (const secret of secrets) {
        expect(text.includes(secret), `${event} payload contains a secret`).toBe(false);
      }
    }
  });
});

/** A store whose server cannot be reached; the driver error names an internal host. */
class UnreachableStore extends MemoryStore {
  override async getSession(): Promise<SessionRecord | null> {
    throw new StoreError("connect ECONNREFUSED 10.20.30.40:6379 (redis-internal.corp)", {
      unavailable: true,
    });
  }
}

const INTERNALS = [
  /\n\s+at\s/,
  /node_modules/,
  /\.[cm]?[jt]s:\d+/,
  /ECONNREFUSED/,
  /10\.20\.30\.40/,
  /TypeError|SyntaxError/,
];

describe("error answers are generic [A5 16.5.1] [checklist M.80]", () => {
  it("the library's own 401, 403 and 503 answers name no internals, whatever the client asks", async () => {
    const { manager, users } = createTestManager();
    const served = await serve(createExpressApp(manager, users));
    const down = createTestManager({ store: new UnreachableStore() });
    const servedDown = await serve(createExpressApp(down.manager, down.users));
    try {
      const cookie = "session=AAAAAAAAAAAAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB";
      const answers = [
        await request(served.url).get("/protected").set("accept", "application/json"),
        await request(served.url).post("/logout").set("accept", "application/json"),
        await request(served.url).post("/logout").set("sec-fetch-site", "cross-site"),
        await request(servedDown.url).get("/me").set("cookie", cookie),
        await request(servedDown.url).get("/me").set({ cookie, accept: "application/json" }),
      ];
      expect(answers.map((answer) => answer.status)).toEqual([401, 403, 403, 503, 503]);
      for (const answer of answers) for (const pattern of INTERNALS) expect(answer.text).not.toMatch(pattern);
    } finally {
      await served.close();
      await servedDown.close();
    }
  });

  it.each(FRAMEWORKS)(
    "the reference app on %s answers malformed input with its own pages, without stack traces or tokens",
    async (framework) => {
      const app = await startTestApp({ framework });
      try {
        const browser = new TestBrowser(app.baseUrl);
        await browser.get("/login");
        const session = browser.cookieHeader();
        const answers = [
          await browser.post("/login", { username: "x".repeat(20_000), password: "y" }),
          await browser.get("/%E0%A4%A"),
          await browser.get("/no/such/page"),
          await browser.post(
            "/login",
            { username: "alice", password: "pw" },
            { "content-type": "application/json" },
          ),
          await browser.post("/login", { _csrf: "forged" }),
        ];
        for (const answer of answers) {
          expect(answer.status).toBeGreaterThanOrEqual(400);
          expect(answer.status).toBeLessThan(500);
          for (const pattern of INTERNALS) expect(answer.text).not.toMatch(pattern);
          for (const pair of session.split("; ")) {
            const value = pair.slice(pair.indexOf("=") + 1);
            if (value.length >= 16) expect(answer.text).not.toContain(value);
          }
        }
      } finally {
        await app.close();
      }
    },
  );
});
