/**
 * A user's recovery codes in the store: one factor per code (kind `recovery-code`, id =
 * {@link recoveryCodeId}, a SHA-256 bound to the user; the code itself is never stored), used with
 * one atomic delete, so each works once even when two requests present it at the same moment.
 *
 * @module
 */
import type { Clock } from "../core/clock.js";
import { StoreError } from "../core/errors.js";
import type { SessionStore } from "../core/store.js";
import { generateRecoveryCode, recoveryCodeId } from "./recovery-codes.js";
import { FACTOR_KINDS } from "./shared.js";

/**
 * The recovery codes of one manager's store (see the module comment).
 *
 * @example
 * ```ts
 * const codes = new RecoveryCodeFactors(store, clock);
 * const shown = await codes.replace(user.getId(), 10);
 * ```
 */
export class RecoveryCodeFactors {
  readonly #store: SessionStore;
  readonly #clock: Clock;

  constructor(store: SessionStore, clock: Clock) {
    this.#store = store;
    this.#clock = clock;
  }

  /** Replaces the user's codes with `count` new ones and returns them (the only time they exist in clear). */
  async replace(userId: string, count: number): Promise<string[]> {
    await this.#store.deleteUserFactors(userId, FACTOR_KINDS.recoveryCode);
    const now = this.#clock.now();
    const codes = Array.from({ length: count }, () => generateRecoveryCode());
    for (const code of codes) {
      const id = recoveryCodeId(userId, code) ?? "";
      const created = await this.#store.createFactor({
        kind: FACTOR_KINDS.recoveryCode,
        id,
        userId,
        label: "",
        data: "",
        counter: 0,
        createdAt: now,
        lastUsedAt: null,
      });
      // 120 random bits: a clash means the store did not keep what it was given.
      if (!created) throw new StoreError("createFactor refused a fresh recovery code's id");
    }
    return codes;
  }

  /**
   * Uses `code` if it is one of the user's codes: true for exactly one of concurrent uses. Input that
   * cannot be a code is refused without a store call.
   */
  async use(userId: string, code: unknown): Promise<boolean> {
    const id = recoveryCodeId(userId, code);
    if (id === undefined) return false;
    return this.#store.deleteFactor(FACTOR_KINDS.recoveryCode, id);
  }

  /** How many unused codes the user has. */
  async count(userId: string): Promise<number> {
    return (await this.#store.listUserFactors(userId, FACTOR_KINDS.recoveryCode)).length;
  }
}
