import type { AuthUser, LoginManager, LoginOptions } from "../index.js";
import { fakeRequest } from "./request.js";

/**
 * Options of {@link createLoginCookie}. Session protection compares the client address and
 * User-Agent, so give the ones your test client will send.
 *
 * @example
 * ```ts
 * const options: LoginCookieOptions = { fresh: false, userAgent: "test-agent" };
 * ```
 */
export interface LoginCookieOptions extends Omit<LoginOptions, "force"> {
  /** Address the test client connects from. @default "::ffff:127.0.0.1" (loopback as Node reports it) */
  remoteAddress?: string;
  /** User-Agent the test client sends. @default "" (supertest and fetch send none or their own) */
  userAgent?: string;
  /** Build `__Host-` cookies for an HTTPS app. @default false */
  https?: boolean;
}

/**
 * Logs `user` in directly through the manager and returns a `Cookie` header value, so a test can
 * call protected routes without going through the login form (Flask-Login's `FlaskLoginClient`).
 * Unlike Flask's client, the session is real and fingerprinted, so it also works with session
 * protection on.
 *
 * @example
 * ```ts
 * const cookie = await createLoginCookie(manager, user);
 * await request(app).get("/protected").set("cookie", cookie).expect(200);
 * ```
 */
export async function createLoginCookie<U extends AuthUser>(
  manager: LoginManager<U>,
  user: U,
  options: LoginCookieOptions = {},
): Promise<string> {
  const cookies = new Map<string, string>();
  const request = fakeRequest({
    headers: { "user-agent": options.userAgent },
    remoteAddress: options.remoteAddress ?? "::ffff:127.0.0.1",
    encrypted: options.https,
  });
  const auth = await manager.authenticate(request, {
    setCookie: (name, serialized) => {
      const value = serialized.slice(name.length + 1, serialized.indexOf(";"));
      if (value === "") cookies.delete(name);
      else cookies.set(name, value);
    },
    setHeader: () => undefined,
  });
  const loggedIn = await auth.loginUser(user, { ...options, force: true });
  if (!loggedIn) throw new Error("createLoginCookie: loginUser refused the user");
  return [...cookies].map(([name, value]) => `${name}=${value}`).join("; ");
}
