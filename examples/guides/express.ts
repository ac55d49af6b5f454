import express from "express";
import type { SessionStore } from "login-manager";
import { currentUser, LoginManager, safeNextUrl, UserMixin } from "login-manager";
import { initApp, loginRequired } from "login-manager/express";
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
 * app.listen(3000);
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

  const app = express();
  app.get("/healthz", (_req, res) => res.send("ok")); // mounted before initApp: no session work
  initApp(app, manager, {
    // Without this option the answer is a plain 503 with Retry-After (JSON for API clients).
    onStoreUnavailable: (_error, _req, res) => {
      res.status(503).set("retry-after", "5").type("text/plain").send("Sign-in is briefly unavailable.");
    },
  });

  app.get("/", (_req, res) => {
    const user = currentUser(); // anywhere in the request, even after an await
    res.type("text/plain").send(user.isAnonymous ? "Hello, stranger" : `Hello, ${user.getId()}`);
  });

  app.get("/login", (req, res) => {
    // loginRequired flashed "Please log in to access this page." before redirecting here.
    const flashes = req.auth.takeFlashes().map((flash) => `<p>${escapeHtml(flash.message)}</p>\n`);
    res.type("html").send(`${flashes.join("")}<form method="post">
  <input name="username" autocomplete="username">
  <input name="password" type="password" autocomplete="current-password">
  <label><input name="remember" type="checkbox" value="1"> Remember me</label>
  <input type="hidden" name="_csrf" value="${req.auth.csrfToken()}">
  <button>Log in</button>
</form>`);
  });

  app.post("/login", async (req, res) => {
    const username = String(req.body.username ?? "");
    const password = String(req.body.password ?? "");
    const result = await req.auth.attemptLogin({
      account: username,
      remember: req.body.remember === "1",
      verify: async () => {
        const user = users.get(username);
        if (!user) return hasher.verifyDummy(password).then(() => null); // same work for unknown users
        return (await hasher.verify(user.passwordHash, password)) ? user : null;
      },
    });
    if (result.ok) return res.redirect(303, safeNextUrl(req.query.next, "/account"));
    if (result.retryAfterSeconds !== undefined)
      res.status(429).set("retry-after", String(result.retryAfterSeconds));
    else res.status(401);
    res.type("text/plain").send("Wrong username or password.");
  });

  app.get("/account", loginRequired, (req, res) => {
    res.type("html").send(`<p>Signed in as ${escapeHtml(req.auth.requireUser().getId())}</p>
<form method="post" action="/logout">
  <input type="hidden" name="_csrf" value="${req.auth.csrfToken()}">
  <button>Log out</button>
</form>`);
  });

  app.post("/logout", async (req, res) => {
    await req.auth.logoutUser();
    res.redirect(303, "/");
  });

  return app;
}
