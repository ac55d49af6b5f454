import { Buffer } from "node:buffer";
import { hash, randomBytes, timingSafeEqual } from "node:crypto";

/** Bytes of randomness in every id, secret, selector and validator (128 bits minimum, ASVS 7.2.3). */
export const TOKEN_BYTES = 16;
/** Length of a base64url string encoding {@link TOKEN_BYTES} bytes. */
export const TOKEN_LENGTH = 22;

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
  const length = a.length;
  // Strings of different UTF-16 lengths have different UTF-8 encodings too.
  if (length !== b.length) return false;
  // Hashes and tokens: encoded into scratch buffers, so a comparison allocates nothing. write()
  // reports the bytes it wrote, as many as characters only when every character is ASCII: a longer
  // encoding writes more bytes, or, cut short by the end of the buffer, at least SCRATCH_BYTES - 3,
  // which no string short enough for this path has characters. Synchronous from write to compare,
  // so no other caller can touch the scratch space in between.
  if (length <= MAX_SCRATCH_LENGTH && scratchLeft.write(a) === length && scratchRight.write(b) === length) {
    const [left, right] = scratchViewsOf(length);
    return timingSafeEqual(left, right);
  }
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

const SCRATCH_BYTES = 256;
/** The longest string compared in the scratch buffers (see constantTimeEqual). */
const MAX_SCRATCH_LENGTH = SCRATCH_BYTES - 4;
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
  // One search for a character outside base64url and ".", plus two for the dot, cost half of
  // anchored {22} patterns per half (V8 runs those slowly on the sliced strings cookies are), and
  // nothing is sliced out of a malformed value.
  if (
    value === undefined ||
    value.length !== TOKEN_LENGTH * 2 + 1 ||
    value.indexOf(".") !== TOKEN_LENGTH ||
    value.indexOf(".", TOKEN_LENGTH + 1) !== -1 ||
    NOT_TOKEN_PAIR_CHAR.test(value)
  )
    return null;
  return { id: value.slice(0, TOKEN_LENGTH), secret: value.slice(TOKEN_LENGTH + 1) };
}

/** A character that is neither base64url nor the "." between the halves. */
const NOT_TOKEN_PAIR_CHAR = /[^A-Za-z0-9_.-]/;
