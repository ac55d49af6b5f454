/**
 * Records as Redis keeps them: the hash fields of sessions, remember-me tokens, counters and
 * one-time tokens, in the order the store reads them with HMGET, and the records rebuilt from the
 * replies.
 *
 * @module
 */
import type {
  CounterRecord,
  OneTimeTokenRecord,
  RememberTokenRecord,
  SessionRecord,
} from "../../core/store.js";

/**
 * A session hash's fields, in the order `getSession` reads them (the id is the key name).
 * `authMethods` comes last: sessions written before it existed lack it.
 *
 * @example
 * ```ts
 * await send(["HMGET", sessionKey, ...SESSION_FIELDS]);
 * ```
 */
export const SESSION_FIELDS = [
  "secretHash",
  "userId",
  "fresh",
  "createdAt",
  "lastSeenAt",
  "expiresAt",
  "absoluteExpiresAt",
  "fingerprint",
  "userAgent",
  "ipAddress",
  "rememberSelector",
  "authMethods",
] as const;
/**
 * A remember-me token hash's fields, in the order `getRememberToken` reads them. `rotatedBy` comes
 * last: tokens written before it existed lack it.
 *
 * @example
 * ```ts
 * await send(["HMGET", tokenKey, ...TOKEN_FIELDS]);
 * ```
 */
export const TOKEN_FIELDS = [
  "validatorHash",
  "previousValidatorHash",
  "rotatedAt",
  "userId",
  "createdAt",
  "expiresAt",
  "rotatedBy",
] as const;
/**
 * A counter hash's fields, in the order `getCounter` reads them. The names are those of the failure
 * counters that came first (`firstFailureAt` holds `firstAt`, `lastFailureAt` holds `lastAt`), so
 * counters written by earlier versions keep working.
 *
 * @example
 * ```ts
 * await send(["HMGET", counterKey, ...COUNTER_FIELDS]);
 * ```
 */
export const COUNTER_FIELDS = ["count", "firstFailureAt", "lastFailureAt", "expiresAt"] as const;
/**
 * A one-time token hash's fields, in the order `findOneTimeToken` reads them (the token hash is the
 * key name). The `CONSUME_ONE_TIME_TOKEN` script reads the same fields in the same order.
 *
 * @example
 * ```ts
 * await send(["HMGET", oneTimeKey, ...ONE_TIME_FIELDS]);
 * ```
 */
export const ONE_TIME_FIELDS = ["purpose", "userId", "data", "epoch", "createdAt", "expiresAt"] as const;

/**
 * An HMGET reply, or a script's flat array of them: a field Redis does not have is null.
 *
 * @example
 * ```ts
 * const reply = (await send(["HMGET", key, ...COUNTER_FIELDS])) as Reply;
 * ```
 */
export type Reply = (string | null)[];

/**
 * Field/value pairs for HSET, skipping undefined and null (a missing field reads back as null).
 *
 * @example
 * ```ts
 * fieldPairs({ userId: "42", fresh: "1", rememberSelector: null }); // ["userId", "42", "fresh", "1"]
 * ```
 */
export function fieldPairs(record: Record<string, string | number | boolean | null | undefined>): string[] {
  return Object.entries(record).flatMap(([field, value]) =>
    value === undefined || value === null ? [] : [field, String(value)],
  );
}

/**
 * Splits a flat `[id, ...fields, id, ...fields]` script reply into `[id, fields]` pairs.
 *
 * @example
 * ```ts
 * for (const [id, values] of chunks(flat, SESSION_FIELDS.length)) sessionFromReply(id, values);
 * ```
 */
export function* chunks(flat: Reply, fields: number): Generator<[string, Reply]> {
  for (let i = 0; i + fields < flat.length; i += fields + 1) {
    yield [String(flat[i]), flat.slice(i + 1, i + 1 + fields)];
  }
}

/**
 * The session an HMGET of {@link SESSION_FIELDS} describes, or null when the hash does not exist.
 * A session without `authMethods` (written before it existed) reads as `authMethods: ""`.
 *
 * @example
 * ```ts
 * const session = sessionFromReply(id, reply);
 * ```
 */
export function sessionFromReply(id: string, values: Reply): SessionRecord | null {
  const [secretHash, userId, fresh, createdAt, lastSeenAt, expiresAt, absoluteExpiresAt, ...rest] = values;
  const [fingerprint, userAgent, ipAddress, rememberSelector, authMethods] = rest;
  if (secretHash == null || userId == null) return null;
  return {
    id,
    secretHash,
    userId,
    fresh: fresh === "1",
    createdAt: Number(createdAt),
    lastSeenAt: Number(lastSeenAt),
    expiresAt: Number(expiresAt),
    absoluteExpiresAt: Number(absoluteExpiresAt),
    fingerprint: fingerprint ?? "",
    userAgent: userAgent ?? "",
    ipAddress: ipAddress ?? "",
    rememberSelector: rememberSelector ?? null,
    authMethods: authMethods ?? "",
  };
}

/**
 * The remember-me token an HMGET of {@link TOKEN_FIELDS} describes, or null when it does not exist.
 * A token without `rotatedBy` (written before it existed) reads as `rotatedBy: ""`.
 *
 * @example
 * ```ts
 * const token = tokenFromReply(selector, reply);
 * ```
 */
export function tokenFromReply(selector: string, values: Reply): RememberTokenRecord | null {
  const [validatorHash, previousValidatorHash, rotatedAt, userId, createdAt, expiresAt, rotatedBy] = values;
  if (validatorHash == null || userId == null) return null;
  return {
    selector,
    validatorHash,
    previousValidatorHash: previousValidatorHash ?? null,
    rotatedAt: Number(rotatedAt),
    rotatedBy: rotatedBy ?? "",
    userId,
    createdAt: Number(createdAt),
    expiresAt: Number(expiresAt),
  };
}

/**
 * The counter an HMGET of {@link COUNTER_FIELDS} describes, or null when it does not exist.
 *
 * @example
 * ```ts
 * const record = counterFromReply("account:alice", reply);
 * ```
 */
export function counterFromReply(key: string, values: Reply): CounterRecord | null {
  const [count, firstAt, lastAt, expiresAt] = values;
  if (count == null) return null;
  return {
    key,
    count: Number(count),
    firstAt: Number(firstAt),
    lastAt: Number(lastAt),
    expiresAt: Number(expiresAt),
  };
}

/**
 * The one-time token an HMGET of {@link ONE_TIME_FIELDS} describes, or null when it does not exist
 * (a reply that is not a list, such as a script's nil, is none either).
 *
 * @example
 * ```ts
 * const token = oneTimeTokenFromReply(tokenHash, reply);
 * ```
 */
export function oneTimeTokenFromReply(tokenHash: string, values: unknown): OneTimeTokenRecord | null {
  if (!Array.isArray(values)) return null;
  const [purpose, userId, data, epoch, createdAt, expiresAt] = values as Reply;
  if (typeof purpose !== "string" || typeof userId !== "string") return null;
  return {
    tokenHash,
    purpose,
    userId,
    data: typeof data === "string" ? data : "",
    epoch: Number(epoch),
    createdAt: Number(createdAt),
    expiresAt: Number(expiresAt),
  };
}
