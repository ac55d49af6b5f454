import { get } from "node:http";
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import { Hono } from "hono";
import { setCookie } from "hono/cookie";
import { HTTPException } from "hono/http-exception";
import { ConfigurationError, currentUser } from "login-manager";
import { loginManager, loginRequired, sendReply } from "login-manager/hono";
import { createLoginCookie } from "login-manager/testing";
import { describe, expect, it } from "vitest";
import { Browser, createEnv, parseSetCookie, USERS } from "./harness.js";

const alice = USERS.get("alice");
if (!alice) throw new Error("harness users changed");

/** The `c.env` @hono/node-server passes, reduced to what the adapter reads. */
const nodeEnv = (socket: { remoteAddress?: string; encrypted?: boolean }) => ({ incoming: { socket } });

function formRequest(fields: Record<string, string>, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: {
      host: "localhost",
      "sec-fetch-site": "same-origin",
      "content-type": "application/x-www-form-urlencoded",
      ...headers,
    },
    body: new URLSearchParams(fields).toString(),
  };
}

async function csrf(app: Hono, init: RequestInit = {}, env?: object) {
  const res = await app.request("/form", init, env);
  const cookie = parseSetCookie(res.headers.getSetCookie()[0] ?? "");
  return { token: await res.text(), cookie: `${cookie.name}=${cookie.value}` };
}

/** Serves `app` with @hono/node-server on a free loopback port for the length of `use`. */
async function withNodeServer(app: Hono, use: (port: number) => Promise<void>): Promise<void> {
  const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" });
  try {
    await new Promise((resolve) => server.once("listening", resolve));
    await use((server.address() as AddressInfo).port);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
}

function appWithForm(manager = createEnv().manager, options?: Parameters<typeof loginManager>[1]) {
  const app = new Hono();
  app.use(loginManager(manager, options));
  app.get("/form", (c) => c.text(c.var.auth.csrfToken()));
  return app;
}

describe("login-manager/hono specifics", () => {
  it("reads the client address and TLS from c.env.incoming.socket: HTTPS gets Secure __Host- cookies", async () => {
    const env = createEnv();
    const app = appWithForm(env.manager);
    app.post("/login", async (c) => {
      await c.var.auth.loginUser(alice);
      return c.json(await c.var.auth.listSessions());
    });
    const tls = nodeEnv({ remoteAddress: "203.0.113.9", encrypted: true });
    const { token, cookie } = await csrf(app, { headers: { host: "localhost" } }, tls);
    expect(cookie).toMatch(/^__Host-csrf=/);
    const res = await app.request(
      "/login",
      formRequest({ _csrf: token }, { cookie, origin: "https://localhost" }),
      tls,
    );
    expect(res.status).toBe(200);
    const session = res.headers
      .getSetCookie()
      .map(parseSetCookie)
      .find((c) => c.name === "__Host-session");
    expect(session?.attributes.has("secure")).toBe(true);
    expect(await res.json()).toMatchObject([{ ipAddress: "203.0.113.9", current: true }]);
  });

  it("works without Node bindings (address unknown, plain HTTP)", async () => {
    const app = appWithForm();
    const res = await app.request("/form");
    expect(res.status).toBe(200);
    expect(res.headers.getSetCookie()[0]).toMatch(/^csrf=/);
  });

  it("runs behind a real @hono/node-server: address from the socket, currentUser() in handlers", async () => {
    const env = createEnv();
    const app = appWithForm(env.manager);
    app.get("/protected", loginRequired, async (c) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return c.text(`${currentUser().getId()} ${(await c.var.auth.listSessions())[0]?.ipAddress}`);
    });
    await withNodeServer(app, async (port) => {
      const cookie = await createLoginCookie(env.manager, alice, {
        remoteAddress: "127.0.0.1",
        userAgent: "node",
      });
      const res = await fetch(`http://127.0.0.1:${port}/protected`, { headers: { cookie } });
      expect(await res.text()).toBe("1 127.0.0.1");
    });
  });

  it("keeps Cache-Control: no-store and Vary: Cookie on a raw Response behind @hono/node-server [A5 14.3.2]", async () => {
    const env = createEnv();
    const app = new Hono();
    app.use(loginManager(env.manager));
    app.get("/raw", loginRequired, () => new Response("raw", { headers: { "x-handler": "1" } }));
    await withNodeServer(app, async (port) => {
      const cookie = await createLoginCookie(env.manager, alice, {
        remoteAddress: "127.0.0.1",
        userAgent: "node",
      });
      const res = await fetch(`http://127.0.0.1:${port}/raw`, { headers: { cookie, "user-agent": "node" } });
      expect(await res.text()).toBe("raw");
      expect(res.headers.get("x-handler")).toBe("1");
      expect(res.headers.get("cache-control")).toBe("no-store");
      expect(res.headers.get("vary")).toBe("Cookie");
    });
  });

  it("gives the core request views with no per-request accessor, and the path as received in url", async () => {
    // Regression: the view was an object literal with `get url()`. Each such literal gets its own
    // hidden class, whose descriptors keep the getter's closure (the whole request) alive until a
    // full GC: under load every request was promoted to old space and GC took ~20% of the CPU.
    const env = createEnv();
    const app = new Hono();
    app.use(loginManager(env.manager));
    app.get("*", loginRequired, (c) => c.text("never"));
    const seen: { own: PropertyDescriptor | undefined; proto: object | null; url: string }[] = [];
    env.manager.on("unauthorized", ({ request }) => {
      seen.push({
        own: Object.getOwnPropertyDescriptor(request, "url"),
        proto: Object.getPrototypeOf(request),
        url: request.url,
      });
    });
    await withNodeServer(app, async (port) => {
      for (const path of ["/a/./b?x=1", "/c%2Fd?y=%20"]) {
        // node:http sends the path untouched (fetch would normalise the dot segment first).
        const status = await new Promise((resolve, reject) => {
          get({ host: "127.0.0.1", port, path, headers: { accept: "application/json" } }, (res) => {
            res.resume();
            resolve(res.statusCode);
          }).on("error", reject);
        });
        expect(status).toBe(401);
      }
    });
    expect(seen.map((s) => s.url)).toEqual(["/a/./b?x=1", "/c%2Fd?y=%20"]);
    expect(seen.every((s) => s.own === undefined)).toBe(true);
    expect(seen[0]?.proto).toBe(seen[1]?.proto);
    expect(seen[0]?.proto).not.toBe(Object.prototype);
  });

  it("lets handlers read the body again after the middleware parsed it (form, multipart, JSON)", async () => {
    const app = appWithForm();
    app.post("/echo", async (c) => {
      const type = c.req.header("content-type") ?? "";
      const body = type.includes("json") ? await c.req.json() : await c.req.parseBody();
      return c.json(body as object);
    });
    const { token, cookie } = await csrf(app);
    const headers = { host: "localhost", "sec-fetch-site": "same-origin", cookie };

    const form = await app.request("/echo", formRequest({ _csrf: token, name: "a" }, { cookie }));
    expect(await form.json()).toEqual({ _csrf: token, name: "a" });

    const multipart = new FormData();
    multipart.set("_csrf", token);
    multipart.set("name", "b");
    const parts = await app.request("/echo", { method: "POST", headers, body: multipart });
    expect(await parts.json()).toEqual({ _csrf: token, name: "b" });

    const json = await app.request("/echo", {
      method: "POST",
      headers: { ...headers, "content-type": "application/json" },
      body: JSON.stringify({ _csrf: token, name: "c" }),
    });
    expect(await json.json()).toEqual({ _csrf: token, name: "c" });
  });

  it("refuses a streamed body (no Content-Length) over bodyLimitBytes with an HTTPException 413", async () => {
    const app = appWithForm(createEnv().manager, { bodyLimitBytes: 64 });
    const seen: unknown[] = [];
    app.onError((error, c) => {
      seen.push(error);
      return error instanceof HTTPException ? error.getResponse() : c.text("error", 500);
    });
    app.post("/", (c) => c.text("ok"));
    const chunk = new TextEncoder().encode(`a=${"x".repeat(40)}&`);
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(chunk);
        controller.enqueue(chunk);
        controller.close();
      },
    });
    const res = await app.request("/", {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(seen[0]).toBeInstanceOf(HTTPException);
  });

  it("gives upload routes registered before the app-wide middleware their own, larger limit", async () => {
    const env = createEnv();
    const app = new Hono();
    app.get("/form", loginManager(env.manager), (c) => c.text(c.var.auth.csrfToken()));
    app.post("/upload", loginManager(env.manager, { bodyLimitBytes: 100_000 }), async (c) => {
      const file = (await c.req.parseBody()).file;
      return c.text(file instanceof File ? String(file.size) : "none");
    });
    app.use(loginManager(env.manager));
    app.post("/other", (c) => c.text("ok"));
    const { token, cookie } = await csrf(app);
    const upload = () => {
      const body = new FormData();
      body.set("_csrf", token);
      body.set("file", new Blob(["x".repeat(50_000)]), "big.txt");
      return body;
    };
    const headers = { host: "localhost", "sec-fetch-site": "same-origin", cookie };
    const big = await app.request("/upload", { method: "POST", headers, body: upload() });
    expect(await big.text()).toBe("50000");
    expect((await app.request("/other", { method: "POST", headers, body: upload() })).status).toBe(413);
  });

  it("does not read bodies of other content types", async () => {
    const app = appWithForm(createEnv().manager, { bodyLimitBytes: 8 });
    app.post("/upload", async (c) => c.text(String((await c.req.text()).length)));
    const { token, cookie } = await csrf(app);
    const res = await app.request("/upload", {
      method: "POST",
      headers: {
        host: "localhost",
        "sec-fetch-site": "same-origin",
        "content-type": "application/octet-stream",
        "x-csrf-token": token,
        cookie,
      },
      body: "0123456789abcdef",
    });
    expect(await res.text()).toBe("16");
  });

  it("keeps cookies the application sets itself, also on a Response the handler builds", async () => {
    const app = appWithForm();
    app.get("/theme", (c) => {
      setCookie(c, "theme", "dark");
      c.var.auth.csrfToken();
      return c.text("ok");
    });
    app.get("/raw", (c) => {
      c.var.auth.csrfToken();
      return new Response("raw", { headers: { "set-cookie": "theme=light; Path=/" } });
    });
    const theme = await app.request("/theme");
    expect(theme.headers.getSetCookie().map((c) => parseSetCookie(c).name)).toEqual(["theme", "csrf"]);
    const raw = await app.request("/raw");
    expect(raw.headers.getSetCookie().map((c) => parseSetCookie(c).name)).toEqual(["theme", "csrf"]);
  });

  it("replaces same-name cookies already in the response when the core sets one after it is built", async () => {
    const env = createEnv();
    const app = new Hono();
    // An outer middleware that logs out after the handler: the response exists by then.
    app.use(async (c, next) => {
      await next();
      if (c.req.path === "/late-logout") await c.var.auth.logoutUser();
    });
    app.use(loginManager(env.manager));
    app.get("/late-logout", async (c) => {
      await c.var.auth.loginUser(alice);
      return c.text("ok");
    });
    const res = await app.request("/late-logout", { headers: { host: "localhost" } });
    const cookies = res.headers.getSetCookie().map(parseSetCookie);
    const sessions = cookies.filter((cookie) => cookie.name === "session");
    expect(sessions).toHaveLength(1);
    expect(sessions[0]?.attributes.get("max-age")).toBe("0");
    expect(await env.store.listUserSessions("1", env.clock.now())).toEqual([]);
  });

  it("answers a store outage with onStoreUnavailable when given", async () => {
    const env = createEnv();
    const app = appWithForm(env.manager, {
      onStoreUnavailable: (error, c) => c.text(`custom: ${error.code}`, 503),
    });
    const browser = new Browser({
      send: async (raw) => {
        const res = await app.request(raw.path, { method: raw.method, headers: raw.headers });
        return {
          status: res.status,
          headers: {},
          setCookies: res.headers.getSetCookie(),
          text: await res.text(),
        };
      },
      close: async () => undefined,
    });
    browser.jar.set("session", (await createLoginCookie(env.manager, alice)).split("=")[1] ?? "");
    env.outage.down = true;
    const res = await browser.get("/form");
    expect(res.status).toBe(503);
    expect(res.text).toBe("custom: ERR_STORE_UNAVAILABLE");
  });

  it("fails loudly when a guard runs without the middleware", async () => {
    const app = new Hono();
    const errors: unknown[] = [];
    app.onError((error, c) => {
      errors.push(error);
      return c.text("error", 500);
    });
    app.get("/", loginRequired, (c) => c.text("ok"));
    expect((await app.request("/")).status).toBe(500);
    expect(errors[0]).toBeInstanceOf(ConfigurationError);
  });

  it("sendReply builds text/plain, JSON, or the content-type the reply names", async () => {
    const app = new Hono();
    app.get("/text", (c) => sendReply(c, { status: 403, headers: {}, body: "no" }));
    app.get("/json", (c) => sendReply(c, { status: 401, headers: {}, body: { error: "x" } }));
    app.get("/empty", (c) => sendReply(c, { status: 302, headers: { location: "/login" } }));
    app.get("/html", (c) =>
      sendReply(c, {
        status: 503,
        headers: { "content-type": "text/html; charset=utf-8", "retry-after": "5" },
        body: "<p>later</p>",
      }),
    );
    const text = await app.request("/text");
    expect([text.status, text.headers.get("content-type"), await text.text()]).toEqual([
      403,
      "text/plain; charset=UTF-8",
      "no",
    ]);
    const json = await app.request("/json");
    expect([json.status, json.headers.get("content-type"), await json.json()]).toEqual([
      401,
      "application/json",
      { error: "x" },
    ]);
    const empty = await app.request("/empty");
    expect([empty.status, empty.headers.get("location"), await empty.text()]).toEqual([302, "/login", ""]);
    const html = await app.request("/html");
    expect([html.status, html.headers.get("content-type"), html.headers.get("retry-after")]).toEqual([
      503,
      "text/html; charset=utf-8",
      "5",
    ]);
  });

  it("rejects a bodyLimitBytes that is not a positive whole number", () => {
    const { manager } = createEnv();
    for (const bodyLimitBytes of [0, -1, 1.5, Number.NaN]) {
      expect(() => loginManager(manager, { bodyLimitBytes })).toThrow(ConfigurationError);
    }
  });
});
