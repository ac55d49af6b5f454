import { Hono } from "hono";
import { html } from "hono/html";
import type { SessionStore } from "login-manager";
import { currentUser, LoginManager, safeNextUrl, UserMixin } from "login-manager";
import { loginManager, loginRequired } from "login-manager/hono";
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
 * serve({ fetch: app.fetch, port: 3000 }); // from "@hono/node-server"
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

  const app = new Hono();
  app.get("/healthz", (c) => c.text("ok")); // registered before the middleware: no session work
  app.use(
    loginManager(manager, {
      // Without this option the answer is a plain 503 with Retry-After (JSON for API clients).
      onStoreUnavailable: (_error, c) =>
        c.text("Sign-in is briefly unavailable.", 503, { "retry-after": "5" }),
    }),
  );

  app.get("/", (c) => {
    const user = currentUser(); // anywhere in the request, even after an await
    return c.text(user.isAnonymous ? "Hello, stranger" : `Hello, ${user.getId()}`);
  });

  // loginRequired flashed "Please log in to access this page." before redirecting here.
  app.get("/login", (c) =>
    c.html(html`${c.var.auth.takeFlashes().map((flash) => html`<p>${flash.message}</p>\n`)}<form method="post">
  <input name="username" autocomplete="username">
  <input name="password" type="password" autocomplete="current-password">
  <label><input name="remember" type="checkbox" value="1"> Remember me</label>
  <input type="hidden" name="_csrf" value="${c.var.auth.csrfToken()}">
  <button>Log in</button>
</form>`),
  );

  app.post("/login", async (c) => {
    const form = await c.req.parseBody(); // already read (and size-checked) by the middleware
    const username = String(form.username ?? "");
    const password = String(form.password ?? "");
    const result = await c.var.auth.attemptLogin({
      account: username,
      remember: form.remember === "1",
      verify: async () => {
        const user = users.get(username);
        if (!user) return hasher.verifyDummy(password).then(() => null); // same work for unknown users
        return (await hasher.verify(user.passwordHash, password)) ? user : null;
      },
    });
    if (result.ok) return c.redirect(safeNextUrl(c.req.query("next"), "/account"), 303);
    if (result.retryAfterSeconds !== undefined)
      return c.text("Wrong username or password.", 429, { "retry-after": String(result.retryAfterSeconds) });
    return c.text("Wrong username or password.", 401);
  });

  app.get("/account", loginRequired, (c) =>
    c.html(html`<p>Signed in as ${c.var.auth.requireUser().getId()}</p>
<form method="post" action="/logout">
  <input type="hidden" name="_csrf" value="${c.var.auth.csrfToken()}">
  <button>Log out</button>
</form>`),
  );

  app.post("/logout", async (c) => {
    await c.var.auth.logoutUser();
    return c.redirect("/", 303);
  });

  return app;
}
