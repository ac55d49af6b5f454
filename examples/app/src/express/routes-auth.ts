import type { Express, Request, Response } from "express";
import { isSafeNextUrl, safeNextUrl } from "login-manager";
import { loginRequired } from "login-manager/express";
import { passwordMatches, registerAccount, rehashIfNeeded, verifyCredentials } from "../domain/accounts.js";
import { usernameKey } from "../domain/policy.js";
import { clientIp, logSecurityEvent } from "../domain/security-log.js";
import type { User } from "../domain/users.js";
import type { RouteContext } from "./context.js";
import { appUser, field } from "./render.js";

const LOGIN_FAILED = "Invalid username or password.";
/** Longest account name used as a throttle key or logged, in code points. */
const MAX_ACCOUNT_KEY = 64;

/**
 * The Flask-Login tutorial's pages: home, register, login, protected, logout, plus re-authentication
 * (`/reauth`) for sensitive actions.
 *
 * @example
 * ```ts
 * registerAuthRoutes(app, context);
 * ```
 */
export function registerAuthRoutes(app: Express, context: RouteContext): void {
  const { render, services, logger, reauthLimiter } = context;
  const ip = (req: Request) => clientIp(req.auth.request, context.config.trustProxyHops);

  app.get("/", (req, res) => {
    render(req, res, 200, "home", { title: "Home" });
  });

  app.get("/register", (req, res) => {
    render(req, res, 200, "register", { title: "Create an account", username: "", errors: {} });
  });

  app.post("/register", async (req, res) => {
    const username = field(req, "username");
    const result = await registerAccount(services, { username, password: field(req, "password") });
    if (!result.ok) {
      logSecurityEvent(logger, {
        event: "register",
        outcome: "failure",
        username,
        reason: result.status === 409 ? "duplicate" : "policy",
        ip: ip(req),
      });
      render(req, res, result.status, "register", {
        title: "Create an account",
        username,
        errors: result.errors,
      });
      return;
    }
    const { user } = result;
    logSecurityEvent(logger, {
      event: "register",
      outcome: "success",
      userId: user.getId(),
      username: user.username,
      ip: ip(req),
    });
    req.auth.flash(`Account created for ${user.username}. You can log in now.`, "success");
    res.redirect(303, "/login");
  });

  app.get("/login", (req, res) => {
    const next = typeof req.query.next === "string" && isSafeNextUrl(req.query.next) ? req.query.next : "";
    render(req, res, 200, "login", { title: "Log in", username: "", next, error: null });
  });

  app.post("/login", async (req, res) => {
    const username = field(req, "username");
    const password = field(req, "password");
    const next = field(req, "next");
    const page = (status: number, error: string) =>
      render(req, res, status, "login", {
        title: "Log in",
        username,
        next: isSafeNextUrl(next) ? next : "",
        error,
      });
    if (username.trim() === "" || password === "") {
      page(400, "Enter your username and password.");
      return;
    }
    const account = [...usernameKey(username)].slice(0, MAX_ACCOUNT_KEY).join("");
    const result = await req.auth.attemptLogin({
      account,
      remember: field(req, "remember") !== "",
      verify: () => verifyCredentials(services, account, password),
    });
    if (result.ok) {
      await rehashIfNeeded(services, result.user as User, password);
      req.auth.flash("Logged in successfully.", "success");
      res.redirect(303, safeNextUrl(next, "/"));
      return;
    }
    if (result.reason === "locked") {
      res.setHeader("retry-after", String(result.retryAfterSeconds));
      page(
        429,
        `Too many failed attempts. Please wait ${describeWait(result.retryAfterSeconds)} and try again.`,
      );
      return;
    }
    page(401, LOGIN_FAILED);
  });

  app.get("/protected", loginRequired, (req, res) => {
    render(req, res, 200, "protected", {
      title: "Protected Route",
      source: req.auth.source,
      fresh: req.auth.loginFresh(),
      remembered: req.auth.loginRemembered(),
    });
  });

  app.get("/logout", (req, res) => {
    render(req, res, 200, "logout", { title: "Log out" });
  });

  app.post("/logout", async (req, res) => {
    if (req.auth.isAuthenticated) await req.auth.logoutUser();
    req.auth.flash("You have been logged out.", "success");
    res.redirect(303, "/");
  });

  app.get("/reauth", loginRequired, (req, res) => {
    render(req, res, 200, "reauth", { title: "Confirm it's you", next: nextOr(req.query.next), error: null });
  });

  app.post("/reauth", loginRequired, async (req: Request, res: Response) => {
    const user = appUser(req);
    const next = nextOr(field(req, "next"));
    if (await passwordMatches(services, user, field(req, "password"))) {
      reauthLimiter.reset(user.getId());
      await req.auth.confirmLogin();
      req.auth.flash("Thanks, your password is confirmed.", "success");
      res.redirect(303, next);
      return;
    }
    logSecurityEvent(logger, {
      event: "reauth.failure",
      outcome: "failure",
      userId: user.getId(),
      username: user.username,
      ip: ip(req),
    });
    if (reauthLimiter.recordFailure(user.getId())) {
      await req.auth.logoutUser();
      req.auth.flash("Too many wrong passwords: you have been logged out. Please log in again.", "error");
      res.redirect(303, "/login");
      return;
    }
    render(req, res, 401, "reauth", {
      title: "Confirm it's you",
      next,
      error: "That password is not correct.",
    });
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
