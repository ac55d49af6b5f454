/**
 * The second-factor part of the store contract (see `store.ts` for the rules every part follows).
 *
 * @module
 */
/**
 * The second-factor part of the store contract: a user's enrolled authenticators (a TOTP secret,
 * recovery codes, passkeys), one record per `(kind, id)`. The store keeps what it is given (`data` is
 * already sealed or public material) and offers the two atomic steps that make a factor single-use:
 * {@link FactorStorage.advanceFactorCounter} (a TOTP time step, a passkey's signature counter) and
 * {@link FactorStorage.deleteFactor} (a recovery code). Factors never expire and
 * `deleteExpired` leaves them alone: losing them would silently turn a second factor off, so keep
 * them in a store that persists (see SECURITY.md).
 *
 * @example
 * ```ts
 * const used = await store.deleteFactor("recovery-code", codeId); // true for exactly one caller
 * ```
 */
export interface FactorStorage {
  /** Inserts a factor; resolves false, changing nothing, when one with this `(kind, id)` exists. */
  createFactor(factor: FactorRecord): Promise<boolean>;
  /** Returns the factor with this `(kind, id)`, or null. */
  getFactor(kind: string, id: string): Promise<FactorRecord | null>;
  /** Lists the user's factors of `kind` (of every kind when null), oldest first (then by id). */
  listUserFactors(userId: string, kind: string | null): Promise<FactorRecord[]>;
  /** Applies `patch`; resolves false when the factor does not exist. */
  updateFactor(kind: string, id: string, patch: FactorPatch): Promise<boolean>;
  /**
   * Atomically: when the factor exists and its stored `counter` is lower than `counter`, writes
   * `counter` and `lastUsedAt = usedAt` and resolves true; otherwise changes nothing and resolves
   * false. Of several concurrent callers with the same `counter`, exactly one gets true.
   */
  advanceFactorCounter(kind: string, id: string, counter: number, usedAt: number): Promise<boolean>;
  /** Atomically deletes the factor; resolves true for exactly one of several concurrent callers. */
  deleteFactor(kind: string, id: string): Promise<boolean>;
  /** Deletes the user's factors of `kind` (of every kind when null); resolves to the number deleted. */
  deleteUserFactors(userId: string, kind: string | null): Promise<number>;
}

/**
 * One enrolled authenticator (see {@link FactorStorage}). Sizes the stores accept: `kind` 1 to 32
 * characters, `id` 1 to 1400 (a WebAuthn credential id of up to 1023 bytes, base64url), `userId`
 * as for sessions, `label` up to 200, `data` up to 8192; `counter` a safe integer from 0.
 *
 * @example
 * ```ts
 * const factor: FactorRecord = { kind: "totp", id: "42", userId: "42", label: "", data: sealedSecret,
 *   counter: 0, createdAt: now, lastUsedAt: null };
 * ```
 */
export interface FactorRecord {
  /** What it is: `"totp"`, `"recovery-code"`, `"passkey"` (the core's kinds), or your own. */
  kind: string;
  /** Unique within its kind: the user id (TOTP), a hash (recovery code), the credential id (passkey). */
  id: string;
  userId: string;
  /** A name the user gave it ("YubiKey"), or "". */
  label: string;
  /** The factor's material, opaque to the store (a sealed secret, a public key and flags as JSON). */
  data: string;
  /** Last TOTP time step used, or a passkey's last signature counter; 0 at first. */
  counter: number;
  createdAt: number;
  lastUsedAt: number | null;
}

/**
 * Fields of a factor that may change after creation.
 *
 * @example
 * ```ts
 * await store.updateFactor("passkey", credentialId, { label: "Laptop" });
 * ```
 */
export type FactorPatch = Partial<Pick<FactorRecord, "label" | "data" | "lastUsedAt">>;
