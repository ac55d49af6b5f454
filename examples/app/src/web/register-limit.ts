/**
 * The rate limit of `POST /register`: every registration hashes a password with argon2id, so an
 * unthrottled form would let anyone spend the server's CPU (and try usernames at will). Attempts
 * are counted per client address in login-manager's session store, which every instance shares.
 *
 * @module
 */
import type { LoginManager } from "login-manager";
import { addressBucket } from "login-manager/adapter";
import type { User } from "../domain/users.js";

/** How long a client address's count lives after its last counted attempt. */
export const REGISTER_WINDOW_MS = 3_600_000;
/**
 * Namespace of the counters in the store. login-manager's own counter keys start `account:`,
 * `address:` (the login throttle) and `epoch:` (credential epochs), so these can never collide with them.
 */
export const REGISTER_KEY_PREFIX = "app:register:";

/**
 * Whether a registration may go ahead; if not, how long the client should wait (`Retry-After`).
 *
 * @example
 * ```ts
 * const admission: RegisterAdmission = { admitted: false, retryAfterSeconds: 3600 };
 * ```
 */
export type RegisterAdmission = { admitted: true } | { admitted: false; retryAfterSeconds: number };

/**
 * Counts a registration attempt from `address` and says whether it may go ahead: at most `limit`
 * attempts (successful or not) per address; the count is forgotten {@link REGISTER_WINDOW_MS} after
 * the last counted attempt. An address over the limit is refused without being counted, so its
 * wait does not grow. The store's atomic increment gives concurrent attempts, from any instance,
 * distinct counts: at most `limit` get through. IPv6 addresses count per /64, as in the login throttle (`addressBucket` from login-manager).
 *
 * @example
 * ```ts
 * const admission = await admitRegistration(manager, req.auth.clientAddress, 10);
 * if (!admission.admitted) return tooManyRequests(admission.retryAfterSeconds);
 * ```
 */
export async function admitRegistration(
  manager: LoginManager<User>,
  address: string,
  limit: number,
): Promise<RegisterAdmission> {
  const { store, clock } = manager.options;
  const key = `${REGISTER_KEY_PREFIX}${addressBucket(address)}`;
  const now = clock.now();
  const before = await store.getCounter(key, now);
  if (before && before.count >= limit) return refuse(before.expiresAt, now);
  const after = await store.incrementCounter(key, now, REGISTER_WINDOW_MS);
  return after.count <= limit ? { admitted: true } : refuse(after.expiresAt, now);
}

function refuse(expiresAt: number, now: number): RegisterAdmission {
  return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((expiresAt - now) / 1000)) };
}
