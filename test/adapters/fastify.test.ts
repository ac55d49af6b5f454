import formbody from "@fastify/formbody";
import type { FastifyInstance } from "fastify";
import Fastify from "fastify";
import { currentUser } from "login-manager";
import loginManagerDefault, { loginManagerPlugin, loginRequired, sendReply } from "login-manager/fastify";
import { createLoginCookie } from "login-manager/testing";
import { afterEach, describe, expect, it } from "vitest";
import { createEnv, USERS } from "./harness.js";

const alice = USERS.get("alice");
if (!alice) throw new Error("harness users changed");

describe("login-manager/fastify specifics", () => {
  let app: FastifyInstance | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it("is a fastify-plugin named login-manager for Fastify 5, also the default export", async () => {
    const meta = (loginManagerPlugin as unknown as Record<symbol, { name: string; fastify: string }>)[
      Symbol.for("plugin-meta")
    ];
    expect(meta).toMatchObject({ name: "login-manager", fastify: "5.x" });
    expect(loginManagerDefault).toBe(loginManagerPlugin);
    app = Fastify();
    await app.register(loginManagerPlugin, { manager: createEnv().manager });
    expect(app.hasPlugin("login-manager")).toBe(true);
  });

  it("refuses to register without a manager", async () => {
    app = Fastify();
    await expect(app.register(loginManagerPlugin, {} as never)).rejects.toThrow(
      /register the plugin with \{ manager \}/,
    );
  });

  it("sets request.auth in its preHandler hook: null in onRequest, set in route preHandlers and handlers, where currentUser() works", async () => {
    const env = createEnv();
    app = Fastify();
    const seen: Record<string, unknown> = {};
    app.addHook("onRequest", async (request) => {
      seen.onRequest = request.auth;
    });
    await app.register(loginManagerPlugin, { manager: env.manager });
    app.addHook("preHandler", async () => {
      seen.appHookAfterPlugin = currentUser().getId();
    });
    app.get(
      "/",
      {
        preHandler: [
          loginRequired,
          (_request, _reply, done) => {
            seen.routeHook = currentUser().getId();
            done();
          },
        ],
      },
      (request) => {
        seen.syncHandler = currentUser().getId();
        return request.auth.requireUser().getId();
      },
    );
    const cookie = await createLoginCookie(env.manager, alice, { remoteAddress: "127.0.0.1" });
    const res = await app.inject({ url: "/", headers: { cookie } });
    expect(res.statusCode).toBe(200);
    expect(res.body).toBe("1");
    expect(seen).toEqual({ onRequest: null, appHookAfterPlugin: "1", routeHook: "1", syncHandler: "1" });
  });

  it("leaves routes outside the scope it is registered in alone", async () => {
    const env = createEnv();
    app = Fastify();
    app.get("/health", (request) => ({ auth: request.auth ?? null }));
    await app.register((scope, _options, done) => {
      scope.register(loginManagerPlugin, { manager: env.manager });
      scope.get("/inside", (request) => ({ user: request.auth.isAuthenticated }));
      done();
    });
    expect((await app.inject({ url: "/health" })).json()).toEqual({ auth: null });
    expect((await app.inject({ url: "/inside" })).json()).toEqual({ user: false });
  });

  it("answers a store outage with onStoreUnavailable when given", async () => {
    const env = createEnv();
    app = Fastify();
    await app.register(loginManagerPlugin, {
      manager: env.manager,
      onStoreUnavailable: (error, _request, reply) => reply.code(503).send(`custom: ${error.code}`),
    });
    app.get("/", () => "ok");
    const cookie = await createLoginCookie(env.manager, alice);
    env.outage.down = true;
    const res = await app.inject({ url: "/", headers: { cookie } });
    expect(res.statusCode).toBe(503);
    expect(res.body).toBe("custom: ERR_STORE_UNAVAILABLE");
  });

  it("passes other authentication errors to Fastify's error handler", async () => {
    const env = createEnv({ userLoader: () => Promise.reject(new Error("loader bug")) });
    app = Fastify();
    await app.register(loginManagerPlugin, { manager: env.manager });
    app.get("/", () => "ok");
    const cookie = await createLoginCookie(env.manager, alice);
    const res = await app.inject({ url: "/", headers: { cookie } });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ message: "loader bug" });
  });

  it("fails loudly when a guard runs without the plugin", async () => {
    app = Fastify();
    app.get("/", { preHandler: loginRequired }, () => "ok");
    const res = await app.inject({ url: "/" });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toMatchObject({ code: "ERR_CONFIGURATION" });
  });

  it("sendReply sends text/plain, JSON, or the content-type the reply names", async () => {
    app = Fastify();
    app.get("/:kind", async (request, reply) => {
      const kind = (request.params as { kind: string }).kind;
      if (kind === "text") return sendReply(reply, { status: 403, headers: {}, body: "no" });
      if (kind === "json") return sendReply(reply, { status: 401, headers: {}, body: { error: "x" } });
      if (kind === "empty") return sendReply(reply, { status: 302, headers: { location: "/login" } });
      const headers = { "content-type": "text/html; charset=utf-8", "retry-after": "5" };
      return sendReply(reply, { status: 503, headers, body: "<p>later</p>" });
    });
    const text = await app.inject({ url: "/text" });
    expect([text.statusCode, text.headers["content-type"], text.body]).toEqual([
      403,
      "text/plain; charset=utf-8",
      "no",
    ]);
    const json = await app.inject({ url: "/json" });
    expect([json.statusCode, json.headers["content-type"], json.json()]).toEqual([
      401,
      "application/json; charset=utf-8",
      { error: "x" },
    ]);
    const empty = await app.inject({ url: "/empty" });
    expect([empty.statusCode, empty.headers.location, empty.body]).toEqual([302, "/login", ""]);
    const html = await app.inject({ url: "/html" });
    expect([html.statusCode, html.headers["content-type"], html.headers["retry-after"], html.body]).toEqual([
      503,
      "text/html; charset=utf-8",
      "5",
      "<p>later</p>",
    ]);
  });

  it("keeps Set-Cookie headers the application set before the core replaces its own", async () => {
    const env = createEnv();
    app = Fastify();
    app.addHook("onRequest", async (_request, reply) => {
      reply.header("set-cookie", "theme=dark; Path=/");
    });
    await app.register(formbody);
    await app.register(loginManagerPlugin, { manager: env.manager });
    app.get("/form", (request) => request.auth.csrfToken());
    const res = await app.inject({ url: "/form" });
    const cookies = ([] as string[]).concat(res.headers["set-cookie"] ?? []);
    expect(cookies.map((cookie) => cookie.split("=")[0])).toEqual(["theme", "csrf"]);
  });
});
