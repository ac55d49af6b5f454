import formbody from "@fastify/formbody";
import Fastify from "fastify";
import type { SessionStore } from "login-manager";
import { currentUser, LoginManager, safeNextUrl, UserMixin } from "login-manager";
import { loginManagerPlugin, loginRequired } from "login-manager/fastify";
import { createPasswordHasher } from "login-manager/password";
import { MemoryStore } from "login-manager/stores/memory";

// Your user class: UserMixin supplies getId(), isActive, isAuthenticated and isAnonymous.
class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly passwordHash: string,
  ) {
    super();
  }
}

const hasher = createPasswordHasher();

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);

interface LoginForm {
  username?: string;
  password?: string;
  remember?: string;
}

/** What the app needs: a secret of 32+ random characters, and a session store. */
export interface AppOptions {
  secret: string;
  /** @default a MemoryStore (use SQLite, PostgreSQL or Redis in production) */
  store?: SessionStore;
}

/**
 * Builds the app.
 *
 * @example
 * ```ts
 * const app = await createApp({ secret: process.env.SECRET_KEY ?? "" });
 * await app.listen({ port: 3000 });
 * ```
 */
export async function createApp({ secret, store = new MemoryStore() }: AppOptions) {
  // A real app keeps its users in a database.
  const users = new Map([["alice", new User("alice", await hasher.hash("correct horse battery staple"))]]);

  const manager = new LoginManager<User>({
    secret,
    store,
    views: { loginView: "/login" },
    userLoader: (id) => users.get(id) ?? null,
  });

  // Bodies are parsed before the CSRF check reads `_csrf`: keep the limit small.
  const app = Fastify({ bodyLimit: 16_384 });
  await app.register(formbody);
  await app.register(loginManagerPlugin, {
    manager,
    // Without this option the answer is a plain 503 with Retry-After (JSON for API clients).
    onStoreUnavailable: (_error, _request, reply) =>
      reply.code(503).header("retry-after", "5").type("text/plain").send("Sign-in is briefly unavailable."),
  });

  app.get("/", async () => {
    const user = currentUser(); // anywhere in the request, even after an await
    return user.isAnonymous ? "Hello, stranger" : `Hello, ${user.getId()}`;
  });

  app.get("/login", async (request, reply) => {
    // loginRequired flashed "Please log in to access this page." before redirecting here.
    const flashes = request.auth.takeFlashes().map((flash) => `<p>${escapeHtml(flash.message)}</p>\n`);
    return reply.type("text/html").send(`${flashes.join("")}<form method="post">
  <input name="username" autocomplete="username">
  <input name="password" type="password" autocomplete="current-password">
  <label><input name="remember" type="checkbox" value="1"> Remember me</label>
  <input type="hidden" name="_csrf" value="${request.auth.csrfToken()}">
  <button>Log in</button>
</form>`);
  });

  app.post<{ Body: LoginForm; Querystring: { next?: string } }>("/login", async (request, reply) => {
    const username = String(request.body.username ?? "");
    const password = String(request.body.password ?? "");
    const result = await request.auth.attemptLogin({
      account: username,
      remember: request.body.remember === "1",
      verify: async () => {
        const user = users.get(username);
        if (!user) return hasher.verifyDummy(password).then(() => null); // same work for unknown users
        return (await hasher.verify(user.passwordHash, password)) ? user : null;
      },
    });
    if (result.ok) return reply.redirect(safeNextUrl(request.query.next, "/account"), 303);
    if (result.retryAfterSeconds !== undefined)
      reply.code(429).header("retry-after", String(result.retryAfterSeconds));
    else reply.code(401);
    return reply.type("text/plain").send("Wrong username or password.");
  });

  app.get("/account", { preHandler: loginRequired }, async (request, reply) => {
    return reply.type("text/html").send(`<p>Signed in as ${escapeHtml(request.auth.requireUser().getId())}</p>
<form method="post" action="/logout">
  <input type="hidden" name="_csrf" value="${request.auth.csrfToken()}">
  <button>Log out</button>
</form>`);
  });

  app.post("/logout", async (request, reply) => {
    await request.auth.logoutUser();
    return reply.redirect("/", 303);
  });

  return app;
}
