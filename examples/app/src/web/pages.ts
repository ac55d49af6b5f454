import { Eta } from "eta";
import type { AuthContext, RegisteredUser } from "login-manager";
import type { User } from "../domain/users.js";
import { pathOf, type WebResponse } from "./http.js";

/** Pages that are a single narrow card; their flash messages line up with it. */
const NARROW_VIEWS = new Set([
  "register",
  "login",
  "reauth",
  "logout",
  "error",
  "forgot",
  "reset",
  "verify",
  "link-expired",
  "login-2fa",
  "totp-setup",
]);

/** The passkey script (`public/passkeys.js`), for the pages that offer passkeys (`scripts` of a page's data). */
export const PASSKEY_SCRIPT = "/static/passkeys.js";

/** The headers of every page: HTML, and never cached (pages carry CSRF tokens and flashes). */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  "content-type": "text/html; charset=utf-8",
  "cache-control": "no-store",
};

/**
 * Renders a page of the app with its layout: the nav bar, flash messages and CSRF token included.
 * `auth` is undefined for a request refused before login-manager ran (a body that failed to parse):
 * the page then shows no user.
 */
export type RenderPage = (
  auth: AuthContext<RegisteredUser> | undefined,
  url: string,
  status: number,
  view: string,
  data: { title: string; scripts?: readonly string[] } & Record<string, unknown>,
) => WebResponse;

/**
 * Creates the page renderer on the Eta templates in `viewsDir` (escaping every `<%= %>` output).
 *
 * @example
 * ```ts
 * const render = createRenderer(paths.views);
 * const response = render(request.auth, request.url, 200, "home", { title: "Home" });
 * ```
 */
export function createRenderer(viewsDir: string): RenderPage {
  const eta = new Eta({ views: viewsDir, cache: true, autoEscape: true });
  return (auth, url, status, view, data) => {
    const user = auth?.isAuthenticated ? (auth.requireUser() as User) : null;
    const body = eta.render(view, {
      ...data,
      user: user ? { username: user.username } : null,
      csrf: auth ? auth.csrfToken() : null,
      flashes: auth ? auth.takeFlashes() : [],
      path: pathOf(url),
      narrow: NARROW_VIEWS.has(view),
      scripts: data.scripts ?? [],
    });
    return { status, headers: { ...PAGE_HEADERS }, body };
  };
}

/**
 * The current user as the app's {@link User}; for routes behind `loginRequired`.
 *
 * @example
 * ```ts
 * const user = appUser(request.auth);
 * ```
 */
export function appUser(auth: AuthContext<RegisteredUser>): User {
  return auth.requireUser() as User;
}
