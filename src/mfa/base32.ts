/**
 * Base32 (RFC 4648 section 6, the "A-Z2-7" alphabet) without padding: the form TOTP secrets take in
 * `otpauth://` URIs and when typed into an authenticator app by hand.
 *
 * @module
 */
import { ConfigurationError } from "../core/errors.js";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const BITS_PER_CHARACTER = 5;
/** Lengths (mod 8) an unpadded encoding can have: 0, 2, 4, 5 or 7 characters in the last group. */
const VALID_REMAINDERS = new Set([0, 2, 4, 5, 7]);
const PADDED = /^[A-Za-z2-7]*=*$/;

/**
 * Encodes bytes as upper-case base32 without `=` padding.
 *
 * @example
 * ```ts
 * encodeBase32(Buffer.from("foobar")); // "MZXW6YTBOI"
 * ```
 */
export function encodeBase32(bytes: Uint8Array): string {
  let output = "";
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = ((buffer << 8) | byte) & 0xfff;
    bits += 8;
    while (bits >= BITS_PER_CHARACTER) {
      bits -= BITS_PER_CHARACTER;
      output += ALPHABET[(buffer >> bits) & 31];
    }
  }
  if (bits > 0) output += ALPHABET[(buffer << (BITS_PER_CHARACTER - bits)) & 31];
  return output;
}

/**
 * Decodes base32: either case, with or without trailing `=` padding. Throws a
 * {@link ConfigurationError} for anything that is not the canonical encoding of some bytes (a
 * character outside the alphabet, an impossible length, wrong padding, or non-zero unused bits), so
 * a secret that decodes always encodes back to the same text.
 *
 * @example
 * ```ts
 * decodeBase32("mzxw6ytboi"); // Uint8Array of "foobar"
 * ```
 */
export function decodeBase32(text: string): Uint8Array {
  const body = withoutPadding(text);
  const output = new Uint8Array(Math.floor((body.length * BITS_PER_CHARACTER) / 8));
  let buffer = 0;
  let bits = 0;
  let written = 0;
  for (const character of body) {
    buffer = ((buffer << BITS_PER_CHARACTER) | ALPHABET.indexOf(character)) & 0xfff;
    bits += BITS_PER_CHARACTER;
    if (bits >= 8) {
      bits -= 8;
      output[written++] = (buffer >> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) throw invalid("its last character has unused bits set");
  return output;
}

/** The upper-cased text without padding, after checking its characters, length and padding. */
function withoutPadding(text: string): string {
  if (!PADDED.test(text)) throw invalid("it has a character outside A-Z, 2-7 (or = padding)");
  const body = text.replace(/=+$/, "").toUpperCase();
  if (!VALID_REMAINDERS.has(body.length % 8)) throw invalid(`no bytes encode to ${body.length} characters`);
  const padded = body.length < text.length;
  if (padded && text.length !== Math.ceil(body.length / 8) * 8)
    throw invalid("its padding is the wrong length");
  return body;
}

function invalid(reason: string): ConfigurationError {
  return new ConfigurationError(`not valid base32 (RFC 4648): ${reason}`);
}
