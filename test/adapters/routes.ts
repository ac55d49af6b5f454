/**
 * The routes every test app of `harness.ts` serves, the same on Express, Fastify and Hono: each one a
 * framework-neutral action the builders only translate (body in, {@link Answer} out).
 */
import { setImmediate as nextTick } from "node:timers/promises";
import type { AuthContext } from "login-manager";
import { currentUser, UserMixin } from "login-manager";
import type { TestEnv } from "./harness.js";

/** A user of the test apps. */
export class TestUser extends UserMixin {
  constructor(
    readonly id: string,
    readonly username: string,
  ) {
    super();
  }
}

/** The users every test app knows, by username. */
export const USERS: ReadonlyMap<string, TestUser> = new Map([
  ["alice", new TestUser("1", "alice")],
  ["bob", new TestUser("2", "bob")],
]);

/** The password every test user has, for the routes that check one. */
export const RIGHT_PASSWORD = "right";

/** What every app answers; the framework handlers only translate these. */
export interface Answer {
  status: number;
  text?: string;
  json?: unknown;
}

/** One route of the test apps. `guard` puts `loginRequired` or `freshLoginRequired` before it. */
export interface TestRoute {
  method: "GET" | "POST";
  path: string;
  guard?: "login" | "fresh";
  run(auth: AuthContext<TestUser>, body: Record<string, unknown>, env: TestEnv): Answer | Promise<Answer>;
}

const text = (status: number, body: string): Answer => ({ status, text: body });

async function login(auth: AuthContext<TestUser>, body: Record<string, unknown>): Promise<Answer> {
  const user = typeof body.username === "string" ? USERS.get(body.username) : undefined;
  if (!user) return text(401, "invalid");
  await auth.loginUser(user, { remember: body.remember === "1" || body.remember === true });
  return text(200, `logged in ${user.getId()}`);
}

/** A password login through `attemptLogin`: 200, 401 for a wrong password, 429 when locked. */
async function attempt(auth: AuthContext<TestUser>, body: Record<string, unknown>): Promise<Answer> {
  const account = String(body.username ?? "");
  const result = await auth.attemptLogin({
    account,
    remember: body.remember === "1",
    verify: async () => (body.password === RIGHT_PASSWORD ? (USERS.get(account) ?? null) : null),
  });
  if (result.ok) return text(200, `logged in ${result.user.getId()}`);
  return text(result.reason === "locked" ? 429 : 401, "invalid");
}

async function reauthAttempt(auth: AuthContext<TestUser>, body: Record<string, unknown>): Promise<Answer> {
  const result = await auth.attemptReauth({
    account: auth.requireUser().username, // what /attempt counts: one budget
    verify: async () => body.password === RIGHT_PASSWORD,
  });
  return result.ok ? text(200, "confirmed") : text(401, "invalid");
}

async function sessions(auth: AuthContext<TestUser>): Promise<Answer> {
  return { status: 200, json: (await auth.listSessions()).map((session) => session.handle) };
}

/** Every route of the test apps (OPTIONS /protected aside, which each builder adds itself). */
export const ROUTES: readonly TestRoute[] = [
  { method: "GET", path: "/form", run: (auth) => text(200, auth.csrfToken()) },
  { method: "GET", path: "/login", run: () => text(200, "login page") },
  { method: "GET", path: "/reauth", run: () => text(200, "reauth page") },
  { method: "POST", path: "/login", run: login },
  {
    method: "POST",
    path: "/login-twice",
    // Logs alice in, then bob, in one request: the response must carry one cookie per name.
    async run(auth) {
      await auth.loginUser(USERS.get("alice") as TestUser);
      await auth.loginUser(USERS.get("bob") as TestUser);
      return text(200, "logged in twice");
    },
  },
  {
    method: "POST",
    path: "/logout",
    async run(auth) {
      await auth.logoutUser();
      return text(200, "logged out");
    },
  },
  {
    method: "GET",
    path: "/protected",
    guard: "login",
    // Reads the user through AsyncLocalStorage after a real event-loop turn.
    async run() {
      await nextTick();
      return text(200, `user ${currentUser().getId()}`);
    },
  },
  { method: "GET", path: "/fresh", guard: "fresh", run: () => text(200, "fresh ok") },
  {
    method: "POST",
    path: "/reauth",
    guard: "login",
    async run(auth) {
      await auth.confirmLogin();
      return text(200, "confirmed");
    },
  },
  {
    method: "GET",
    path: "/whoami",
    run: (auth) => ({
      status: 200,
      json: {
        user: auth.isAuthenticated ? auth.requireUser().getId() : null,
        fresh: auth.loginFresh(),
        source: auth.source,
      },
    }),
  },
  {
    method: "GET",
    path: "/boom",
    // A handler that fails: the framework's error response must keep the cookies already set.
    async run() {
      await nextTick();
      throw new Error("boom");
    },
  },
  { method: "POST", path: "/attempt", run: attempt },
  { method: "POST", path: "/reauth-attempt", guard: "login", run: reauthAttempt },
  { method: "GET", path: "/sessions", guard: "login", run: sessions },
  {
    method: "POST",
    path: "/sessions/revoke",
    guard: "login",
    run: async (auth, body) => text(200, String(await auth.revokeSession(String(body.handle)))),
  },
  {
    method: "POST",
    path: "/sessions/revoke-others",
    guard: "login",
    run: async (auth) => text(200, String(await auth.revokeOtherSessions())),
  },
  {
    method: "POST",
    path: "/password-changed",
    guard: "fresh",
    run: async (auth) => text(200, String(await auth.afterPasswordChange())),
  },
  {
    method: "POST",
    path: "/admin/revoke",
    guard: "login",
    run: async (_auth, body, env) => text(200, String(await env.manager.revokeUserSessions(String(body.id)))),
  },
];
