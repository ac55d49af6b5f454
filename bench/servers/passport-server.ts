/**
 * The peer: Express 5 + express-session + passport 0.7, the usual setup (sessions serialized by
 * user id, deserializeUser on every request). BENCH_STORE=memory (express-session's MemoryStore) or
 * redis (connect-redis on a node-redis client). Same routes as lm-server.ts: /hello before the
 * session middleware, /protected behind an isAuthenticated() guard, POST /login (no password hashing:
 * logs the named user in directly, the benchmark only needs the cookie).
 */
import type { Server } from "node:http";
import express from "express";
import session from "express-session";
import passport from "passport";

interface User {
  id: string;
  name: string;
}
const users = new Map<string, User>();
for (let i = 0; i < 64; i++) users.set(String(i), { id: String(i), name: `user${i}` });
const byName = new Map([...users.values()].map((user) => [user.name, user]));
const storeKind = process.env.BENCH_STORE ?? "memory";
const closers: (() => Promise<unknown>)[] = [];

async function makeStore(): Promise<session.Store | undefined> {
  if (storeKind === "memory") return undefined;
  const { createClient } = await import("redis");
  const { RedisStore } = await import("connect-redis");
  const client = createClient({ url: process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379" });
  client.on("error", () => undefined);
  await client.connect();
  closers.push(async () => client.destroy());
  return new RedisStore({ client, prefix: "passport-bench:" });
}

passport.serializeUser<string>((user, done) => done(null, (user as User).id));
passport.deserializeUser<string>((id, done) => done(null, users.get(id) ?? false));

const app = express();
app.set("etag", false);
app.set("x-powered-by", false);
app.get("/hello", (_req, res) => {
  res.send("Hello, World!");
});
app.use(
  session({
    secret: "bench-secret-bench-secret-bench-secret-0123456789",
    resave: false,
    saveUninitialized: false,
    store: await makeStore(),
    cookie: { httpOnly: true, sameSite: "lax" },
  }),
);
app.use(passport.initialize());
app.use(passport.session());
app.use(express.json());
app.post("/login", (req, res, next) => {
  const user = byName.get(String((req.body as { username?: unknown } | undefined)?.username));
  if (!user) {
    res.status(401).send("no");
    return;
  }
  req.login(user, (error) => {
    if (error) next(error);
    else res.send("ok");
  });
});
app.get("/protected", (req, res) => {
  if (!req.isAuthenticated()) {
    res.status(401).send("Unauthorized");
    return;
  }
  res.send(`Hello, ${(req.user as User).name}!`);
});

const server: Server = await new Promise((resolve) => {
  const s = app.listen(0, "127.0.0.1", () => resolve(s));
});
server.keepAliveTimeout = 60_000;
const address = server.address();
process.stdout.write(
  `${JSON.stringify({ ready: true, port: typeof address === "object" && address ? address.port : 0, pid: process.pid })}\n`,
);
async function shutdown(): Promise<void> {
  server.close();
  server.closeAllConnections();
  for (const close of closers) await close().catch(() => undefined);
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown());
process.on("SIGINT", () => void shutdown());
