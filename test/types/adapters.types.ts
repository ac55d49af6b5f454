/**
 * Compile-time checks of the adapters' request typing (`npx tsc -p tsconfig.json --noEmit` runs
 * them; nothing here executes). The `Register` pattern is checked in its own compilation under
 * `.register/` (see `register.test.ts`), because declaration merging would change `RegisteredUser`
 * for this whole project.
 */
import type { HttpBindings } from "@hono/node-server";
import type { Request as ExpressRequest } from "express";
import express from "express";
import type { FastifyRequest } from "fastify";
import Fastify from "fastify";
import type { Context } from "hono";
import { Hono } from "hono";
import type { AuthContext, AuthUser, RegisteredUser } from "login-manager";
import { LoginManager, UserMixin } from "login-manager";
import * as expressAdapter from "login-manager/express";
import * as fastifyAdapter from "login-manager/fastify";
import * as honoAdapter from "login-manager/hono";
import { MemoryStore } from "login-manager/stores/memory";

type Equal<X, Y> = (<T>() => T extends X ? 1 : 2) extends <T>() => T extends Y ? 1 : 2 ? true : false;
type Expect<T extends true> = T;

/** Each entry fails to compile when the adapter's typing drifts. */
export type AdapterTypeChecks = [
  Expect<Equal<ExpressRequest["auth"], AuthContext<RegisteredUser>>>,
  Expect<Equal<FastifyRequest["auth"], AuthContext<RegisteredUser>>>,
  Expect<Equal<Context["var"]["auth"], AuthContext<RegisteredUser>>>,
  // This project registers no user type: the fixture under .register/ must not leak into it.
  Expect<Equal<RegisteredUser, AuthUser>>,
];

class Member extends UserMixin {
  constructor(
    readonly id: number,
    readonly email: string,
  ) {
    super();
  }
}

/** Typical application code for each adapter must compile as written. */
export async function adapterUsage(): Promise<void> {
  const manager = new LoginManager<Member>({
    secret: "x".repeat(32),
    store: new MemoryStore(),
    userLoader: (id) => new Member(Number(id), "m@example.com"),
  });

  const app = express();
  expressAdapter.initApp(app, manager);
  app.get("/", expressAdapter.loginRequired, (req, res) => {
    const auth: AuthContext<RegisteredUser> = req.auth;
    res.send(auth.requireUser().getId());
  });

  const fastify = Fastify();
  // Any LoginManager is accepted, whatever its user type.
  await fastify.register(fastifyAdapter.loginManagerPlugin, { manager });
  await fastify.register(fastifyAdapter.default, {
    manager,
    onStoreUnavailable: (error, _request, reply) => reply.code(503).send(error.message),
  });
  // @ts-expect-error the manager option is required
  await fastify.register(fastifyAdapter.loginManagerPlugin, {});
  fastify.get("/", { preHandler: fastifyAdapter.loginRequired }, async (request) => {
    const auth: AuthContext<RegisteredUser> = request.auth;
    return auth.requireUser().getId();
  });
  fastify.get<{ Querystring: { q: string }; Reply: string }>(
    "/typed",
    { preHandler: [fastifyAdapter.loginRequired, fastifyAdapter.freshLoginRequired] },
    async (request) => `${request.query.q} ${request.auth.isAuthenticated}`,
  );

  const hono = new Hono<{ Bindings: HttpBindings }>();
  hono.use(honoAdapter.loginManager(manager, { bodyLimitBytes: 1024 }));
  hono.get("/", honoAdapter.loginRequired, (c) => {
    const auth: AuthContext<RegisteredUser> = c.var.auth;
    const same: AuthContext<RegisteredUser> = c.get("auth");
    // @ts-expect-error c.var.auth is typed, not any
    c.var.auth.noSuchMethod();
    return c.text(`${auth.requireUser().getId()} ${same.isAuthenticated}`);
  });
  hono.post("/", honoAdapter.freshLoginRequired, (c) =>
    honoAdapter.sendReply(c, { status: 401, headers: {}, body: { error: "no" } }),
  );
}
