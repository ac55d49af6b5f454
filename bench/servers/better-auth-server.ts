/**
 * The peer: better-auth on Hono (@hono/node-server) with better-sqlite3, email + password sign-in,
 * default options (cookie cache off). /protected calls auth.api.getSession, as better-auth's Hono
 * guide does. POST /login signs up (first time) or signs in the named user; the benchmark only needs
 * the session cookie. BENCH_DATA_DIR holds the database file.
 */
import type { Server } from "node:http";
import { join } from "node:path";
import { serve } from "@hono/node-server";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import Database from "better-sqlite3";
import { Hono } from "hono";

const database = new Database(join(process.env.BENCH_DATA_DIR ?? ".", "better-auth.db"));
database.pragma("journal_mode = WAL");
const options = {
  database,
  secret: "bench-secret-bench-secret-bench-secret-0123456789",
  baseURL: "http://127.0.0.1",
  emailAndPassword: { enabled: true },
  telemetry: { enabled: false },
  logger: { disabled: true },
};
const { runMigrations } = await getMigrations(options);
await runMigrations();
const auth = betterAuth(options);

const app = new Hono();
app.get("/hello", (c) => c.text("Hello, World!"));
app.post("/login", async (c) => {
  const { username, password } = (await c.req.json()) as { username: string; password: string };
  const email = `${username}@example.com`;
  let response = await auth.api.signInEmail({ body: { email, password }, asResponse: true });
  if (!response.ok) {
    response = await auth.api.signUpEmail({ body: { email, password, name: username }, asResponse: true });
  }
  const headers = new Headers();
  for (const cookie of response.headers.getSetCookie()) headers.append("set-cookie", cookie);
  return new Response(response.ok ? "ok" : "no", { status: response.ok ? 200 : 401, headers });
});
app.get("/protected", async (c) => {
  const session = await auth.api.getSession({ headers: c.req.raw.headers });
  if (!session) return c.text("Unauthorized", 401);
  return c.text(`Hello, ${session.user.name}!`);
});

const server: Server = await new Promise((resolve) => {
  const s = serve({ fetch: app.fetch, port: 0, hostname: "127.0.0.1" }, () => resolve(s as Server));
});
server.keepAliveTimeout = 60_000;
const address = server.address();
process.stdout.write(
  `${JSON.stringify({ ready: true, port: typeof address === "object" && address ? address.port : 0, pid: process.pid })}\n`,
);
process.on("SIGTERM", () => {
  server.close();
  database.close();
  process.exit(0);
});
