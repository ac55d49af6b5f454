import { describe, expect, it } from "vitest";
import { MAX_USERNAME_INPUT_LENGTH, prepareUsername } from "./usernames.js";

/** Every code point of Unicode, as strings (surrogates included: they arrive in JavaScript strings). */
function* allCodePoints(): Generator<string> {
  for (let codePoint = 0; codePoint <= 0x10ffff; codePoint++) yield String.fromCodePoint(codePoint);
}

const hex = (char: string) => `U+${(char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, "0")}`;

describe("prepareUsername: RFC 8265 UsernameCaseMapped [checklist 78] [A5 6.3.8]", () => {
  // Issue 16.3: each of these, appended to an existing name, registered and displayed like the original.
  it.each(
    [0x034f, 0x3164, 0xfe0f, 0xfe00, 0x180b, 0xe0100, 0x17b4, 0x17b5, 0x115f, 0x1160].map((codePoint) => [
      hex(String.fromCodePoint(codePoint)),
      codePoint,
    ]),
  )("refuses name + %s, which displays as name", (_label, codePoint) => {
    const result = prepareUsername(`name${String.fromCodePoint(codePoint)}`);
    expect(result).toEqual({ ok: false, reason: "disallowed-code-point", codePoint });
  });

  it("refuses every default-ignorable code point of the engine's Unicode data, anywhere in a name", () => {
    const ignorable = /\p{Default_Ignorable_Code_Point}/u;
    let checked = 0;
    for (const char of allCodePoints()) {
      if (!ignorable.test(char)) continue;
      checked++;
      expect(prepareUsername(`na${char}me`).ok, hex(char)).toBe(false);
      expect(prepareUsername(`name${char}`).ok, hex(char)).toBe(false);
    }
    expect(checked).toBeGreaterThan(4000); // the property covers 4,174 code points in Unicode 15-16
  });

  it("admits no code point that is invisible, unassigned, a space, a control or changed by NFKC", () => {
    const invisibleOrSpace = /[\p{Default_Ignorable_Code_Point}\p{Cn}\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Z}]/u;
    let admitted = 0;
    for (const char of allCodePoints()) {
      const result = prepareUsername(`ab${char}`);
      if (!result.ok) continue;
      admitted++;
      for (const kept of result.username) {
        expect(invisibleOrSpace.test(kept), hex(kept)).toBe(false);
        expect(kept.normalize("NFKC"), hex(kept)).toBe(kept);
      }
      expect(prepareUsername(result.username), hex(char)).toEqual(result); // idempotent
    }
    expect(admitted).toBeGreaterThan(100_000); // letters and digits of every script remain
  });

  it.each([
    ["juliet@example.com", "juliet@example.com"],
    ["fussball", "fussball"],
    ["fu\u00dfball", "fu\u00dfball"],
    ["\u03c0", "\u03c0"],
    ["\u03a3", "\u03c3"],
    ["\u03c2", "\u03c2"],
    ["Alice", "alice"],
    ["\uff21\uff4c\uff49\uff43\uff45", "alice"],
    ["Jos\u0065\u0301", "jos\u00e9"],
    ["\u65e5\u672c\u8a9e", "\u65e5\u672c\u8a9e"],
    ["user_name.1-2", "user_name.1-2"],
  ])("accepts %j as %j (RFC 8265 §3.5 and common names)", (input, username) => {
    expect(prepareUsername(input)).toEqual({ ok: true, username });
  });

  it.each([
    ["foo bar", 0x20],
    ["henry\u2163", 0x2173], // lower-cased first: U+2163 becomes U+2173, a compatibility character
    ["\u265a", 0x265a],
    ["a\u200db", 0x200d],
    ["a\u00b7b", 0xb7],
    ["\u0661\u0662", 0x661],
    ["a\u0000", 0x0],
    ["a\ud800", 0xd800],
    ["a\ue000", 0xe000],
  ])(
    "refuses %j at code point %i (RFC 8265 §3.5, controls, private use, CONTEXTJ/CONTEXTO)",
    (input, codePoint) => {
      expect(prepareUsername(input)).toEqual({ ok: false, reason: "disallowed-code-point", codePoint });
    },
  );

  it("refuses non-strings, the empty string and over-long input before any work", () => {
    expect(prepareUsername(42)).toEqual({ ok: false, reason: "not-a-string" });
    expect(prepareUsername("")).toEqual({ ok: false, reason: "empty" });
    expect(prepareUsername("a".repeat(MAX_USERNAME_INPUT_LENGTH))).toMatchObject({ ok: true });
    expect(prepareUsername("a".repeat(MAX_USERNAME_INPUT_LENGTH + 1))).toEqual({
      ok: false,
      reason: "too-long",
    });
  });
});
