/**
 * The Lua scripts of the second-factor part. Factors never expire, so, unlike every other record of
 * the store, neither a factor hash nor a user's factor set gets a TTL. Deleting one factor reuses
 * `DELETE_RECORD` and listing them `LIST_RECORDS` (`scripts.ts`).
 *
 * @module
 */
import { luaScript } from "./scripts.js";

/**
 * Creates a factor hash unless it exists, and adds it to its user's set; returns 1, or 0 (nothing
 * changed) when the factor exists.
 * KEYS: factor, user set. ARGV: set member, field/value pairs...
 *
 * @example
 * ```ts
 * const created = await evalScript(driver, CREATE_FACTOR, [factorKey, setKey], [member, ...pairs]);
 * ```
 */
export const CREATE_FACTOR = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 2))
redis.call('SADD', KEYS[2], ARGV[1])
return 1
`);

/**
 * Patches an existing factor; returns 0 when it does not exist.
 * KEYS: factor. ARGV: "1" to clear lastUsedAt, field/value pairs...
 *
 * @example
 * ```ts
 * await evalScript(driver, UPDATE_FACTOR, [factorKey], ["0", "label", "Laptop"]);
 * ```
 */
export const UPDATE_FACTOR = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if #ARGV > 1 then redis.call('HSET', KEYS[1], unpack(ARGV, 2)) end
if ARGV[1] == '1' then redis.call('HDEL', KEYS[1], 'lastUsedAt') end
return 1
`);

/**
 * Writes `counter` and `lastUsedAt` when the factor exists and its stored counter is lower; returns
 * 1, or 0 (nothing changed). One script, so of concurrent callers with the same counter exactly one
 * gets 1. Lua numbers are doubles: every safe integer compares exactly.
 * KEYS: factor. ARGV: counter, usedAt.
 *
 * @example
 * ```ts
 * const advanced = await evalScript(driver, ADVANCE_FACTOR_COUNTER, [factorKey], [String(step), String(now)]);
 * ```
 */
export const ADVANCE_FACTOR_COUNTER = luaScript(`
local current = redis.call('HGET', KEYS[1], 'counter')
if not current or tonumber(current) >= tonumber(ARGV[1]) then return 0 end
redis.call('HSET', KEYS[1], 'counter', ARGV[1], 'lastUsedAt', ARGV[2])
return 1
`);

/**
 * Deletes a user's factors whose set member starts with a kind's prefix (every factor for "") and
 * returns how many existed.
 * KEYS: user set. ARGV: factor key prefix (`<prefix>factor:`), member prefix (`<kind>:`) or "".
 *
 * @example
 * ```ts
 * const n = await evalScript(driver, DELETE_USER_FACTORS, [setKey], [`${prefix}factor:`, "recovery-code:"]);
 * ```
 */
export const DELETE_USER_FACTORS = luaScript(`
local removed = 0
for _, member in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if ARGV[2] == '' or string.sub(member, 1, #ARGV[2]) == ARGV[2] then
    removed = removed + redis.call('DEL', ARGV[1] .. member)
    redis.call('SREM', KEYS[1], member)
  end
end
return removed
`);
