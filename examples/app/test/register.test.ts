import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FRAMEWORKS, flashes, PASSWORD, startTestApp, type TestApp, TestBrowser } from "./helpers.js";

describe.each(FRAMEWORKS)("%s", (framework) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ framework });
  });
  afterAll(async () => {
    await app.close();
  });

  async function register(username: string, password = PASSWORD) {
    const browser = new TestBrowser(app.baseUrl);
    const response = await browser.submit("/register", "/register", { username, password });
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
      expect(flashes(login.text)).toEqual(["Account created for alice. You can log in now."]);
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
        { username: "sitenamer", password: "Bank Portal password!!" },
        { host },
      );
      expect(refused.status).toBe(400);
      expect(refused.text).toContain("can&#39;t contain the name of this website");
      // The same password is fine on a site of another name.
      const elsewhere = await browser.post(
        "/register",
        { username: "sitenamer", password: "Bank Portal password!!" },
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
});
