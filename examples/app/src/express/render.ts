import { Eta } from "eta";
import type { Request, Response } from "express";
import type { User } from "../domain/users.js";

/** Pages that are a single narrow card; their flash messages line up with it. */
const NARROW_VIEWS = new Set(["register", "login", "reauth", "logout", "error"]);

/** Renders a page of the app with its layout: the nav bar, flash messages and CSRF token included. */
export type RenderPage = (
  req: Request,
  res: Response,
  status: number,
  view: string,
  data: { title: string } & Record<string, unknown>,
) => void;

/**
 * Creates the page renderer on the Eta templates in `viewsDir` (escaping every `<%= %>` output).
 *
 * @example
 * ```ts
 * const render = createRenderer(paths.views);
 * render(req, res, 200, "home", { title: "Home" });
 * ```
 */
export function createRenderer(viewsDir: string): RenderPage {
  const eta = new Eta({ views: viewsDir, cache: true, autoEscape: true });
  return (req, res, status, view, data) => {
    // Before the login-manager middleware ran (a body that failed to parse), there is no req.auth.
    const auth = req.auth as typeof req.auth | undefined;
    const user = auth?.isAuthenticated ? (auth.requireUser() as User) : null;
    const html = eta.render(view, {
      ...data,
      user: user ? { username: user.username } : null,
      csrf: auth ? auth.csrfToken() : null,
      flashes: auth ? auth.takeFlashes() : [],
      path: req.path,
      narrow: NARROW_VIEWS.has(view),
    });
    res.status(status);
    // Pages carry CSRF tokens and flashes: never let a cache keep them (authenticated ones already).
    res.setHeader("cache-control", "no-store");
    res.type("html").send(html);
  };
}

/**
 * The current user as the app's {@link User}; for routes behind `loginRequired`.
 *
 * @example
 * ```ts
 * app.get("/protected", loginRequired, (req, res) => res.send(appUser(req).username));
 * ```
 */
export function appUser(req: Request): User {
  return req.auth.requireUser() as User;
}

/**
 * A form field as a string: "" when missing or not a single string (a repeated field, a JSON object).
 *
 * @example
 * ```ts
 * const username = field(req, "username");
 * ```
 */
export function field(req: Request, name: string): string {
  const body: unknown = req.body;
  if (body === null || typeof body !== "object" || !Object.hasOwn(body, name)) return "";
  const value = (body as Record<string, unknown>)[name];
  return typeof value === "string" ? value : "";
}
