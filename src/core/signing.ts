import { createHmac } from "node:crypto";
import { constantTimeEqual } from "./tokens.js";

/**
 * HMAC-SHA256 with a list of keys: the first signs, every key verifies, so keys can be rotated
 * without logging anybody out.
 *
 * @example
 * ```ts
 * const keys = new KeyRing(["a-32-character-or-longer-secret-key!!"]);
 * const mac = keys.sign("csrf", value);
 * keys.verify("csrf", value, mac); // true
 * ```
 */
export class KeyRing {
  readonly #keys: readonly string[];

  constructor(keys: readonly string[]) {
    this.#keys = keys;
  }

  /** The MAC of `value` under the current key, for the given purpose (domain separation). */
  sign(purpose: string, value: string): string {
    return mac(this.#keys[0] as string, purpose, value);
  }

  /** True when `signature` is the MAC of `value` under any key. */
  verify(purpose: string, value: string, signature: string): boolean {
    let valid = false;
    for (const key of this.#keys) valid = constantTimeEqual(mac(key, purpose, value), signature) || valid;
    return valid;
  }
}

function mac(key: string, purpose: string, value: string): string {
  return createHmac("sha256", key).update(purpose).update("\0").update(value).digest("base64url");
}
