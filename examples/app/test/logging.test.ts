import { connect } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FRAMEWORKS, PASSWORD, startTestApp, type TestApp, TestBrowser } from "./helpers.js";

describe.each(FRAMEWORKS)("%s", (framework) => {
  let app: TestApp;
  const secrets = new Set<string>();

  function collect(browser: TestBrowser): void {
    for (const cookie of browser.cookies.values()) secrets.add(cookie.value);
    if (browser.csrf) secrets.add(browser.csrf);
  }

  beforeAll(async () => {
    app = await startTestApp({ framework });
    const alice = new TestBrowser(app.baseUrl);
    await alice.registerAndLogin("alice", PASSWORD, true);
    collect(alice);
    const failing = new TestBrowser(app.baseUrl);
    await failing.get("/login");
    await failing.post("/login", { username: "alice", password: "wrong password 123" });
    for (let i = 0; i < 5; i += 1)
      await failing.post("/login", { username: "bob", password: `bob guess ${i}` });
    collect(failing);
    await alice.get("/account");
    collect(alice);
    await alice.post("/account/password", {
      current_password: PASSWORD,
      new_password: "new secret passphrase",
    });
    collect(alice);
    await alice.get("/");
    await alice.post("/logout");
    collect(alice);
  });
  afterAll(async () => {
    await app.close();
  });

  describe("security log", () => {
    it("writes one JSON object per line with a UTC timestamp", () => {
      const lines = app.logText().trim().split("\n");
      expect(lines.length).toBeGreaterThan(5);
      for (const line of lines) {
        const entry = JSON.parse(line) as Record<string, unknown>;
        expect(entry.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      }
    });

    it("records each security event with user, address and outcome", () => {
      const events = app.logEntries().filter((entry) => entry.kind === "security");
      const find = (event: string) => events.filter((entry) => entry.event === event);
      expect(find("register")[0]).toMatchObject({ outcome: "success", username: "alice", userId: "1" });
      expect(find("login.success")[0]).toMatchObject({ outcome: "success", username: "alice", userId: "1" });
      expect(find("login.failure")[0]).toMatchObject({
        outcome: "failure",
        username: "alice",
        reason: "invalid",
      });
      expect(find("login.locked")[0]).toMatchObject({ outcome: "blocked", username: "bob" });
      expect(find("password.change")[0]).toMatchObject({ outcome: "success", userId: "1", count: 0 });
      expect(find("sessions.revoked")[0]).toMatchObject({ reason: "password-change", userId: "1" });
      expect(find("logout")[0]).toMatchObject({ outcome: "success", userId: "1", username: "alice" });
      for (const entry of events) expect(entry.ip).toMatch(/127\.0\.0\.1$/);
    });

    it("never contains a password, token, cookie or CSRF value", () => {
      const text = app.logText();
      for (const password of [PASSWORD, "wrong password 123", "new secret passphrase", "bob guess 0"]) {
        expect(text).not.toContain(password);
      }
      expect(secrets.size).toBeGreaterThan(3);
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toMatch(/argon2/);
    });

    it("cannot be forged by a username with CR/LF", async () => {
      const before = app.logEntries().filter((entry) => entry.event === "login.success").length;
      const browser = new TestBrowser(app.baseUrl);
      await browser.get("/login");
      const forged =
        'mallory\r\n{"level":"info","kind":"security","event":"login.success","username":"admin"}';
      const response = await browser.post("/login", { username: forged, password: "whatever password" });
      expect(response.status).toBe(401);
      const lines = app.logText().trim().split("\n");
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
      const entries = app.logEntries();
      expect(entries.filter((entry) => entry.event === "login.success")).toHaveLength(before);
      const failure = entries.filter((entry) => entry.event === "login.failure").at(-1);
      expect(failure?.username).toContain("\r\n");
    });

    it("redacts secrets a careless caller passes to the logger", () => {
      app.services.logger.info(
        {
          password: "hunter2-hunter2",
          body: { _csrf: "csrf-value-1", new_password: "np-1" },
          req: { headers: { cookie: "session=abc" } },
        },
        "careless",
      );
      const last = app.logText().trim().split("\n").at(-1) ?? "";
      expect(last).toContain("careless");
      for (const secret of ["hunter2-hunter2", "csrf-value-1", "np-1", "session=abc"])
        expect(last).not.toContain(secret);
    });
  });

  describe("CSRF refusals and logging everyone out", () => {
    const csrfFailures = () => app.logEntries().filter((entry) => entry.event === "csrf.failure");

    it("[A5 16.3.3] logs each request refused by the CSRF check with its reason, address and path, never the token", async () => {
      const browser = new TestBrowser(app.baseUrl);
      await browser.get("/login");
      const forged = "forged-token-value-0123456789abcdef";
      const before = csrfFailures().length;
      const refused = await browser.post("/login?next=%2Fquery-secret-42", {
        username: "alice",
        password: PASSWORD,
        _csrf: forged,
      });
      expect(refused.status).toBe(403);
      expect((await browser.post("/login", { _csrf: "" })).status).toBe(403);
      const crossSite = await browser.post("/login", {}, { "sec-fetch-site": "cross-site" });
      expect(crossSite.status).toBe(403);
      const logged = csrfFailures().slice(before);
      expect(logged.map((entry) => entry.reason)).toEqual(["invalid-token", "missing-token", "cross-site"]);
      for (const entry of logged) {
        expect(entry).toMatchObject({ kind: "security", level: "warn", outcome: "blocked", path: "/login" });
        expect(entry.ip).toMatch(/127\.0\.0\.1$/);
      }
      const text = app.logText();
      for (const secret of [
        forged,
        browser.csrf ?? "",
        ...[...browser.cookies.values()].map((c) => c.value),
      ]) {
        expect(secret.length).toBeGreaterThan(10);
        expect(text).not.toContain(secret);
      }
      expect(text).not.toContain("query-secret-42");
    });

    it("cannot be forged, nor flooded, through the path of a refused request", async () => {
      // Sent as raw bytes: HTTP clients would percent-encode the quotes and braces.
      const forged = '"}{"level":"info","kind":"security","event":"login.success","username":"admin","x":"';
      const path = `/login/${forged}${"a".repeat(300)}`;
      const logins = app.logEntries().filter((entry) => entry.event === "login.success").length;
      expect(await rawCrossSitePost(app.baseUrl, path)).toBe("HTTP/1.1 403 Forbidden");
      for (const line of app.logText().trim().split("\n")) expect(() => JSON.parse(line)).not.toThrow();
      expect(app.logEntries().filter((entry) => entry.event === "login.success")).toHaveLength(logins);
      const logged = String(csrfFailures().at(-1)?.path);
      expect(logged.startsWith('/login/"}{"level":"info"')).toBe(true);
      expect([...logged]).toHaveLength(129);
      expect(logged.endsWith("…")).toBe(true);
    });

    it("[A5 7.4.5, 16.3.1] logs logging everyone out with the counts, and no user or address", async () => {
      const laptop = new TestBrowser(app.baseUrl);
      await laptop.registerAndLogin("carol", PASSWORD, true);
      const phone = new TestBrowser(app.baseUrl);
      await phone.login("alice", "new secret passphrase");
      const counts = await app.services.manager.revokeAllSessions();
      expect(counts.sessions).toBeGreaterThanOrEqual(2);
      expect(counts.rememberTokens).toBeGreaterThanOrEqual(1);
      const entry = app.logEntries().at(-1);
      expect(entry).toEqual({
        level: "info",
        time: expect.any(String),
        kind: "security",
        event: "sessions.revoked-all",
        outcome: "success",
        sessions: counts.sessions,
        rememberTokens: counts.rememberTokens,
        msg: "sessions.revoked-all",
      });
    });
  });
});

/** POSTs from another site over a raw socket, the path sent byte for byte; resolves the status line. */
function rawCrossSitePost(baseUrl: string, path: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  const head = [
    `POST ${path} HTTP/1.1`,
    `Host: ${hostname}:${port}`,
    "Sec-Fetch-Site: cross-site",
    "Content-Type: application/x-www-form-urlencoded",
    "Content-Length: 3",
    "Connection: close",
  ];
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(`${head.join("\r\n")}\r\n\r\na=1`));
    let received = "";
    socket.on("data", (chunk) => {
      received += String(chunk);
    });
    socket.on("end", () => resolve(received.split("\r\n")[0] ?? ""));
    socket.on("error", reject);
  });
}
