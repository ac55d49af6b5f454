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
/**
 * Longest encoded payload. With the `.<43-character MAC>` and the longest cookie name (`__Host-` plus
 * 64 characters), name and value stay within the 4096 bytes browsers keep (ASVS 3.3.5, RFC 6265bis).
 */
const MAX_PAYLOAD_LENGTH = 3900;
const PURPOSE = "flash";

/**
 * Encodes messages into a signed cookie value (`<base64url json>.<mac>`), keeping the last few and
 * cutting long texts so the cookie stays small: at most 3,944 characters whatever the text.
 *
 * @example
 * ```ts
 * const value = encodeFlashes(keys, [{ category: "message", message: "Registered" }]);
 * ```
 */
export function encodeFlashes(keys: KeyRing, messages: readonly FlashMessage[]): string {
  let kept = messages.slice(-MAX_FLASH_MESSAGES).map((entry) => ({
    category: entry.category.slice(0, 32),
    message: entry.message.slice(0, MAX_FLASH_TEXT),
  }));
  let payload = encodePayload(kept);
  // Multi-byte text and JSON-escaped control characters can still be too big (5 x 300 "é" is 4.2 KB,
  // which browsers drop): drop the oldest messages until it fits. One message always fits: 332
  // UTF-16 units escaped as "\uXXXX" are under 2 KB of JSON, 2.7 KB of base64url.
  while (payload.length > MAX_PAYLOAD_LENGTH && kept.length > 1) {
    kept = kept.slice(1);
    payload = encodePayload(kept);
  }
  return `${payload}.${keys.sign(PURPOSE, payload)}`;
}

function encodePayload(messages: readonly FlashMessage[]): string {
  return Buffer.from(JSON.stringify(messages)).toString("base64url");
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
