/**
 * One-time tokens (a password reset link, an e-mail verification link): issued for a purpose and a
 * user, kept hashed, consumed once, and bound to the user's credential epoch, so any revocation of the
 * user's sessions since the token was issued (a password change by any path) voids it.
 *
 * @module
 */
import { ConfigurationError } from "../errors.js";
import type { OneTimeTokenRecord, SessionStore } from "../store.js";
import { hashToken, parseTokenPair, randomToken } from "../tokens.js";
import type { AuthUser } from "../users.js";
import type { LifecycleDeps } from "./deps.js";
import { snapshotEpochs } from "./epochs.js";

const MAX_PURPOSE_LENGTH = 64;
const MAX_DATA_LENGTH = 1024;
/** A presented token longer than this is refused before any hashing or store call. */
const MAX_TOKEN_LENGTH = 128;

/**
 * What a valid one-time token stands for.
 *
 * @example
 * ```ts
 * const grant: OneTimeGrant = { userId: "42", data: "new@example.com", expiresAt: new Date() };
 * ```
 */
export interface OneTimeGrant {
  readonly userId: string;
  readonly data: string;
  readonly expiresAt: Date;
}

/**
 * What issuing a token needs.
 *
 * @example
 * ```ts
 * const issue: OneTimeIssue = { purpose: "password-reset", userId: "42", ttlSeconds: 1800 };
 * ```
 */
export interface OneTimeIssue {
  readonly purpose: string;
  readonly userId: string;
  readonly ttlSeconds: number;
  /** Bound to the token, e.g. the address being verified. @default "" */
  readonly data?: string;
}

/** Stores a new token and returns it (the only time it exists outside the link). */
export async function issueOneTimeToken<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  issue: OneTimeIssue,
): Promise<string> {
  const { store } = deps;
  const data = issue.data ?? "";
  if (
    issue.purpose.length === 0 ||
    issue.purpose.length > MAX_PURPOSE_LENGTH ||
    data.length > MAX_DATA_LENGTH
  ) {
    throw new ConfigurationError(
      `a one-time token's purpose must have 1 to ${MAX_PURPOSE_LENGTH} characters and its data at most ${MAX_DATA_LENGTH}`,
    );
  }
  if (!Number.isInteger(issue.ttlSeconds) || issue.ttlSeconds <= 0) {
    throw new ConfigurationError(
      `ttlSeconds must be a positive whole number, got ${JSON.stringify(issue.ttlSeconds)}`,
    );
  }
  const now = deps.clock.now();
  const { user: epoch } = await snapshotEpochs(store, issue.userId, now);
  // Two halves like the other tokens: the link carries `<id>.<secret>`, 256 random bits in all.
  const token = `${randomToken()}.${randomToken()}`;
  await store.createOneTimeToken({
    tokenHash: hashToken(token),
    purpose: issue.purpose,
    userId: issue.userId,
    data,
    epoch,
    createdAt: now,
    expiresAt: now + issue.ttlSeconds * 1000,
  });
  return token;
}

/**
 * The grant of a valid token of `purpose`, without consuming it (a GET that shows a form: mail
 * scanners fetch links), or null: unknown, expired, used, another purpose, or voided by a revocation.
 */
export async function peekOneTimeToken<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  purpose: string,
  token: string,
): Promise<OneTimeGrant | null> {
  const { store } = deps;
  if (!wellFormed(token)) return null;
  const now = deps.clock.now();
  const record = await store.findOneTimeToken(hashToken(token), now);
  return record && record.purpose === purpose && (await epochHolds(store, record, now))
    ? grantOf(record)
    : null;
}

/** Consumes a valid token of `purpose` (once, atomically) and returns its grant; null as {@link peekOneTimeToken}. */
export async function consumeOneTimeToken<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  purpose: string,
  token: string,
): Promise<OneTimeGrant | null> {
  const { store } = deps;
  if (!wellFormed(token)) return null;
  const now = deps.clock.now();
  const tokenHash = hashToken(token);
  // Looked at first, so a token presented to the wrong form is not burnt.
  const found = await store.findOneTimeToken(tokenHash, now);
  if (!found || found.purpose !== purpose) return null;
  const record = await store.consumeOneTimeToken(tokenHash, now);
  return record && (await epochHolds(store, record, now)) ? grantOf(record) : null;
}

/** Deletes the user's outstanding tokens of `purpose` (all purposes when null). */
export function revokeOneTimeTokens<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  userId: string,
  purpose: string | null,
): Promise<number> {
  return deps.store.deleteUserOneTimeTokens(userId, purpose);
}

function wellFormed(token: string): boolean {
  return typeof token === "string" && token.length <= MAX_TOKEN_LENGTH && parseTokenPair(token) !== null;
}

async function epochHolds(store: SessionStore, record: OneTimeTokenRecord, now: number): Promise<boolean> {
  return (await snapshotEpochs(store, record.userId, now)).user === record.epoch;
}

function grantOf(record: OneTimeTokenRecord): OneTimeGrant {
  return { userId: record.userId, data: record.data, expiresAt: new Date(record.expiresAt) };
}
