/**
 * Refusing option names a function does not know, with the closest known name as a hint, so a typo
 * (`loginview`, `keyprefix`) or an option from an older release fails at start-up instead of being
 * ignored in silence; and showing option values in messages as the caller wrote them.
 *
 * Shared by `new LoginManager`, `createPasswordHasher` and the stores' option checks.
 *
 * @module
 */
import { ConfigurationError } from "./errors.js";

/** A name further than this many edits from every candidate gets no hint. */
const MAX_HINT_EDITS = 3;
/** Containment ("memory" in "memoryCostKiB") counts only for names at least this long. */
const MIN_CONTAINED_LENGTH = 4;
/** A name that starts another ("ttl" in "ttlSeconds") counts from this length. */
const MIN_PREFIX_LENGTH = 3;
/** Longest rendering of an object or array value in a message. */
const MAX_SHOWN_LENGTH = 80;

/**
 * How {@link rejectUnknownKeys} names and hints the options of one level.
 *
 * @example
 * ```ts
 * const rules: UnknownKeyRules = {
 *   path: "views", // names show as "views.loginView"
 *   hints: { loginUrl: "views.loginView" }, // an older or foreign name -> where it lives now
 * };
 * ```
 */
export interface UnknownKeyRules {
  /** Prefix of this level's names in messages (`"views"` shows `loginView` as `"views.loginView"`). */
  readonly path?: string;
  /**
   * Names that are not accepted here but point somewhere, shown exactly as given: an old name,
   * a name that belongs to another group, a common synonym. Matched exactly first, then by
   * closeness like the known names.
   */
  readonly hints?: Readonly<Record<string, string>>;
}

/**
 * The first own key of `given` that is not in `known`, as shown in messages (with the level's path),
 * and the suggested name (the closest known name, or the target of a matching hint) if any.
 *
 * @example
 * ```ts
 * findUnknownKey({ loginview: "/login" }, ["loginView"], { path: "views" });
 * // { key: "loginview", shown: "views.loginview", hint: "views.loginView" }
 * ```
 */
export function findUnknownKey(
  given: object,
  known: Iterable<string>,
  rules: UnknownKeyRules = {},
): UnknownKey | undefined {
  const knownNames = [...known];
  const prefix = rules.path ? `${rules.path}.` : "";
  for (const key of Object.keys(given)) {
    if (knownNames.includes(key)) continue;
    return { key, shown: prefix + key, hint: suggestName(key, knownNames, rules.hints ?? {}, prefix) };
  }
  return undefined;
}

/**
 * An option name that {@link findUnknownKey} found.
 *
 * @example
 * ```ts
 * const unknown: UnknownKey = { key: "loginview", shown: "views.loginview", hint: "views.loginView" };
 * ```
 */
export interface UnknownKey {
  /** The key as given. */
  readonly key: string;
  /** The key with its level's path, as messages show it. */
  readonly shown: string;
  /** The name to suggest, or undefined when none is close. */
  readonly hint: string | undefined;
}

/**
 * Throws a {@link ConfigurationError} for the first own key of `given` that is not in `known`,
 * suggesting the closest known name (or the target of a matching hint) and listing the known ones.
 *
 * @example
 * ```ts
 * rejectUnknownKeys({ keyprefix: "app:" }, ["client", "keyPrefix"], "RedisStore");
 * // ConfigurationError: RedisStore: unknown option "keyprefix": did you mean "keyPrefix"? Known options: client, keyPrefix.
 * rejectUnknownKeys({ loginview: "/login" }, ["secret", "views"], "LoginManager", {
 *   hints: { loginView: "views.loginView" },
 * });
 * // ConfigurationError: LoginManager: unknown option "loginview": did you mean "views.loginView"? ...
 * ```
 */
export function rejectUnknownKeys(
  given: object,
  known: Iterable<string>,
  context: string,
  rules: UnknownKeyRules = {},
): void {
  const knownNames = [...known];
  const unknown = findUnknownKey(given, knownNames, rules);
  if (unknown === undefined) return;
  throw new ConfigurationError(
    `${context}: unknown option ${JSON.stringify(unknown.shown)}` +
      `${unknown.hint ? `: did you mean ${JSON.stringify(unknown.hint)}?` : "."} ` +
      `Known options${rules.path ? ` in ${rules.path}` : ""}: ${knownNames.join(", ")}.`,
  );
}

/** A hint's exact name first, then the closest of the known names and the hints' names. */
function suggestName(
  key: string,
  known: readonly string[],
  hints: Readonly<Record<string, string>>,
  prefix: string,
): string | undefined {
  if (Object.hasOwn(hints, key)) return hints[key];
  const hintNames = Object.keys(hints);
  const closest = closestName(key, [...known, ...hintNames]);
  if (closest === undefined) return undefined;
  return known.includes(closest) ? prefix + closest : hints[closest];
}

/**
 * The candidate closest to `name`, compared case-insensitively by edit distance (one character
 * inserted, deleted or replaced per edit), or one containing the other; undefined when none is
 * close enough to be a likely typo. Ties go to the earlier candidate.
 *
 * @example
 * ```ts
 * closestName("loginview", ["loginView", "loginMessage"]); // "loginView"
 * closestName("memory", ["memoryCostKiB", "timeCost"]); // "memoryCostKiB"
 * closestName("colour", ["secret", "store"]); // undefined
 * ```
 */
export function closestName(name: string, candidates: Iterable<string>): string | undefined {
  const wanted = name.toLowerCase();
  let best: { name: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = nameDistance(wanted, candidate.toLowerCase());
    if (distance !== undefined && (best === undefined || distance < best.distance)) {
      best = { name: candidate, distance };
    }
  }
  return best?.name;
}

/** Edits between two lower-cased names when they are close enough to hint, else undefined. */
function nameDistance(wanted: string, candidate: string): number | undefined {
  const edits = editDistance(wanted, candidate);
  // A short name is "close" to almost anything of its length: allow at most half its letters.
  const limit = Math.min(MAX_HINT_EDITS, Math.floor(Math.min(wanted.length, candidate.length) / 2));
  if (edits <= limit) return edits;
  const shorter = wanted.length <= candidate.length ? wanted : candidate;
  const longer = shorter === wanted ? candidate : wanted;
  const contained = shorter.length >= MIN_CONTAINED_LENGTH && longer.includes(shorter);
  // A short abbreviation counts when it is how the longer name starts ("ttl" for "ttlSeconds").
  const abbreviation = shorter.length >= MIN_PREFIX_LENGTH && longer.startsWith(shorter);
  if (contained || abbreviation) return MAX_HINT_EDITS + 0.5;
  return undefined;
}

/**
 * Levenshtein distance between two strings.
 *
 * @example
 * ```ts
 * editDistance("kitten", "sitting"); // 3
 * ```
 */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const replaced = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, replaced);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/**
 * An option value as the caller wrote it, for error messages: strings quoted JSON-style (so `"1800"`
 * is visibly not the number 1800), numbers, booleans and null as written, arrays and plain objects
 * as JSON (shortened), functions and other objects by kind.
 *
 * @example
 * ```ts
 * showValue("1800"); // "\"1800\""
 * showValue(1800); // "1800"
 * showValue(Number.NaN); // "NaN"
 * showValue(undefined); // "undefined"
 * ```
 */
export function showValue(value: unknown): string {
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
    case "boolean":
    case "undefined":
    case "symbol":
      return String(value);
    case "bigint":
      return `${value}n`;
    case "function":
      return "a function";
    default:
      return showObject(value as object | null);
  }
}

function showObject(value: object | null): string {
  if (value === null) return "null";
  const prototype: unknown = Object.getPrototypeOf(value);
  if (!Array.isArray(value) && prototype !== Object.prototype && prototype !== null) {
    const name = (value.constructor as { name?: unknown } | undefined)?.name;
    return typeof name === "string" && name !== "" ? `an instance of ${name}` : "an object";
  }
  let text: string;
  try {
    text = JSON.stringify(value);
  } catch {
    return Array.isArray(value) ? "an array" : "an object";
  }
  return text.length > MAX_SHOWN_LENGTH ? `${text.slice(0, MAX_SHOWN_LENGTH - 1)}…` : text;
}
