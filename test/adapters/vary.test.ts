/**
 * A response to a logged-in user must vary on Cookie, and login-manager must add that to the app's
 * own Vary fields, never replace them: a shared cache would otherwise serve one Accept-Encoding or
 * Origin variant for another. Covers a Vary set before the middleware and one the handler sets
 * later, as far as each framework lets a middleware keep its field, and pins the documented limits
 * (see the adapters' TSDoc).
 */
import type { AddressInfo } from "node:net";
import { serve } from "@hono/node-server";
import express from "express";
import type { FastifyRequest } from "fastify";
import Fastify from "fastify";
import type { Context } from "hono";
import { Hono } from "hono";
import { cors } from "hono/cors";
import { mergeVary } from "login-manager";
import * as expressAdapter from "login-manager/express";
import * as fastifyAdapter from "login-manager/fastify";
import * as honoAdapter from "login-manager/hono";
import { createLoginCookie } from "login-manager/testing";
import { afterEach, describe, expect, it } from "vitest";
import type { AppClient, RawResponse, TestEnv } from "./harness.js";
import { createEnv, expressClient, fastifyClient, honoClient, USERS } from "./harness.js";

const alice = USERS.get("alice");
if (!alice) throw new Error("harness users changed");

/** The platform's Response, kept before @hono/node-server swaps in its own (its headers can be immutable). */
const NativeResponse = globalThis.Response;

/** What a test app is built with: the Vary an app middleware sets before login-manager's, if any. */
interface AppSetup {
  before?: string;
}

type Build = (env: TestEnv, setup: AppSetup) => Promise<AppClient>;

function greeting(isAuthenticated: boolean, id: () => string): string {
  return isAuthenticated ? `user ${id()}` : "anonymous";
}

async function buildExpress(env: TestEnv, { before }: AppSetup): Promise<AppClient> {
  const app = express();
  if (before !== undefined) {
    app.use((_req, res, next) => {
      res.setHeader("Vary", before);
      next();
    });
  }
  expressAdapter.initApp(app, env.manager);
  const page = (req: express.Request) =>
    greeting(req.auth.isAuthenticated, () => req.auth.requireUser().getId());
  app.get("/page", (req, res) => {
    res.send(page(req));
  });
  app.post("/page", (req, res) => {
    res.send(page(req));
  });
  app.get("/later/vary", (req, res) => {
    res.vary("Accept").send(page(req));
  });
  app.get("/later/append", (req, res) => {
    res.append("Vary", "Accept").send(page(req));
  });
  app.get("/later/set-header", (req, res) => {
    res.setHeader("Vary", "Accept");
    res.send(page(req));
  });
  return expressClient(app);
}

async function buildFastify(env: TestEnv, { before }: AppSetup): Promise<AppClient> {
  const app = Fastify();
  if (before !== undefined) {
    app.addHook("onRequest", (_request, reply, done) => {
      reply.header("vary", before);
      done();
    });
  }
  await app.register(fastifyAdapter.loginManagerPlugin, { manager: env.manager });
  const page = (request: FastifyRequest) =>
    greeting(request.auth.isAuthenticated, () => request.auth.requireUser().getId());
  app.get("/page", async (request) => page(request));
  app.post("/page", async (request) => page(request));
  app.get("/later/header", async (request, reply) => {
    reply.header("vary", "Accept");
    return page(request);
  });
  app.get("/later/merge-vary", async (request, reply) => {
    reply.header("vary", mergeVary(reply.getHeader("vary"), "Accept"));
    return page(request);
  });
  await app.ready();
  return fastifyClient(app);
}

/** The Hono app, with the handler writes to Vary that Hono offers. */
function honoApp(env: TestEnv, { before }: AppSetup): Hono {
  const app = new Hono();
  // hono/cors appends Vary: Origin after next(), in an outer middleware.
  app.use("/cors/*", cors({ origin: "http://localhost" }));
  if (before !== undefined) {
    app.use(async (c, next) => {
      c.header("Vary", before);
      await next();
    });
  }
  app.use(honoAdapter.loginManager(env.manager));
  const page = (c: Context) => greeting(c.var.auth.isAuthenticated, () => c.var.auth.requireUser().getId());
  app.get("/page", (c) => c.text(page(c)));
  app.post("/page", (c) => c.text(page(c)));
  app.get("/cors/page", (c) => c.text(page(c)));
  app.get("/later/header", (c) => {
    c.header("Vary", "Accept");
    return c.text(page(c));
  });
  app.get("/later/header-append", (c) => {
    c.header("Vary", "Accept", { append: true });
    return c.text(page(c));
  });
  app.get("/later/text-headers", (c) => c.text(page(c), 200, { Vary: "Accept" }));
  app.get("/later/raw-response", (c) => new Response(page(c), { headers: { vary: "Accept" } }));
  app.get(
    "/later/own-cache-control",
    (c) => new Response(page(c), { headers: { "cache-control": "private" } }),
  );
  app.get("/immutable", (c) => {
    const redirect = NativeResponse.redirect(`http://localhost/${encodeURIComponent(page(c))}`, 302);
    expect(() => redirect.headers.set("x-probe", "1")).toThrow(TypeError);
    return redirect;
  });
  return app;
}

async function buildHono(env: TestEnv, setup: AppSetup): Promise<AppClient> {
  return honoClient(honoApp(env, setup));
}

/** The Hono app behind a real @hono/node-server listener: headers also go through the Node response. */
async function buildHonoNode(env: TestEnv, setup: AppSetup): Promise<AppClient> {
  const server = serve({ fetch: honoApp(env, setup).fetch, port: 0, hostname: "127.0.0.1" });
  await new Promise((resolve) => server.once("listening", resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    async send(raw) {
      const res = await fetch(base + raw.path, {
        method: raw.method,
        headers: raw.headers,
        redirect: "manual",
      });
      const headers: Record<string, string> = {};
      res.headers.forEach((value, name) => {
        if (name !== "set-cookie") headers[name] = value;
      });
      return { status: res.status, headers, setCookies: res.headers.getSetCookie(), text: await res.text() };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * `responseVaryWins`: behind @hono/node-server the adapter writes Vary on the Node response (keeping
 * Hono's fast path open, see the adapter's TSDoc), so a Vary on the Response Hono sends replaces it,
 * Cookie included. These tests pin that documented limit; Cache-Control: no-store stays.
 */
const BUILDS: { name: string; build: Build; responseVaryWins: boolean }[] = [
  { name: "express", build: buildExpress, responseVaryWins: false },
  { name: "fastify", build: buildFastify, responseVaryWins: false },
  { name: "hono (app.request)", build: buildHono, responseVaryWins: false },
  { name: "hono (@hono/node-server)", build: buildHonoNode, responseVaryWins: true },
];

let apps: AppClient[] = [];

afterEach(async () => {
  await Promise.all(apps.map((app) => app.close()));
  apps = [];
});

/** Starts a test app over a memory store, with a logged-in session cookie for alice. */
async function start(build: Build, setup: AppSetup = {}) {
  const env = createEnv({ session: { protection: false } });
  const app = await build(env, setup);
  apps.push(app);
  const cookie = await createLoginCookie(env.manager, alice as NonNullable<typeof alice>);
  const get = (path: string, headers: Record<string, string> = {}): Promise<RawResponse> =>
    app.send({ method: "GET", path, headers: { host: "localhost", cookie, ...headers } });
  const post = (path: string): Promise<RawResponse> =>
    app.send({ method: "POST", path, headers: { host: "localhost", cookie } });
  const anonymous = (path: string): Promise<RawResponse> =>
    app.send({ method: "GET", path, headers: { host: "localhost" } });
  return { get, post, anonymous };
}

/** The response was for the logged-in user, so the Vary assertions are about the logged-in path. */
function expectLoggedIn(res: RawResponse): void {
  expect(res.status).toBe(200);
  expect(res.text).toBe("user 1");
}

describe.each(BUILDS)("$name: Vary on responses to a logged-in user", ({ build, responseVaryWins }) => {
  it("is Cookie when the app set no Vary", async () => {
    const { get } = await start(build);
    const res = await get("/page");
    expectLoggedIn(res);
    expect(res.headers.vary).toBe("Cookie");
  });

  it(`${responseVaryWins ? "loses Cookie to (documented)" : "keeps and adds Cookie to"} a Vary: Accept-Encoding set before the middleware`, async () => {
    const { get } = await start(build, { before: "Accept-Encoding" });
    const res = await get("/page");
    expectLoggedIn(res);
    expect(res.headers.vary).toBe(responseVaryWins ? "Accept-Encoding" : "Accept-Encoding, Cookie");
    expect(res.headers["cache-control"]).toBe("no-store");
  });

  it("does not add Cookie again when the Vary set before already lists it, in any case", async () => {
    const { get } = await start(build, { before: "Origin, cookie" });
    const res = await get("/page");
    expectLoggedIn(res);
    expect(res.headers.vary).toBe("Origin, cookie");
  });

  it("leaves a Vary: * set before the middleware alone", async () => {
    const { get } = await start(build, { before: "*" });
    const res = await get("/page");
    expectLoggedIn(res);
    expect(res.headers.vary).toBe("*");
  });

  it("treats the 403 of a failed CSRF check like any other response to the user", async () => {
    const { post } = await start(build, { before: "Accept-Encoding" });
    const res = await post("/page");
    expect(res.status).toBe(403);
    expect(res.headers.vary).toBe(responseVaryWins ? "Accept-Encoding" : "Accept-Encoding, Cookie");
  });
});

describe.each(BUILDS)("$name: Vary on anonymous responses", ({ build }) => {
  it("is not set by login-manager", async () => {
    const { anonymous } = await start(build);
    const res = await anonymous("/page");
    expect(res.text).toBe("anonymous");
    expect(res.headers.vary).toBeUndefined();
  });

  it("is the app's own, unchanged", async () => {
    const { anonymous } = await start(build, { before: "Accept-Encoding" });
    const res = await anonymous("/page");
    expect(res.text).toBe("anonymous");
    expect(res.headers.vary).toBe("Accept-Encoding");
  });
});

describe("express and fastify: a Vary the handler sets after login-manager ran", () => {
  it.each([
    ["express: res.vary('Accept') adds to it", buildExpress, "/later/vary", "Cookie, Accept"],
    ["express: res.append('Vary', 'Accept') adds to it", buildExpress, "/later/append", "Cookie, Accept"],
    [
      "express: res.setHeader('Vary', 'Accept') replaces it, Cookie included (Node sets, documented)",
      buildExpress,
      "/later/set-header",
      "Accept",
    ],
    [
      "fastify: reply.header('vary', 'Accept') replaces it, Cookie included (Fastify sets, documented)",
      buildFastify,
      "/later/header",
      "Accept",
    ],
    [
      "fastify: reply.header('vary', mergeVary(reply.getHeader('vary'), 'Accept')) adds to it",
      buildFastify,
      "/later/merge-vary",
      "Cookie, Accept",
    ],
  ])("%s", async (_name, build, path, vary) => {
    const { get } = await start(build);
    const res = await get(path);
    expectLoggedIn(res);
    expect(res.headers.vary).toBe(vary);
  });
});

describe.each(BUILDS.filter(({ name }) => name.startsWith("hono")))(
  "$name: a Vary the handler or an outer middleware sets after the middleware",
  ({ build, responseVaryWins }) => {
    const outcome = responseVaryWins ? "replaces Cookie (documented)" : "gets Cookie added";
    it.each([
      ["c.header('Vary', 'Accept')", "/later/header"],
      ["c.header('Vary', 'Accept', { append: true })", "/later/header-append"],
      ["c.text(body, 200, { Vary: 'Accept' })", "/later/text-headers"],
      ["a raw new Response with Vary: Accept", "/later/raw-response"],
    ])(`%s ${outcome}`, async (_name, path) => {
      const { get } = await start(build);
      const res = await get(path);
      expectLoggedIn(res);
      expect(res.headers.vary).toBe(responseVaryWins ? "Accept" : "Accept, Cookie");
      expect(res.headers["cache-control"]).toBe("no-store");
    });

    it("a Response with its own Cache-Control keeps it: the app's explicit choice wins over no-store", async () => {
      const { get } = await start(build);
      const res = await get("/later/own-cache-control");
      expectLoggedIn(res);
      expect(res.headers["cache-control"]).toBe("private");
    });

    it(`hono/cors appending Vary: Origin after next() ${outcome}`, async () => {
      const { get } = await start(build);
      const res = await get("/cors/page", { origin: "http://localhost" });
      expectLoggedIn(res);
      expect(res.headers.vary).toBe(responseVaryWins ? "Origin" : "Cookie, Origin");
    });

    it("a returned Response with immutable headers (as from fetch()) still gets Vary: Cookie", async () => {
      const { get } = await start(build);
      const res = await get("/immutable");
      expect(res.status).toBe(302);
      expect(res.headers.location).toBe("http://localhost/user%201");
      expect(res.headers.vary).toBe("Cookie");
    });
  },
);
