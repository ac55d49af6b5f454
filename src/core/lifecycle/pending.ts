/**
 * The pending login: what a right password leaves when the account has a second factor. It is a
 * one-time token (so single use, expiring, voided by a revocation of the user's sessions) whose
 * value only this browser's cookie holds; it is not a session, so every guard still sees a visitor.
 *
 * @module
 */
import { SECOND_FACTOR_KINDS } from "../auth-methods.js";
import type { AuthUser } from "../users.js";
import type { LifecycleDeps } from "./deps.js";
import { consumeOneTimeToken, issueOneTimeToken, peekOneTimeToken } from "./one-time.js";

/** The one-time token purpose of a pending login. */
export const PENDING_LOGIN_PURPOSE = "login-second-factor";
/** How long the second step may take (NIST 800-63B leaves it to the verifier; minutes, not hours). */
export const PENDING_LOGIN_SECONDS = 300;

/**
 * What the password step leaves for the second one.
 *
 * @example
 * ```ts
 * const pending: PendingLoginRecord = { userId: "42", account: "alice", rememberSeconds: null,
 *   authMethods: "pwd:1000", expiresAt: 301_000 };
 * ```
 */
export interface PendingLoginRecord {
  readonly userId: string;
  /** The failure budget the second step spends (the account name the password step counted). */
  readonly account: string;
  /** The remember-me lifetime chosen at the password step, or null for none. */
  readonly rememberSeconds: number | null;
  /** The methods the first step proved, encoded as in the session record. */
  readonly authMethods: string;
  readonly expiresAt: number;
}

/** Whether the user has enrolled a factor that makes a password alone insufficient. */
export async function hasSecondFactor<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  userId: string,
): Promise<boolean> {
  const factors = await deps.store.listUserFactors(userId, null);
  return factors.some((factor) => SECOND_FACTOR_KINDS.includes(factor.kind));
}

/** Stores a pending login and returns the value of the cookie that names it. */
export function startPendingLogin<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  pending: Omit<PendingLoginRecord, "expiresAt">,
): Promise<string> {
  const { account, rememberSeconds, authMethods } = pending;
  return issueOneTimeToken(deps, {
    purpose: PENDING_LOGIN_PURPOSE,
    userId: pending.userId,
    ttlSeconds: PENDING_LOGIN_SECONDS,
    data: JSON.stringify({ account, rememberSeconds, authMethods }),
  });
}

/** The pending login the cookie names, still valid; null otherwise. Does not consume it. */
export async function findPendingLogin<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  cookieValue: string,
): Promise<PendingLoginRecord | null> {
  const grant = await peekOneTimeToken(deps, PENDING_LOGIN_PURPOSE, cookieValue);
  return grant && parsePending(grant.userId, grant.data, grant.expiresAt.getTime());
}

/** Consumes the pending login (once, atomically: of two racing completions one gets it). */
export async function consumePendingLogin<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  cookieValue: string,
): Promise<PendingLoginRecord | null> {
  const grant = await consumeOneTimeToken(deps, PENDING_LOGIN_PURPOSE, cookieValue);
  return grant && parsePending(grant.userId, grant.data, grant.expiresAt.getTime());
}

function parsePending(userId: string, data: string, expiresAt: number): PendingLoginRecord | null {
  try {
    const { account, rememberSeconds, authMethods } = JSON.parse(data) as Record<string, unknown>;
    if (typeof account !== "string" || typeof authMethods !== "string") return null;
    if (rememberSeconds !== null && !Number.isSafeInteger(rememberSeconds)) return null;
    return { userId, account, rememberSeconds: rememberSeconds as number | null, authMethods, expiresAt };
  } catch {
    return null;
  }
}
