/**
 * The Flask-Login tutorial's pages: home, register, login, protected, logout, plus re-authentication
 * (`/reauth`) for sensitive actions. Framework-neutral handlers; `routes.ts` says which URL and guard
 * each one serves.
 *
 * @module
 */
import { isSafeNextUrl, safeNextUrl } from "login-manager";
import { clientAddress } from "login-manager/adapter";
import { registerAccount, rehashIfNeeded, verifyCredentials } from "../domain/accounts.js";
import { usernameKey } from "../domain/policy.js";
import { logSecurityEvent } from "../domain/security-log.js";
import type { User } from "../domain/users.js";
import type { WebApp } from "./app.js";
import { confirmPassword } from "./confirm-password.js";
import { errorPage } from "./errors.js";
import { field, queryParam, redirect, type WebRequest, type WebResponse } from "./http.js";
import { appUser, PASSKEY_SCRIPT } from "./pages.js";
import { admitRegistration } from "./register-limit.js";
import { codeField, secondStepUrl } from "./routes-mfa.js";

const LOGIN_FAILED = "Invalid username or password.";
/**
 * Sent with the logout response (ASVS 14.3.1): the browser deletes the site's cookies, its cached
 * pages and its storage (local and session storage, IndexedDB, service workers).
 */
export const CLEAR_SITE_DATA = '"cache", "cookies", "storage"';
/** Longest account name used as a throttle key or logged, in code points. */
const MAX_ACCOUNT_KEY = 64;

function ip(app: WebApp, request: WebRequest): string {
  return clientAddress(request.auth.request, app.config.trustProxyHops);
}

/** `GET /`: who is logged in, and links to what they can do. */
export function home(app: WebApp, { auth, url }: WebRequest): WebResponse {
  return app.render(auth, url, 200, "home", { title: "Home" });
}

/** `GET /register`: the registration form. */
export function registerForm(app: WebApp, { auth, url }: WebRequest): WebResponse {
  return app.render(auth, url, 200, "register", {
    title: "Create an account",
    username: "",
    email: "",
    errors: {},
  });
}

/**
 * `POST /register`: creates the account, mails a link to confirm its address, then `303 /login`;
 * 400 (policy) or 409 (username or address taken) with the form. Attempts are limited per client
 * address (`REGISTER_ATTEMPTS_PER_HOUR`, counted in the session store): past the limit, 429 with
 * `Retry-After` and the error page, nothing hashed.
 */
export async function register(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth, url } = request;
  const username = field(request, "username");
  const admission = await admitRegistration(
    app.manager,
    auth.clientAddress,
    app.config.registerAttemptsPerHour,
  );
  if (!admission.admitted) {
    logSecurityEvent(app.logger, {
      event: "register",
      outcome: "blocked",
      reason: "rate-limited",
      retryAfterSeconds: admission.retryAfterSeconds,
      ip: ip(app, request),
    });
    const accept = auth.request.header("accept");
    const response = errorPage(app.render, app.logger, 429, { method: "POST", url, accept, auth });
    response.headers["retry-after"] = String(admission.retryAfterSeconds);
    return response;
  }
  const email = field(request, "email");
  const result = await registerAccount(app.services, {
    username,
    email,
    password: field(request, "password"),
    host: auth.request.header("host"),
  });
  if (!result.ok) {
    logSecurityEvent(app.logger, {
      event: "register",
      outcome: "failure",
      username,
      reason: result.status === 409 ? "duplicate" : "policy",
      ip: ip(app, request),
    });
    return app.render(auth, url, result.status, "register", {
      title: "Create an account",
      username,
      email,
      errors: result.errors,
    });
  }
  const { user } = result;
  logSecurityEvent(app.logger, {
    event: "register",
    outcome: "success",
    userId: user.getId(),
    username: user.username,
    ip: ip(app, request),
  });
  const mailed = await app.recovery.verification.send({
    user,
    email: user.email as string,
    request: auth.request,
  });
  auth.flash(
    mailed.ok
      ? `Account created for ${user.username}. We sent a link to confirm your e-mail address; you can log in now.`
      : `Account created for ${user.username}. You can log in now, and ask for the link that confirms your address on your account page.`,
    "success",
  );
  return redirect("/login");
}

/** `GET /login`: the login form, keeping a safe `next`. */
export function loginForm(app: WebApp, { auth, url }: WebRequest): WebResponse {
  const requested = queryParam(url, "next");
  const next = requested !== undefined && isSafeNextUrl(requested) ? requested : "";
  return app.render(auth, url, 200, "login", {
    title: "Log in",
    username: "",
    next,
    error: null,
    scripts: [PASSKEY_SCRIPT],
  });
}

/**
 * `POST /login`: `303` to a safe `next` (else `/`); for an account with a second factor, `303` to
 * `/login/2fa` keeping `next` (the login completes there); 400 for an empty field, 401 for any
 * failure, 429 with `Retry-After` for the failure that locks the account or address and every attempt
 * during the lock.
 */
export async function login(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth, url } = request;
  const username = field(request, "username");
  const password = field(request, "password");
  const next = field(request, "next");
  const page = (status: number, error: string) =>
    app.render(auth, url, status, "login", {
      title: "Log in",
      username,
      next: isSafeNextUrl(next) ? next : "",
      error,
      scripts: [PASSKEY_SCRIPT],
    });
  if (username.trim() === "" || password === "") return page(400, "Enter your username and password.");
  const account = [...usernameKey(username)].slice(0, MAX_ACCOUNT_KEY).join("");
  const result = await auth.attemptLogin({
    account,
    remember: field(request, "remember") !== "",
    verify: () => verifyCredentials(app.services, account, password),
  });
  if (result.ok) {
    await rehashIfNeeded(app.services, result.user as User, password);
    auth.flash("Logged in successfully.", "success");
    return redirect(safeNextUrl(next, "/"));
  }
  // The password was right and the account has a second factor: a pending login, not a login yet.
  if (result.reason === "second-factor") return redirect(secondStepUrl(next));
  // Locked already, or this wrong password started the lock: say so now, not on the next attempt.
  if (result.retryAfterSeconds !== undefined) {
    const response = page(
      429,
      `Too many failed attempts. Please wait ${describeWait(result.retryAfterSeconds)} and try again.`,
    );
    response.headers["retry-after"] = String(result.retryAfterSeconds);
    return response;
  }
  return page(401, LOGIN_FAILED);
}

/** How each RFC 8176 method the session records reads on the protected page. */
const METHOD_NAMES: Readonly<Record<string, string>> = {
  pwd: "password",
  otp: "authenticator app code",
  rc: "recovery code",
  hwk: "passkey",
  swk: "passkey",
  mfa: "with your device's screen lock",
  email: "e-mailed link",
};

/**
 * The methods this session proved, in words: "password + authenticator app code", "passkey with
 * your device's screen lock"; "not recorded" for a session made before methods were recorded.
 *
 * @example
 * ```ts
 * describeMethods([{ method: "pwd", provenAt: 0 }, { method: "otp", provenAt: 0 }]); // "password + authenticator app code"
 * ```
 */
export function describeMethods(proofs: readonly { method: string }[]): string {
  const words = proofs.map((proof) => METHOD_NAMES[proof.method] ?? proof.method);
  if (words.length === 0) return "not recorded";
  return words.join(" + ").replace(" + with ", " with ");
}

/** `GET /protected` (login required): "Protected Route" and how the user got in. */
export function protectedPage(app: WebApp, { auth, url }: WebRequest): WebResponse {
  return app.render(auth, url, 200, "protected", {
    title: "Protected Route",
    methods: describeMethods(auth.authMethods()),
    source: auth.source,
    fresh: auth.loginFresh(),
    remembered: auth.loginRemembered(),
  });
}

/** `GET /logout`: a button (a GET never logs out). */
export function logoutForm(app: WebApp, { auth, url }: WebRequest): WebResponse {
  return app.render(auth, url, 200, "logout", { title: "Log out" });
}

/**
 * `POST /logout`: ends the session on the server, clears the cookies, and tells the browser to
 * forget everything it holds for the site ({@link CLEAR_SITE_DATA}), then `303 /logout` ("You're
 * logged out"). No flash message: browsers drop a cookie set in the same response as
 * `Clear-Site-Data: "cookies"` (Chromium does), so it would never show.
 */
export async function logout(_app: WebApp, { auth }: WebRequest): Promise<WebResponse> {
  if (auth.isAuthenticated) await auth.logoutUser();
  const response = redirect("/logout");
  response.headers["clear-site-data"] = CLEAR_SITE_DATA;
  return response;
}

/** What `/reauth` asks a user for: the password, plus a code with TOTP on; a passkey alone for a passkey user. */
async function reauthPage(
  app: WebApp,
  { auth, url }: WebRequest,
  status: number,
  next: string,
  error: string | null,
): Promise<WebResponse> {
  const { totp, passkeys } = await app.mfa.factors.status(appUser(auth).getId());
  return app.render(auth, url, status, "reauth", {
    title: "Confirm it's you",
    next,
    error,
    totp,
    passkeys: passkeys > 0,
    // A passkey user with no authenticator app confirms with the passkey: a password alone is one factor.
    passwordForm: totp || passkeys === 0,
    scripts: passkeys > 0 ? [PASSKEY_SCRIPT] : [],
  });
}

/**
 * `GET /reauth` (login required): asks for the password again before a sensitive action, and the
 * second factor of a user who has one (a code from the app, or the passkey).
 */
export function reauthForm(app: WebApp, request: WebRequest): Promise<WebResponse> {
  return reauthPage(app, request, 200, nextOr(queryParam(request.url, "next")), null);
}

/**
 * `POST /reauth` (login required): a right password (and, with TOTP on, a right `code`: from the app
 * or a recovery code) makes the login fresh and goes on to `next`; a wrong one is 401. Wrong
 * passwords and codes are counted in the session store ({@link confirmPassword}); once they lock, the
 * session is logged out. A passkey user without TOTP confirms with the passkey instead (400 here).
 */
export async function reauth(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth } = request;
  const user = appUser(auth);
  const next = nextOr(field(request, "next"));
  const { totp, passkeys } = await app.mfa.factors.status(user.getId());
  if (!totp && passkeys > 0)
    return reauthPage(app, request, 400, next, "Confirm it's you with your passkey.");
  const code = codeField(request, "code");
  if (totp && code === "") {
    return reauthPage(app, request, 400, next, "Enter your password and a code from your authenticator app.");
  }
  const secondFactor = totp ? { check: () => app.mfa.factors.codeMethod(user.getId(), code) } : undefined;
  const outcome = await confirmPassword(
    app.services,
    request,
    user,
    field(request, "password"),
    secondFactor,
  );
  if (outcome === "confirmed") {
    auth.flash(totp ? "Thanks, it's you." : "Thanks, your password is confirmed.", "success");
    return redirect(next);
  }
  logSecurityEvent(app.logger, {
    event: "reauth.failure",
    outcome: "failure",
    userId: user.getId(),
    username: user.username,
    reason: outcome === "locked" ? "locked" : totp ? "wrong-password-or-code" : "wrong-password",
    ip: ip(app, request),
  });
  if (outcome === "locked") return redirect("/login");
  return reauthPage(
    app,
    request,
    401,
    next,
    totp ? "That password or code is not correct." : "That password is not correct.",
  );
}

function nextOr(next: unknown): string {
  return safeNextUrl(next, "/account");
}

function describeWait(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}
