import { AsyncLocalStorage } from "node:async_hooks";
import type { AuthContext, LoginOptions } from "./auth-context.js";
import { NoRequestContextError } from "./errors.js";
import type { AnonymousUser, AuthUser, RegisteredUser } from "./users.js";

const storage = new AsyncLocalStorage<AuthContext<AuthUser>>();

/**
 * Runs `fn` with `auth` as the current request's context, so the free functions below find it
 * (Flask's request context). Adapters call this; applications do not need to.
 *
 * @example
 * ```ts
 * runWithAuth(auth, () => next());
 * ```
 */
export function runWithAuth<T, U extends AuthUser>(auth: AuthContext<U>, fn: () => T): T {
  return storage.run(auth as unknown as AuthContext<AuthUser>, fn);
}

/**
 * The current request's {@link AuthContext}; throws {@link NoRequestContextError} outside a request.
 *
 * @example
 * ```ts
 * const auth = currentAuth<User>();
 * ```
 */
export function currentAuth<U extends AuthUser = RegisteredUser>(): AuthContext<U> {
  return contextFor("currentAuth") as unknown as AuthContext<U>;
}

function contextFor(helper: string): AuthContext<AuthUser> {
  const auth = storage.getStore();
  if (!auth) throw new NoRequestContextError(helper);
  return auth;
}

/**
 * The logged-in user of the current request, or the anonymous user (Flask-Login's `current_user`).
 *
 * @example
 * ```ts
 * app.get("/", (req, res) => {
 *   const user = currentUser<User>();
 *   res.send(user.isAuthenticated ? `Hello ${user.name}` : "Hello stranger");
 * });
 * ```
 */
export function currentUser<U extends AuthUser = RegisteredUser>(): U | AnonymousUser {
  return contextFor("currentUser").user as U | AnonymousUser;
}

/**
 * Logs a user in on the current request (Flask-Login's `login_user`); see {@link AuthContext.loginUser}.
 *
 * @example
 * ```ts
 * if (await loginUser(user, { remember: true })) res.redirect(303, "/");
 * ```
 */
export function loginUser<U extends AuthUser>(user: U, options?: LoginOptions): Promise<boolean> {
  return (contextFor("loginUser") as unknown as AuthContext<U>).loginUser(user, options);
}

/**
 * Logs the current user out (Flask-Login's `logout_user`); see {@link AuthContext.logoutUser}.
 *
 * @example
 * ```ts
 * await logoutUser();
 * ```
 */
export function logoutUser(): Promise<boolean> {
  return contextFor("logoutUser").logoutUser();
}

/**
 * Marks the current login fresh after re-authentication (Flask-Login's `confirm_login`).
 *
 * @example
 * ```ts
 * if (await hasher.verify(user.passwordHash, req.body.password)) await confirmLogin();
 * ```
 */
export function confirmLogin(): Promise<boolean> {
  return contextFor("confirmLogin").confirmLogin();
}

/**
 * True when the current login is fresh (Flask-Login's `login_fresh`).
 *
 * @example
 * ```ts
 * if (!loginFresh()) return res.redirect("/reauth");
 * ```
 */
export function loginFresh(): boolean {
  return contextFor("loginFresh").loginFresh();
}

/**
 * True when the current session was restored from a remember-me cookie (Flask-Login's `login_remembered`).
 *
 * @example
 * ```ts
 * if (loginRemembered()) showReauthHint();
 * ```
 */
export function loginRemembered(): boolean {
  return contextFor("loginRemembered").loginRemembered();
}
