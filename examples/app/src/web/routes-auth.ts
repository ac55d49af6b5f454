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
import { appUser } from "./pages.js";
import { admitRegistration } from "./register-limit.js";

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
  return app.render(auth, url, 200, "login", { title: "Log in", username: "", next, error: null });
}

/**
 * `POST /login`: `303` to a safe `next` (else `/`); 400 for an empty field, 401 for any failure, 429
 * with `Retry-After` for the failure that locks the account or address and every attempt during the
 * lock.
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

/** `GET /protected` (login required): "Protected Route" and how the user got in. */
export function protectedPage(app: WebApp, { auth, url }: WebRequest): WebResponse {
  return app.render(auth, url, 200, "protected", {
    title: "Protected Route",
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

/** `GET /reauth` (login required): asks for the password again before a sensitive action. */
export function reauthForm(app: WebApp, { auth, url }: WebRequest): WebResponse {
  return app.render(auth, url, 200, "reauth", {
    title: "Confirm it's you",
    next: nextOr(queryParam(url, "next")),
    error: null,
  });
}

/**
 * `POST /reauth` (login required): a right password makes the login fresh and goes on to `next`; a
 * wrong one is 401. Wrong passwords are counted in the session store ({@link confirmPassword}); once
 * they lock, the session is logged out.
 */
export async function reauth(app: WebApp, request: WebRequest): Promise<WebResponse> {
  const { auth, url } = request;
  const user = appUser(auth);
  const next = nextOr(field(request, "next"));
  const outcome = await confirmPassword(app.services, request, user, field(request, "password"));
  if (outcome === "confirmed") {
    auth.flash("Thanks, your password is confirmed.", "success");
    return redirect(next);
  }
  logSecurityEvent(app.logger, {
    event: "reauth.failure",
    outcome: "failure",
    userId: user.getId(),
    username: user.username,
    reason: outcome === "locked" ? "locked" : "wrong-password",
    ip: ip(app, request),
  });
  if (outcome === "locked") return redirect("/login");
  return app.render(auth, url, 401, "reauth", {
    title: "Confirm it's you",
    next,
    error: "That password is not correct.",
  });
}

function nextOr(next: unknown): string {
  return safeNextUrl(next, "/account");
}

function describeWait(seconds: number): string {
  if (seconds < 90) return `${seconds} second${seconds === 1 ? "" : "s"}`;
  const minutes = Math.ceil(seconds / 60);
  return `${minutes} minutes`;
}
