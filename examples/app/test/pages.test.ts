import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { UserRepository } from "../src/domain/users.js";
import { ROUTES } from "../src/web/routes.js";
import {
  emailFor,
  FRAMEWORKS,
  flashes,
  PASSWORD,
  startTestApp,
  type TestApp,
  TestBrowser,
} from "./helpers.js";

describe.each(FRAMEWORKS)("%s", (framework) => {
  let app: TestApp;
  let alice: TestBrowser;

  beforeAll(async () => {
    app = await startTestApp({ framework });
    alice = new TestBrowser(app.baseUrl);
    await alice.registerAndLogin("alice");
  });
  afterAll(async () => {
    await app.close();
  });

  describe("GET /", () => {
    it("greets a visitor and links to register and log in", async () => {
      const response = await new TestBrowser(app.baseUrl).get("/");
      expect(response.status).toBe(200);
      expect(response.text).toContain("Hello, stranger!");
      expect(response.text).toContain('href="/register"');
      expect(response.text).toContain('href="/login"');
    });

    it("greets the logged-in user with a nav bar logout button", async () => {
      const response = await alice.get("/");
      expect(response.text).toContain("Hello, alice!");
      expect(response.text).toMatch(
        /<form method="post" action="\/logout"[^>]*>\s*<input type="hidden" name="_csrf"/,
      );
      expect(response.text).toContain('href="/account"');
    });
  });

  describe("GET /protected", () => {
    it("redirects anonymous browsers to the login page with next", async () => {
      const response = await new TestBrowser(app.baseUrl).get("/protected");
      expect(response.status).toBe(302);
      expect(response.headers.location).toBe("/login?next=%2Fprotected");
    });

    it("flashes why on the login page", async () => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.get("/protected");
      expect(flashes((await browser.get("/login?next=%2Fprotected")).text)).toEqual([
        "Please log in to see that page.",
      ]);
    });

    it("answers JSON clients with 401 JSON", async () => {
      const response = await new TestBrowser(app.baseUrl).get("/protected", { accept: "application/json" });
      expect(response.status).toBe(401);
      expect(response.body).toMatchObject({ error: "unauthorized" });
    });

    it("shows the protected page and the user's name, never cached", async () => {
      const response = await alice.get("/protected");
      expect(response.status).toBe(200);
      expect(response.text).toContain("Protected Route");
      expect(response.text).toContain('Logged in as <strong class="username">alice</strong>');
      expect(response.headers["cache-control"]).toBe("no-store");
    });

    it("escapes a stored username containing markup", async () => {
      const user = await app.services.users.create({
        username: "<script>alert(1)</script>",
        key: "legacy-markup",
        email: "legacy-markup@example.com",
        emailKey: "legacy-markup@example.com",
        passwordHash: await app.services.hasher.hash("legacy password 1"),
      });
      const browser = new TestBrowser(app.baseUrl);
      expect((await browser.login("legacy-markup", "legacy password 1")).status).toBe(303);
      const page = await browser.get("/protected");
      expect(page.text).not.toContain("<script>alert(1)</script>");
      expect(page.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
      expect(user.username).toContain("<script>");
    });
  });

  describe("logout", () => {
    it('answers POST /logout with Clear-Site-Data: "cache", "cookies", "storage" [A5 14.3.1]', async () => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.registerAndLogin("sitedata", undefined, true);
      await browser.get("/");
      const response = await browser.post("/logout");
      expect(response.status).toBe(303);
      const directives = String(response.headers["clear-site-data"])
        .split(",")
        .map((directive) => directive.trim());
      expect(directives.sort()).toEqual(['"cache"', '"cookies"', '"storage"']);
      // The browser drops cookies set alongside it, so no flash message rides along (it would be
      // lost); login-manager's rotated CSRF cookie is dropped too and the next page sets a new one.
      const set = (response.headers["set-cookie"] as unknown as string[] | undefined) ?? [];
      expect(set.filter((cookie) => !/Max-Age=0/i.test(cookie) && !/^csrf=/.test(cookie))).toEqual([]);
      // Only the logout response clears site data: not the pages, not a refused logout.
      expect((await browser.get("/logout")).headers["clear-site-data"]).toBeUndefined();
      expect((await alice.get("/")).headers["clear-site-data"]).toBeUndefined();
      expect((await alice.post("/logout", { _csrf: "" })).headers["clear-site-data"]).toBeUndefined();
      expect((await alice.get("/protected")).status).toBe(200);
    });

    it("GET /logout only shows a button and never logs out", async () => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.registerAndLogin("getlogout");
      const page = await browser.get("/logout");
      expect(page.status).toBe(200);
      expect(page.text).toMatch(/<form method="post" action="\/logout"/);
      expect((await browser.get("/protected")).status).toBe(200);
    });

    it("POST /logout ends the session on the server, clears cookies and redirects to the logged-out page", async () => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.registerAndLogin("leaver", undefined, true);
      const stolen = browser.cookieHeader();
      await browser.get("/");
      const response = await browser.post("/logout");
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe("/logout");
      const cleared = (response.headers["set-cookie"] as unknown as string[]).join("\n");
      expect(cleared).toMatch(/^session=; .*Max-Age=0/m);
      expect(cleared).toMatch(/^remember_token=; .*Max-Age=0/m);
      expect(browser.cookies.has("session")).toBe(false);
      const landing = await browser.get("/logout");
      expect(landing.text).toContain("You're logged out");
      expect(flashes(landing.text)).toEqual([]);
      // The old cookies are dead on the server too.
      const replay = await request(app.baseUrl).get("/protected").set("cookie", stolen);
      expect(replay.status).toBe(302);
    });

    it("shows the nav bar logout button on every page a logged-in user can open [A5 7.4.4]", async () => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.registerAndLogin("everypage");
      // The revoke routes' way back from /reauth is the one GET with a parameter: visit it with a handle.
      const visitable = (path: string) => path.replace(":handle", "A".repeat(22));
      const pages = [
        ...ROUTES.filter((route) => route.method === "GET").map((route) => visitable(route.path)),
        "/nope",
      ];
      expect(pages.some((path) => path.includes(":"))).toBe(false);
      const shown: string[] = [];
      for (const path of pages) {
        const response = await browser.get(path);
        if (response.status >= 300 && response.status < 400) {
          // Not a page: a redirect to another page of the site, checked on its own.
          expect(String(response.headers.location)).toMatch(/^\/[^/\\]/);
          continue;
        }
        expect(response.headers["content-type"]).toMatch(/^text\/html/);
        const nav = /<div class="nav-user">([\s\S]*?)<\/div>/.exec(response.text)?.[1] ?? "";
        expect({ path, nav }).toEqual({
          path,
          nav: expect.stringMatching(
            /<form method="post" action="\/logout"[^>]*>\s*<input type="hidden" name="_csrf" value="[\w-]{20,}">\s*<button type="submit"[^>]*>Log out<\/button>/,
          ),
        });
        shown.push(path);
      }
      const guarded = ROUTES.filter((route) => route.method === "GET" && route.guard !== "none");
      expect(shown).toEqual(
        expect.arrayContaining(["/", "/protected", "/account", "/reauth", "/logout", "/nope"]),
      );
      expect(guarded.filter((route) => shown.includes(route.path)).length).toBeGreaterThanOrEqual(3);
    });

    it("shows a logged-out page on GET /logout for visitors", async () => {
      const page = await new TestBrowser(app.baseUrl).get("/logout");
      expect(page.text).toContain("You're logged out");
    });
  });

  describe("CSRF", () => {
    it("refuses a POST without a token with a friendly 403 page", async () => {
      const response = await alice.post("/logout", { _csrf: "" });
      expect(response.status).toBe(403);
      expect(response.headers["content-type"]).toMatch(/^text\/html/);
      expect(response.text).toContain("Form expired");
      // Which check failed, as login-manager's text says it.
      expect(response.text).toContain("<p>The request has no CSRF token. Send the token");
      expect((await alice.get("/protected")).status).toBe(200);
    });

    it("refuses a wrong token", async () => {
      const response = await alice.post("/logout", { _csrf: "forged-token-value" });
      expect(response.status).toBe(403);
      expect(response.text).toContain("The CSRF token does not match the one this browser was given");
      expect(response.text).not.toContain("forged-token-value");
    });

    it("refuses a cross-site post even with a valid token", async () => {
      await alice.get("/");
      const crossSite = await alice.post(
        "/logout",
        {},
        { "sec-fetch-site": "cross-site", origin: "https://evil.example" },
      );
      expect(crossSite.status).toBe(403);
      expect(crossSite.text).toContain("The browser says the request was sent by another site");
      const wrongOrigin = await alice.post(
        "/logout",
        {},
        { "sec-fetch-site": "", origin: "https://evil.example" },
      );
      expect(wrongOrigin.status).toBe(403);
      expect(wrongOrigin.text).toContain("Origin header names another site");
      expect(wrongOrigin.text).not.toContain("evil.example");
      const noOrigin = await alice.post("/logout", {}, { "sec-fetch-site": "" });
      expect(noOrigin.status).toBe(403);
      expect(noOrigin.text).toContain("The request has neither an Origin nor a Sec-Fetch-Site header");
      expect((await alice.get("/protected")).status).toBe(200);
    });

    it("accepts a matching Origin header instead of Sec-Fetch-Site", async () => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.get("/register");
      const response = await browser.post(
        "/register",
        { username: "originuser", email: emailFor("originuser"), password: "correct horse battery staple" },
        { "sec-fetch-site": "", origin: app.baseUrl },
      );
      expect(response.status).toBe(303);
    });

    it("answers JSON clients with the library's JSON 403", async () => {
      const response = await alice.post("/logout", { _csrf: "" }, { accept: "application/json" });
      expect(response.status).toBe(403);
      expect(response.body).toMatchObject({ error: "csrf_failed" });
    });
  });

  describe("bad requests", () => {
    it("answers 413 to a body over the limit", async () => {
      const response = await alice.post("/login", { username: "x".repeat(20_000), password: "y" });
      expect(response.status).toBe(413);
      expect(response.text).toContain("Too much data");
      expect(response.text).not.toMatch(/at \w+ \(/);
    });

    it("answers 400 to malformed JSON", async () => {
      const response = await request(app.baseUrl)
        .post("/login")
        .set("content-type", "application/json")
        .set("sec-fetch-site", "same-origin")
        .send('{"username": ');
      expect(response.status).toBe(400);
      expect(response.text).not.toContain("SyntaxError");
    });

    it("answers 415 to an unsupported charset", async () => {
      const response = await request(app.baseUrl)
        .post("/login")
        .set("content-type", "application/x-www-form-urlencoded; charset=klingon")
        .set("sec-fetch-site", "same-origin")
        .send("username=a&password=b");
      expect(response.status).toBe(415);
    });

    it("answers 400 to a malformed percent-encoding in the path", async () => {
      const response = await request(app.baseUrl)
        .post("/account/sessions/%E0%A4%A/revoke")
        .set("cookie", alice.cookieHeader());
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    });

    it("treats malformed cookies as anonymous", async () => {
      const response = await request(app.baseUrl)
        .get("/")
        .set("cookie", 'session=%%%; remember_token="unterminated; csrf=; flash=@@@; =novalue; junk');
      expect(response.status).toBe(200);
      expect(response.text).toContain("Hello, stranger!");
    });

    it("ignores repeated fields instead of failing", async () => {
      await alice.get("/");
      const response = await request(app.baseUrl)
        .post("/login")
        .set("cookie", alice.cookieHeader())
        .set("sec-fetch-site", "same-origin")
        .type("form")
        .send(`_csrf=${alice.csrf}&username=a&username=b&password=x`);
      expect(response.status).toBe(400);
    });

    it("shows a 404 page for unknown paths", async () => {
      const response = await new TestBrowser(app.baseUrl).get("/nope");
      expect(response.status).toBe(404);
      expect(response.text).toContain("Page not found");
    });
  });

  describe("last-resort error handler", () => {
    it("answers an unexpected exception in a handler with the generic 500 page, logs it once and keeps serving [A5 16.5.4]", async () => {
      const detail = "users table exploded near row 42";
      // The handlers' user repository throws a plain Error for one username; the login manager's
      // own user loader keeps the real one.
      const failing = await startTestApp({
        framework,
        deps: ({ users }) => ({
          users: {
            ...bound(users),
            findByKey: async (key) => {
              if (key === "kaboom") throw new Error(detail);
              return users.findByKey(key);
            },
          },
        }),
      });
      try {
        const errors = () =>
          failing.logEntries().filter((entry) => entry.level === "error" || entry.level === "fatal");
        const browser = new TestBrowser(failing.baseUrl);
        const response = await browser.submit("/register", "/register", {
          username: "kaboom",
          email: emailFor("kaboom"),
          password: PASSWORD,
        });
        expect(response.status).toBe(500);
        expect(response.headers["content-type"]).toMatch(/^text\/html/);
        expect(response.headers["cache-control"]).toBe("no-store");
        expect(response.text).toContain("Something went wrong");
        expect(response.text).not.toContain(detail);
        expect(response.text).not.toMatch(/\bat .*\(|Error:|\.ts:\d+|node_modules/);
        expect(errors()).toHaveLength(1);
        expect(errors()[0]).toMatchObject({ kind: "error", msg: "request failed", path: "/register" });
        expect(JSON.stringify(errors()[0])).toContain(detail);

        // The process keeps serving, the same handler included.
        expect((await browser.get("/")).status).toBe(200);
        const other = await browser.submit("/register", "/register", {
          username: "calm",
          email: emailFor("calm"),
          password: PASSWORD,
        });
        expect(other.status).toBe(303);
        expect((await browser.login("calm")).status).toBe(303);
        expect((await browser.get("/protected")).status).toBe(200);
        expect(errors()).toHaveLength(1);
      } finally {
        await failing.close();
      }
    });
  });

  describe("headers", () => {
    it("sends a strict CSP and other security headers, without HSTS over plain HTTP", async () => {
      const response = await new TestBrowser(app.baseUrl).get("/login");
      const csp = String(response.headers["content-security-policy"]);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain("unsafe-inline");
      expect(response.headers["referrer-policy"]).toBe("same-origin");
      expect(response.headers["x-content-type-options"]).toBe("nosniff");
      expect(response.headers["strict-transport-security"]).toBeUndefined();
      // Scripts only from the site's own files (the passkey script), never inline code or handlers.
      const scripts = [...response.text.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/g)];
      expect(scripts.length).toBe(response.text.match(/<script\b/g)?.length ?? 0);
      for (const [, attributes, body] of scripts) {
        expect(attributes).toMatch(/^ type="module" src="\/static\/[\w-]+\.js"$/);
        expect(body).toBe("");
      }
      expect(response.text).not.toMatch(/<style| style=| on[a-z]+=/);
    });

    it("sends a CSP with object-src 'none' and a base-uri [A5 3.4.3]", async () => {
      for (const path of ["/login", "/nope"]) {
        const response = await new TestBrowser(app.baseUrl).get(path);
        const directives = cspDirectives(String(response.headers["content-security-policy"]));
        expect(directives.get("object-src")).toEqual(["'none'"]);
        expect(directives.get("base-uri")).toEqual(["'none'"]);
      }
    });

    it("serves the stylesheet locally", async () => {
      const response = await request(app.baseUrl).get("/static/style.css");
      expect(response.status).toBe(200);
      expect(response.headers["content-type"]).toMatch(/^text\/css/);
      expect(response.headers["set-cookie"]).toBeUndefined();
    });

    it("does not cache pages that carry CSRF tokens", async () => {
      expect((await new TestBrowser(app.baseUrl).get("/login")).headers["cache-control"]).toBe("no-store");
      expect((await alice.get("/account")).headers["cache-control"]).toBe("no-store");
    });
  });

  describe("behind a proxy (TRUST_PROXY=1)", () => {
    it("sends HSTS only when the proxy says the request was HTTPS, and uses __Host- cookies", async () => {
      const proxied = await startTestApp({ framework, env: { TRUST_PROXY: "1" } });
      try {
        const https = await request(proxied.baseUrl).get("/login").set("x-forwarded-proto", "https");
        expect(https.headers["strict-transport-security"]).toMatch(/max-age=\d+/);
        expect(String(https.headers["set-cookie"])).toMatch(/__Host-csrf=.*; Secure/);
        const http = await request(proxied.baseUrl).get("/login").set("x-forwarded-proto", "http");
        expect(http.headers["strict-transport-security"]).toBeUndefined();
      } finally {
        await proxied.close();
      }
    });
  });

  describe("HSTS over HTTPS", () => {
    it("lasts at least a year and covers subdomains [A5 3.4.1]", async () => {
      const proxied = await startTestApp({ framework, env: { TRUST_PROXY: "1" } });
      try {
        for (const path of ["/", "/login", "/nope", "/static/style.css", "/healthz"]) {
          const https = await request(proxied.baseUrl).get(path).set("x-forwarded-proto", "https");
          const directives = String(https.headers["strict-transport-security"])
            .split(";")
            .map((directive) => directive.trim().toLowerCase());
          const maxAge = directives.find((directive) => directive.startsWith("max-age="));
          expect(Number(maxAge?.slice("max-age=".length))).toBeGreaterThanOrEqual(31_536_000);
          expect(directives).toContain("includesubdomains");
        }
      } finally {
        await proxied.close();
      }
    });
  });

  describe("GET /healthz", () => {
    it("answers ok without cookies", async () => {
      const response = await request(app.baseUrl).get("/healthz");
      expect(response.status).toBe(200);
      expect(response.text).toBe("ok");
      expect(response.headers["set-cookie"]).toBeUndefined();
    });

    it("works while the session store is failing", async () => {
      const broken = new Proxy(
        {},
        {
          get: () => () => Promise.reject(new Error("store is down")),
        },
      );
      const failing = await startTestApp({ framework, overrides: { manager: { store: broken as never } } });
      try {
        const cookie = `session=${"a".repeat(22)}.${"b".repeat(22)}`;
        const health = await request(failing.baseUrl).get("/healthz").set("cookie", cookie);
        expect(health.status).toBe(200);
        expect(health.text).toBe("ok");
        const page = await request(failing.baseUrl).get("/").set("cookie", cookie);
        expect(page.status).toBe(500);
        expect(page.text).toContain("Something went wrong");
        expect(page.text).not.toContain("store is down");
      } finally {
        await failing.close();
      }
    });
  });
});

/** A Content-Security-Policy header as directive name to its values. */
function cspDirectives(header: string): Map<string, string[]> {
  const directives = new Map<string, string[]>();
  for (const part of header.split(";")) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) directives.set(name.toLowerCase(), values);
  }
  return directives;
}

/** The repository's methods bound to it, so they can be spread into a replacement. */
function bound(users: UserRepository): UserRepository {
  return {
    findById: (id) => users.findById(id),
    findByKey: (key) => users.findByKey(key),
    findByEmail: (key) => users.findByEmail(key),
    create: (input) => users.create(input),
    updatePasswordHash: (id, hash) => users.updatePasswordHash(id, hash),
    setVerifiedEmail: (id, email) => users.setVerifiedEmail(id, email),
    setActive: (id, active) => users.setActive(id, active),
  };
}
