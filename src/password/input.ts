import { PasswordInputError } from "../core/errors.js";

// With the `u` flag, \p{Cs} only matches a surrogate that is not part of a pair.
const LONE_SURROGATE = /\p{Cs}/u;

/**
 * NFKC-normalises a password and returns its UTF-8 bytes, or throws PasswordInputError before any
 * hashing. No trimming and no case folding. Error messages never include the password.
 *
 * @example
 * ```ts
 * const bytes = passwordBytes("cafe\u0301", 1024); // same bytes as passwordBytes("café", 1024)
 * ```
 */
export function passwordBytes(password: unknown, maxPasswordBytes: number): Uint8Array {
  if (typeof password !== "string") {
    throw new PasswordInputError(
      "ERR_PASSWORD_INVALID",
      `Password must be a string (got ${typeOf(password)}).`,
    );
  }
  // A lone surrogate would be encoded as U+FFFD, silently making distinct inputs hash the same.
  if (LONE_SURROGATE.test(password)) {
    throw new PasswordInputError(
      "ERR_PASSWORD_INVALID",
      "Password contains an unpaired UTF-16 surrogate, which is not valid Unicode text.",
    );
  }
  const bytes = Buffer.from(password.normalize("NFKC"), "utf8");
  if (bytes.length > maxPasswordBytes) {
    throw new PasswordInputError(
      "ERR_PASSWORD_TOO_LONG",
      `Password is too long: ${bytes.length} UTF-8 bytes after NFKC normalisation, the limit is ${maxPasswordBytes}.`,
    );
  }
  return bytes;
}

function typeOf(value: unknown): string {
  return value === null ? "null" : typeof value;
}
