/**
 * How the store's SCAN walks (`deleteExpired`, `deleteAllSessions`, `deleteAllRememberTokens`) read
 * key names under the prefix: which keys to match, and what each found key is. One-time tokens
 * (`onetime:<hash>`, `user:<id>:onetime`) are swept, never matched by the `deleteAll…` walks.
 *
 * @module
 */

/** Keys per SCAN call (and per script) in `deleteExpired` and the `deleteAll…` walks. */
const SCAN_BATCH = 1000;

/**
 * Session ids and remember-me selectors are base64url. The `deleteAll…` walks delete a
 * `session:`/`remember:` key only when the rest of its name is one, so the keys of a store whose
 * prefix happens to start with ours plus "session:" are not mistaken for our records.
 */
const RECORD_ID = /^[A-Za-z0-9_-]+$/;

/**
 * Walks every key under `prefix` with SCAN (never KEYS), {@link SCAN_BATCH} at a time, yielding
 * each batch as `send` returns it. Glob characters in the prefix are escaped.
 *
 * @example
 * ```ts
 * for await (const keys of scanBatches((args) => driver.send(args), "lm:")) console.log(keys);
 * ```
 */
export async function* scanBatches(
  send: (args: string[]) => Promise<unknown>,
  prefix: string,
): AsyncGenerator<string[]> {
  const pattern = `${prefix.replace(/[*?[\]\\]/g, "\\$&")}*`;
  let cursor = "0";
  do {
    const [next, keys] = (await send(["SCAN", cursor, "MATCH", pattern, "COUNT", String(SCAN_BATCH)])) as [
      string,
      string[],
    ];
    cursor = String(next);
    yield keys;
  } while (cursor !== "0");
}

/**
 * What `deleteExpired` does with a key: "f" a counter (`failures:<key>`, whatever it counts), "s" /
 * "r" / "o" a per-user set of sessions / remember-me tokens / one-time tokens; undefined leaves it
 * alone (records expire by their own TTL, and are swept through their user's set).
 *
 * @example
 * ```ts
 * sweepKind("lm:", "lm:user:42:sessions"); // "s"
 * ```
 */
export function sweepKind(prefix: string, key: string): "f" | "s" | "r" | "o" | undefined {
  if (key.startsWith(`${prefix}failures:`)) return "f";
  if (!key.startsWith(`${prefix}user:`)) return undefined;
  if (key.endsWith(":sessions")) return "s";
  if (key.endsWith(":remember")) return "r";
  if (key.endsWith(":onetime")) return "o";
  return undefined;
}

/**
 * What `deleteAllSessions` / `deleteAllRememberTokens` delete while walking `record` keys: "record" a
 * session or remember-me hash of this store, "set" the per-user set that lists them; undefined
 * leaves the key alone.
 *
 * @example
 * ```ts
 * recordOrSet("lm:", "session", "lm:session:abc"); // "record"
 * ```
 */
export function recordOrSet(
  prefix: string,
  record: "session" | "remember",
  key: string,
): "record" | "set" | undefined {
  const records = `${prefix}${record}:`;
  if (key.startsWith(records) && RECORD_ID.test(key.slice(records.length))) return "record";
  const setSuffix = record === "session" ? ":sessions" : ":remember";
  return key.startsWith(`${prefix}user:`) && key.endsWith(setSuffix) ? "set" : undefined;
}
