import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../core/errors.js";
import { decodeBase32, encodeBase32 } from "./base32.js";

// RFC 4648 section 10, with the padding this encoder leaves off.
const VECTORS: ReadonlyArray<readonly [string, string]> = [
  ["", ""],
  ["f", "MY======"],
  ["fo", "MZXQ===="],
  ["foo", "MZXW6==="],
  ["foob", "MZXW6YQ="],
  ["fooba", "MZXW6YTB"],
  ["foobar", "MZXW6YTBOI======"],
];

describe("base32", () => {
  it.each(VECTORS)("encodes %j as RFC 4648 section 10 does, without padding", (text, padded) => {
    expect(encodeBase32(Buffer.from(text))).toBe(padded.replace(/=+$/, ""));
  });

  it.each(VECTORS)("decodes the encoding of %j with and without padding, in either case", (text, padded) => {
    const unpadded = padded.replace(/=+$/, "");
    expect(Buffer.from(decodeBase32(padded)).toString()).toBe(text);
    expect(Buffer.from(decodeBase32(unpadded)).toString()).toBe(text);
    expect(Buffer.from(decodeBase32(unpadded.toLowerCase())).toString()).toBe(text);
  });

  it("round-trips every byte value and every length up to 40", () => {
    const all = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect(decodeBase32(encodeBase32(all))).toEqual(all);
    for (let length = 0; length <= 40; length++) {
      const bytes = Uint8Array.from({ length }, (_, i) => (i * 37 + length) & 0xff);
      expect(decodeBase32(encodeBase32(bytes))).toEqual(bytes);
    }
  });

  it.each([
    ["a character outside the alphabet", "MZXW1"],
    ["a digit 8", "MZXW8"],
    ["a space", "MZXW 6"],
    ["an impossible length", "MZX"],
    ["a single character", "M"],
    ["padding in the middle", "MY==MZXQ"],
    ["short padding", "MY=="],
    ["padding after a full group", "MZXW6YTB========"],
    ["unused bits set", "MZ"],
  ])("refuses %s", (_, text) => {
    expect(() => decodeBase32(text)).toThrow(ConfigurationError);
  });
});
