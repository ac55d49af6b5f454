import { prepareUsername } from "login-manager";
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
 * mixing Latin, Cyrillic and Greek), digits 0-9, `_ . -`, starting with a letter or digit, and
 * valid under RFC 8265's UsernameCaseMapped profile (login-manager's `prepareUsername`), which
 * refuses default-ignorable and other invisible code points.
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
  // RFC 8265 (PRECIS): nothing invisible, so "name" + U+3164 or + a variation selector is no second "name".
  if (!prepareUsername(username).ok) {
    return {
      ok: false,
      message:
        "Usernames may not contain invisible characters such as fillers, joiners or variation selectors.",
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
 * The app's own names, which no password may contain (ASVS 6.1.2, 6.2.11), compared as
 * {@link skeleton}s: "LoginManager", "login_manager" and "Login Manager" all count.
 */
export const APP_CONTEXT_WORDS: readonly string[] = ["login-manager"];

/** Context words shorter than this (as skeletons) are refused only as the whole password. */
export const MIN_CONTAINED_WORD_LENGTH = 4;

/** Where a context word comes from; each kind has its own message. */
export type ContextWordKind = "app" | "username" | "site";

const CONTEXT_MESSAGES: Record<ContextWordKind, string> = {
  app: "Your password can't contain the name of this app (login-manager).",
  username: "Your password can't contain your username.",
  site: "Your password can't contain the name of this website.",
};

/**
 * A word for comparisons: NFKC, case folded, letters and digits only (`"Login_Manager"` and
 * `"login manager"` are both `"loginmanager"`).
 *
 * @example
 * ```ts
 * skeleton("Ada Lovelace!"); // "adalovelace"
 * ```
 */
export function skeleton(value: string): string {
  return usernameKey(value).replace(/[^\p{L}\p{N}]/gu, "");
}

/**
 * The name of the website in a `Host` header: the label before the top-level domain (or before a
 * two-letter-or-three second level such as `co.uk`), without port; undefined for IP addresses,
 * `localhost` and single labels.
 *
 * @example
 * ```ts
 * siteName("auth.bank-portal.example:8443"); // "bank-portal"
 * siteName("shop.example.co.uk"); // "example"
 * siteName("127.0.0.1:5000"); // undefined
 * ```
 */
export function siteName(host: string | undefined): string | undefined {
  if (host === undefined) return undefined;
  const name = host.trim().toLowerCase().replace(/:\d+$/, "").replace(/\.$/, "");
  if (name.startsWith("[") || /^[\d.]+$/.test(name)) return undefined;
  const labels = name.split(".").filter((label) => label !== "");
  if (labels.length < 2) return undefined;
  const secondLevel = labels.at(-2) ?? "";
  const short = labels.length >= 3 && secondLevel.length <= 3;
  return short ? labels.at(-3) : secondLevel;
}

/**
 * The context-specific words a new password is checked against (ASVS 6.1.2, 6.2.11): the app's
 * name ({@link APP_CONTEXT_WORDS}), the username, and the website's name from the request's `Host`
 * (see {@link siteName}).
 *
 * @example
 * ```ts
 * contextWords("ada_lovelace", "bank-portal.example");
 * // [{ kind: "app", word: "login-manager" }, { kind: "username", word: "ada_lovelace" }, { kind: "site", word: "bank-portal" }]
 * ```
 */
export function contextWords(
  username: string,
  host?: string,
): Array<{ kind: ContextWordKind; word: string }> {
  const words: Array<{ kind: ContextWordKind; word: string }> = APP_CONTEXT_WORDS.map((word) => ({
    kind: "app",
    word,
  }));
  if (username !== "") words.push({ kind: "username", word: username });
  const site = siteName(host);
  if (site !== undefined) words.push({ kind: "site", word: site });
  return words;
}

/**
 * Which context word `password` contains, if any: a word of {@link MIN_CONTAINED_WORD_LENGTH} or
 * more letters and digits anywhere in it, a shorter one only as the whole password, compared as
 * {@link skeleton}s.
 *
 * @example
 * ```ts
 * containedContextWord("I love LoginManager", contextWords("alice")); // "app"
 * ```
 */
export function containedContextWord(
  password: string,
  words: ReadonlyArray<{ kind: ContextWordKind; word: string }>,
): ContextWordKind | undefined {
  const typed = skeleton(password);
  for (const { kind, word } of words) {
    const needle = skeleton(word);
    if (needle === "") continue;
    if (needle.length >= MIN_CONTAINED_WORD_LENGTH ? typed.includes(needle) : typed === needle) return kind;
  }
  return undefined;
}

/**
 * Checks a new password (NIST SP 800-63B 3.1.1.2): 8 to 256 characters (code points after NFKC),
 * no composition rules, not the username, no context-specific word ({@link contextWords}: the
 * app's name, the username, the website's name from `host`), not one of the most common passwords.
 *
 * @example
 * ```ts
 * checkNewPassword("password1", "alice", common); // { ok: false, message: "... common ..." }
 * checkNewPassword("alice in wonderland", "alice", common); // { ok: false, message: "... your username." }
 * ```
 */
export function checkNewPassword(
  password: unknown,
  username: string,
  common: CommonPasswords,
  host?: string,
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
  const contained = containedContextWord(password, contextWords(username, host));
  if (contained !== undefined) return { ok: false, message: CONTEXT_MESSAGES[contained] };
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
