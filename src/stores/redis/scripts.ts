import { createHash } from "node:crypto";

/**
 * A Lua script and its SHA-1, for `EVALSHA` with an `EVAL` fallback.
 *
 * @example
 * ```ts
 * const script = luaScript("return redis.call('GET', KEYS[1])");
 * ```
 */
export interface LuaScript {
  readonly source: string;
  readonly sha: string;
}

/**
 * Wraps Lua source with the helpers every script may use.
 *
 * @example
 * ```ts
 * const ping = luaScript("return 'PONG'");
 * ```
 */
export function luaScript(body: string): LuaScript {
  const source = `${HELPERS}\n${body}`;
  return { source, sha: createHash("sha1").update(source).digest("hex") };
}

// extend_to: push a per-user set's expiry out to `at` (ms since the epoch) but never pull it in,
// so the set outlives its longest-lived member. A set without a TTL yet (just created) gets one.
// ct_equal: compare two hashes in time that depends only on their length.
const HELPERS = `
local function extend_to(key, at)
  local ttl = redis.call('PTTL', key)
  if ttl >= 0 then
    local time = redis.call('TIME')
    local current = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + ttl
    if current >= tonumber(at) then return end
  end
  redis.call('PEXPIREAT', key, at)
end

local function ct_equal(a, b)
  if #a ~= #b then return false end
  local diff = 0
  for i = 1, #a do
    diff = bit.bor(diff, bit.bxor(string.byte(a, i), string.byte(b, i)))
  end
  return diff == 0
end
`;

/**
 * Creates a session or remember-me hash and adds it to its per-user set.
 * KEYS: record, user set. ARGV: member id, expiresAt, field/value pairs...
 *
 * @example
 * ```ts
 * await evalScript(driver, CREATE_RECORD, [recordKey, setKey], [id, String(expiresAt), ...pairs]);
 * ```
 */
export const CREATE_RECORD = luaScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  return redis.error_reply('ERR login-manager: a record with this id already exists')
end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
redis.call('SADD', KEYS[2], ARGV[1])
extend_to(KEYS[2], ARGV[2])
return 1
`);

/**
 * Patches an existing session; returns 0 when it does not exist.
 * KEYS: session. ARGV: key prefix, new expiresAt or "", "1" to clear rememberSelector, field/value pairs...
 *
 * @example
 * ```ts
 * await evalScript(driver, UPDATE_SESSION, [sessionKey], [prefix, "", "0", "fresh", "0"]);
 * ```
 */
export const UPDATE_SESSION = luaScript(`
local user = redis.call('HGET', KEYS[1], 'userId')
if not user then return 0 end
if #ARGV > 3 then redis.call('HSET', KEYS[1], unpack(ARGV, 4)) end
if ARGV[3] == '1' then redis.call('HDEL', KEYS[1], 'rememberSelector') end
if ARGV[2] ~= '' then
  redis.call('PEXPIREAT', KEYS[1], ARGV[2])
  extend_to(ARGV[1] .. 'user:' .. user .. ':sessions', ARGV[2])
end
return 1
`);

/**
 * Deletes a session or token and removes it from its per-user set; returns 1 when it existed.
 * KEYS: record. ARGV: key prefix, member id, user set suffix (":sessions" or ":remember").
 *
 * @example
 * ```ts
 * await evalScript(driver, DELETE_RECORD, [sessionKey], [prefix, id, ":sessions"]);
 * ```
 */
export const DELETE_RECORD = luaScript(`
local user = redis.call('HGET', KEYS[1], 'userId')
if not user then return 0 end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[1] .. 'user:' .. user .. ARGV[3], ARGV[2])
return 1
`);

/**
 * Reads every member of a per-user set in one call, dropping members whose hash has expired.
 * KEYS: user set. ARGV: record key prefix, field names... Returns id, field values..., per record.
 *
 * @example
 * ```ts
 * const flat = await evalScript(driver, LIST_RECORDS, [setKey], [`${prefix}session:`, ...SESSION_FIELDS]);
 * ```
 */
export const LIST_RECORDS = luaScript(`
local fields = { unpack(ARGV, 2) }
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local values = redis.call('HMGET', ARGV[1] .. id, unpack(fields))
  if values[1] then
    out[#out + 1] = id
    for i = 1, #fields do out[#out + 1] = values[i] end
  else
    redis.call('SREM', KEYS[1], id)
  end
end
return out
`);

/**
 * Deletes every member of a per-user set (but one) and returns how many records existed.
 * KEYS: user set. ARGV: record key prefix, id to keep or "".
 *
 * @example
 * ```ts
 * const n = await evalScript(driver, DELETE_USER_RECORDS, [setKey], [`${prefix}session:`, keepId]);
 * ```
 */
export const DELETE_USER_RECORDS = luaScript(`
local removed = 0
for _, id in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  if id ~= ARGV[2] then
    removed = removed + redis.call('DEL', ARGV[1] .. id)
    redis.call('SREM', KEYS[1], id)
  end
end
return removed
`);

/**
 * Deletes one SCAN batch of records and per-user sets of one kind, for `deleteAllSessions` and
 * `deleteAllRememberTokens`: each record key, and each set with every record it lists. Returns how
 * many records existed.
 * KEYS: record keys and per-user set keys. ARGV: record key prefix (`<prefix>session:` or
 * `<prefix>remember:`), then one kind per key ("record" or "set").
 *
 * @example
 * ```ts
 * const n = await evalScript(driver, DELETE_ALL_RECORDS, keys, [`${prefix}session:`, ...kinds]);
 * ```
 */
export const DELETE_ALL_RECORDS = luaScript(`
local removed = 0
for i, key in ipairs(KEYS) do
  if ARGV[i + 1] == 'record' then
    removed = removed + redis.call('DEL', key)
  else
    for _, id in ipairs(redis.call('SMEMBERS', key)) do
      removed = removed + redis.call('DEL', ARGV[1] .. id)
    end
    redis.call('DEL', key)
  end
end
return removed
`);

/**
 * Compare-and-swap of a remember-me token's validator: when the stored `validatorHash` equals the
 * expected one (constant-time), writes the rotation's fields and returns 1; otherwise changes
 * nothing and returns 0. No policy: what a stale validator means is the caller's to decide.
 * KEYS: token. ARGV: expected hash, "1" to clear previousValidatorHash, field/value pairs...
 *
 * @example
 * ```ts
 * const swapped = await evalScript(driver, SWAP_REMEMBER_VALIDATOR, [tokenKey], [expected, "0", ...pairs]);
 * ```
 */
export const SWAP_REMEMBER_VALIDATOR = luaScript(`
local current = redis.call('HGET', KEYS[1], 'validatorHash')
if not current or not ct_equal(ARGV[1], current) then return 0 end
redis.call('HSET', KEYS[1], unpack(ARGV, 3))
if ARGV[2] == '1' then redis.call('HDEL', KEYS[1], 'previousValidatorHash') end
return 1
`);

/**
 * Adds one to a counter, restarting one that expired at `now`; expiry is max(old, now + ttl). The
 * hash keeps the field names of the failure counters it started as (`firstFailureAt` is firstAt,
 * `lastFailureAt` is lastAt).
 * KEYS: counter. ARGV: now, now + ttlMs. Returns count, firstAt, lastAt, expiresAt.
 *
 * @example
 * ```ts
 * const [count] = await evalScript(driver, INCREMENT_COUNTER, [counterKey], [String(now), String(now + ttlMs)]);
 * ```
 */
export const INCREMENT_COUNTER = luaScript(`
local f = redis.call('HMGET', KEYS[1], 'count', 'firstFailureAt', 'expiresAt')
local count, first, expires = 1, ARGV[1], ARGV[2]
if f[1] and tonumber(f[3]) > tonumber(ARGV[1]) then
  count = tonumber(f[1]) + 1
  first = f[2]
  if tonumber(f[3]) > tonumber(ARGV[2]) then expires = f[3] end
end
redis.call('HSET', KEYS[1], 'count', tostring(count), 'firstFailureAt', first, 'lastFailureAt', ARGV[1], 'expiresAt', expires)
redis.call('PEXPIREAT', KEYS[1], expires)
return { tostring(count), first, ARGV[1], expires }
`);

/**
 * Sweeps one SCAN batch: deletes counters expired at `now`; in per-user sets, deletes records
 * expired at `now` and drops members whose record Redis already expired. Returns the count.
 * KEYS: counters and sets. ARGV: key prefix, now, then one kind per key ("f", "s", "r" or "o").
 *
 * @example
 * ```ts
 * const removed = await evalScript(driver, SWEEP, keys, [prefix, String(now), ...kinds]);
 * ```
 */
export const SWEEP = luaScript(`
local RECORDS = { s = 'session:', r = 'remember:', o = 'onetime:' }
local now = tonumber(ARGV[2])
local removed = 0
for i, key in ipairs(KEYS) do
  local kind = ARGV[i + 2]
  if kind == 'f' then
    local at = redis.call('HGET', key, 'expiresAt')
    if at and tonumber(at) <= now then
      redis.call('DEL', key)
      removed = removed + 1
    end
  else
    local records = ARGV[1] .. RECORDS[kind]
    for _, id in ipairs(redis.call('SMEMBERS', key)) do
      local at = redis.call('HGET', records .. id, 'expiresAt')
      if not at or tonumber(at) <= now then
        if at then redis.call('DEL', records .. id) end
        redis.call('SREM', key, id)
        removed = removed + 1
      end
    end
  end
end
return removed
`);

/**
 * Deletes and returns a one-time token that has not expired at `now`, and removes it from its
 * user's set; nil when there is none (an expired one is left for the sweep). One script, so of
 * several concurrent callers exactly one gets the fields.
 * KEYS: token. ARGV: key prefix, token hash, now. Returns the values of `ONE_TIME_FIELDS`, or nil.
 *
 * @example
 * ```ts
 * const reply = await evalScript(driver, CONSUME_ONE_TIME_TOKEN, [tokenKey], [prefix, tokenHash, String(now)]);
 * ```
 */
export const CONSUME_ONE_TIME_TOKEN = luaScript(`
local v = redis.call('HMGET', KEYS[1], 'purpose', 'userId', 'data', 'epoch', 'createdAt', 'expiresAt')
if not v[2] or tonumber(v[6]) <= tonumber(ARGV[3]) then return nil end
redis.call('DEL', KEYS[1])
redis.call('SREM', ARGV[1] .. 'user:' .. v[2] .. ':onetime', ARGV[2])
return v
`);

/**
 * Deletes a user's one-time tokens of one purpose, or of every purpose, and returns how many
 * existed; drops set members whose token Redis already expired.
 * KEYS: user set. ARGV: token key prefix (`<prefix>onetime:`), "1" for every purpose, the purpose.
 *
 * @example
 * ```ts
 * const n = await evalScript(driver, DELETE_USER_ONE_TIME_TOKENS, [setKey], [`${prefix}onetime:`, "0", "password-reset"]);
 * ```
 */
export const DELETE_USER_ONE_TIME_TOKENS = luaScript(`
local removed = 0
for _, hash in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local purpose = redis.call('HGET', ARGV[1] .. hash, 'purpose')
  if not purpose then
    redis.call('SREM', KEYS[1], hash)
  elseif ARGV[2] == '1' or purpose == ARGV[3] then
    redis.call('DEL', ARGV[1] .. hash)
    redis.call('SREM', KEYS[1], hash)
    removed = removed + 1
  end
end
return removed
`);
