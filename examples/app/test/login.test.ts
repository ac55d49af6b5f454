import { createPasswordHasher, type HashWorkKind } from "login-manager/password";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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
  const work: HashWorkKind[] = [];
  let app: TestApp;

  beforeAll(async () => {
    app = await startTestApp({
      framework,
      overrides: { hasher: createPasswordHasher({ onHashWork: (kind) => work.push(kind) }) },
    });
    await new TestBrowser(app.baseUrl).submit("/register", "/register", {
      username: "alice",
      email: emailFor("alice"),
      password: PASSWORD,
    });
    await new TestBrowser(app.baseUrl).submit("/register", "/register", {
      username: "dormant",
      email: emailFor("dormant"),
      password: PASSWORD,
    });
    const dormant = await app.services.users.findByKey("dormant");
    await app.services.users.setActive(dormant?.id ?? 0, false);
  });
  afterAll(async () => {
    await app.close();
  });

  describe("a fresh app", () => {
    it("has no user at all and refuses admin/admin, root/root and other default logins with the generic 401 [A5 6.3.2]", async () => {
      const fresh = await startTestApp({ framework });
      try {
        const count = fresh.services.db?.prepare("SELECT count(*) AS n FROM users").get() as { n: number };
        expect(count.n).toBe(0);
        const defaults: Array<[string, string]> = [
          ["admin", "admin"],
          ["admin", "password"],
          ["root", "root"],
          ["test", "test"],
          ["user", "user"],
          ["administrator", "administrator"],
          ["guest", "guest"],
        ];
        for (const [username, password] of defaults) {
          expect(await fresh.services.users.findByKey(username)).toBeNull();
          const browser = new TestBrowser(fresh.baseUrl);
          const response = await browser.login(username, password);
          expect(response.status).toBe(401);
          expect(response.text).toContain("Invalid username or password.");
          expect(response.headers["set-cookie"]).toBeUndefined();
          expect((await browser.get("/protected")).status).toBe(302);
        }
      } finally {
        await fresh.close();
      }
    });
  });

  describe("GET /login", () => {
    it("shows the form with autocomplete hints, a remember-me checkbox and the safe next value", async () => {
      const response = await new TestBrowser(app.baseUrl).get("/login?next=%2Fprotected");
      expect(response.status).toBe(200);
      // "webauthn": the browser may offer the site's passkeys in the username field's autofill.
      expect(response.text).toContain('autocomplete="username webauthn"');
      expect(response.text).toContain('autocomplete="current-password"');
      expect(response.text).toMatch(/<input id="remember" name="remember" type="checkbox"/);
      expect(response.text).toContain('<label for="remember">');
      expect(response.text).toContain('name="next" value="/protected"');
    });

    it("drops an unsafe next value", async () => {
      const response = await new TestBrowser(app.baseUrl).get("/login?next=%2F%2Fevil.example");
      expect(response.text).toContain('name="next" value=""');
    });
  });

  describe("POST /login", () => {
    it("logs in, rotates the session cookie and redirects home with a flash message", async () => {
      const browser = new TestBrowser(app.baseUrl);
      const response = await browser.login("alice");
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe("/");
      expect(browser.cookies.has("session")).toBe(true);
      expect(browser.cookies.has("remember_token")).toBe(false);
      const home = await browser.get("/");
      expect(home.text).toContain("Hello, alice!");
      expect(flashes(home.text)).toEqual(["Logged in successfully."]);
    });

    it("accepts the username in another case or width", async () => {
      expect((await new TestBrowser(app.baseUrl).login("ALICE")).status).toBe(303);
      expect((await new TestBrowser(app.baseUrl).login("ａｌｉｃｅ")).status).toBe(303);
    });

    it("sets a persistent remember-me cookie only when asked", async () => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.login("alice", PASSWORD, true);
      expect(browser.cookies.get("remember_token")?.persistent).toBe(true);
      expect(browser.cookies.get("session")?.persistent).toBe(false);
    });

    it.each(["/protected", "/account?tab=sessions", "/view/?param=http://x"])(
      "redirects to the safe next value %j",
      async (next) => {
        const browser = new TestBrowser(app.baseUrl);
        await browser.get("/login");
        const response = await browser.post("/login", { username: "alice", password: PASSWORD, next });
        expect(response.status).toBe(303);
        expect(response.headers.location).toBe(next);
      },
    );

    it.each([
      "//evil.example",
      "https://evil.example/",
      "/\\evil.example",
      "javascript:alert(1)",
      "/\t/evil.example",
      "http:/evil.example",
    ])("ignores the unsafe next value %j and goes home", async (next) => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.get("/login");
      const response = await browser.post("/login", { username: "alice", password: PASSWORD, next });
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe("/");
    });

    it("answers unknown user, wrong password and inactive account identically, with the same hashing work", async () => {
      const attempts: Array<[string, string]> = [
        ["nobody", PASSWORD],
        ["alice", "wrong password here"],
        ["dormant", PASSWORD],
      ];
      const bodies: string[] = [];
      for (const [username, password] of attempts) {
        const browser = new TestBrowser(app.baseUrl);
        await browser.get("/login");
        work.length = 0;
        const response = await browser.post("/login", { username, password });
        expect(response.status).toBe(401);
        expect(work).toEqual(["verify"]);
        expect(response.headers["set-cookie"]).toBeUndefined();
        bodies.push(
          response.text.replaceAll(username, "USERNAME").replace(/value="[\w-]{20,}"/g, 'value="TOKEN"'),
        );
      }
      expect(bodies[0]).toContain("Invalid username or password.");
      expect(bodies[1]).toBe(bodies[0]);
      expect(bodies[2]).toBe(bodies[0]);
    });

    it("asks for both fields with 400 when one is empty", async () => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.get("/login");
      const response = await browser.post("/login", { username: "alice", password: "" });
      expect(response.status).toBe(400);
      expect(response.text).toContain("Enter your username and password.");
    });

    it("treats an over-long password as a wrong one", async () => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.get("/login");
      const response = await browser.post("/login", { username: "alice", password: "x".repeat(2000) });
      expect(response.status).toBe(401);
    });

    it("escapes the typed username when showing the form again", async () => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.get("/login");
      const response = await browser.post("/login", {
        username: "<script>alert(1)</script>",
        password: "whatever1",
      });
      expect(response.status).toBe(401);
      expect(response.text).not.toContain("<script>alert(1)");
      expect(response.text).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    });

    it("locks the account on the fifth failure with 429 and Retry-After, then refuses even the right password", async () => {
      await new TestBrowser(app.baseUrl).submit("/register", "/register", {
        username: "target",
        email: emailFor("target"),
        password: PASSWORD,
      });
      const browser = new TestBrowser(app.baseUrl);
      await browser.get("/login");
      for (let i = 0; i < 4; i += 1) {
        expect(
          (await browser.post("/login", { username: "target", password: `wrong-${i}-password` })).status,
        ).toBe(401);
      }
      const fifth = await browser.post("/login", { username: "target", password: "wrong-4-password" });
      expect(fifth.status).toBe(429);
      expect(fifth.headers["retry-after"]).toBe("30");
      expect(fifth.text).toContain("Too many failed attempts. Please wait 30 seconds and try again.");
      const locked = await browser.post("/login", { username: "Target", password: PASSWORD });
      expect(locked.status).toBe(429);
      expect(Number(locked.headers["retry-after"])).toBeGreaterThan(0);
      expect(locked.text).toContain("Too many failed attempts");
      expect(locked.text).toContain('value="Target"');
      const entries = app.logEntries().filter((line) => line.event === "login.locked");
      expect(entries.length).toBeGreaterThan(0);
      expect(entries.at(-1)).toMatchObject({ outcome: "blocked", username: "target" });
    });

    it("locks unknown accounts the same way", async () => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.get("/login");
      for (let i = 0; i < 4; i += 1)
        await browser.post("/login", { username: "ghost", password: `wrong-${i}-password` });
      expect((await browser.post("/login", { username: "ghost", password: "wrong-4-password" })).status).toBe(
        429,
      );
      const locked = await browser.post("/login", { username: "ghost", password: PASSWORD });
      expect(locked.status).toBe(429);
      expect(locked.headers["retry-after"]).toMatch(/^\d+$/);
    });

    it("re-hashes a password stored with older parameters on login", async () => {
      const old = createPasswordHasher({ memoryCostKiB: 47104, timeCost: 1 });
      const user = await app.services.users.create({
        username: "oldhash",
        key: "oldhash",
        email: "oldhash@example.com",
        emailKey: "oldhash@example.com",
        passwordHash: await old.hash(PASSWORD),
      });
      expect(app.services.hasher.needsRehash(user.passwordHash)).toBe(true);
      expect((await new TestBrowser(app.baseUrl).login("oldhash")).status).toBe(303);
      const after = await app.services.users.findById(user.getId());
      expect(after?.passwordHash).not.toBe(user.passwordHash);
      expect(app.services.hasher.needsRehash(after?.passwordHash ?? "")).toBe(false);
      expect((await new TestBrowser(app.baseUrl).login("oldhash")).status).toBe(303);
    });
  });
});
