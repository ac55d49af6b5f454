import { hash, randomBytes, timingSafeEqual } from "node:crypto";

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
  // One-shot crypto.hash: same digest as createHash().update().digest(), without a Hash object.
  return hash("sha256", token, "base64url");
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
  const length = Buffer.byteLength(a);
  if (length !== Buffer.byteLength(b)) return false;
  // A UTF-8 length equal to the UTF-16 length means every character is ASCII, which latin1Write
  // copies byte for byte. Anything else (or longer than the scratch space) takes the general path.
  if (length > SCRATCH_BYTES || length !== a.length || length !== b.length) {
    return timingSafeEqual(Buffer.from(a), Buffer.from(b));
  }
  // Hashes and tokens: encoded into scratch views kept per length, so a comparison allocates nothing.
  // Synchronous from write to compare, so no other caller can touch the scratch space in between.
  const [left, right] = scratchViewsOf(length);
  left.write(a, "latin1");
  right.write(b, "latin1");
  return timingSafeEqual(left, right);
}

const SCRATCH_BYTES = 256;
const scratchLeft = Buffer.alloc(SCRATCH_BYTES);
const scratchRight = Buffer.alloc(SCRATCH_BYTES);
/** Views of the first n bytes of the scratch buffers, by n. */
const scratchViews: [Buffer, Buffer][] = [];

function scratchViewsOf(length: number): [Buffer, Buffer] {
  let views = scratchViews[length];
  if (!views) {
    views = [scratchLeft.subarray(0, length), scratchRight.subarray(0, length)];
    scratchViews[length] = views;
  }
  return views;
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
