// The Flask-Login tutorial (https://flask-login.readthedocs.io/), step by step, in TypeScript.
import express from "express";
import { LoginManager, PasswordInputError, safeNextUrl, UserMixin } from "login-manager";
import { initApp, loginRequired } from "login-manager/express";
import { createPasswordHasher } from "login-manager/password";
import { MemoryStore } from "login-manager/stores/memory";

// 1. A user class. UserMixin gives isActive, isAuthenticated, isAnonymous and getId().
class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly passwordHash: string,
  ) {
    super();
  }
}

// 2. Somewhere to keep users (a real app uses its database).
const hasher = createPasswordHasher();
const users = new Map<string, User>();

// 3. The login manager: a secret, a session store, a user loader and the login page.
export function createApp(secret: string) {
  const manager = new LoginManager<User>({
    secret,
    store: new MemoryStore(),
    views: { loginView: "/login" },
    userLoader: (id) => users.get(id) ?? null,
  });

  const app = express();
  initApp(app, manager);

  // 4. The login page and the login route.
  app.get("/login", (req, res) => {
    res.type("html").send(`<form method="post">
      <input name="email" autocomplete="username"> <input name="password" type="password" autocomplete="current-password">
      <input type="hidden" name="_csrf" value="${req.auth.csrfToken()}"> <button>Login</button></form>`);
  });

  app.post("/login", async (req, res) => {
    const body = req.body ?? {}; // no body at all when the CSRF token came in a header
    const email = String(body.email ?? "")
      .trim()
      .toLowerCase(); // canonical, like the user lookup
    const password = String(body.password ?? "");
    const result = await req.auth.attemptLogin({
      account: email,
      verify: async () => {
        try {
          const user = users.get(email);
          if (!user) return await hasher.verifyDummy(password).then(() => null); // same work for unknown users
          return (await hasher.verify(user.passwordHash, password)) ? user : null;
        } catch (error) {
          if (error instanceof PasswordInputError) return null; // over-long: refused before hashing
          throw error;
        }
      },
    });
    if (result.ok) return res.redirect(303, safeNextUrl(req.query.next, "/protected"));
    if (result.retryAfterSeconds !== undefined)
      res.set("retry-after", String(result.retryAfterSeconds)).status(429);
    else res.status(401);
    res.send("Bad login");
  });

  // 5. A protected page.
  app.get("/protected", loginRequired, (req, res) => {
    res.send(`Logged in as: ${req.auth.requireUser().getId()}`);
  });

  // 6. Logging out is a POST (with the CSRF token), never a GET.
  app.post("/logout", async (req, res) => {
    await req.auth.logoutUser();
    res.send("Logged out");
  });

  return { app, manager };
}

/** Adds a user to the tutorial's in-memory "database". */
export async function addUser(email: string, password: string): Promise<void> {
  users.set(email, new User(email, await hasher.hash(password)));
}
