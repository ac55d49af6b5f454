/**
 * What the passkey ceremonies share: the manager, its store and clock, the checked options and the
 * events, and the outcomes they report.
 *
 * @module
 */
import type { Clock } from "../core/clock.js";
import type { TypedEvents } from "../core/events.js";
import type { RequestView } from "../core/http.js";
import type { LoginManager } from "../core/manager.js";
import type { FactorRecord, SessionStore } from "../core/store.js";
import type { AuthUser } from "../core/users.js";
import { AUTH_METHODS } from "../mfa/shared.js";
import { type PasskeyInfo, passkeyDataOf } from "./credentials.js";
import type { ResolvedPasskeysOptions } from "./options.js";

/**
 * Payloads of `Passkeys.events`. Keys, challenges and signatures are never part of them.
 *
 * @example
 * ```ts
 * passkeys.events.on("passkeyCloneSuspected", ({ userId, id }) => securityLog.alert({ userId, id }));
 * ```
 */
export interface PasskeyEvents {
  passkeyAdded: { userId: string; passkey: PasskeyInfo; request: RequestView };
  passkeyRenamed: { userId: string; id: string; label: string; request: RequestView };
  passkeyRemoved: { userId: string; id: string; request: RequestView };
  /** A login completed with a passkey (`usernameless`: it was the only step). */
  passkeyUsed: {
    userId: string;
    id: string;
    method: "hwk" | "swk";
    usernameless: boolean;
    request: RequestView;
  };
  /**
   * A valid signature whose counter did not go up: the credential may have been cloned (the use was
   * refused). Authenticators that do not count always report 0 and never trigger it.
   */
  passkeyCloneSuspected: {
    userId: string;
    id: string;
    storedCounter: number;
    presentedCounter: number;
    request: RequestView;
  };
}

/**
 * Why a registration was refused: `invalid-label` (not a string of at most 64 characters without
 * control characters), `malformed` (not a WebAuthn response within 64 KiB), `challenge` (unknown,
 * used, expired, from another browser or another user's ceremony), `unverified` (origin, rpId, user
 * verification, attestation or signature wrong), `exists` (this credential is registered already).
 *
 * @example
 * ```ts
 * const reason: RegistrationFailure = "challenge";
 * ```
 */
export type RegistrationFailure = "invalid-label" | "malformed" | "challenge" | "unverified" | "exists";

/**
 * Why a passkey sign-in was refused: as {@link RegistrationFailure}, and `unknown-credential` (no
 * such passkey, or not the pending login's user's), `counter` (the signature counter went backwards:
 * a possible clone), `no-pending-login` (the login waiting for this second factor is gone: back to
 * the login page), `user-unavailable` (`findUserById` found nobody, or the user may not log in),
 * `invalid` / `locked` (the account's failure budget, with `retryAfterSeconds`).
 *
 * @example
 * ```ts
 * const reason: AuthenticationFailure = "counter";
 * ```
 */
export type AuthenticationFailure =
  | "malformed"
  | "challenge"
  | "unknown-credential"
  | "unverified"
  | "counter"
  | "no-pending-login"
  | "user-unavailable"
  | "invalid"
  | "locked";

/**
 * What the ceremonies of one `Passkeys` work with.
 *
 * @example
 * ```ts
 * const deps: PasskeyDeps<User> = { manager, store, clock, options, events };
 * ```
 */
export interface PasskeyDeps<U extends AuthUser> {
  readonly manager: LoginManager<U>;
  readonly store: SessionStore;
  readonly clock: Clock;
  readonly options: ResolvedPasskeysOptions<U>;
  readonly events: TypedEvents<PasskeyEvents>;
}

/**
 * COSE algorithms offered and accepted: EdDSA, ES256, RS256 (what authenticators implement).
 *
 * @example
 * ```ts
 * generateRegistrationOptions({ ...options, supportedAlgorithmIDs: [...SUPPORTED_ALGORITHMS] });
 * ```
 */
export const SUPPORTED_ALGORITHMS: readonly number[] = Object.freeze([-8, -7, -257]);

/**
 * The method a passkey proves (RFC 8176): `swk` when it may be synced (backup eligible), else `hwk`.
 *
 * @example
 * ```ts
 * const method = methodOf(factor); // "swk"
 * ```
 */
export function methodOf(factor: FactorRecord): "hwk" | "swk" {
  return passkeyDataOf(factor)?.deviceType === "multiDevice" ? AUTH_METHODS.swk : AUTH_METHODS.hwk;
}

/**
 * A fresh `Uint8Array` over its own buffer: the type `@simplewebauthn/server` takes for bytes.
 *
 * @example
 * ```ts
 * const userID = ownBytes(Buffer.from(handle, "base64url"));
 * ```
 */
export function ownBytes(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}
