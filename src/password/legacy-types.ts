/**
 * The types a legacy hash reader returns, shared by the bcrypt and Werkzeug readers.
 *
 * @module
 */
/**
 * The format of a stored legacy hash, as `inspect` names it.
 *
 * @example
 * ```ts
 * const format: LegacyHashFormat = "werkzeug-scrypt"; // scrypt:32768:8:1$salt$hex
 * ```
 */
export type LegacyHashFormat = "bcrypt" | "werkzeug-pbkdf2" | "werkzeug-scrypt";

/**
 * A stored legacy hash, read: `verify` when it can be checked, else `problem` (a phrase that follows
 * "the stored hash", for an operator; it never quotes the salt or the digest).
 *
 * @example
 * ```ts
 * const reading = readLegacyHash(stored, ["bcrypt", "werkzeug"]);
 * if (reading?.verify) ok = await reading.verify(password);
 * ```
 */
export type LegacyHashReading =
  | {
      readonly format: LegacyHashFormat;
      readonly verify: (password: string) => Promise<boolean>;
      readonly problem?: undefined;
    }
  | { readonly format: LegacyHashFormat; readonly verify?: undefined; readonly problem: string };
