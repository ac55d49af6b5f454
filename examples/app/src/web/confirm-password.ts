/**
 * Checking the password of a user who is already logged in (`/reauth`, the password change form),
 * with brute-force limits kept in the session store.
 *
 * @module
 */
import { type AccountServices, passwordMatches } from "../domain/accounts.js";
import { usernameKey } from "../domain/policy.js";
import type { User } from "../domain/users.js";
import type { WebRequest } from "./http.js";

/** The flash message on the login page after a session was logged out for too many wrong passwords. */
export const TOO_MANY_WRONG = "Too many wrong passwords: you have been logged out. Please log in again.";

/** The longest account string `POST /login` counts (routes-auth.ts cuts the username key there). */
const MAX_ACCOUNT_KEY = 64;

/**
 * The account string `POST /login` counts for this user: its username key, cut as the login form
 * cuts it. Every check of one of the user's secrets spends from the failure budget of this string.
 *
 * @example
 * ```ts
 * accountOf(user); // "alice"
 * ```
 */
export function accountOf(user: User): string {
  return [...usernameKey(user.username)].slice(0, MAX_ACCOUNT_KEY).join("");
}

/**
 * Checks the logged-in user's password through login-manager's `auth.attemptReauth`: wrong passwords
 * count against the user's account (and the client address) in the session store, which every
 * instance of the app shares, in the same failure budget as `POST /login`'s: N instances and both
 * forms together allow `maxAccountFailures` (5) guesses, then one per lock period (30 s, doubling up
 * to an hour), and a lock started at either form refuses both. A right password resets the count and
 * makes the login fresh. The wrong password that starts the lock logs the session out (so a stolen
 * remember-me cookie is dead) with {@link TOO_MANY_WRONG} flashed: the caller answers `"locked"` with
 * `303 /login`. An attempt made while a lock runs (started by wrong logins, or from another session of
 * the same user) is refused without checking the password, and logs its session out the same way.
 *
 * With `secondFactor` (a user with two-step verification at `/reauth`), the password and then the
 * code must both be right, as one attempt; `check` resolves the method the code proved (`"otp"` or
 * `"rc"`) or null, and the session then records both methods as proven now.
 *
 * @example
 * ```ts
 * const outcome = await confirmPassword(app.services, request, user, field(request, "password"));
 * if (outcome === "locked") return redirect("/login");
 * ```
 */
export async function confirmPassword(
  services: AccountServices,
  { auth }: WebRequest,
  user: User,
  password: unknown,
  secondFactor?: { check(): Promise<string | null> },
): Promise<"confirmed" | "wrong" | "locked"> {
  let proven: string | null = null;
  const result = await auth.attemptReauth({
    account: accountOf(user), // one failure budget with POST /login
    // The code is checked (and its time step or recovery code used up) only after a right password.
    verify: async () => {
      if (!(await passwordMatches(services, user, password))) return false;
      if (!secondFactor) return true;
      proven = await secondFactor.check();
      return proven !== null;
    },
    // Called once verify succeeded: the kind of code it found ("otp" or "rc") is what was proven.
    methods: () => (proven === null ? ["pwd"] : ["pwd", proven]),
  });
  if (result.ok) return "confirmed";
  // retryAfterSeconds on a wrong password: with it counted, the account is locked.
  if (result.reason === "invalid" && result.retryAfterSeconds === undefined) return "wrong";
  await auth.logoutUser();
  auth.flash(TOO_MANY_WRONG, "error");
  return "locked";
}
