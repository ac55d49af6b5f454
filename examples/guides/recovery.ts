import express from "express";
import type { SessionStore } from "login-manager";
import { LoginManager, PasswordInputError, UserMixin } from "login-manager";
import { initApp, loginRequired } from "login-manager/express";
import { type Clock, systemClock } from "login-manager/options";
import { createPasswordHasher } from "login-manager/password";
import { EmailVerification, PasswordReset } from "login-manager/recovery";
import { MemoryStore } from "login-manager/stores/memory";
import nodemailer from "nodemailer";

// Your user class: UserMixin supplies getId(), isActive, isAuthenticated and isAnonymous.
class User extends UserMixin {
  emailVerified = false;

  constructor(
    readonly id: string,
    readonly email: string,
    public passwordHash: string,
  ) {
    super();
  }
}

/** Your users. A real app keeps them in a database. */
class Users {
  readonly #byId = new Map<string, User>();

  add(user: User): void {
    this.#byId.set(user.id, user);
  }

  get(id: string): User | null {
    return this.#byId.get(id) ?? null;
  }

  /** Canonicalises the address as registration does; one lookup, found or not. */
  byEmail(email: string): User | null {
    const wanted = email.trim().toLowerCase();
    return [...this.#byId.values()].find((user) => user.email === wanted) ?? null;
  }
}

const hasher = createPasswordHasher();
/** Your policy for new passwords (ASVS 6.2.1: at least 8; 15 when the password is the only factor). */
const MIN_PASSWORD_LENGTH = 15;

/** Your policy first, then the hasher's own input checks (valid Unicode, at most 1024 UTF-8 bytes). */
async function hashNewPassword(password: string): Promise<{ hash: string } | { problem: string }> {
  // Check your list of common and breached passwords here too (ASVS 6.2.4, 6.2.12).
  if ([...password.normalize("NFKC")].length < MIN_PASSWORD_LENGTH) {
    return { problem: `Use at least ${MIN_PASSWORD_LENGTH} characters.` };
  }
  try {
    return { hash: await hasher.hash(password) };
  } catch (error) {
    if (error instanceof PasswordInputError) return { problem: error.message }; // never quotes the password
    throw error;
  }
}

/** Mail over SMTP, and links that start with the configured origin, never with the Host header. */
function mailerOf(smtpUrl: string, baseUrl: string) {
  const transport = nodemailer.createTransport(smtpUrl, { from: "Example <no-reply@example.com>" });
  return {
    async send(to: string, subject: string, text: string): Promise<void> {
      await transport.sendMail({ to, subject, text });
    },
    link(path: string, token: string): string {
      const url = new URL(path, baseUrl);
      url.searchParams.set("token", token);
      return url.href;
    },
  };
}
type Mailer = ReturnType<typeof mailerOf>;

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
const flashesOf = (req: express.Request) =>
  req.auth
    .takeFlashes()
    .map((flash) => `<p>${escapeHtml(flash.message)}</p>\n`)
    .join("");
// Links carry their token in the URL: keep it out of Referer headers and caches.
const noLeaks = (res: express.Response) =>
  res.set({ "referrer-policy": "no-referrer", "cache-control": "no-store" });
const deadLink = (res: express.Response) =>
  res.status(400).type("text/plain").send("This link has expired or was already used. Ask for a new one.");
const tooMany = (res: express.Response, seconds: number) =>
  res
    .status(429)
    .set("retry-after", String(seconds))
    .type("text/plain")
    .send("Too many requests. Try again later.");

/** What the app needs. `baseUrl` and `smtpUrl` come from configuration, never from a request. */
export interface AppOptions {
  /** 32+ random characters. */
  secret: string;
  /** The site's public origin, e.g. "https://app.example.com": every link in a mail starts with it. */
  baseUrl: string;
  /** The SMTP relay, e.g. "smtps://user:password@smtp.example.com:465". */
  smtpUrl: string;
  /** @default a MemoryStore (use SQLite, PostgreSQL or Redis in production) */
  store?: SessionStore;
  /** @default the system clock (tests pass a fake one) */
  clock?: Clock;
}

/** The app, and a way to wait for the mails it started. */
export interface RecoveryApp {
  app: express.Express;
  /** Resolves once every mail started so far has been handed to the relay (or failed). For shutdown. */
  mailsSettled(): Promise<void>;
}

/**
 * Builds the app: login, password reset by mail, e-mail verification.
 *
 * @example
 * ```ts
 * const { app, mailsSettled } = await createApp({ secret, baseUrl: "https://app.example.com", smtpUrl });
 * const server = app.listen(3000);
 * process.on("SIGTERM", () => server.close(async () => { await mailsSettled(); process.exit(0); }));
 * ```
 */
export async function createApp(options: AppOptions): Promise<RecoveryApp> {
  const { secret, baseUrl, smtpUrl, store = new MemoryStore(), clock = systemClock } = options;
  const users = new Users();
  users.add(new User("1", "ada@example.com", await hasher.hash("correct horse battery staple")));
  const mailer = mailerOf(smtpUrl, baseUrl);
  const manager = new LoginManager<User>({
    secret,
    store,
    clock,
    views: { loginView: "/login" },
    userLoader: (id) => users.get(id),
  });

  const reset = new PasswordReset(manager, {
    findUserByEmail: async (email) => users.byEmail(email),
    findUserById: async (id) => users.get(id),
    // To the address stored on the account found, never to the address as typed.
    sendResetMail: ({ user, token, expiresAt }) =>
      mailer.send(
        user.email,
        "Reset your password",
        `Someone asked to reset the password of your account. If it was you, open this link before ${expiresAt.toUTCString()}:\n\n` +
          `${mailer.link("/password/reset", token)}\n\nIf it was not you, ignore this mail: your password has not changed.\n`,
      ),
  });
  const verification = new EmailVerification(manager, {
    sendVerificationMail: ({ email, token }) =>
      mailer.send(
        email,
        "Confirm your e-mail address",
        `Open this link:\n\n${mailer.link("/email/verify", token)}\n`,
      ),
  });

  const app = express();
  initApp(app, manager);
  loginRoutes(app, users);
  passwordResetRoutes(app, reset, mailer);
  verificationRoutes(app, verification, users);
  const mailsSettled = async () => {
    await Promise.all([reset.deliveriesSettled(), verification.deliveriesSettled()]);
  };
  return { app, mailsSettled };
}

function loginRoutes(app: express.Express, users: Users): void {
  app.get("/login", (req, res) => {
    res.type("html").send(`${flashesOf(req)}<form method="post">
  <input name="email" type="email" autocomplete="username">
  <input name="password" type="password" autocomplete="current-password">
  <label><input name="remember" type="checkbox" value="1"> Remember me</label>
  <input type="hidden" name="_csrf" value="${req.auth.csrfToken()}">
  <button>Log in</button>
</form>
<a href="/password/forgot">Forgot your password?</a>`);
  });

  app.post("/login", async (req, res) => {
    const email = String(req.body.email ?? "")
      .trim()
      .toLowerCase();
    const password = String(req.body.password ?? "");
    const result = await req.auth.attemptLogin({
      account: email,
      remember: req.body.remember === "1",
      verify: async () => {
        const user = users.byEmail(email);
        if (!user) return hasher.verifyDummy(password).then(() => null); // same work for unknown users
        return (await hasher.verify(user.passwordHash, password)) ? user : null;
      },
    });
    if (result.ok) return res.redirect(303, "/account");
    if (result.retryAfterSeconds !== undefined) return tooMany(res, result.retryAfterSeconds);
    res.status(401).type("text/plain").send("Wrong e-mail address or password.");
  });

  app.get("/account", loginRequired, (req, res) => {
    const user = users.get(req.auth.requireUser().getId());
    if (!user) return res.sendStatus(404);
    const csrf = req.auth.csrfToken();
    const status = user.emailVerified ? "confirmed" : "not confirmed";
    res.type("html").send(`${flashesOf(req)}<p>Signed in as ${escapeHtml(user.email)} (${status})</p>
<form method="post" action="/email/verify/send">
  <input type="hidden" name="_csrf" value="${csrf}">
  <button>Send me a confirmation link</button>
</form>
<form method="post" action="/logout">
  <input type="hidden" name="_csrf" value="${csrf}">
  <button>Log out</button>
</form>`);
  });

  app.post("/logout", async (req, res) => {
    await req.auth.logoutUser();
    res.redirect(303, "/");
  });
}

function resetForm(token: string, csrf: string, problem = ""): string {
  return `${problem && `<p>${escapeHtml(problem)}</p>\n`}<form method="post" action="/password/reset">
  <input name="password" type="password" autocomplete="new-password" minlength="${MIN_PASSWORD_LENGTH}">
  <input type="hidden" name="token" value="${escapeHtml(token)}">
  <input type="hidden" name="_csrf" value="${csrf}">
  <button>Set password</button>
</form>`;
}

function passwordResetRoutes(app: express.Express, reset: PasswordReset<User>, mailer: Mailer): void {
  app.get("/password/forgot", (req, res) => {
    res.type("html").send(`<form method="post">
  <input name="email" type="email" autocomplete="username">
  <input type="hidden" name="_csrf" value="${req.auth.csrfToken()}">
  <button>Send me a link</button>
</form>`);
  });

  app.post("/password/forgot", async (req, res) => {
    // The same answer whether or not an account has the address; the mail goes out after it.
    const answer = await reset.request({ email: String(req.body.email ?? ""), request: req.auth.request });
    if (!answer.ok) return tooMany(res, answer.retryAfterSeconds);
    res
      .type("text/plain")
      .send("If an account has this address, a link to reset its password is on its way.");
  });

  app.get("/password/reset", async (req, res) => {
    noLeaks(res);
    const token = String(req.query.token ?? "");
    // check() never uses the link up: mail scanners open links before people do.
    if (!(await reset.check(token))) return deadLink(res);
    res.type("html").send(resetForm(token, req.auth.csrfToken()));
  });

  app.post("/password/reset", async (req, res) => {
    noLeaks(res);
    const token = String(req.body.token ?? "");
    if (!(await reset.check(token))) return deadLink(res); // no hashing for a dead link
    // Checked before complete(), which uses the link up: a refused password must not cost it.
    const hashed = await hashNewPassword(String(req.body.password ?? ""));
    if ("problem" in hashed) {
      return res
        .status(400)
        .type("html")
        .send(resetForm(token, req.auth.csrfToken(), hashed.problem));
    }
    const done = await reset.complete({
      token,
      setPassword: async (user) => {
        user.passwordHash = hashed.hash;
      },
    });
    if (!done.ok) return deadLink(res); // used by a request that got there first
    // Every session and remember-me token of the user has ended. Tell the owner, without the password.
    const notice = "The password of your account was just reset.\n";
    await mailer
      .send(done.user.email, "Your password was changed", notice)
      .catch((error: unknown) => console.error("password change notice not sent:", error));
    req.auth.flash("Your password was changed. Log in with the new one.");
    res.redirect(303, "/login"); // no login here: the login page asks for every factor
  });
}

function verificationRoutes(app: express.Express, verification: EmailVerification<User>, users: Users): void {
  app.post("/email/verify/send", loginRequired, async (req, res) => {
    const user = users.get(req.auth.requireUser().getId());
    if (!user) return res.sendStatus(404);
    const answer = await verification.send({ user, email: user.email, request: req.auth.request });
    if (!answer.ok) return tooMany(res, answer.retryAfterSeconds);
    req.auth.flash(`A confirmation link is on its way to ${user.email}.`);
    res.redirect(303, "/account");
  });

  app.get("/email/verify", async (req, res) => {
    noLeaks(res);
    const token = String(req.query.token ?? "");
    const pending = await verification.check(token); // does not use the link up
    if (!pending) return deadLink(res);
    res.type("html").send(`<form method="post" action="/email/verify">
  <p>Confirm ${escapeHtml(pending.email)}?</p>
  <input type="hidden" name="token" value="${escapeHtml(token)}">
  <input type="hidden" name="_csrf" value="${req.auth.csrfToken()}">
  <button>Confirm</button>
</form>`);
  });

  // No login needed: the link is the proof, and people open it on another device.
  app.post("/email/verify", async (req, res) => {
    noLeaks(res);
    const verified = await verification.confirm(String(req.body.token ?? ""));
    const user = verified && users.get(verified.userId);
    // Apply it only while the address it proves is still the user's.
    if (!verified || !user || user.email !== verified.email) return deadLink(res);
    user.emailVerified = true;
    res.type("text/plain").send(`${user.email} is confirmed.`);
  });
}
