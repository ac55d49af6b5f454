/**
 * The reference app's `ALLOWED_HOSTS` and `APP_BASE_URL` settings (login-manager's `allowedHosts`,
 * issue 16.7): the names it serves, on every framework, and the settings' validation.
 */
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError, parseConfig } from "../src/domain/config.js";
import { emailFor, FRAMEWORKS, PASSWORD, startTestApp, type TestApp, TestBrowser } from "./helpers.js";

describe("parseConfig: ALLOWED_HOSTS and APP_BASE_URL", () => {
  it("leaves allowedHosts unset by default, so the app serves the loopback names only", () => {
    expect(parseConfig({}, "/").allowedHosts).toBeUndefined();
    expect(parseConfig({ HOST: "::1" }, "/").allowedHosts).toBeUndefined();
    expect(parseConfig({ HOST: "localhost" }, "/").allowedHosts).toBeUndefined();
  });

  it("reads a comma-separated list, normalised, and adds the host of APP_BASE_URL", () => {
    expect(
      parseConfig({ ALLOWED_HOSTS: " App.Example.com, .example.org ,[::1]:3000," }, "/").allowedHosts,
    ).toEqual(["app.example.com", ".example.org", "[::1]:3000"]);
    expect(parseConfig({ APP_BASE_URL: "https://App.Example.com/" }, "/").allowedHosts).toEqual([
      "app.example.com",
    ]);
    expect(parseConfig({ APP_BASE_URL: "https://app.example.com:8443" }, "/").allowedHosts).toEqual([
      "app.example.com:8443",
    ]);
    expect(
      parseConfig({ ALLOWED_HOSTS: "10.0.0.5", APP_BASE_URL: "http://app.example.com" }, "/").allowedHosts,
    ).toEqual(["10.0.0.5", "app.example.com"]);
  });

  it("stops start-up when HOST accepts remote connections and no name is listed, saying what to set", () => {
    for (const host of ["0.0.0.0", "::", "192.168.1.10"]) {
      expect(() => parseConfig({ HOST: host }, "/")).toThrow(ConfigError);
      expect(() => parseConfig({ HOST: host }, "/")).toThrow(
        /^ALLOWED_HOSTS is required when HOST .* APP_BASE_URL/,
      );
    }
    expect(
      parseConfig({ HOST: "0.0.0.0", APP_BASE_URL: "https://app.example.com" }, "/").allowedHosts,
    ).toEqual(["app.example.com"]);
  });

  it.each([
    [
      "ALLOWED_HOSTS",
      "https://app.example.com",
      /^ALLOWED_HOSTS entry "https:\/\/app\.example\.com" must be a host name, not a URL/,
    ],
    ["ALLOWED_HOSTS", "*.example.com", /^ALLOWED_HOSTS entry "\*\.example\.com" has a "\*\." wildcard/],
    ["ALLOWED_HOSTS", "app.example.com:99999", /^ALLOWED_HOSTS entry/],
    ["APP_BASE_URL", "app.example.com", /^APP_BASE_URL must be the site's public origin/],
    ["APP_BASE_URL", "ftp://app.example.com", /^APP_BASE_URL must be the site's public origin/],
    ["APP_BASE_URL", "https://app.example.com/app", /^APP_BASE_URL must be the site's public origin/],
    ["APP_BASE_URL", "https://user:pw@app.example.com", /^APP_BASE_URL must be the site's public origin/],
  ])("refuses %s=%s", (name, value, message) => {
    let error: unknown;
    try {
      parseConfig({ [name]: value }, "/");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).setting).toBe(name);
    expect((error as ConfigError).message).toMatch(message);
  });
});

describe.each(FRAMEWORKS)("the app on %s", (framework) => {
  let app: TestApp;
  beforeAll(async () => {
    const env = {
      ALLOWED_HOSTS: "127.0.0.1,.example.org,[::1]:8443",
      APP_BASE_URL: "https://app.example.com",
    };
    app = await startTestApp({ framework, env });
  });
  afterAll(async () => {
    await app.close();
  });

  const page = (host: string) => request(app.baseUrl).get("/login").set("host", host);

  it.each([
    ["app.example.com", 200],
    ["APP.example.com:443", 200],
    ["example.org", 200],
    ["www.example.org:8080", 200],
    ["[::1]:8443", 200],
    ["[::1]:8444", 400],
    ["[::1]", 400],
    ["localhost", 400],
    ["evil.example", 400],
    ["example.org.evil.example", 400],
  ])("GET /login with Host %s: %i", async (host, status) => {
    const response = await page(host);
    expect(response.status).toBe(status);
    expect(response.headers["content-security-policy"]).toContain("default-src 'self'");
    if (status === 400) {
      expect(response.text).toBe("Bad Request: This server does not answer for that host name.");
      expect(response.headers["set-cookie"]).toBeUndefined();
    }
  });

  it("logs in on an allowed name with its Origin, and refuses the same POST for another name", async () => {
    const browser = new TestBrowser(app.baseUrl);
    await browser.get("/register", { host: "app.example.com" });
    const registered = await browser.post(
      "/register",
      { username: "hostuser", email: emailFor("hostuser"), password: PASSWORD },
      { host: "app.example.com", origin: "http://app.example.com", "sec-fetch-site": "" },
    );
    expect(registered.status).toBe(303);
    await browser.get("/login", { host: "app.example.com" });
    const rebound = await browser.post(
      "/login",
      { username: "hostuser", email: emailFor("hostuser"), password: PASSWORD },
      { host: "evil.example", origin: "http://evil.example" },
    );
    expect(rebound.status).toBe(400);
    expect(rebound.headers["set-cookie"]).toBeUndefined();
    const login = await browser.post(
      "/login",
      { username: "hostuser", email: emailFor("hostuser"), password: PASSWORD },
      { host: "app.example.com", origin: "http://app.example.com" },
    );
    expect(login.status).toBe(303);
  });
});
