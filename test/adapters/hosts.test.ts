/**
 * The Host check (`allowedHosts`, issue 16.7) and a repeated CSRF field (issue 16.9), as one table
 * run on Express, Fastify and Hono: a request for a host the app does not serve gets the same 400
 * on all three, before its session is read, its body parsed or a cookie written.
 */
import type { LoginManagerOptions } from "login-manager";
import { afterEach, describe, expect, it } from "vitest";
import type { AppClient, RawResponse, TestEnv } from "./harness.js";
import { ADAPTERS, BODY_LIMIT, createEnv, type TestUser } from "./harness.js";

const REFUSAL = "Bad Request: This server does not answer for that host name.";

describe.each(ADAPTERS)("$name adapter", ({ build }) => {
  let apps: AppClient[] = [];

  afterEach(async () => {
    await Promise.all(apps.map((app) => app.close()));
    apps = [];
  });

  async function setup(overrides: Partial<LoginManagerOptions<TestUser>> = {}) {
    const env: TestEnv = createEnv(overrides);
    const app = await build(env);
    apps.push(app);
    return { env, app };
  }

  /** A CSRF token and the cookie it belongs to, fetched on `host`. */
  async function tokenOn(app: AppClient, host: string): Promise<{ token: string; cookie: string }> {
    const form = await app.send({ method: "GET", path: "/form", headers: { host } });
    expect(form.status).toBe(200);
    const cookie = (form.setCookies[0] ?? "").split(";")[0] ?? "";
    return { token: form.text, cookie };
  }

  function post(
    app: AppClient,
    headers: Record<string, string>,
    body: string,
    path = "/login",
  ): Promise<RawResponse> {
    return app.send({
      method: "POST",
      path,
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body,
    });
  }

  function expectRefused(res: RawResponse): void {
    expect(res.status).toBe(400);
    expect(res.text).toBe(REFUSAL);
    expect(res.setCookies).toEqual([]);
  }

  describe("allowedHosts [issue 16.7]", () => {
    it.each(["GET", "POST"])(
      "answers 400 to %s for another host, before reading the session (the store is down)",
      async (method) => {
        const { env, app } = await setup({ network: { allowedHosts: ["app.example.com"] } });
        env.outage.down = true;
        const res = await app.send({
          method,
          path: "/whoami",
          headers: { host: "evil.example", cookie: `session=${"a".repeat(22)}.${"b".repeat(22)}` },
        });
        expectRefused(res);
      },
    );

    it("refuses the DNS-rebinding request: Host and Origin both the attacker's name, same-origin to the browser", async () => {
      const { app } = await setup();
      const { token, cookie } = await tokenOn(app, "localhost");
      const rebound = {
        host: "evil.example",
        origin: "http://evil.example",
        "sec-fetch-site": "same-origin",
      };
      const res = await post(app, { ...rebound, cookie }, `username=alice&_csrf=${token}`);
      expectRefused(res);
      // The same request on the app's own name goes through.
      const own = { host: "localhost", origin: "http://localhost", "sec-fetch-site": "same-origin" };
      expect((await post(app, { ...own, cookie }, `username=alice&_csrf=${token}`)).status).toBe(200);
    });

    it("refuses before reading the body: an oversized form for another host is 400, not 413", async () => {
      const { app } = await setup();
      const res = await post(app, { host: "evil.example" }, `a=${"x".repeat(BODY_LIMIT + 1)}`);
      expectRefused(res);
    });

    it("serves an allowed host, and the CSRF check expects an Origin on it", async () => {
      const { app } = await setup({ network: { allowedHosts: ["app.example.com"] } });
      const { token, cookie } = await tokenOn(app, "app.example.com");
      const body = `username=alice&_csrf=${token}`;
      const ok = await post(app, { host: "app.example.com", origin: "http://app.example.com", cookie }, body);
      expect(ok.status).toBe(200);
      expect(ok.text).toBe("logged in 1");
      const otherOrigin = { host: "app.example.com", origin: "http://evil.example", cookie };
      expect((await post(app, otherOrigin, body)).status).toBe(403);
    });

    it("answers a JSON client with JSON", async () => {
      const { app } = await setup();
      const res = await app.send({
        method: "GET",
        path: "/whoami",
        headers: { host: "evil.example", accept: "application/json" },
      });
      expect(res.status).toBe(400);
      expect(JSON.parse(res.text)).toEqual({
        error: "host_not_allowed",
        message: "This server does not answer for that host name.",
      });
    });

    it.each([
      ["[::1]:3000", undefined, 200],
      ["[0:0:0:0:0:0:0:1]", undefined, 200],
      ["[::2]", undefined, 400],
      ["::1", undefined, 400],
      ["127.0.0.1:8080", undefined, 200],
      ["127.0.0.1:70000", undefined, 400],
      ["localhost.", undefined, 200],
      ["api.localhost:5173", undefined, 200],
      ["10.0.0.5:5000", undefined, 400],
      ["app.example.com:8443", ["app.example.com:8443"], 200],
      ["app.example.com:8444", ["app.example.com:8443"], 400],
      ["app.example.com", ["app.example.com:8443"], 400],
      ["eu.app.example.com", [".app.example.com"], 200],
      ["app.example.com.evil.example", [".app.example.com"], 400],
      ["[2001:db8::1]:8080", ["[2001:db8::1]"], 200],
    ])("Host %j with allowedHosts %j: %i", async (host, allowedHosts, status) => {
      const { app } = await setup(allowedHosts ? { network: { allowedHosts } } : {});
      const res = await app.send({ method: "GET", path: "/whoami", headers: { host } });
      expect(res.status).toBe(status);
    });

    it("behind a trusted proxy, checks X-Forwarded-Host and expects the Origin on it", async () => {
      const { app } = await setup({ network: { allowedHosts: ["app.example.com"], trustProxyHops: 1 } });
      const proxied = {
        host: "10.0.0.2:3000",
        "x-forwarded-host": "app.example.com",
        "x-forwarded-proto": "https",
      };
      const form = await app.send({ method: "GET", path: "/form", headers: proxied });
      expect(form.status).toBe(200);
      const cookie = (form.setCookies[0] ?? "").split(";")[0] ?? "";
      const body = `username=alice&_csrf=${form.text}`;
      const ok = await post(app, { ...proxied, origin: "https://app.example.com", cookie }, body);
      expect(ok.status).toBe(200);
      const forged = { ...proxied, "x-forwarded-host": "evil.example" };
      expectRefused(await app.send({ method: "GET", path: "/whoami", headers: forged }));
    });
  });

  describe("a repeated CSRF field [issue 16.9]", () => {
    it("is refused with 403 even when both values are the right token", async () => {
      const { app } = await setup();
      const { token, cookie } = await tokenOn(app, "localhost");
      const headers = { host: "localhost", "sec-fetch-site": "same-origin", cookie };
      const res = await post(app, headers, `username=alice&_csrf=${token}&_csrf=${token}`);
      expect(res.status).toBe(403);
      expect(res.text).toMatch(/^Forbidden: The request has no CSRF token/);
      expect((await post(app, headers, `username=alice&_csrf=${token}`)).status).toBe(200);
    });
  });
});
