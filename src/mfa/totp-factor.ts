/**
 * A user's TOTP secret in the store: enrolment (a sealed secret waiting in a one-time token bound to
 * the browser), the factor itself (kind `totp`, id = user id, data = the secret sealed under the app
 * secrets, counter = the last time step used) and the check of a code, which uses its step once.
 *
 * @module
 */
import type { Clock } from "../core/clock.js";
import type { SessionStore } from "../core/store.js";
import { hashToken } from "../core/tokens.js";
import { SecretBox, SecretBoxError } from "./secret-box.js";
import { FACTOR_KINDS } from "./shared.js";
import { generateTotpSecret, normaliseTotpCode, verifyTotp } from "./totp.js";

/**
 * The one-time token purpose of a TOTP enrolment waiting for its first code.
 *
 * @example
 * ```ts
 * await store.deleteUserOneTimeTokens(userId, TOTP_ENROLMENT_PURPOSE); // drop unfinished enrolments
 * ```
 */
export const TOTP_ENROLMENT_PURPOSE = "totp-enrolment";
/** How long a shown QR code can be confirmed. */
const ENROLMENT_TTL_MS = 10 * 60_000;

/**
 * How a confirmation went: `invalid` (wrong or malformed code; the enrolment stays), `expired` (no
 * enrolment for this user in this browser, or it ran out, or was finished elsewhere).
 *
 * @example
 * ```ts
 * const outcome: TotpConfirmation = { ok: true, step: 58_000_000, sealed };
 * ```
 */
export type TotpConfirmation =
  | { readonly ok: true; readonly step: number; readonly sealed: string }
  | { readonly ok: false; readonly reason: "invalid" | "expired" };

/**
 * The TOTP factor of one manager's store (see the module comment).
 *
 * @example
 * ```ts
 * const totp = new TotpFactor(store, clock, manager.options.secrets);
 * const ok = await totp.verify(user.getId(), req.body.code);
 * ```
 */
export class TotpFactor {
  readonly #store: SessionStore;
  readonly #clock: Clock;
  readonly #box: SecretBox;

  constructor(store: SessionStore, clock: Clock, secrets: readonly string[]) {
    this.#store = store;
    this.#clock = clock;
    this.#box = new SecretBox(secrets, { purpose: "totp-secret" });
  }

  /** Whether the user has TOTP on. */
  async isOn(userId: string): Promise<boolean> {
    return (await this.#store.getFactor(FACTOR_KINDS.totp, userId)) !== null;
  }

  /**
   * A new secret (base32) for the user, kept sealed for ten minutes in a one-time token keyed by the
   * user and `binding`; earlier unfinished enrolments of the user are dropped.
   */
  async start(userId: string, binding: string): Promise<string> {
    const secret = generateTotpSecret();
    const now = this.#clock.now();
    const record = {
      tokenHash: enrolmentKey(userId, binding),
      purpose: TOTP_ENROLMENT_PURPOSE,
      userId,
      data: this.#box.seal(secret, associatedData(userId)),
      epoch: 0,
      createdAt: now,
      expiresAt: now + ENROLMENT_TTL_MS,
    };
    await this.#store.deleteUserOneTimeTokens(userId, TOTP_ENROLMENT_PURPOSE);
    try {
      await this.#store.createOneTimeToken(record);
    } catch {
      // Two starts in one browser at once: both deleted, then both created the same key.
      await this.#store.deleteUserOneTimeTokens(userId, TOTP_ENROLMENT_PURPOSE);
      await this.#store.createOneTimeToken(record);
    }
    return secret;
  }

  /**
   * Checks the first code against the waiting secret and, when right, uses up the enrolment (once:
   * of concurrent confirmations one wins). The caller then creates the factor with `sealed` and `step`.
   */
  async confirm(userId: string, binding: string, code: unknown): Promise<TotpConfirmation> {
    const presented = normaliseTotpCode(code);
    if (presented === undefined) return { ok: false, reason: "invalid" };
    const key = enrolmentKey(userId, binding);
    const now = this.#clock.now();
    const record = await this.#store.findOneTimeToken(key, now);
    if (record === null || record.purpose !== TOTP_ENROLMENT_PURPOSE || record.userId !== userId) {
      return { ok: false, reason: "expired" };
    }
    const secret = this.#openOrNull(record.data, userId);
    if (secret === null) return { ok: false, reason: "expired" };
    const result = verifyTotp(secret, presented, { now });
    if (!result.ok) return { ok: false, reason: "invalid" };
    if ((await this.#store.consumeOneTimeToken(key, now)) === null) return { ok: false, reason: "expired" };
    return { ok: true, step: result.step, sealed: this.#resealed(record.data, secret, userId) };
  }

  /** Creates the factor; false when the user has TOTP on already. */
  enable(userId: string, sealed: string, step: number): Promise<boolean> {
    const now = this.#clock.now();
    return this.#store.createFactor({
      kind: FACTOR_KINDS.totp,
      id: userId,
      userId,
      label: "",
      data: sealed,
      // The confirming code's step counts as used: it cannot log in a second time.
      counter: step,
      createdAt: now,
      lastUsedAt: now,
    });
  }

  /**
   * Whether `code` is the user's current TOTP code (one step of drift either side), using its time
   * step: the step is recorded with the store's atomic counter, so a step is accepted once even
   * under concurrency. A secret sealed under an older app secret is sealed again under the current one.
   */
  async verify(userId: string, code: unknown): Promise<boolean> {
    const presented = normaliseTotpCode(code);
    if (presented === undefined) return false;
    const factor = await this.#store.getFactor(FACTOR_KINDS.totp, userId);
    if (factor === null || factor.userId !== userId) return false;
    const secret = this.#box.open(factor.data, associatedData(userId));
    const now = this.#clock.now();
    const result = verifyTotp(secret, presented, { now, lastUsedStep: factor.counter });
    if (!result.ok) return false;
    if (!(await this.#store.advanceFactorCounter(FACTOR_KINDS.totp, userId, result.step, now))) return false;
    if (this.#box.needsReencryption(factor.data)) {
      await this.#store.updateFactor(FACTOR_KINDS.totp, userId, {
        data: this.#box.seal(secret, associatedData(userId)),
      });
    }
    return true;
  }

  /** Deletes the factor; false when there was none. */
  disable(userId: string): Promise<boolean> {
    return this.#store.deleteFactor(FACTOR_KINDS.totp, userId);
  }

  #openOrNull(sealed: string, userId: string): string | null {
    try {
      return this.#box.open(sealed, associatedData(userId));
    } catch (error) {
      // Sealed under a secret no longer configured: the enrolment is as good as expired.
      if (error instanceof SecretBoxError) return null;
      throw error;
    }
  }

  #resealed(sealed: string, secret: string, userId: string): string {
    return this.#box.needsReencryption(sealed) ? this.#box.seal(secret, associatedData(userId)) : sealed;
  }
}

/** The box's associated data: a secret sealed for one user does not open as another's. */
function associatedData(userId: string): string {
  return `totp\n${userId}`;
}

/** The enrolment's token hash: one per user and browser, found again without the browser holding a token. */
function enrolmentKey(userId: string, binding: string): string {
  return hashToken(`${TOTP_ENROLMENT_PURPOSE}\n${userId.length}:${userId}\n${binding}`);
}
