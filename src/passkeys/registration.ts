/**
 * Registering a passkey: options for `navigator.credentials.create()` (a discoverable credential
 * with user verification, under the user's random handle, excluding the passkeys they have) and the
 * check of the browser's response against its single-use challenge, origins and rpId.
 *
 * @module
 */
import {
  generateRegistrationOptions,
  type PublicKeyCredentialCreationOptionsJSON,
  type RegistrationResponseJSON,
  type VerifiedRegistrationResponse,
  verifyRegistrationResponse,
} from "@simplewebauthn/server";
import { LoginManagerError } from "../core/errors.js";
import type { FactorRecord } from "../core/store.js";
import type { AuthUser } from "../core/users.js";
import {
  FACTOR_KINDS,
  freshUser,
  isSizedString,
  MAX_LABEL_LENGTH,
  type SecondFactorAuth,
} from "../mfa/shared.js";
import { consumeChallenge, issueChallenge, type ParsedResponse, parseResponse } from "./ceremony.js";
import {
  cleanTransports,
  type PasskeyData,
  type PasskeyInfo,
  passkeyDataOf,
  passkeyInfoOf,
  userHandleOf,
} from "./credentials.js";
import { ownBytes, type PasskeyDeps, type RegistrationFailure, SUPPORTED_ALGORITHMS } from "./deps.js";

/**
 * The one-time token purpose of registration challenges.
 *
 * @example
 * ```ts
 * await manager.revokeOneTimeTokens(user.getId(), PASSKEY_REGISTRATION_PURPOSE);
 * ```
 */
export const PASSKEY_REGISTRATION_PURPOSE = "passkey-registration";
/** An e-mail address's maximum: the longest user name shown in the passkey dialog. */
const MAX_USER_NAME_LENGTH = 320;
const CONTROL_CHARACTERS = /\p{Cc}/u;

/**
 * Whether `label` may name a passkey: a string of at most 64 characters without control characters.
 *
 * @example
 * ```ts
 * isPasskeyLabel("YubiKey 5"); // true
 * ```
 */
export function isPasskeyLabel(label: unknown): label is string {
  return isSizedString(label, MAX_LABEL_LENGTH) && !CONTROL_CHARACTERS.test(label);
}

/**
 * Options for `navigator.credentials.create()`; needs a fresh login. The challenge waits as a
 * one-time token bound to this browser for `timeoutSeconds`.
 *
 * @example
 * ```ts
 * res.json(await registrationOptions(deps, req.auth, { userName: user.email, displayName: user.name }));
 * ```
 */
export async function registrationOptions<U extends AuthUser>(
  deps: PasskeyDeps<U>,
  auth: SecondFactorAuth<U>,
  input: { userName: string; displayName: string },
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const userId = freshUser(auth, "registrationOptions").getId();
  const userName = input?.userName;
  const displayName = input?.displayName;
  if (!isSizedString(userName, MAX_USER_NAME_LENGTH, 1) || !isPasskeyLabel(displayName)) {
    throw new LoginManagerError(
      "ERR_CONFIGURATION",
      `registrationOptions: userName must be 1 to ${MAX_USER_NAME_LENGTH} characters and displayName at most ${MAX_LABEL_LENGTH} without control characters`,
    );
  }
  const { store, clock, manager, options } = deps;
  const handle = await userHandleOf(store, clock, userId);
  const existing = await store.listUserFactors(userId, FACTOR_KINDS.passkey);
  const challenge = await issueChallenge(manager, PASSKEY_REGISTRATION_PURPOSE, options.timeoutSeconds, {
    userId,
    binding: auth.browserBinding(),
    mode: "register",
    handle,
  });
  return generateRegistrationOptions({
    rpName: options.rpName,
    rpID: options.rpId,
    userName,
    userID: ownBytes(Buffer.from(handle, "base64url")),
    userDisplayName: displayName,
    challenge: ownBytes(challenge),
    timeout: options.timeoutSeconds * 1000,
    attestationType: "none",
    excludeCredentials: existing.map((factor) => ({
      id: factor.id,
      transports: passkeyDataOf(factor)?.transports.slice() ?? [],
    })),
    authenticatorSelection: {
      residentKey: "required",
      requireResidentKey: true,
      userVerification: "required",
    },
    supportedAlgorithmIDs: [...SUPPORTED_ALGORITHMS],
  });
}

/**
 * Checks a registration response and stores the passkey under `label`; needs a fresh login.
 *
 * @example
 * ```ts
 * const result = await finishRegistration(deps, req.auth, req.body.credential, { label: req.body.label });
 * ```
 */
export async function finishRegistration<U extends AuthUser>(
  deps: PasskeyDeps<U>,
  auth: SecondFactorAuth<U>,
  responseJson: unknown,
  input: { label: string },
): Promise<{ ok: true; passkey: PasskeyInfo } | { ok: false; reason: RegistrationFailure }> {
  const userId = freshUser(auth, "finishRegistration").getId();
  const label = input?.label ?? "";
  if (!isPasskeyLabel(label)) return { ok: false, reason: "invalid-label" };
  const parsed = parseResponse(responseJson);
  if (parsed === null) return { ok: false, reason: "malformed" };
  const { manager, store, clock, events } = deps;
  const grant = await consumeChallenge(manager, PASSKEY_REGISTRATION_PURPOSE, parsed, auth.browserBinding());
  if (grant === null || grant.mode !== "register" || grant.userId !== userId) {
    return { ok: false, reason: "challenge" };
  }
  const verified = await verifyRegistration(deps, parsed);
  if (verified === null) return { ok: false, reason: "unverified" };
  const factor = factorOf(verified, parsed, { userId, label, handle: grant.handle, now: clock.now() });
  if (!(await store.createFactor(factor))) return { ok: false, reason: "exists" };
  const passkey = passkeyInfoOf(factor) as PasskeyInfo;
  events.emit("passkeyAdded", { userId, passkey, request: auth.request });
  return { ok: true, passkey };
}

type RegistrationInfo = Extract<VerifiedRegistrationResponse, { verified: true }>["registrationInfo"];

async function verifyRegistration<U extends AuthUser>(
  deps: PasskeyDeps<U>,
  parsed: ParsedResponse,
): Promise<RegistrationInfo | null> {
  try {
    const result = await verifyRegistrationResponse({
      response: parsed.json as unknown as RegistrationResponseJSON,
      // The challenge was consumed above: this is the one the response names.
      expectedChallenge: parsed.challenge,
      expectedOrigin: [...deps.options.origins],
      expectedRPID: deps.options.rpId,
      requireUserPresence: true,
      requireUserVerification: true,
      supportedAlgorithmIDs: [...SUPPORTED_ALGORITHMS],
    });
    return result.verified ? result.registrationInfo : null;
  } catch {
    // The library explains in the message; none of it is the user's business.
    return null;
  }
}

function factorOf(
  info: RegistrationInfo,
  parsed: ParsedResponse,
  owner: { userId: string; label: string; handle: string; now: number },
): FactorRecord {
  const { credential } = info;
  const data: PasskeyData = {
    publicKey: Buffer.from(credential.publicKey).toString("base64url"),
    transports: cleanTransports(parsed.json.response.transports ?? credential.transports),
    backedUp: info.credentialBackedUp,
    deviceType: info.credentialDeviceType,
    aaguid: info.aaguid,
    userHandle: owner.handle,
  };
  return {
    kind: FACTOR_KINDS.passkey,
    id: credential.id,
    userId: owner.userId,
    label: owner.label,
    data: JSON.stringify(data),
    counter: credential.counter,
    createdAt: owner.now,
    lastUsedAt: null,
  };
}
