/**
 * The store's rows as SQLite holds them (snake_case columns, booleans as 0/1) and the mapping to and
 * from the records of the store contract. Pure functions: no driver, no SQL.
 *
 * @module
 */
import type {
  CounterRecord,
  RememberRotation,
  RememberTokenRecord,
  SessionPatch,
  SessionRecord,
} from "../../core/store.js";

/**
 * A row of `<prefix>sessions`, also the named parameters of its `INSERT`.
 *
 * @example
 * ```ts
 * const row: SessionRow = toSessionRow(session);
 * ```
 */
export interface SessionRow {
  id: string;
  secret_hash: string;
  user_id: string;
  fresh: number;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  absolute_expires_at: number;
  fingerprint: string;
  user_agent: string;
  ip_address: string;
  remember_selector: string | null;
  auth_methods: string;
}

/**
 * A row of `<prefix>remember_tokens`, also the named parameters of its `INSERT`.
 *
 * @example
 * ```ts
 * const row: TokenRow = toTokenRow(token);
 * ```
 */
export interface TokenRow {
  selector: string;
  validator_hash: string;
  previous_validator_hash: string | null;
  rotated_at: number;
  rotated_by: string;
  user_id: string;
  created_at: number;
  expires_at: number;
}

/**
 * A row of `<prefix>failures`, the table of the contract's counters. Its name and columns are the
 * ones login failure counters had before counters were generalised, so existing files keep working.
 *
 * @example
 * ```ts
 * const record = fromCounterRow({ key: "ip:203.0.113.7", count: 1, first_failure_at: now, last_failure_at: now, expires_at: now + 900_000 });
 * ```
 */
export interface CounterRow {
  key: string;
  count: number;
  first_failure_at: number;
  last_failure_at: number;
  expires_at: number;
}

/**
 * Named parameters of the session `UPDATE`: each `set_*` flag says whether its column changes.
 *
 * @example
 * ```ts
 * const params: SessionUpdateParams = toSessionUpdateParams(id, { fresh: false });
 * ```
 */
export interface SessionUpdateParams {
  id: string;
  set_fresh: number;
  fresh: number | null;
  set_last_seen_at: number;
  last_seen_at: number | null;
  set_expires_at: number;
  expires_at: number | null;
  set_remember_selector: number;
  remember_selector: string | null;
}

/**
 * Named parameters of the remember-token compare-and-swap `UPDATE`.
 *
 * @example
 * ```ts
 * const params: SwapParams = toSwapParams(selector, rotation);
 * ```
 */
export interface SwapParams {
  selector: string;
  validator_hash: string;
  previous_validator_hash: string | null;
  rotated_at: number;
  rotated_by: string;
}

/**
 * The session columns in the order of {@link SessionTuple}.
 *
 * @example
 * ```ts
 * const sql = `SELECT ${SESSION_COLUMNS} FROM "login_manager_sessions" WHERE id = ?`;
 * ```
 */
export const SESSION_COLUMNS =
  "id, secret_hash, user_id, fresh, created_at, last_seen_at, expires_at, absolute_expires_at, fingerprint, user_agent, ip_address, remember_selector, auth_methods";

/**
 * A session row read as an array (both drivers' "raw" mode), in {@link SESSION_COLUMNS} order.
 *
 * @example
 * ```ts
 * const session = fromSessionTuple(statement.get(id, now));
 * ```
 */
export type SessionTuple = [
  id: string,
  secretHash: string,
  userId: string,
  fresh: number,
  createdAt: number,
  lastSeenAt: number,
  expiresAt: number,
  absoluteExpiresAt: number,
  fingerprint: string,
  userAgent: string,
  ipAddress: string,
  rememberSelector: string | null,
  authMethods: string,
];

/**
 * @example
 * ```ts
 * insertSession.run(toSessionRow(session));
 * ```
 */
export function toSessionRow(session: SessionRecord): SessionRow {
  return {
    id: session.id,
    secret_hash: session.secretHash,
    user_id: session.userId,
    fresh: session.fresh ? 1 : 0,
    created_at: session.createdAt,
    last_seen_at: session.lastSeenAt,
    expires_at: session.expiresAt,
    absolute_expires_at: session.absoluteExpiresAt,
    fingerprint: session.fingerprint,
    user_agent: session.userAgent,
    ip_address: session.ipAddress,
    remember_selector: session.rememberSelector,
    auth_methods: session.authMethods,
  };
}

/**
 * @example
 * ```ts
 * const row = getSession.get(id, now);
 * return row ? fromSessionTuple(row) : null;
 * ```
 */
export function fromSessionTuple(row: SessionTuple): SessionRecord {
  return {
    id: row[0],
    secretHash: row[1],
    userId: row[2],
    fresh: row[3] === 1,
    createdAt: row[4],
    lastSeenAt: row[5],
    expiresAt: row[6],
    absoluteExpiresAt: row[7],
    fingerprint: row[8],
    userAgent: row[9],
    ipAddress: row[10],
    rememberSelector: row[11],
    authMethods: row[12],
  };
}

/**
 * @example
 * ```ts
 * const sessions = listUserSessions.all(userId, now).map(fromSessionRow);
 * ```
 */
export function fromSessionRow(row: SessionRow): SessionRecord {
  return {
    id: row.id,
    secretHash: row.secret_hash,
    userId: row.user_id,
    fresh: row.fresh === 1,
    createdAt: row.created_at,
    lastSeenAt: row.last_seen_at,
    expiresAt: row.expires_at,
    absoluteExpiresAt: row.absolute_expires_at,
    fingerprint: row.fingerprint,
    userAgent: row.user_agent,
    ipAddress: row.ip_address,
    rememberSelector: row.remember_selector,
    authMethods: row.auth_methods,
  };
}

/**
 * @example
 * ```ts
 * updateSession.run(toSessionUpdateParams(id, { lastSeenAt: now, expiresAt: now + 1_800_000 }));
 * ```
 */
export function toSessionUpdateParams(id: string, patch: SessionPatch): SessionUpdateParams {
  return {
    id,
    set_fresh: patch.fresh === undefined ? 0 : 1,
    fresh: patch.fresh === undefined ? null : patch.fresh ? 1 : 0,
    set_last_seen_at: patch.lastSeenAt === undefined ? 0 : 1,
    last_seen_at: patch.lastSeenAt ?? null,
    set_expires_at: patch.expiresAt === undefined ? 0 : 1,
    expires_at: patch.expiresAt ?? null,
    set_remember_selector: patch.rememberSelector === undefined ? 0 : 1,
    remember_selector: patch.rememberSelector ?? null,
  };
}

/**
 * @example
 * ```ts
 * insertToken.run(toTokenRow(token));
 * ```
 */
export function toTokenRow(token: RememberTokenRecord): TokenRow {
  return {
    selector: token.selector,
    validator_hash: token.validatorHash,
    previous_validator_hash: token.previousValidatorHash,
    rotated_at: token.rotatedAt,
    rotated_by: token.rotatedBy,
    user_id: token.userId,
    created_at: token.createdAt,
    expires_at: token.expiresAt,
  };
}

/**
 * @example
 * ```ts
 * const row = getToken.get(selector, now);
 * return row ? fromTokenRow(row) : null;
 * ```
 */
export function fromTokenRow(row: TokenRow): RememberTokenRecord {
  return {
    selector: row.selector,
    validatorHash: row.validator_hash,
    previousValidatorHash: row.previous_validator_hash,
    rotatedAt: row.rotated_at,
    rotatedBy: row.rotated_by,
    userId: row.user_id,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/**
 * @example
 * ```ts
 * swapValidator.run(toSwapParams(selector, { validatorHash, previousValidatorHash, rotatedAt: now, rotatedBy: "" }));
 * ```
 */
export function toSwapParams(selector: string, rotation: RememberRotation): SwapParams {
  return {
    selector,
    validator_hash: rotation.validatorHash,
    previous_validator_hash: rotation.previousValidatorHash,
    rotated_at: rotation.rotatedAt,
    rotated_by: rotation.rotatedBy,
  };
}

/**
 * @example
 * ```ts
 * const row = getCounter.get(key, now);
 * return row ? fromCounterRow(row) : null;
 * ```
 */
export function fromCounterRow(row: CounterRow): CounterRecord {
  return {
    key: row.key,
    count: row.count,
    firstAt: row.first_failure_at,
    lastAt: row.last_failure_at,
    expiresAt: row.expires_at,
  };
}
