import type { KeyRing } from "./signing.js";

/**
 * A one-time message shown on the next page (Flask's `flash`).
 *
 * @example
 * ```ts
 * const message: FlashMessage = { category: "message", message: "Please log in to access this page." };
 * ```
 */
export interface FlashMessage {
  category: string;
  message: string;
}

const MAX_FLASH_MESSAGES = 5;
const MAX_FLASH_TEXT = 300;
const PURPOSE = "flash";

/**
 * Encodes messages into a signed cookie value (`<base64url json>.<mac>`), keeping the last few and
 * cutting long texts so the cookie stays small.
 *
 * @example
 * ```ts
 * const value = encodeFlashes(keys, [{ category: "message", message: "Registered" }]);
 * ```
 */
export function encodeFlashes(keys: KeyRing, messages: readonly FlashMessage[]): string {
  const kept = messages.slice(-MAX_FLASH_MESSAGES).map((entry) => ({
    category: entry.category.slice(0, 32),
    message: entry.message.slice(0, MAX_FLASH_TEXT),
  }));
  const payload = Buffer.from(JSON.stringify(kept)).toString("base64url");
  return `${payload}.${keys.sign(PURPOSE, payload)}`;
}

/**
 * Decodes a flash cookie; anything unsigned, tampered or malformed yields no messages.
 *
 * @example
 * ```ts
 * decodeFlashes(keys, cookieValue); // [{ category: "message", message: "Registered" }]
 * ```
 */
export function decodeFlashes(keys: KeyRing, value: string | undefined): FlashMessage[] {
  if (!value) return [];
  const dot = value.lastIndexOf(".");
  if (dot <= 0) return [];
  const payload = value.slice(0, dot);
  if (!keys.verify(PURPOSE, payload, value.slice(dot + 1))) return [];
  try {
    const parsed: unknown = JSON.parse(Buffer.from(payload, "base64url").toString("utf8"));
    return Array.isArray(parsed) ? parsed.filter(isFlash).slice(0, MAX_FLASH_MESSAGES) : [];
  } catch {
    return [];
  }
}

function isFlash(entry: unknown): entry is FlashMessage {
  const candidate = entry as FlashMessage | null;
  return typeof candidate?.category === "string" && typeof candidate.message === "string";
}
