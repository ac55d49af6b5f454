/**
 * Every check of a secret (a password at login, at re-authentication, the current password of a
 * change) against the account's one failure budget, with the `loginFailed` events.
 *
 * @module
 */
import type { Clock } from "./clock.js";
import type { LoginManagerEvents, TypedEvents } from "./events.js";
import type { RequestView } from "./http.js";
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
  | { ok: false; reason: "locked"; retryAfterSeconds: number };

/**
 * What a budgeted check needs: the throttle, the clock and the events.
 *
 * @example
 * ```ts
 * const deps: SecretCheckDeps<User> = { throttle, clock, events };
 * ```
 */
export interface SecretCheckDeps<U extends AuthUser> {
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
export async function checkSecret<U extends AuthUser>(
  deps: SecretCheckDeps<U>,
  request: RequestView,
  account: string,
  address: string,
  check: () => Promise<SecretCheck<U>>,
): Promise<LoginAttemptResult<U>> {
  const outcome = await deps.throttle.checkSecret(account, address, () => deps.clock.now(), check);
  if (outcome.ok) return { ok: true, user: outcome.value };
  if (outcome.reason === "locked") {
    const { retryAfterSeconds } = outcome;
    deps.events.emit("loginFailed", { account, reason: "locked", retryAfterSeconds, request });
    return { ok: false, reason: "locked", retryAfterSeconds };
  }
  deps.events.emit("loginFailed", { account, reason: outcome.reason, request });
  return invalid(deps, request, account, outcome.after);
}

/** A wrong secret's result, with the lock it leaves running, if any. */
function invalid<U extends AuthUser>(
  deps: SecretCheckDeps<U>,
  request: RequestView,
  account: string,
  after: ThrottleStatus,
): LoginAttemptResult<U> {
  if (!after.locked) return { ok: false, reason: "invalid" };
  const { retryAfterSeconds } = after;
  deps.events.emit("loginFailed", { account, reason: "locked", retryAfterSeconds, request });
  return { ok: false, reason: "invalid", retryAfterSeconds };
}
