/**
 * Passkeys in the store: one factor per credential (kind `passkey`, id = the credential id, label =
 * the user's name for it, counter = the last signature counter, data = JSON with the public key,
 * transports and backup flags), and the user's WebAuthn user handle: 32 random bytes kept as a factor
 * of kind `passkey-user` (its id), so authenticators never hold the app's user id.
 *
 * @module
 */
import { randomBytes } from "node:crypto";
import type { Clock } from "../core/clock.js";
import type { FactorRecord, SessionStore } from "../core/store.js";
import { FACTOR_KINDS } from "../mfa/shared.js";

const USER_HANDLE_BYTES = 32;
const MAX_TRANSPORTS = 8;
const MAX_TRANSPORT_LENGTH = 32;

/**
 * Where a passkey lives: `singleDevice` (bound to one authenticator, method `hwk`) or `multiDevice`
 * (may be synced by a passkey provider, method `swk`).
 *
 * @example
 * ```ts
 * const deviceType: PasskeyDeviceType = "multiDevice";
 * ```
 */
export type PasskeyDeviceType = "singleDevice" | "multiDevice";

/**
 * A passkey as an account page lists it.
 *
 * @example
 * ```ts
 * for (const key of await passkeys.list(user.getId())) console.log(key.label, key.lastUsedAt);
 * ```
 */
export interface PasskeyInfo {
  /** The credential id (base64url): what `rename` and `remove` take. */
  readonly id: string;
  readonly label: string;
  readonly createdAt: Date;
  readonly lastUsedAt: Date | null;
  /** Whether the provider reported it backed up (synced) at its last use. */
  readonly backedUp: boolean;
  readonly deviceType: PasskeyDeviceType;
}

/**
 * The JSON a passkey factor's `data` holds.
 *
 * @example
 * ```ts
 * const data: PasskeyData = { publicKey: "pQECAyYg...", transports: ["internal"], backedUp: true,
 *   deviceType: "multiDevice", aaguid: "00000000-0000-0000-0000-000000000000", userHandle: "q3Xv..." };
 * ```
 */
export interface PasskeyData {
  /** The COSE public key, base64url. */
  readonly publicKey: string;
  readonly transports: readonly string[];
  readonly backedUp: boolean;
  readonly deviceType: PasskeyDeviceType;
  /** The authenticator model's id as it reported it at registration. */
  readonly aaguid: string;
  /** The user handle the credential was created under. */
  readonly userHandle: string;
}

/**
 * The data of a passkey factor, or null when it is not what this module wrote.
 *
 * @example
 * ```ts
 * const data = passkeyDataOf(factor);
 * ```
 */
export function passkeyDataOf(factor: FactorRecord): PasskeyData | null {
  try {
    const data = JSON.parse(factor.data) as Partial<PasskeyData>;
    const { publicKey, transports, backedUp, deviceType, aaguid, userHandle } = data;
    if (typeof publicKey !== "string" || typeof backedUp !== "boolean") return null;
    if (deviceType !== "singleDevice" && deviceType !== "multiDevice") return null;
    return {
      publicKey,
      transports: cleanTransports(transports),
      backedUp,
      deviceType,
      aaguid: typeof aaguid === "string" ? aaguid : "",
      userHandle: typeof userHandle === "string" ? userHandle : "",
    };
  } catch {
    return null;
  }
}

/**
 * The transports a browser reported, kept only when they are a short list of short strings.
 *
 * @example
 * ```ts
 * cleanTransports(["internal", "hybrid"]); // ["internal", "hybrid"]
 * ```
 */
export function cleanTransports(transports: unknown): string[] {
  if (!Array.isArray(transports)) return [];
  return transports
    .filter((entry): entry is string => typeof entry === "string" && entry.length <= MAX_TRANSPORT_LENGTH)
    .slice(0, MAX_TRANSPORTS);
}

/**
 * A passkey factor as {@link PasskeyInfo} shows it (null when its data is unreadable).
 *
 * @example
 * ```ts
 * const info = passkeyInfoOf(factor);
 * ```
 */
export function passkeyInfoOf(factor: FactorRecord): PasskeyInfo | null {
  const data = passkeyDataOf(factor);
  if (data === null) return null;
  return {
    id: factor.id,
    label: factor.label,
    createdAt: new Date(factor.createdAt),
    lastUsedAt: factor.lastUsedAt === null ? null : new Date(factor.lastUsedAt),
    backedUp: data.backedUp,
    deviceType: data.deviceType,
  };
}

/**
 * The user's WebAuthn user handle (base64url), made and stored on first use. Two first uses at once
 * may each make one; both stay valid, as each maps back to the user.
 *
 * @example
 * ```ts
 * const handle = await userHandleOf(store, clock, user.getId());
 * ```
 */
export async function userHandleOf(store: SessionStore, clock: Clock, userId: string): Promise<string> {
  const [existing] = await store.listUserFactors(userId, FACTOR_KINDS.passkeyUser);
  if (existing) return existing.id;
  const handle = randomBytes(USER_HANDLE_BYTES).toString("base64url");
  await store.createFactor({
    kind: FACTOR_KINDS.passkeyUser,
    id: handle,
    userId,
    label: "",
    data: "",
    counter: 0,
    createdAt: clock.now(),
    lastUsedAt: null,
  });
  return handle;
}

/**
 * The user a user handle belongs to, or null.
 *
 * @example
 * ```ts
 * const owner = await ownerOfHandle(store, response.userHandle);
 * ```
 */
export async function ownerOfHandle(store: SessionStore, handle: unknown): Promise<string | null> {
  if (typeof handle !== "string" || handle.length === 0 || handle.length > 128) return null;
  return (await store.getFactor(FACTOR_KINDS.passkeyUser, handle))?.userId ?? null;
}
