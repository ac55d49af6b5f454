import type { Express, Request, Response } from "express";
import { freshLoginRequired, loginRequired } from "login-manager/express";
import { changePassword, type FieldErrors } from "../domain/accounts.js";
import { clientIp, logSecurityEvent } from "../domain/security-log.js";
import { sessionRows } from "../domain/session-view.js";
import type { RouteContext } from "./context.js";
import { appUser, field } from "./render.js";

const HANDLE = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The account page: active sessions with revoke buttons, "log out other sessions" and the
 * change-password form. Password change and revoke-others need a fresh login (`/reauth`).
 *
 * @example
 * ```ts
 * registerAccountRoutes(app, context);
 * ```
 */
export function registerAccountRoutes(app: Express, context: RouteContext): void {
  const { render, services, logger, reauthLimiter } = context;

  const accountPage = async (req: Request, res: Response, status: number, errors: FieldErrors) => {
    render(req, res, status, "account", {
      title: "Your account",
      sessions: sessionRows(await req.auth.listSessions()),
      fresh: req.auth.loginFresh(),
      errors,
    });
  };

  app.get("/account", loginRequired, async (req, res) => {
    await accountPage(req, res, 200, {});
  });

  // Where /reauth sends the user back to after a POST was refused for a stale login.
  for (const path of ["/account/password", "/account/sessions/revoke-others"]) {
    app.get(path, loginRequired, (_req, res) => {
      res.redirect(303, "/account");
    });
  }

  app.post("/account/password", freshLoginRequired, async (req, res) => {
    const user = appUser(req);
    const ip = clientIp(req.auth.request, context.config.trustProxyHops);
    const result = await changePassword(services, user, {
      current: field(req, "current_password"),
      next: field(req, "new_password"),
    });
    if (!result.ok) {
      const wrongCurrent = result.errors.current_password !== undefined;
      logSecurityEvent(logger, {
        event: "password.change",
        outcome: "failure",
        userId: user.getId(),
        username: user.username,
        reason: wrongCurrent ? "wrong-current-password" : "policy",
        ip,
      });
      if (wrongCurrent && reauthLimiter.recordFailure(user.getId())) {
        await req.auth.logoutUser();
        req.auth.flash("Too many wrong passwords: you have been logged out. Please log in again.", "error");
        res.redirect(303, "/login");
        return;
      }
      await accountPage(req, res, result.status, result.errors);
      return;
    }
    reauthLimiter.reset(user.getId());
    const ended = await req.auth.afterPasswordChange();
    logSecurityEvent(logger, {
      event: "password.change",
      outcome: "success",
      userId: user.getId(),
      username: user.username,
      count: ended,
      ip,
    });
    req.auth.flash(`Password changed. ${sessionsEnded(ended)}`, "success");
    res.redirect(303, "/account");
  });

  app.post("/account/sessions/revoke-others", freshLoginRequired, async (req, res) => {
    const ended = await req.auth.revokeOtherSessions();
    req.auth.flash(sessionsEnded(ended), "success");
    res.redirect(303, "/account");
  });

  const revoke = async (req: Request, res: Response, handle: string) => {
    if (!HANDLE.test(handle) || !(await req.auth.revokeSession(handle))) {
      req.auth.flash("That session had already ended.", "info");
      res.redirect(303, "/account");
      return;
    }
    if (!req.auth.isAuthenticated) {
      req.auth.flash("You ended the session on this device.", "success");
      res.redirect(303, "/login");
      return;
    }
    req.auth.flash("Session ended. That device is logged out.", "success");
    res.redirect(303, "/account");
  };

  app.post("/account/sessions/revoke", loginRequired, async (req, res) => {
    await revoke(req, res, field(req, "handle"));
  });

  app.post("/account/sessions/:handle/revoke", loginRequired, async (req, res) => {
    await revoke(req, res, String(req.params.handle));
  });
}

function sessionsEnded(count: number): string {
  if (count === 0) return "No other sessions were active.";
  return count === 1 ? "1 other session was logged out." : `${count} other sessions were logged out.`;
}
