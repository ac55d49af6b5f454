import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/** Bytes of randomness in every id, secret, selector and validator (128 bits minimum, ASVS 7.2.3). */
export const TOKEN_BYTES = 16;
/** Length of a base64url string encoding {@link TOKEN_BYTES} bytes. */
export const TOKEN_LENGTH = 22;
const BASE64URL_TOKEN = /^[A-Za-z0-9_-]{22}$/;

/**
 * A new random token: {@link TOKEN_BYTES} bytes from `crypto.randomBytes`, base64url-encoded.
 *
 * @example
 * ```ts
 * const id = randomToken(); // "q3Xv0cK1R8m2b4Yp6Zt9wA"
 * ```
 */
export function randomToken(): string {
  return randomBytes(TOKEN_BYTES).toString("base64url");
}

/**
 * The base64url SHA-256 of a token: what stores keep instead of the token itself.
 *
 * @example
 * ```ts
 * const secretHash = hashToken(secret);
 * ```
 */
export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("base64url");
}

/**
 * Compares two strings in time that depends only on their lengths.
 *
 * @example
 * ```ts
 * if (constantTimeEqual(hashToken(presented), record.secretHash)) { ... }
 * ```
 */
export function constantTimeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

/**
 * Splits a `<id>.<secret>` cookie value into its halves, or returns null when it is not exactly
 * two well-formed tokens. Never throws: any garbage is simply "no token".
 *
 * @example
 * ```ts
 * parseTokenPair("abc.def"); // null (too short)
 * ```
 */
export function parseTokenPair(value: string | undefined): { id: string; secret: string } | null {
  if (value === undefined || value.length !== TOKEN_LENGTH * 2 + 1) return null;
  const id = value.slice(0, TOKEN_LENGTH);
  const secret = value.slice(TOKEN_LENGTH + 1);
  if (value[TOKEN_LENGTH] !== "." || !BASE64URL_TOKEN.test(id) || !BASE64URL_TOKEN.test(secret)) return null;
  return { id, secret };
}
