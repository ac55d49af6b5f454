/**
 * The rate limit of `POST /register`: every registration hashes a password with argon2id, so an
 * unthrottled form would let anyone spend the server's CPU (and try usernames at will). Attempts
 * are counted per client address in login-manager's session store, which every instance shares.
 *
 * @module
 */
import { isIPv4, isIPv6 } from "node:net";
import type { LoginManager } from "login-manager";
import type { User } from "../domain/users.js";

/** How long a client address's count lives after its last counted attempt. */
export const REGISTER_WINDOW_MS = 3_600_000;
/**
 * Namespace of the counters in the store. login-manager's own throttle keys start `account:` and
 * `address:`, so these can never collide with them.
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
 * distinct counts: at most `limit` get through. IPv6 addresses count per /64 ({@link addressBucket}).
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
  const before = await store.getFailures(key, now);
  if (before && before.count >= limit) return refuse(before.expiresAt, now);
  const after = await store.incrementFailures(key, now, REGISTER_WINDOW_MS);
  return after.count <= limit ? { admitted: true } : refuse(after.expiresAt, now);
}

function refuse(expiresAt: number, now: number): RegisterAdmission {
  return { admitted: false, retryAfterSeconds: Math.max(1, Math.ceil((expiresAt - now) / 1000)) };
}

/**
 * What an address is counted as: an IPv4-mapped IPv6 address as its IPv4 address, an IPv6 address
 * as its /64 (one household or server gets a whole /64, so counting single addresses would let a
 * client rotate through 2^64 of them), anything else as it is. The same rule as login-manager's
 * login throttle, whose helper the library does not export.
 *
 * @example
 * ```ts
 * addressBucket("2001:db8:1:2:aaaa::1"); // "2001:0db8:0001:0002::/64"
 * addressBucket("::ffff:192.0.2.1"); // "192.0.2.1"
 * ```
 */
export function addressBucket(address: string): string {
  const bare = address.replace(/%.*$/, ""); // an IPv6 zone id ("fe80::1%eth0")
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(bare)?.[1];
  if (mapped && isIPv4(mapped)) return mapped;
  if (!isIPv6(bare)) return address;
  // Only the first four groups matter; an embedded IPv4 tail is the last two and counts as "0:0".
  const text = bare.toLowerCase().replace(/\d{1,3}(?:\.\d{1,3}){3}$/, "0:0");
  const [head = "", tail] = text.split("::");
  const left = head === "" ? [] : head.split(":");
  const right = tail === undefined || tail === "" ? [] : tail.split(":");
  const zeros = tail === undefined ? [] : new Array<string>(8 - left.length - right.length).fill("0");
  const prefix = [...left, ...zeros, ...right].slice(0, 4).map((group) => group.padStart(4, "0"));
  return `${prefix.join(":")}::/64`;
}
