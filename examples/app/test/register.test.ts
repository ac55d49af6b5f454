import { createPasswordHasher, type HashWorkKind } from "login-manager/password";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
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
  beforeAll(async () => {
    // The site-name test below sends other Host headers, which the app must be told to serve.
    const allowedHosts = ["127.0.0.1", "accounts.bank-portal.example", "example.org"];
    app = await startTestApp({ framework, overrides: { manager: { network: { allowedHosts } } } });
  });
  afterAll(async () => {
    await app.close();
  });

  async function register(username: string, password = PASSWORD) {
    const browser = new TestBrowser(app.baseUrl);
    const response = await browser.submit("/register", "/register", {
      username,
      email: emailFor(username),
      password,
    });
    return { browser, response };
  }

  describe("GET /register", () => {
    it("shows a labelled form with autocomplete hints and a CSRF field", async () => {
      const response = await new TestBrowser(app.baseUrl).get("/register");
      expect(response.status).toBe(200);
      expect(response.text).toContain('<label for="username">');
      expect(response.text).toContain('autocomplete="username"');
      expect(response.text).toContain('<label for="password">');
      expect(response.text).toMatch(/type="password" autocomplete="new-password"/);
      expect(response.text).toMatch(/name="_csrf" value="[^"]+"/);
      expect(response.text).not.toMatch(/onpaste|style=/);
    });
  });

  describe("POST /register", () => {
    it("creates the user and redirects to /login with a flash message", async () => {
      const { browser, response } = await register("alice");
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe("/login");
      const login = await browser.get("/login");
      expect(flashes(login.text)).toEqual([
        "Account created for alice. We sent a link to confirm your e-mail address; you can log in now.",
      ]);
      expect(await app.services.users.findByKey("alice")).not.toBeNull();
    });

    it.each([
      ["ab", "3 to 32 characters"],
      ["a".repeat(33), "3 to 32 characters"],
      ["", "3 to 32 characters"],
      ["bad name", "letters, digits"],
      ["<script>", "letters, digits"],
      ["_under", "start with a letter or digit"],
      ["paypaі", "mix Latin, Cyrillic and Greek"],
    ])("refuses the username %j with 400", async (username, message) => {
      const { response } = await register(username);
      expect(response.status).toBe(400);
      expect(response.text).toContain(message);
    });

    it("accepts Unicode letters after NFKC and shows the normalised name", async () => {
      const { browser, response } = await register("Ｚｏë_Ünïcødé");
      expect(response.status).toBe(303);
      expect(flashes((await browser.get("/login")).text)[0]).toContain("Zoë_Ünïcødé");
    });

    it.each([
      ["ALICE", "a case variant"],
      ["Alice", "a case variant"],
      ["ａｌｉｃｅ", "a full-width look-alike"],
      [" alice ", "surrounding spaces"],
    ])("refuses %j (%s of an existing username) with 409", async (username) => {
      const { response } = await register(username);
      expect(response.status).toBe(409);
      expect(response.text).toContain("already taken");
    });

    it("treats NFKC compatibility forms and ß/ss as the same user", async () => {
      expect((await register("straße")).response.status).toBe(303);
      expect((await register("STRASSE")).response.status).toBe(409);
      expect((await register("ﬁnn")).response.status).toBe(303); // the "ﬁ" ligature becomes "fi"
      expect((await register("finn")).response.status).toBe(409);
    });

    it("refuses passwords shorter than 8 code points, counting emoji as one", async () => {
      const { response } = await register("shorty", "😀😀😀😀😀😀😀");
      expect(response.status).toBe(400);
      expect(response.text).toContain("at least 8 characters");
      expect((await register("emoji8", "😀🎉🌍🚀💡🔒🍕🎸")).response.status).toBe(303);
    });

    it("refuses passwords longer than 256 characters and accepts exactly 256", async () => {
      const tooLong = await register("longpw", "x".repeat(120) + "y".repeat(137));
      expect(tooLong.response.status).toBe(400);
      expect(tooLong.response.text).toContain("at most 256 characters");
      expect((await register("longpw", "x".repeat(120) + "y".repeat(136))).response.status).toBe(303);
    });

    it.each(["password123", "iloveyou1", "qwertyuiop", "Password1", "12345678"])(
      "refuses the common password %j and says why",
      async (password) => {
        const { response } = await register("commoner", password);
        expect(response.status).toBe(400);
        expect(response.text).toContain("10,000 most common passwords");
      },
    );

    it("refuses a password equal to the username, whatever the case", async () => {
      const { response } = await register("longusername", "LongUserName");
      expect(response.status).toBe(400);
      expect(response.text).toContain("can&#39;t be your username");
    });

    it.each(["I use LoginManager daily", "login_manager forever", "my LOGIN MANAGER pass"])(
      "refuses %j, which contains the app's name [A5 6.2.11]",
      async (password) => {
        const { response } = await register("appnamer", password);
        expect(response.status).toBe(400);
        expect(response.text).toContain("can&#39;t contain the name of this app (login-manager)");
      },
    );

    it.each(["Ada Lovelace 1815 rules", "xada.lovelacex99", "ADA_LOVELACE and babbage"])(
      "refuses %j, which contains the username ada_lovelace [A5 6.2.11]",
      async (password) => {
        const { response } = await register("ada_lovelace", password);
        expect(response.status).toBe(400);
        expect(response.text).toContain("can&#39;t contain your username");
      },
    );

    it("refuses a 3-letter username only as the whole password, not inside one [A5 6.2.11]", async () => {
      const spelled = await register("bob", "B - O - B !!!");
      expect(spelled.response.status).toBe(400);
      expect(spelled.response.text).toContain("can&#39;t contain your username");
      expect((await register("bob", "bobsled team of 1924")).response.status).toBe(303);
    });

    it("refuses a password containing the website's name from the Host header [A5 6.2.11]", async () => {
      const host = "accounts.bank-portal.example";
      const browser = new TestBrowser(app.baseUrl);
      await browser.get("/register", { host });
      const refused = await browser.post(
        "/register",
        { username: "sitenamer", email: emailFor("sitenamer"), password: "Bank Portal password!!" },
        { host },
      );
      expect(refused.status).toBe(400);
      expect(refused.text).toContain("can&#39;t contain the name of this website");
      // The same password is fine on a site of another name.
      const elsewhere = await browser.post(
        "/register",
        { username: "sitenamer", email: emailFor("sitenamer"), password: "Bank Portal password!!" },
        { host: "example.org" },
      );
      expect(elsewhere.status).toBe(303);
    });

    it("accepts any characters in passwords: no composition rules", async () => {
      expect((await register("simple", "just lowercase words here")).response.status).toBe(303);
    });

    it("escapes the typed username when showing the form again", async () => {
      const { response } = await register('<script>alert("x")</script>');
      expect(response.status).toBe(400);
      expect(response.text).not.toContain("<script>alert");
      expect(response.text).toContain("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;");
    });

    it("logs registrations without the password", async () => {
      await register("loggeduser", "a secret never logged");
      const entry = app
        .logEntries()
        .find((line) => line.event === "register" && line.username === "loggeduser");
      expect(entry).toMatchObject({ kind: "security", outcome: "success", level: "info" });
      expect(app.logText()).not.toContain("a secret never logged");
    });
  });

  describe("POST /register limits and equal work (REGISTER_ATTEMPTS_PER_HOUR=3, TRUST_PROXY=1)", () => {
    const LIMIT = 3;
    const env = { REGISTER_ATTEMPTS_PER_HOUR: String(LIMIT), TRUST_PROXY: "1" };
    const work: HashWorkKind[] = [];
    const hasher = createPasswordHasher({ onHashWork: (kind) => work.push(kind) });
    let limited: TestApp;
    beforeAll(async () => {
      limited = await startTestApp({ framework, env, overrides: { hasher } });
    });
    afterAll(async () => {
      await limited.close();
    });
    beforeEach(() => {
      work.length = 0;
    });

    /** Registers from `address` (the client address the proxy reports) through `baseUrl`. */
    async function registerFrom(
      address: string,
      username: string,
      options: { password?: string; baseUrl?: string; accept?: string } = {},
    ) {
      const browser = new TestBrowser(options.baseUrl ?? limited.baseUrl);
      const headers = { "x-forwarded-for": address };
      await browser.get("/register", headers);
      return browser.post(
        "/register",
        { username, email: emailFor(username), password: options.password ?? PASSWORD },
        { ...headers, ...(options.accept ? { accept: options.accept } : {}) },
      );
    }

    it("[A5 6.1.1] counts every attempt from an address and answers the next one 429 with Retry-After and the error page, hashing nothing", async () => {
      const address = "198.51.100.10";
      expect((await registerFrom(address, "limited1")).status).toBe(303);
      expect((await registerFrom(address, "limited1")).status).toBe(409);
      expect((await registerFrom(address, "limited2", { password: "short" })).status).toBe(400);
      work.length = 0;
      const refused = await registerFrom(address, "limited3");
      expect(refused.status).toBe(429);
      const wait = Number(refused.headers["retry-after"]);
      expect(wait).toBeGreaterThan(3500);
      expect(wait).toBeLessThanOrEqual(3600);
      expect(refused.text).toContain("Too many attempts");
      expect(refused.text).toContain("Error 429");
      expect(work).toEqual([]);
      expect(await limited.services.users.findByKey("limited3")).toBeNull();
      const json = await registerFrom(address, "limited3", { accept: "application/json" });
      expect(json.status).toBe(429);
      expect(json.headers["retry-after"]).toMatch(/^\d+$/);
      expect(json.body).toEqual({
        error: "Too many attempts",
        message: "Too many attempts from your network. Please wait a while and try again.",
      });
      expect(work).toEqual([]);
      const logged = limited
        .logEntries()
        .find((line) => line.event === "register" && line.outcome === "blocked");
      expect(logged).toMatchObject({ reason: "rate-limited", ip: address });
    });

    it("[A5 6.1.1] limits each address on its own, an IPv6 address per /64", async () => {
      for (let i = 1; i <= LIMIT; i++) {
        expect((await registerFrom(`2001:db8:1:2::${i}`, `six${i}`)).status).toBe(303);
      }
      expect((await registerFrom("2001:db8:1:2:ffff:ffff:ffff:ffff", "six9")).status).toBe(429);
      expect((await registerFrom("2001:db8:1:3::1", "six9")).status).toBe(303);
      expect((await registerFrom("198.51.100.11", "other")).status).toBe(303);
    });

    it("[A5 6.1.1] holds across two instances sharing one data folder (the session store)", async () => {
      const second = await startTestApp({ framework, env, dataDir: limited.dataDir });
      try {
        const address = "198.51.100.12";
        const bases = [limited.baseUrl, second.baseUrl, limited.baseUrl];
        for (const [i, baseUrl] of bases.entries()) {
          expect((await registerFrom(address, `shared${i}`, { baseUrl })).status).toBe(303);
        }
        expect((await registerFrom(address, "shared9", { baseUrl: second.baseUrl })).status).toBe(429);
      } finally {
        await second.close();
      }
    });

    it("[A5 6.3.8] a taken username costs exactly the argon2 work of a new one; only the 409 message differs", async () => {
      const fresh = await registerFrom("198.51.100.13", "equalwork");
      expect(fresh.status).toBe(303);
      const freshWork = [...work];
      work.length = 0;
      const taken = await registerFrom("198.51.100.14", "EqualWork");
      expect(taken.status).toBe(409);
      expect(freshWork.length).toBeGreaterThan(0);
      expect(work).toEqual(freshWork);
      expect([...taken.text.matchAll(/<p class="error"[^>]*>([^<]*)</g)].map((m) => m[1])).toEqual([
        "That username is already taken.",
      ]);
    });
  });
});
