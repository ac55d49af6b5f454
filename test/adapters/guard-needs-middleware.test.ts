/**
 * `loginRequired` finds its manager through the request's context. Without login-manager's
 * middleware, or when something else put its own `auth` on the request, the guard must refuse with
 * the ConfigurationError that names the fix: never let the request through, never crash with a
 * TypeError from reading a stranger's object.
 */
import express from "express";
import Fastify from "fastify";
import { Hono } from "hono";
import * as expressAdapter from "login-manager/express";
import * as fastifyAdapter from "login-manager/fastify";
import * as honoAdapter from "login-manager/hono";
import { afterEach, describe, expect, it } from "vitest";
import type { AppClient } from "./harness.js";
import { expressClient, fastifyClient, honoClient } from "./harness.js";

/** What another library might leave on the request: looks like a context, is not one. */
const FOREIGN_AUTH = { isAuthenticated: true, user: { id: "1" } };

type Build = (foreignAuth: boolean) => Promise<AppClient>;

async function buildExpress(foreignAuth: boolean): Promise<AppClient> {
  const app = express();
  if (foreignAuth) {
    app.use((req, _res, next) => {
      (req as unknown as { auth: unknown }).auth = FOREIGN_AUTH;
      next();
    });
  }
  app.get("/protected", expressAdapter.loginRequired, (_req, res) => {
    res.send("secret");
  });
  app.use((error: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    res.status(500).send(`${error.name}: ${error.message}`);
  });
  return expressClient(app);
}

async function buildFastify(foreignAuth: boolean): Promise<AppClient> {
  const app = Fastify();
  if (foreignAuth) {
    app.decorateRequest("auth", null as never);
    app.addHook("onRequest", (request, _reply, done) => {
      (request as unknown as { auth: unknown }).auth = FOREIGN_AUTH;
      done();
    });
  }
  app.get("/protected", { preHandler: fastifyAdapter.loginRequired }, async () => "secret");
  app.setErrorHandler((error: Error, _request, reply) => {
    void reply.code(500).send(`${error.name}: ${error.message}`);
  });
  await app.ready();
  return fastifyClient(app);
}

async function buildHono(foreignAuth: boolean): Promise<AppClient> {
  const app = new Hono();
  if (foreignAuth) {
    app.use(async (c, next) => {
      c.set("auth" as never, FOREIGN_AUTH as never);
      await next();
    });
  }
  app.get("/protected", honoAdapter.loginRequired, (c) => c.text("secret"));
  app.onError((error, c) => c.text(`${error.name}: ${error.message}`, 500));
  return honoClient(app);
}

const BUILDS: { name: string; build: Build }[] = [
  { name: "express", build: buildExpress },
  { name: "fastify", build: buildFastify },
  { name: "hono", build: buildHono },
];

describe.each(BUILDS)("$name loginRequired without login-manager's middleware", ({ build }) => {
  let app: AppClient | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  async function get(foreignAuth: boolean) {
    app = await build(foreignAuth);
    return app.send({ method: "GET", path: "/protected", headers: {} });
  }

  it("refuses with a ConfigurationError that says to install the middleware", async () => {
    const res = await get(false);
    expect(res.status).toBe(500);
    expect(res.text).toMatch(/^ConfigurationError: loginRequired needs the login-manager/);
    expect(res.text).not.toContain("secret");
  });

  it("refuses the same way when another library put its own `auth` object on the request", async () => {
    const res = await get(true);
    expect(res.status).toBe(500);
    expect(res.text).toMatch(/^ConfigurationError: loginRequired needs the login-manager/);
    expect(res.text).not.toContain("secret");
  });
});
