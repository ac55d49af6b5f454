import express from "express";
import type { RegisteredUser, SessionStore } from "login-manager";
import { LoginManager, safeNextUrl, UserMixin } from "login-manager";
import { freshLoginRequired, initApp, loginRequired, secondFactorRequired } from "login-manager/express";
import { SecondFactors } from "login-manager/mfa";
import { type Clock, systemClock } from "login-manager/options";
import { Passkeys } from "login-manager/passkeys";
import { createPasswordHasher } from "login-manager/password";
import { MemoryStore } from "login-manager/stores/memory";
import QRCode from "qrcode";

// Your user class: UserMixin supplies getId(), isActive, isAuthenticated and isAnonymous.
class User extends UserMixin {
  constructor(
    readonly id: string,
    readonly email: string,
    readonly passwordHash: string,
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

  byEmail(email: string): User | null {
    return [...this.#byId.values()].find((user) => user.email === email) ?? null;
  }
}

const hasher = createPasswordHasher();
/** The account name the failure budget counts: the e-mail address as the user lookup reads it. */
const accountOf = (email: unknown) =>
  String(email ?? "")
    .trim()
    .toLowerCase();
/** A form field of at most 64 characters (a code never is longer): longer input is cut before any work. */
const field = (value: unknown) => String(value ?? "").slice(0, 64);

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
const flashesOf = (req: express.Request) =>
  req.auth
    .takeFlashes()
    .map((flash) => `<p>${escapeHtml(flash.message)}</p>\n`)
    .join("");
const csrfField = (req: express.Request) =>
  `<input type="hidden" name="_csrf" value="${req.auth.csrfToken()}">`;

/** The logged-in user: the loader gives Users (with `Register`, `req.auth.requireUser()` is typed so). */
const userOf = (req: express.Request) => req.auth.requireUser() as User;

/** A refused password or code: 429 with Retry-After while the account is locked, else 401 with `page`. */
function refused(
  res: express.Response,
  result: { retryAfterSeconds?: number | undefined },
  page: string,
): void {
  if (result.retryAfterSeconds !== undefined) {
    res.status(429).set("retry-after", String(result.retryAfterSeconds)).type("text/plain");
    res.send("Too many attempts. Try again later.");
    return;
  }
  res.status(401).type("html").send(page);
}

/** What the app needs. */
export interface AppOptions {
  /** 32+ random characters. */
  secret: string;
  /** The site's origin as browsers show it, e.g. "https://app.example.com": passkeys belong to its host. */
  origin: string;
  /** @default a MemoryStore (use SQLite or PostgreSQL in production: factors must survive restarts) */
  store?: SessionStore;
  /** @default the system clock (tests pass a fake one) */
  clock?: Clock;
  /** Sends a security notice to the user. @default console.log (send a mail in a real app) */
  notify?: (email: string, text: string) => Promise<void>;
}

/**
 * Builds the app: a password login with TOTP, recovery codes and passkeys as second factors.
 *
 * @example
 * ```ts
 * const app = await createApp({ secret, origin: "https://app.example.com" });
 * app.listen(3000);
 * ```
 */
export async function createApp(options: AppOptions): Promise<express.Express> {
  const { secret, origin, store = new MemoryStore(), clock = systemClock } = options;
  const notify = options.notify ?? (async (email, text) => console.log(`to ${email}: ${text}`));
  const users = new Users();
  users.add(new User("1", "ada@example.com", await hasher.hash("correct horse battery staple")));
  // Typed for the user login-manager's request context holds: your User unless you register it (README).
  const manager = new LoginManager<RegisteredUser>({
    secret,
    store,
    clock,
    views: { loginView: "/login", refreshView: "/reauth" },
    userLoader: (id) => users.get(id),
  });
  const mfa = new SecondFactors(manager, { totp: { issuer: "Example" } });
  const passkeys = new Passkeys(manager, {
    rpId: new URL(origin).hostname,
    rpName: "Example",
    origins: [origin],
    findUserById: async (id) => users.get(id),
  });
  const hasSecondFactor = async (user: User) => {
    const { totp, passkeys } = await mfa.status(user.id);
    return totp || passkeys > 0;
  };

  const app = express();
  initApp(app, manager);

  app.get("/login", (req, res) => {
    res.type("html").send(`${flashesOf(req)}<form method="post">
  <input name="email" type="email" autocomplete="username webauthn">
  <input name="password" type="password" autocomplete="current-password">
  <label><input name="remember" type="checkbox" value="1"> Remember me</label>
  ${csrfField(req)}
  <button>Log in</button>
</form>
${passkeyButton("Sign in with a passkey")}`);
  });

  app.post("/login", async (req, res) => {
    const email = accountOf(req.body.email);
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
    // The password was right and the account has a second factor: nobody is logged in yet.
    if (result.reason === "second-factor") return res.redirect(303, "/login/2fa");
    refused(res, result, "Wrong e-mail address or password.");
  });

  /** The second step's page: the forms for what the pending login's user has. */
  const secondStepPage = async (req: express.Request, error = "") => {
    const { totp, passkeys } = await mfa.status((await req.auth.pendingLogin())?.userId ?? "");
    const form = (name: string, label: string) =>
      `<form method="post" action="/login/2fa"><input name="${name}" autocomplete="off">${csrfField(req)}<button>${label}</button></form>`;
    return `<p>${error}</p>${totp ? form("code", "Verify") : ""}${form("recovery_code", "Use a recovery code")}
${passkeys > 0 ? passkeyButton("Use a passkey") : ""}`;
  };
  const backToLogin = (req: express.Request, res: express.Response) => {
    req.auth.flash("Your sign-in expired. Log in again.");
    res.redirect(303, "/login");
  };

  app.get("/login/2fa", async (req, res) => {
    if (!(await req.auth.pendingLogin())) return backToLogin(req, res);
    res.type("html").send(await secondStepPage(req));
  });

  app.post("/login/2fa", async (req, res) => {
    const code = field(req.body.code);
    const recoveryCode = field(req.body.recovery_code);
    const result = await mfa.completeLogin(req.auth, recoveryCode ? { recoveryCode } : { code });
    if (result === null) return backToLogin(req, res); // none, expired (5 minutes), used or revoked
    if (result.ok) return res.redirect(303, "/account");
    refused(res, result, await secondStepPage(req, "That code is not right."));
  });

  accountRoutes(app, mfa, passkeys, notify);
  passkeyRoutes(app, passkeys);

  app.get("/reauth", loginRequired, async (req, res) => {
    const { totp, passkeys } = await mfa.status(userOf(req).id);
    res.type("html").send(`<form method="post">
  <input name="password" type="password" autocomplete="current-password">
  ${totp ? '<input name="code" inputmode="numeric" autocomplete="one-time-code">' : ""}
  ${csrfField(req)}
  <button>Confirm</button>
</form>
${passkeys > 0 ? passkeyButton("Use a passkey") : ""}`); // one of this user's own passkeys
  });

  app.post("/reauth", loginRequired, async (req, res) => {
    const user = userOf(req);
    const totp = (await mfa.status(user.id)).totp;
    const password = String(req.body.password ?? "");
    let proven: string | null = null;
    const result = await req.auth.attemptReauth({
      account: user.email, // the budget attemptLogin spends for this user
      // The code is checked, and its time step or recovery code used up, only after a right password.
      verify: async () => {
        if (!(await hasher.verify(user.passwordHash, password))) return false;
        if (!totp) return true;
        proven = await mfa.codeMethod(user.id, field(req.body.code)); // "otp", "rc" or null
        return proven !== null;
      },
      // Called once verify succeeded: the session records the kind of code that was found.
      methods: () => (proven === null ? ["pwd"] : ["pwd", proven]),
    });
    if (result.ok) return res.redirect(303, safeNextUrl(String(req.query.next ?? ""), "/account"));
    refused(res, result, "Wrong password or code.");
  });

  // Step-up: a second factor proven in the last five minutes, else /reauth asks for one.
  const stepUp = secondFactorRequired({ withinSeconds: 300 });
  app.get(
    "/account/export",
    loginRequired,
    async (req, res, next) => {
      if (await hasSecondFactor(userOf(req))) return next();
      req.auth.flash("Turn on two-step verification first."); // else /reauth could never satisfy stepUp
      res.redirect(303, "/account");
    },
    stepUp,
    (req, res) => {
      res.type("text/plain").send(`Everything we keep about ${userOf(req).email}.`);
    },
  );

  app.post("/logout", async (req, res) => {
    await req.auth.logoutUser();
    res.redirect(303, "/login");
  });
  return app;
}

function accountRoutes(
  app: express.Express,
  mfa: SecondFactors<RegisteredUser>,
  passkeys: Passkeys<RegisteredUser>,
  notify: (email: string, text: string) => Promise<void>,
): void {
  const codesPage = (codes: readonly string[]) =>
    `<p>Your recovery codes. Keep them somewhere safe: each works once, and this is the only time they are shown.</p>
<ul>${codes.map((code) => `<li data-recovery-code>${code}</li>`).join("")}</ul>
<a href="/account">Done</a>`;

  app.get("/account", loginRequired, async (req, res) => {
    const user = userOf(req);
    const { totp, recoveryCodesLeft, passkeys: count } = await mfa.status(user.id);
    const form = (action: string, inner: string) =>
      `<form method="post" action="${action}">${inner}${csrfField(req)}</form>`;
    const keys = (await passkeys.list(user.id)).map((key) =>
      form(
        "/account/passkeys/remove",
        `${escapeHtml(key.label)} <input type="hidden" name="id" value="${key.id}"><button>Remove</button>`,
      ),
    );
    res.type("html").send(`${flashesOf(req)}<p>Signed in as ${escapeHtml(user.email)}</p>
<p>Authenticator app: ${totp ? "on" : "off"}. Recovery codes left: ${recoveryCodesLeft}.</p>
${
  totp
    ? form("/account/2fa/totp/disable", '<input name="code" autocomplete="off"><button>Turn off</button>')
    : form("/account/2fa/totp/start", "<button>Set up an authenticator app</button>")
}
${totp || count > 0 ? form("/account/2fa/recovery-codes", "<button>New recovery codes</button>") : ""}
${keys.join("\n")}
<input id="passkey-label" value="Passkey"><button id="add-passkey">Add a passkey</button>
${csrfField(req)}<script type="module">${PASSKEY_REGISTRATION}</script>
${form("/logout", "<button>Log out</button>")}`);
  });

  // Changing a factor needs a fresh login: a session restored from remember-me goes to /reauth first.
  app.post("/account/2fa/totp/start", freshLoginRequired, async (req, res) => {
    const user = userOf(req);
    if ((await mfa.status(user.id)).totp) return res.redirect(303, "/account");
    const { secret, uri } = await mfa.startTotp(req.auth, { accountName: user.email });
    // Drawn here: the picture holds the secret, so it never goes to a third-party QR service.
    const qr = await QRCode.toDataURL(uri);
    res.type("html").send(`<img src="${qr}" alt="QR code for your authenticator app">
<p>Or enter this key: <code data-totp-secret>${secret}</code></p>
<p><code>${escapeHtml(uri)}</code></p>
<form method="post" action="/account/2fa/totp/confirm">
  <input name="code" inputmode="numeric" autocomplete="one-time-code">
  ${csrfField(req)}
  <button>Turn on</button>
</form>`);
  });

  app.post("/account/2fa/totp/confirm", freshLoginRequired, async (req, res) => {
    const result = await mfa.confirmTotp(req.auth, field(req.body.code));
    if (result.ok) return res.type("html").send(codesPage(result.recoveryCodes));
    // invalid: the setup waits for the right code; expired: ten minutes passed, or another browser.
    const again = result.reason === "expired" ? "The setup expired: start again." : "Wrong code: try again.";
    res.status(400).type("text/plain").send(again);
  });

  app.post("/account/2fa/recovery-codes", freshLoginRequired, async (req, res) => {
    const { totp, passkeys: keys } = await mfa.status(userOf(req).id);
    if (!totp && keys === 0) return res.redirect(303, "/account");
    res.type("html").send(codesPage(await mfa.regenerateRecoveryCodes(req.auth)));
  });

  app.post("/account/2fa/totp/disable", freshLoginRequired, async (req, res) => {
    const user = userOf(req);
    // A current code or a recovery code, counted in the account's failure budget.
    const result = await mfa.disableTotp(req.auth, { account: user.email, code: field(req.body.code) });
    if (!result.ok) {
      if (result.retryAfterSeconds !== undefined) await req.auth.logoutUser(); // locked: end this session
      return refused(res, result, "That code is not right.");
    }
    await notify(user.email, "Two-step verification was turned off for your account.").catch(
      (error: unknown) => console.error("notice not sent:", error),
    );
    req.auth.flash("Two-step verification is off.");
    res.redirect(303, "/account");
  });
}

/** JSON endpoints for the page scripts; the CSRF token travels in the X-CSRF-Token header. */
function passkeyRoutes(app: express.Express, passkeys: Passkeys<RegisteredUser>): void {
  app.post("/passkeys/register/options", freshLoginRequired, async (req, res) => {
    const user = userOf(req);
    res.json(await passkeys.registrationOptions(req.auth, { userName: user.email, displayName: user.email }));
  });

  app.post("/account/passkeys/remove", freshLoginRequired, async (req, res) => {
    if (await passkeys.remove(req.auth, String(req.body.id ?? ""))) req.auth.flash("Passkey removed.");
    res.redirect(303, "/account");
  });

  app.post("/passkeys/register", freshLoginRequired, async (req, res) => {
    const label = String(req.body.label ?? "");
    const result = await passkeys.finishRegistration(req.auth, req.body.credential, { label });
    if (!result.ok) return res.status(400).json({ error: result.reason });
    res.json({ ok: true });
  });

  // Usernameless (any of the site's passkeys, both factors at once), a pending login's second step,
  // or, in a browser logged in already (/reauth), re-authentication with that user's own passkeys.
  app.post("/passkeys/login/options", async (req, res) => {
    res.json(await passkeys.authenticationOptions(req.auth));
  });

  app.post("/passkeys/login", async (req, res) => {
    // A logged-in browser's login is confirmed, never switched: another user's passkey is refused.
    // `remember` counts for a usernameless sign-in only (a second step keeps the password step's).
    const remember = req.body.remember === true;
    const result = await passkeys.finishAuthentication(req.auth, req.body.credential, { remember });
    if (result.ok)
      return res.json({ ok: true, redirect: safeNextUrl(String(req.body.next ?? ""), "/account") });
    if (result.retryAfterSeconds !== undefined) res.set("retry-after", String(result.retryAfterSeconds));
    res.status(result.reason === "locked" ? 429 : 401).json({ error: result.reason });
  });
}

/** A passkey button: usernameless sign-in, the second step of a pending login, or /reauth. */
function passkeyButton(label: string): string {
  return `<button id="passkey">${label}</button><script type="module">${PASSKEY_SIGN_IN}</script>`;
}

/** Browser code: POSTs JSON with the page's CSRF token. */
const POST_JSON = `const post = async (path, body) => (await fetch(path, { method: "POST",
  headers: { "content-type": "application/json", "x-csrf-token": document.querySelector("[name=_csrf]").value },
  body: JSON.stringify(body) })).json();`;

const PASSKEY_SIGN_IN = `${POST_JSON}
document.querySelector("#passkey").onclick = async () => {
  const options = PublicKeyCredential.parseRequestOptionsFromJSON(await post("/passkeys/login/options", {}));
  const credential = await navigator.credentials.get({ publicKey: options });
  const next = new URLSearchParams(location.search).get("next") ?? "";
  const remember = document.querySelector("[name=remember]")?.checked === true;
  const result = await post("/passkeys/login", { credential: credential.toJSON(), next, remember });
  location.href = result.redirect ?? "/login";
};`;

const PASSKEY_REGISTRATION = `${POST_JSON}
document.querySelector("#add-passkey").onclick = async () => {
  const options = PublicKeyCredential.parseCreationOptionsFromJSON(await post("/passkeys/register/options", {}));
  const credential = await navigator.credentials.create({ publicKey: options });
  const label = document.querySelector("#passkey-label").value;
  await post("/passkeys/register", { credential: credential.toJSON(), label });
  location.reload();
};`;
