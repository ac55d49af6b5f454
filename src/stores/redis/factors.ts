/**
 * The second-factor part of the contract (`FactorStorage`) on Redis: a hash per factor,
 * `factor:<kind>:<id>` (a `:` or `%` in the kind written `%3A` / `%25`, so the first `:` after
 * the kind always ends it), and a per-user set `user:<userId>:factors` of the `<kind>:<id>` part
 * of those names. Neither ever expires. Reads are one `HMGET`; every write is one Lua script, so
 * the counter advance and the delete are atomic.
 *
 * @module
 */
import type { FactorPatch, FactorRecord } from "../../core/store.js";
import type { FactorOperations } from "../factor-storage.js";
import type { RedisCommands } from "./commands.js";
import {
  ADVANCE_FACTOR_COUNTER,
  CREATE_FACTOR,
  DELETE_USER_FACTORS,
  UPDATE_FACTOR,
} from "./factor-scripts.js";
import { chunks, fieldPairs, type Reply } from "./rows.js";
import { DELETE_RECORD, LIST_RECORDS } from "./scripts.js";

/**
 * A factor hash's fields, in the order the store reads them (kind and id are in the key name;
 * `lastUsedAt` is absent while null). `LIST_RECORDS` treats a member whose first field is missing
 * as gone, so `userId`, always written, comes first.
 *
 * @example
 * ```ts
 * await send(["HMGET", factorKey, ...FACTOR_FIELDS]);
 * ```
 */
export const FACTOR_FIELDS = ["userId", "label", "data", "counter", "createdAt", "lastUsedAt"] as const;

/**
 * The operations on the factor keys of one store.
 *
 * @example
 * ```ts
 * super("RedisStore", new RedisFactors(redis));
 * ```
 */
export class RedisFactors implements FactorOperations {
  readonly #redis: RedisCommands;

  /**
   * Sends everything through `redis`, under its prefix.
   *
   * @example
   * ```ts
   * const factors = new RedisFactors(redis);
   * ```
   */
  constructor(redis: RedisCommands) {
    this.#redis = redis;
  }

  /**
   * One script: writes the hash and adds it to the user's set unless the factor exists.
   *
   * @example
   * ```ts
   * const created = await factors.create(record);
   * ```
   */
  async create(factor: FactorRecord): Promise<boolean> {
    const { userId, label, data, counter, createdAt, lastUsedAt } = factor;
    const member = factorMember(factor.kind, factor.id);
    const created = await this.#redis.script(
      "createFactor",
      CREATE_FACTOR,
      [this.#factorKey(member), this.#userKey(userId)],
      [member, ...fieldPairs({ userId, label, data, counter, createdAt, lastUsedAt })],
    );
    return Number(created) === 1;
  }

  /**
   * One `HMGET`.
   *
   * @example
   * ```ts
   * const totp = await factors.get("totp", userId);
   * ```
   */
  async get(kind: string, id: string): Promise<FactorRecord | null> {
    const reply = (await this.#redis.send("getFactor", [
      "HMGET",
      this.#factorKey(factorMember(kind, id)),
      ...FACTOR_FIELDS,
    ])) as Reply;
    return factorFromReply(kind, id, reply);
  }

  /**
   * One script reads every factor in the user's set; filtered by kind and sorted here.
   *
   * @example
   * ```ts
   * const passkeys = await factors.list(userId, "passkey");
   * ```
   */
  async list(userId: string, kind: string | null): Promise<FactorRecord[]> {
    const flat = (await this.#redis.script(
      "listUserFactors",
      LIST_RECORDS,
      [this.#userKey(userId)],
      [`${this.#redis.prefix}factor:`, ...FACTOR_FIELDS],
    )) as Reply;
    const factors: FactorRecord[] = [];
    for (const [member, values] of chunks(flat, FACTOR_FIELDS.length)) {
      const name = parseFactorMember(member);
      const factor =
        name && (kind === null || name.kind === kind) && factorFromReply(name.kind, name.id, values);
      if (factor) factors.push(factor);
    }
    return factors.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /**
   * One script; writes only the fields a {@link FactorPatch} may hold.
   *
   * @example
   * ```ts
   * await factors.update("passkey", credentialId, { label: "Laptop" });
   * ```
   */
  async update(kind: string, id: string, patch: FactorPatch): Promise<boolean> {
    const { label, data, lastUsedAt } = patch;
    const updated = await this.#redis.script(
      "updateFactor",
      UPDATE_FACTOR,
      [this.#factorKey(factorMember(kind, id))],
      [lastUsedAt === null ? "1" : "0", ...fieldPairs({ label, data, lastUsedAt })],
    );
    return Number(updated) === 1;
  }

  /**
   * One script compares and writes the counter.
   *
   * @example
   * ```ts
   * const fresh = await factors.advance("totp", userId, step, Date.now());
   * ```
   */
  async advance(kind: string, id: string, counter: number, usedAt: number): Promise<boolean> {
    const advanced = await this.#redis.script(
      "advanceFactorCounter",
      ADVANCE_FACTOR_COUNTER,
      [this.#factorKey(factorMember(kind, id))],
      [String(counter), String(usedAt)],
    );
    return Number(advanced) === 1;
  }

  /**
   * One script deletes the hash and its set member; 1 for the one caller that found it.
   *
   * @example
   * ```ts
   * const used = await factors.delete("recovery-code", codeHash);
   * ```
   */
  async delete(kind: string, id: string): Promise<boolean> {
    const member = factorMember(kind, id);
    const deleted = await this.#redis.script(
      "deleteFactor",
      DELETE_RECORD,
      [this.#factorKey(member)],
      [this.#redis.prefix, member, ":factors"],
    );
    return Number(deleted) === 1;
  }

  /**
   * One script over the user's set, of one kind or (`null`) of every kind.
   *
   * @example
   * ```ts
   * const removed = await factors.deleteUser(userId, "recovery-code");
   * ```
   */
  async deleteUser(userId: string, kind: string | null): Promise<number> {
    const removed = await this.#redis.script(
      "deleteUserFactors",
      DELETE_USER_FACTORS,
      [this.#userKey(userId)],
      [`${this.#redis.prefix}factor:`, kind === null ? "" : `${escapeKind(kind)}:`],
    );
    return Number(removed);
  }

  #factorKey(member: string): string {
    return `${this.#redis.prefix}factor:${member}`;
  }

  #userKey(userId: string): string {
    return `${this.#redis.prefix}user:${userId}:factors`;
  }
}

/**
 * The `<kind>:<id>` part of a factor's key name, also its member in the user's set.
 *
 * @example
 * ```ts
 * factorMember("a:b", "c"); // "a%3Ab:c", never the same as factorMember("a", "b:c") ("a:b:c")
 * ```
 */
export function factorMember(kind: string, id: string): string {
  return `${escapeKind(kind)}:${id}`;
}

/**
 * The kind and id a {@link factorMember} names, or null for a name that is not one.
 *
 * @example
 * ```ts
 * parseFactorMember("a%3Ab:c"); // { kind: "a:b", id: "c" }
 * ```
 */
export function parseFactorMember(member: string): { kind: string; id: string } | null {
  const end = member.indexOf(":");
  if (end < 1) return null;
  const kind = member.slice(0, end).replace(/%(25|3A)/g, (escaped) => (escaped === "%25" ? "%" : ":"));
  return { kind, id: member.slice(end + 1) };
}

function escapeKind(kind: string): string {
  return kind.replace(/[%:]/g, (char) => (char === "%" ? "%25" : "%3A"));
}

function factorFromReply(kind: string, id: string, values: Reply): FactorRecord | null {
  const [userId, label, data, counter, createdAt, lastUsedAt] = values;
  if (userId == null) return null;
  return {
    kind,
    id,
    userId,
    label: label ?? "",
    data: data ?? "",
    counter: Number(counter),
    createdAt: Number(createdAt),
    lastUsedAt: lastUsedAt == null ? null : Number(lastUsedAt),
  };
}
