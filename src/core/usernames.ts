/**
 * Usernames under the IETF's rules: the PRECIS UsernameCaseMapped profile of RFC 8265 on the
 * IdentifierClass of RFC 8264. The point is that two usernames which display alike compare alike,
 * and that nothing invisible gets in: `name` + U+3164 (Hangul filler) or + U+FE0F (a variation
 * selector) must not register as a second "name".
 *
 * @module
 */

/** Why {@link prepareUsername} refused a username. */
export type UsernameRefusal = "not-a-string" | "empty" | "too-long" | "disallowed-code-point";

/** The result of {@link prepareUsername}. */
export type PreparedUsername =
  | { ok: true; username: string }
  | { ok: false; reason: UsernameRefusal; codePoint?: number };

/** Longest input considered, in UTF-16 units, before any work (a size limit on every input). */
export const MAX_USERNAME_INPUT_LENGTH = 1024;

// RFC 8264 §9 derivation for the IdentifierClass, in its order. The categories come from the
// JavaScript engine's Unicode data, not from a hand list.
/** Unassigned (§9.4), surrogates, controls (§9.12), PrecisIgnorableProperties (§9.13): never valid. */
const DISALLOWED = /[\p{Cn}\p{Cs}\p{Cc}\p{Default_Ignorable_Code_Point}\p{Noncharacter_Code_Point}]/u;
/** JoinControl (§9.8, CONTEXTJ): refused here rather than evaluating the RFC 5892 contexts. */
const JOIN_CONTROL = /\p{Join_Control}/u;
/** LetterDigits (§9.1): Ll, Lu, Lo, Nd, Lm, Mn, Mc. */
const LETTER_DIGITS = /^[\p{Ll}\p{Lu}\p{Lo}\p{Nd}\p{Lm}\p{Mn}\p{Mc}]$/u;
/** ASCII7 (§9.11): printable ASCII is valid whatever its category. */
const ASCII7 = /^[\u0021-\u007e]$/;
/**
 * OldHangulJamo (§9.9): Hangul_Syllable_Type L, V or T (Unicode's HangulSyllableType.txt), which
 * JavaScript regular expressions cannot name. Includes the fillers U+115F and U+1160.
 */
const OLD_HANGUL_JAMO = /[\u1100-\u11ff\ua960-\ua97c\ud7b0-\ud7c6\ud7cb-\ud7fb]/u;
/** RFC 5892 §2.6 exceptions marked PVALID that LetterDigits would not admit. */
const EXCEPTIONS_PVALID = new Set([0x06fd, 0x06fe, 0x0f0b, 0x3007]);
/**
 * RFC 5892 §2.6 exceptions marked DISALLOWED, and the CONTEXTO ones (refused here rather than
 * evaluating their contexts): each would otherwise pass as a letter or digit.
 */
const EXCEPTIONS_REFUSED = new Set([
  0x0640,
  0x07fa,
  0x302e,
  0x302f,
  0x3031,
  0x3032,
  0x3033,
  0x3034,
  0x3035,
  0x303b,
  0x00b7,
  0x0375,
  0x05f3,
  0x05f4,
  0x30fb,
  ...range(0x0660, 0x0669),
  ...range(0x06f0, 0x06f9),
]);
/** Fullwidth and halfwidth forms, and the ideographic space: the width mapping of RFC 8265 §3.4.1. */
const WIDE_OR_NARROW = /[\u3000\uff01-\uffee]/gu;

/**
 * Prepares and enforces a username under RFC 8265's UsernameCaseMapped profile: maps fullwidth and
 * halfwidth forms to their plain forms, lower-cases, normalises to NFC, then refuses any code point
 * the IdentifierClass does not allow: spaces, symbols and punctuation beyond printable ASCII,
 * unassigned and control code points, default-ignorable code points (variation selectors, the
 * combining grapheme joiner, Hangul fillers, Mongolian variation selectors, ...), old Hangul jamo,
 * compatibility characters (those NFKC would change), and the join controls. The result is the
 * form to store and compare: two inputs that prepare to the same string are the same username.
 * Stricter than the RFC in two places, both refusals: the join controls and the RFC 5892 CONTEXTO
 * code points are refused instead of checked in context. The bidi rule (RFC 5893) is not applied.
 *
 * @example
 * ```ts
 * prepareUsername("Ａｌｉｃｅ");          // { ok: true, username: "alice" }
 * prepareUsername("alice\u3164");      // { ok: false, reason: "disallowed-code-point", codePoint: 0x3164 }
 * prepareUsername("Straße");           // { ok: true, username: "straße" }
 * ```
 */
export function prepareUsername(input: unknown): PreparedUsername {
  if (typeof input !== "string") return { ok: false, reason: "not-a-string" };
  if (input.length > MAX_USERNAME_INPUT_LENGTH) return { ok: false, reason: "too-long" };
  const mapped = input.replace(WIDE_OR_NARROW, (char) => char.normalize("NFKC"));
  const username = mapped.toLowerCase().normalize("NFC");
  if (username.length === 0) return { ok: false, reason: "empty" };
  for (const char of username) {
    if (!isIdentifierCodePoint(char)) {
      return { ok: false, reason: "disallowed-code-point", codePoint: char.codePointAt(0) ?? 0 };
    }
  }
  return { ok: true, username };
}

/** Whether one code point (as a string) is PVALID in the IdentifierClass, as applied here. */
function isIdentifierCodePoint(char: string): boolean {
  const codePoint = char.codePointAt(0) ?? 0;
  if (EXCEPTIONS_PVALID.has(codePoint)) return true;
  if (EXCEPTIONS_REFUSED.has(codePoint)) return false;
  if (DISALLOWED.test(char) || JOIN_CONTROL.test(char)) return false;
  if (ASCII7.test(char)) return true;
  if (OLD_HANGUL_JAMO.test(char)) return false;
  if (char.normalize("NFKC") !== char) return false; // HasCompat (§9.17)
  return LETTER_DIGITS.test(char);
}

function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, index) => first + index);
}
