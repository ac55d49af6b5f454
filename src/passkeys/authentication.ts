/**
 * Signing in with a passkey: as the second step of a pending login (that user's passkeys, counted in
 * the account's failure budget, method `hwk` or `swk`), usernameless (a discoverable credential
 * with user verification, found by its id and user handle, which proves both factors at once:
 * methods `hwk`/`swk` and `mfa`), or, when the browser is logged in, to re-authenticate (that user's
 * own passkeys only, with user verification: the login is confirmed, never switched to another user). The signature counter is advanced atomically; one that does not
 * go up, unless the authenticator does not count at all (always 0), is refused as a possible clone.
 *
 * @module
 */
import {
  type AuthenticationResponseJSON,
  generateAuthenticationOptions,
  type PublicKeyCredentialRequestOptionsJSON,
  verifyAuthenticationResponse,
} from "@simplewebauthn/server";
import type { FactorPatch, FactorRecord } from "../core/store.js";
import type { AuthUser } from "../core/users.js";
import { AUTH_METHODS, FACTOR_KINDS, type PasskeyAuth } from "../mfa/shared.js";
import {
  type ChallengeGrant,
  consumeChallenge,
  issueChallenge,
  type ParsedResponse,
  parseResponse,
} from "./ceremony.js";
import { ownerOfHandle, type PasskeyData, passkeyDataOf } from "./credentials.js";
import { type AuthenticationFailure, methodOf, ownBytes, type PasskeyDeps } from "./deps.js";

/**
 * The one-time token purpose of sign-in challenges.
 *
 * @example
 * ```ts
 * await manager.revokeOneTimeTokens(user.getId(), PASSKEY_AUTHENTICATION_PURPOSE);
 * ```
 */
export const PASSKEY_AUTHENTICATION_PURPOSE = "passkey-authentication";
/** The user id usernameless challenges are issued to: nobody is known until the response names a passkey. */
const USERNAMELESS_ID = "login-manager:passkey-sign-in";

/**
 * The outcome of a passkey sign-in.
 *
 * @example
 * ```ts
 * const result: PasskeyLoginResult<User> = { ok: false, reason: "locked", retryAfterSeconds: 60 };
 * ```
 */
export type PasskeyLoginResult<U> =
  | { ok: true; user: U }
  | { ok: false; reason: AuthenticationFailure; retryAfterSeconds?: number };

/**
 * Options for `navigator.credentials.get()`: during a pending login, that user's passkeys (user
 * verification discouraged: the password was the first factor); for a logged-in browser, its user's
 * passkeys (re-authentication, user verification required); otherwise usernameless (no credentials
 * listed, user verification required). The challenge waits bound to this browser.
 *
 * @example
 * ```ts
 * res.json(await authenticationOptions(deps, req.auth));
 * ```
 */
export async function authenticationOptions<U extends AuthUser>(
  deps: PasskeyDeps<U>,
  auth: PasskeyAuth<U>,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { store, manager, options } = deps;
  const binding = auth.browserBinding();
  const grant = await grantFor(auth, binding);
  const listed = grant.mode === "usernameless" ? null : grant.userId;
  const factors = listed === null ? [] : await store.listUserFactors(listed, FACTOR_KINDS.passkey);
  const challenge = await issueChallenge(
    manager,
    PASSKEY_AUTHENTICATION_PURPOSE,
    options.timeoutSeconds,
    grant,
  );
  return generateAuthenticationOptions({
    rpID: options.rpId,
    allowCredentials: factors.map((factor) => ({
      id: factor.id,
      transports: passkeyDataOf(factor)?.transports.slice() ?? [],
    })),
    challenge: ownBytes(challenge),
    timeout: options.timeoutSeconds * 1000,
    userVerification: grant.mode === "second-factor" ? "discouraged" : "required",
  });
}

/** The ceremony this browser is in: re-authenticating its login, a pending login's second step, or a sign-in. */
async function grantFor<U extends AuthUser>(auth: PasskeyAuth<U>, binding: string): Promise<ChallengeGrant> {
  if (auth.isAuthenticated) {
    return { userId: auth.requireUser().getId(), binding, mode: "reauth", handle: "" };
  }
  const pending = await auth.pendingLogin();
  return pending
    ? { userId: pending.userId, binding, mode: "second-factor", handle: "" }
    : { userId: USERNAMELESS_ID, binding, mode: "usernameless", handle: "" };
}

/**
 * Checks a sign-in response: completes this browser's pending login, or logs in usernameless with
 * `remember` (a pending login keeps the remember-me choice of its password step).
 *
 * @example
 * ```ts
 * const result = await finishAuthentication(deps, req.auth, req.body, { remember: req.body.remember === true });
 * ```
 */
export async function finishAuthentication<U extends AuthUser>(
  deps: PasskeyDeps<U>,
  auth: PasskeyAuth<U>,
  responseJson: unknown,
  input: { remember?: boolean } = {},
): Promise<PasskeyLoginResult<U>> {
  const parsed = parseResponse(responseJson);
  if (parsed === null) return { ok: false, reason: "malformed" };
  const grant = await consumeChallenge(
    deps.manager,
    PASSKEY_AUTHENTICATION_PURPOSE,
    parsed,
    auth.browserBinding(),
  );
  if (grant === null || grant.mode === "register") return { ok: false, reason: "challenge" };
  const factor = await deps.store.getFactor(FACTOR_KINDS.passkey, parsed.id);
  if (grant.mode === "second-factor") return secondStep(deps, auth, parsed, grant, factor);
  if (grant.mode === "reauth") return reauthenticate(deps, auth, parsed, grant, factor);
  return usernameless(deps, auth, parsed, factor, input?.remember === true);
}

/** The logged-in user proves it again with one of their own passkeys: the login is confirmed (fresh, new id). */
async function reauthenticate<U extends AuthUser>(
  deps: PasskeyDeps<U>,
  auth: PasskeyAuth<U>,
  parsed: ParsedResponse,
  grant: ChallengeGrant,
  factor: FactorRecord | null,
): Promise<PasskeyLoginResult<U>> {
  const user = auth.isAuthenticated ? auth.requireUser() : null;
  if (!user || !factor || factor.userId !== grant.userId || user.getId() !== grant.userId) {
    return { ok: false, reason: "unknown-credential" };
  }
  const failure = await checkAssertion(deps, auth, parsed, factor, true);
  if (failure !== null) return { ok: false, reason: failure };
  if (!(await auth.confirmLogin([methodOf(factor), AUTH_METHODS.mfa]))) {
    return { ok: false, reason: "user-unavailable" };
  }
  used(deps, auth, factor, false);
  return { ok: true, user };
}

async function secondStep<U extends AuthUser>(
  deps: PasskeyDeps<U>,
  auth: PasskeyAuth<U>,
  parsed: ParsedResponse,
  grant: ChallengeGrant,
  factor: FactorRecord | null,
): Promise<PasskeyLoginResult<U>> {
  // Set by verify, which runs inside completeLogin (under the account's budget).
  const outcome: { failure: AuthenticationFailure | null } = { failure: null };
  const result = await auth.completeLogin({
    // A missing passkey fails in verify; the method named then is never recorded.
    methods: [factor ? methodOf(factor) : AUTH_METHODS.hwk],
    verify: async (pending) => {
      if (!factor || factor.userId !== pending.userId || grant.userId !== pending.userId) {
        outcome.failure = "unknown-credential";
        return false;
      }
      outcome.failure = await checkAssertion(deps, auth, parsed, factor, false);
      return outcome.failure === null;
    },
  });
  if (result === null) return { ok: false, reason: "no-pending-login" };
  if (result.ok) {
    used(deps, auth, factor as FactorRecord, false);
    return { ok: true, user: result.user };
  }
  if (result.reason === "second-factor") return { ok: false, reason: "no-pending-login" };
  const reason = result.reason === "locked" ? "locked" : (outcome.failure ?? "invalid");
  return result.retryAfterSeconds === undefined
    ? { ok: false, reason }
    : { ok: false, reason, retryAfterSeconds: result.retryAfterSeconds };
}

async function usernameless<U extends AuthUser>(
  deps: PasskeyDeps<U>,
  auth: PasskeyAuth<U>,
  parsed: ParsedResponse,
  factor: FactorRecord | null,
  remember: boolean,
): Promise<PasskeyLoginResult<U>> {
  // WebAuthn 7.2 step 6: with no user known beforehand, the user handle must name the owner.
  const owner = factor && (await ownerOfHandle(deps.store, parsed.json.response.userHandle));
  if (!factor || owner !== factor.userId) return { ok: false, reason: "unknown-credential" };
  const failure = await checkAssertion(deps, auth, parsed, factor, true);
  if (failure !== null) return { ok: false, reason: failure };
  const user = await deps.options.findUserById(factor.userId);
  const methods = [methodOf(factor), AUTH_METHODS.mfa];
  if (user === null || !(await auth.loginUser(user, { remember, methods }))) {
    return { ok: false, reason: "user-unavailable" };
  }
  used(deps, auth, factor, true);
  return { ok: true, user };
}

/** Verifies the signature (and flags, origin, rpId) with the stored key, then advances the counter. */
async function checkAssertion<U extends AuthUser>(
  deps: PasskeyDeps<U>,
  auth: PasskeyAuth<U>,
  parsed: ParsedResponse,
  factor: FactorRecord,
  requireUserVerification: boolean,
): Promise<AuthenticationFailure | null> {
  const data = passkeyDataOf(factor);
  if (data === null) return "unknown-credential";
  const info = await verifiedAssertion(deps, parsed, factor, data, requireUserVerification);
  if (info === null) return "unverified";
  const { store, clock, events } = deps;
  const now = clock.now();
  const patch: FactorPatch = {};
  // 0 and 0: an authenticator that does not count (most synced passkeys). Anything else must go up.
  if (info.newCounter === 0 && factor.counter === 0) {
    patch.lastUsedAt = now;
  } else if (!(await store.advanceFactorCounter(FACTOR_KINDS.passkey, factor.id, info.newCounter, now))) {
    events.emit("passkeyCloneSuspected", {
      userId: factor.userId,
      id: factor.id,
      storedCounter: factor.counter,
      presentedCounter: info.newCounter,
      request: auth.request,
    });
    return "counter";
  }
  if (info.credentialBackedUp !== data.backedUp || info.credentialDeviceType !== data.deviceType) {
    const updated: PasskeyData = {
      ...data,
      backedUp: info.credentialBackedUp,
      deviceType: info.credentialDeviceType,
    };
    patch.data = JSON.stringify(updated);
  }
  if (Object.keys(patch).length > 0) await store.updateFactor(FACTOR_KINDS.passkey, factor.id, patch);
  return null;
}

async function verifiedAssertion<U extends AuthUser>(
  deps: PasskeyDeps<U>,
  parsed: ParsedResponse,
  factor: FactorRecord,
  data: PasskeyData,
  requireUserVerification: boolean,
) {
  try {
    const result = await verifyAuthenticationResponse({
      response: parsed.json as unknown as AuthenticationResponseJSON,
      // The challenge was consumed before: this is the one the response names.
      expectedChallenge: parsed.challenge,
      expectedOrigin: [...deps.options.origins],
      expectedRPID: deps.options.rpId,
      // Counter 0 here: the counter is checked above, atomically in the store.
      credential: {
        id: factor.id,
        publicKey: ownBytes(Buffer.from(data.publicKey, "base64url")),
        counter: 0,
        transports: [...data.transports] as AuthenticatorTransportName[],
      },
      requireUserVerification,
    });
    return result.verified ? result.authenticationInfo : null;
  } catch {
    return null;
  }
}

type AuthenticatorTransportName = NonNullable<
  Parameters<typeof verifyAuthenticationResponse>[0]["credential"]["transports"]
>[number];

function used<U extends AuthUser>(
  deps: PasskeyDeps<U>,
  auth: PasskeyAuth<U>,
  factor: FactorRecord,
  usernameless: boolean,
): void {
  deps.events.emit("passkeyUsed", {
    userId: factor.userId,
    id: factor.id,
    method: methodOf(factor),
    usernameless,
    request: auth.request,
  });
}
