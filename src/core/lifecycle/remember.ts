/**
 * Remember-me tokens: issue, rotate on use, and the one rule for a stale validator (a sibling
 * request's race, or theft). Stores only provide the compare-and-swap; the rule is here, once.
 *
 * @module
 */
import type { RequestView } from "../http.js";
import type { RememberTokenRecord } from "../store.js";
import { constantTimeEqual, hashToken, randomToken } from "../tokens.js";
import type { AuthUser } from "../users.js";
import type { LifecycleDeps } from "./deps.js";
import { fingerprintOf } from "./sessions.js";

/**
 * A remember-me token just stored: its selector and the cookie value `<selector>.<validator>`.
 *
 * @example
 * ```ts
 * response.setCookie("remember_token", issued.cookieValue);
 * ```
 */
export interface IssuedToken {
  readonly selector: string;
  readonly cookieValue: string;
  readonly maxAgeSeconds: number;
}

/**
 * What presenting a remember-me cookie amounts to:
 * - `unknown`: no such token (expired, revoked, never issued);
 * - `rotated`: the current validator; the token now has a new one, in `cookieValue`;
 * - `grace`: the validator a sibling request from this same client replaced within the grace
 *   window (`rememberMe.raceGraceSeconds`): accepted once more, nothing changes;
 * - `theft`: any other stale validator, or a just-replaced one from another client: two copies of
 *   the token exist, so every session and token of the user must end.
 *
 * @example
 * ```ts
 * if (use.outcome === "theft") await revokeUser(use.token.userId, "theft");
 * ```
 */
export type TokenUse =
  | { readonly outcome: "unknown" }
  | { readonly outcome: "rotated"; readonly token: RememberTokenRecord; readonly cookieValue: string }
  | { readonly outcome: "grace"; readonly token: RememberTokenRecord }
  | { readonly outcome: "theft"; readonly token: RememberTokenRecord };

/** Rotation attempts before giving up on a token rotated again and again under our feet. */
const MAX_SWAP_ATTEMPTS = 3;

/** Stores a new remember-me token for `userId`, bound to the requesting client. */
export async function issueToken<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  request: RequestView,
  userId: string,
  durationSeconds: number,
): Promise<IssuedToken> {
  const now = deps.clock.now();
  const selector = randomToken();
  const validator = randomToken();
  await deps.store.createRememberToken({
    selector,
    validatorHash: hashToken(validator),
    previousValidatorHash: null,
    rotatedAt: now,
    rotatedBy: fingerprintOf(deps, request),
    userId,
    createdAt: now,
    expiresAt: now + durationSeconds * 1000,
  });
  return { selector, cookieValue: `${selector}.${validator}`, maxAgeSeconds: durationSeconds };
}

/**
 * Uses a presented `<selector>.<validator>`: rotates it when current, otherwise judges the stale
 * validator (see {@link TokenUse}). Hashes are compared in constant time; the store only swaps.
 */
export async function useToken<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  request: RequestView,
  selector: string,
  validator: string,
): Promise<TokenUse> {
  const presented = hashToken(validator);
  for (let attempt = 0; attempt < MAX_SWAP_ATTEMPTS; attempt++) {
    const now = deps.clock.now();
    const token = await deps.store.getRememberToken(selector, now);
    if (!token) return { outcome: "unknown" };
    if (!constantTimeEqual(presented, token.validatorHash))
      return judgeStale(deps, request, token, presented, now);
    const next = randomToken();
    const rotation = {
      validatorHash: hashToken(next),
      previousValidatorHash: token.validatorHash,
      rotatedAt: now,
      rotatedBy: fingerprintOf(deps, request),
    };
    if (await deps.store.swapRememberValidator(selector, token.validatorHash, rotation)) {
      return { outcome: "rotated", token: { ...token, ...rotation }, cookieValue: `${selector}.${next}` };
    }
    // A sibling request rotated it first: read it again, and this validator is now the previous one.
  }
  return { outcome: "unknown" };
}

/**
 * The rule for a validator that is not the current one (issue 16.4): the one just replaced is still
 * accepted, without rotating, for `raceGraceSeconds`, and only from the client whose request replaced
 * it (same address and User-Agent), the only one that can plausibly have raced itself. Anything else
 * means a copy of the token is in other hands.
 */
function judgeStale<U extends AuthUser>(
  deps: LifecycleDeps<U>,
  request: RequestView,
  token: RememberTokenRecord,
  presented: string,
  now: number,
): TokenUse {
  const justReplaced =
    token.previousValidatorHash !== null &&
    constantTimeEqual(presented, token.previousValidatorHash) &&
    now - token.rotatedAt <= deps.rememberMe.raceGraceSeconds * 1000;
  const sameClient = justReplaced && constantTimeEqual(fingerprintOf(deps, request), token.rotatedBy);
  return justReplaced && sameClient ? { outcome: "grace", token } : { outcome: "theft", token };
}
