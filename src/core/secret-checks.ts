/**
 * Every check of a secret (a password at login, at re-authentication, the current password of a
 * change) against the account's one failure budget, with the `loginFailed` events.
 *
 * @module
 */
import type { Clock } from "./clock.js";
import { ConfigurationError } from "./errors.js";
import type { LoginManagerEvents, TypedEvents } from "./events.js";
import type { RequestView } from "./http.js";
import type { CredentialSnapshot, SessionLifecycle } from "./lifecycle/index.js";
import type { LoginThrottle, SecretCheck, ThrottleStatus } from "./throttle.js";
import type { AuthUser } from "./users.js";

/**
 * The result of `attemptLogin` and `attemptReauth`.
 *
 * - `ok: true`: the password was right; the user is logged in (or the login confirmed).
 * - `reason: "invalid"`: the password was wrong (or the account unknown or inactive, or its sessions
 *   were revoked while the check ran). When, with this failure counted, the account or the client
 *   address is locked, `retryAfterSeconds` says for how long; otherwise it is absent.
 * - `reason: "locked"`: refused without checking the password, because a lock was already running.
 * - `reason: "second-factor"` (login only): the password was right and the account has a second
 *   factor: nobody is logged in yet, a pending login waits for that factor (`AuthContext.completeLogin`).
 *   The attempt stays counted in the account's budget until the second step succeeds.
 *
 * @example
 * ```ts
 * const result = await auth.attemptLogin({ account, verify });
 * if (!result.ok && result.retryAfterSeconds !== undefined) {
 *   res.set("Retry-After", String(result.retryAfterSeconds)); // locked now, or already locked
 * }
 * ```
 */
export type LoginAttemptResult<U> =
  | { ok: true; user: U }
  | { ok: false; reason: "invalid"; retryAfterSeconds?: number }
  | { ok: false; reason: "locked"; retryAfterSeconds: number }
  | { ok: false; reason: "second-factor"; retryAfterSeconds?: undefined };

/**
 * What a budgeted check needs: the throttle, the clock and the events.
 *
 * @example
 * ```ts
 * const deps: SecretCheckDeps<User> = { lifecycle, throttle, clock, events };
 * ```
 */
export interface SecretCheckDeps<U extends AuthUser> {
  readonly lifecycle: SessionLifecycle<U>;
  readonly throttle: LoginThrottle;
  readonly clock: Clock;
  readonly events: TypedEvents<LoginManagerEvents<U>>;
}

/**
 * Runs `check` against `account`'s failure budget (see `LoginThrottle.checkSecret`) and emits
 * `loginFailed` for a wrong secret, then again with `locked` when this failure started a lock.
 *
 * @example
 * ```ts
 * const result = await checkSecret(deps, request, "alice", address, async () => ({ ok: true, value: user }));
 * ```
 */
export async function checkSecret<U extends AuthUser, T = U>(
  deps: SecretCheckDeps<U>,
  request: RequestView,
  account: string,
  address: string,
  check: () => Promise<SecretCheck<T>>,
): Promise<LoginAttemptResult<T>> {
  const outcome = await deps.throttle.checkSecret(account, address, () => deps.clock.now(), check);
  if (outcome.ok)
    return outcome.keepBudget ? { ok: false, reason: "second-factor" } : { ok: true, user: outcome.value };
  if (outcome.reason === "locked") {
    const { retryAfterSeconds } = outcome;
    deps.events.emit("loginFailed", { account, reason: "locked", retryAfterSeconds, request });
    return { ok: false, reason: "locked", retryAfterSeconds };
  }
  deps.events.emit("loginFailed", { account, reason: outcome.reason, request });
  return invalid(deps, request, account, outcome.after);
}

/** A wrong secret's result, with the lock it leaves running, if any. */
function invalid<U extends AuthUser, T>(
  deps: SecretCheckDeps<U>,
  request: RequestView,
  account: string,
  after: ThrottleStatus,
): LoginAttemptResult<T> {
  if (!after.locked) return { ok: false, reason: "invalid" };
  const { retryAfterSeconds } = after;
  deps.events.emit("loginFailed", { account, reason: "locked", retryAfterSeconds, request });
  return { ok: false, reason: "invalid", retryAfterSeconds };
}

/** Verifications of one login attempt when revocations of other users keep racing it (epochs.ts). */
const MAX_VERIFY_ROUNDS = 3;
const WRONG: SecretCheck<never> = Object.freeze({ ok: false, reason: "invalid" });

/**
 * How a login asked for by a budgeted check ended: logged in, refused for an inactive user, undone
 * because the user's sessions were revoked while it ran, or waiting for the user's second factor.
 *
 * @example
 * ```ts
 * const ended: LoginOutcome = "revoked";
 * ```
 */
export type LoginOutcome = "ok" | "inactive" | "revoked" | "second-factor";

/**
 * A password login against the account's budget (see `AuthContext.attemptLogin`). The revocation
 * count is read before `verify` runs and the user's epochs after it (epochs.ts), so a password change
 * landing during the verification wins; when revocations of other users land meanwhile, `verify`
 * runs again, at most three times in all.
 *
 * @example
 * ```ts
 * const result = await passwordLogin(deps, request, address, { account, verify }, (user, snapshot) => login(user, snapshot));
 * ```
 */
export function passwordLogin<U extends AuthUser>(
  deps: SecretCheckDeps<U>,
  request: RequestView,
  address: string,
  attempt: { readonly account: string; readonly verify: () => Promise<U | null | undefined> },
  login: (user: U, snapshot: CredentialSnapshot) => Promise<LoginOutcome>,
): Promise<LoginAttemptResult<U>> {
  return checkSecret(deps, request, attempt.account, address, async (): Promise<SecretCheck<U>> => {
    for (let round = 0; round < MAX_VERIFY_ROUNDS; round++) {
      const before = await deps.lifecycle.revocationCount();
      const user = await attempt.verify();
      if (!user) return WRONG;
      const snapshot = await deps.lifecycle.snapshotSince(user.getId(), before);
      if (!snapshot) continue;
      const outcome = await login(user, snapshot);
      if (outcome === "ok") return { ok: true, value: user };
      if (outcome === "second-factor") return { ok: true, value: user, keepBudget: true };
      return outcome === "inactive" ? { ok: false, reason: "inactive" } : WRONG;
    }
    return WRONG;
  });
}

/**
 * A re-authentication against the account's budget (see `AuthContext.attemptReauth`): `verify`
 * checks the password, then `confirm` rotates the session, resolving the user, or null when the
 * session was revoked meanwhile (answered as a wrong password).
 *
 * @example
 * ```ts
 * const result = await passwordReauth(deps, request, address, { account, verify }, () => confirm());
 * ```
 */
export function passwordReauth<U extends AuthUser>(
  deps: SecretCheckDeps<U>,
  request: RequestView,
  address: string,
  attempt: { readonly account: string; readonly verify: () => Promise<boolean> },
  confirm: () => Promise<U | null>,
): Promise<LoginAttemptResult<U>> {
  if (typeof (attempt as unknown) === "function" || typeof attempt?.account !== "string") {
    throw new ConfigurationError(
      "attemptReauth takes { account, verify }: account is the string attemptLogin counts for this user (its canonical name), so login and re-authentication share one failure budget",
    );
  }
  return checkSecret(deps, request, attempt.account, address, async (): Promise<SecretCheck<U>> => {
    if (!(await attempt.verify())) return WRONG;
    const user = await confirm();
    return user ? { ok: true, value: user } : WRONG;
  });
}

/**
 * The result of `AuthContext.verifySecret`: right, or as {@link LoginAttemptResult}'s failures.
 *
 * @example
 * ```ts
 * const checked: SecretCheckResult = { ok: false, reason: "locked", retryAfterSeconds: 60 };
 * ```
 */
export type SecretCheckResult =
  | { ok: true }
  | { ok: false; reason: "invalid"; retryAfterSeconds?: number }
  | { ok: false; reason: "locked"; retryAfterSeconds: number };

/**
 * Any other check of one of the account's secrets (a TOTP code to turn TOTP off, say) against its
 * failure budget (see `AuthContext.verifySecret`).
 *
 * @example
 * ```ts
 * const checked = await verifySecret(deps, request, address, { account, verify: () => codeIsRight() });
 * ```
 */
export async function verifySecret<U extends AuthUser>(
  deps: SecretCheckDeps<U>,
  request: RequestView,
  address: string,
  attempt: { readonly account: string; readonly verify: () => Promise<boolean> },
): Promise<SecretCheckResult> {
  const result = await checkSecret(
    deps,
    request,
    attempt.account,
    address,
    async (): Promise<SecretCheck<true>> => ((await attempt.verify()) ? { ok: true, value: true } : WRONG),
  );
  if (result.ok) return { ok: true };
  if (result.reason === "second-factor") return { ok: false, reason: "invalid" };
  return result;
}
