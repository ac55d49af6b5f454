/**
 * The slow path of reading the session and remember cookies: when the first value of a name loads
 * nobody, the loader tries the other values the Cookie header gives that name. A name sent more than
 * once is how cookies are tossed at a browser (a sibling subdomain, a longer `Path`, an attacker on
 * plain HTTP for names without the `__Host-` prefix): without this, `session=junk; session=<real>`
 * logged the user out and the response deleted the real cookie.
 *
 * @module
 */

import { cookieValues } from "./cookies.js";
import type { LoadedState } from "./login-state.js";
import { type MaybePromise, settle } from "./maybe-promise.js";
import { parseTokenPair } from "./tokens.js";
import type { AuthUser } from "./users.js";

/**
 * Values of one cookie name looked up in the store per request, at most. A Cookie header holding
 * a name a hundred times (cookie tossing) costs no more than this many lookups.
 */
export const MAX_COOKIE_CANDIDATES = 3;

/**
 * What one cookie value turned out to be: the user it loads; `"dead"`, a value shaped as ours
 * (`<id>.<secret>`) that was looked up and loads nobody (unknown, forged, expired, revoked, ended by
 * session protection, a stale remember validator, a user that no longer loads); or null, a value
 * that cannot be ours (not token-shaped, or no user loader to load it), never looked up.
 */
export type ValueOutcome<U extends AuthUser> = LoadedState<U> | "dead" | null;

/** True when the outcome is a loaded user (see {@link ValueOutcome}). */
export function isLoaded<U extends AuthUser>(outcome: ValueOutcome<U>): outcome is LoadedState<U> {
  return typeof outcome === "object" && outcome !== null;
}

/**
 * Tries, in header order, the values of `name` other than `first` (already tried, with
 * `firstOutcome`), up to {@link MAX_COOKIE_CANDIDATES} lookups in all; values that cannot be ours
 * cost none. The first that loads a user wins: over plain HTTP that is also how a value tossed in
 * ahead of the real one, if it is a live session of its own, would win (the `__Host-` names used
 * over HTTPS cannot be tossed). Otherwise resolves `"dead"` when our cookie may be deleted: some
 * value was ours and is dead, and no value that might be ours was left untried, so the cookie a
 * deletion reaches (host-only, `Path=/`) is absent or one of the dead ones. Junk, or a value left
 * untried past the limit, resolves null: nothing is cleared.
 */
export function tryOtherValues<U extends AuthUser>(
  header: string | undefined,
  name: string,
  first: string,
  firstOutcome: "dead" | null,
  tryValue: (value: string) => MaybePromise<ValueOutcome<U>>,
): MaybePromise<ValueOutcome<U>> {
  const lookedUp = firstOutcome === "dead" ? 1 : 0;
  const { values, untried } = otherCandidates(header, name, first, MAX_COOKIE_CANDIDATES - lookedUp);
  return settle(tryInTurn(values, 0, tryValue, lookedUp > 0), (outcome) =>
    outcome === "dead" && untried ? null : outcome,
  );
}

/**
 * The distinct token-shaped values of `name` other than `first`, at most `limit`, and whether more
 * followed. Shape is what "ours" can mean before a lookup: every value we issue is `<id>.<secret>`.
 */
function otherCandidates(
  header: string | undefined,
  name: string,
  first: string,
  limit: number,
): { values: string[]; untried: boolean } {
  const values: string[] = [];
  for (const value of cookieValues(header, name)) {
    if (value === first || values.includes(value) || !parseTokenPair(value)) continue;
    if (values.length === limit) return { values, untried: true };
    values.push(value);
  }
  return { values, untried: false };
}

/** Tries `values` from `index` on, one after another, until one loads a user. */
function tryInTurn<U extends AuthUser>(
  values: readonly string[],
  index: number,
  tryValue: (value: string) => MaybePromise<ValueOutcome<U>>,
  dead: boolean,
): MaybePromise<ValueOutcome<U>> {
  const value = values[index];
  if (value === undefined) return dead ? "dead" : null;
  return settle(tryValue(value), (outcome) =>
    isLoaded(outcome) ? outcome : tryInTurn(values, index + 1, tryValue, dead || outcome === "dead"),
  );
}
