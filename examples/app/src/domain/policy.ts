import type { CommonPasswords } from "./common-passwords.js";

/** Shortest and longest usernames, in code points after NFKC. */
export const USERNAME_LENGTH = { min: 3, max: 32 } as const;
/** Shortest and longest passwords, in code points after NFKC (NIST SP 800-63B: at least 8, allow 64+). */
export const PASSWORD_LENGTH = { min: 8, max: 256 } as const;

/** Letters (any script, with up to two combining marks each), ASCII digits, `_`, `.` and `-`. */
const USERNAME_CHARACTERS = /^(?:[\p{L}0-9_.-]\p{M}{0,2})+$/u;
const STARTS_WELL = /^[\p{L}0-9]/u;
// Scripts whose letters are easily mistaken for each other (Latin "a", Cyrillic "а", Greek "α").
const CONFUSABLE_SCRIPTS = [/\p{Script=Latin}/u, /\p{Script=Cyrillic}/u, /\p{Script=Greek}/u];
const LONE_SURROGATE = /\p{Cs}/u;

/** A username that passed {@link checkUsername}: how to show it and how to compare it. */
export interface ValidUsername {
  /** NFKC-normalised, trimmed, case kept: what the app shows. */
  username: string;
  /** Case-folded {@link username}: unique per user, what logins and duplicates compare. */
  key: string;
}

/**
 * NFKC-normalises and trims a typed username (full-width "ａｌｉｃｅ" becomes "alice").
 *
 * @example
 * ```ts
 * normalizeUsername(" Ａｌｉｃｅ "); // "Alice"
 * ```
 */
export function normalizeUsername(raw: string): string {
  return raw.normalize("NFKC").trim();
}

/**
 * The comparison key of a username: NFKC, then case folded (so "Alice", "ALICE" and "ａｌｉｃｅ" are
 * one user, and "Straße" is "strasse").
 *
 * @example
 * ```ts
 * usernameKey("ＡＬＩＣＥ"); // "alice"
 * ```
 */
export function usernameKey(raw: string): string {
  return normalizeUsername(raw).toUpperCase().toLowerCase().normalize("NFKC");
}

/**
 * Checks a username for registration: 3-32 characters after NFKC, letters (any script, not
 * mixing Latin, Cyrillic and Greek), digits 0-9, `_ . -`, starting with a letter or digit.
 *
 * @example
 * ```ts
 * checkUsername("alice"); // { ok: true, value: { username: "alice", key: "alice" } }
 * checkUsername("a");     // { ok: false, message: "Usernames are 3 to 32 characters long." }
 * ```
 */
export function checkUsername(
  raw: unknown,
): { ok: true; value: ValidUsername } | { ok: false; message: string } {
  if (typeof raw !== "string" || LONE_SURROGATE.test(raw)) {
    return { ok: false, message: "Choose a username." };
  }
  const username = normalizeUsername(raw);
  const length = codePoints(username);
  if (length < USERNAME_LENGTH.min || length > USERNAME_LENGTH.max) {
    return {
      ok: false,
      message: `Usernames are ${USERNAME_LENGTH.min} to ${USERNAME_LENGTH.max} characters long.`,
    };
  }
  if (!USERNAME_CHARACTERS.test(username) || !STARTS_WELL.test(username)) {
    return {
      ok: false,
      message:
        "Usernames may contain letters, digits 0-9, underscores, dots and hyphens, and start with a letter or digit.",
    };
  }
  if (CONFUSABLE_SCRIPTS.filter((script) => script.test(username)).length > 1) {
    return {
      ok: false,
      message: "Usernames may not mix Latin, Cyrillic and Greek letters, which look alike.",
    };
  }
  return { ok: true, value: { username, key: usernameKey(username) } };
}

/**
 * Checks a new password (NIST SP 800-63B 3.1.1.2): 8 to 256 characters (code points after NFKC),
 * no composition rules, not one of the most common passwords, not the username.
 *
 * @example
 * ```ts
 * checkNewPassword("password1", "alice", common); // { ok: false, message: "... common ..." }
 * ```
 */
export function checkNewPassword(
  password: unknown,
  username: string,
  common: CommonPasswords,
): { ok: true } | { ok: false; message: string } {
  if (typeof password !== "string" || password.length === 0) {
    return { ok: false, message: "Choose a password." };
  }
  if (LONE_SURROGATE.test(password)) {
    return { ok: false, message: "The password contains characters that are not valid text." };
  }
  const length = codePoints(password.normalize("NFKC"));
  if (length < PASSWORD_LENGTH.min) {
    return { ok: false, message: `Passwords need at least ${PASSWORD_LENGTH.min} characters.` };
  }
  if (length > PASSWORD_LENGTH.max) {
    return { ok: false, message: `Passwords can be at most ${PASSWORD_LENGTH.max} characters.` };
  }
  if (usernameKey(password) === usernameKey(username)) {
    return { ok: false, message: "Your password can't be your username." };
  }
  if (common.has(password)) {
    return {
      ok: false,
      message:
        "That password is on a list of the 10,000 most common passwords, which attackers try first. Please choose another.",
    };
  }
  return { ok: true };
}

function codePoints(value: string): number {
  let count = 0;
  for (const _ of value) count += 1;
  return count;
}
