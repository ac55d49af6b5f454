/**
 * One framework (BENCH_FRAMEWORK: express|fastify|hono), one process, routes that each add one piece of
 * what `/protected` does, so `bench/decompose.ts` can say where the per-request cost goes:
 *
 *   GET /hello       the bare route
 *   GET /hook        the bare route behind one no-op middleware (Express, Hono) or preHandler (Fastify)
 *   GET /headers     the bare route setting Cache-Control and Vary, as login-manager does for a user
 *   GET /spin        the bare route behind a middleware that busy-waits SPIN_NS (default 8000) ns
 *   GET /identified  login-manager's middleware (plugin), no guard; the handler reads the user
 *   GET /protected   login-manager's middleware, loginRequired and currentUser(), as in lm-server.ts
 *
 * The session cookie is made in process with `createLoginCookie` (no HTTP login). Memory store.
 * Prints {"ready":true,"port":N,"pid":N,"cookie":"...","userAgent":"..."} on stdout once listening on
 * 127.0.0.1.
 */
import type { Server } from "node:http";
import type * as Core from "../../src/index.js";
import type * as Memory from "../../src/stores/memory/index.js";
import type * as Testing from "../../src/testing/index.js";
import { expressWithHello, HELLO } from "../lib/bare-apps.js";
import { importLib } from "../lib/lib.js";

const { currentUser, LoginManager, UserMixin } = await importLib<typeof Core>("index");
const { MemoryStore } = await importLib<typeof Memory>("stores/memory/index");
const { createLoginCookie } = await importLib<typeof Testing>("testing/index");

class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly name: string,
  ) {
    super();
  }
}

/** The User-Agent the load generator must send (session protection compares it); in the ready line. */
const USER_AGENT = "decompose-bench";
const spinNs = BigInt(process.env.SPIN_NS ?? 8000);
const alice = new User("1", "alice");
const manager = new LoginManager<User>({
  secret: "bench-secret-bench-secret-bench-secret-0123456789",
  store: new MemoryStore(),
  userLoader: (id) => (id === "1" ? alice : null),
});
const cookie = await createLoginCookie(manager, alice, { userAgent: USER_AGENT, remoteAddress: "127.0.0.1" });

/** Busy-waits: CPU work of a known length that allocates nothing a garbage collector would notice. */
function spin(): void {
  const end = process.hrtime.bigint() + spinNs;
  while (process.hrtime.bigint() < end);
}

function greeting(): string {
  return `Hello, ${(currentUser<User>() as User).name}!`;
}

async function expressServer(): Promise<Server> {
  const { loginManagerMiddleware, loginRequired } =
    await importLib<typeof import("../../src/express/index.js")>("express/index");
  const app = await expressWithHello();
  app.get(
    "/hook",
    (_req, _res, next) => next(),
    (_req, res) => {
      res.send(HELLO);
    },
  );
  app.get("/headers", (_req, res) => {
    res.setHeader("cache-control", "no-store");
    res.setHeader("vary", "Cookie");
    res.send(HELLO);
  });
  app.get(
    "/spin",
    (_req, _res, next) => {
      spin();
      next();
    },
    (_req, res) => {
      res.send(HELLO);
    },
  );
  const authenticate = loginManagerMiddleware(manager);
  app.get("/identified", authenticate, (req, res) => {
    res.send(`Hello, ${(req.auth.user as User).name}!`);
  });
  app.get("/protected", authenticate, loginRequired, (_req, res) => {
    res.send(greeting());
  });
  return new Promise((resolve) => {
    const server = app.listen(0, "127.0.0.1", () => resolve(server));
  });
}

async function fastifyServer(): Promise<Server> {
  const { default: Fastify } = await import("fastify");
  const { loginManagerPlugin, loginRequired } =
    await importLib<typeof import("../../src/fastify/index.js")>("fastify/index");
  const app = Fastify({ logger: false });
  app.get("/hello", async () => HELLO);
  app.get("/hook", { preHandler: (_request, _reply, done) => done() }, async () => HELLO);
  app.get("/headers", async (_request, reply) => {
    reply.header("cache-control", "no-store");
    reply.header("vary", "Cookie");
    return HELLO;
  });
  app.get(
    "/spin",
    {
      preHandler: (_request, _reply, done) => {
        spin();
        done();
      },
    },
    async () => HELLO,
  );
  await app.register(async (scope) => {
    await scope.register(loginManagerPlugin, { manager });
    scope.get("/identified", async (request) => `Hello, ${(request.auth.user as User).name}!`);
    scope.get("/protected", { preHandler: loginRequired }, async () => greeting());
  });
  await app.listen({ port: 0, host: "127.0.0.1" });
  return app.server;
}

async function honoServer(): Promise<Server> {
  const { Hono } = await import("hono");
  const { serve } = await import("@hono/node-server");
  const { loginManager, loginRequired } =
    await importLib<typeof import("../../src/hono/index.js")>("hono/index");
  const app = new Hono();
  app.get("/hello", (c) => c.text(HELLO));
  app.get(
    "/hook",
    (_c, next) => next(),
    (c) => c.text(HELLO),
  );
  app.get("/headers", (c) => {
    c.header("cache-control", "no-store");
    c.header("vary", "Cookie");
    return c.text(HELLO);
  });
  app.get(
    "/spin",
    (_c, next) => {
      spin();
      return next();
    },
    (c) => c.text(HELLO),
  );
  const authed = new Hono();
  authed.use(loginManager(manager));
  authed.get("/identified", (c) => c.text(`Hello, ${(c.var.auth.user as User).name}!`));
  authed.get("/protected", loginRequired, (c) => c.text(greeting()));
  app.route("/", authed);
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () =>
      resolve(server as Server),
    );
  });
}

const framework = process.env.BENCH_FRAMEWORK ?? "fastify";
const builders: Record<string, () => Promise<Server>> = {
  express: expressServer,
  fastify: fastifyServer,
  hono: honoServer,
};
const build = builders[framework];
if (!build) throw new Error(`unknown BENCH_FRAMEWORK ${framework}`);
const server = await build();
const address = server.address();
const port = typeof address === "object" && address ? address.port : 0;
console.log(JSON.stringify({ ready: true, port, pid: process.pid, cookie, userAgent: USER_AGENT }));
process.once("SIGTERM", () => server.close(() => process.exit(0)));
