import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../core/errors.js";
import { SecretBox, SecretBoxError } from "./secret-box.js";

const OLD = "old-secret-old-secret-old-secret-0000";
const NEW = "new-secret-new-secret-new-secret-1111";
const OTHER = "other-secret-other-secret-other-2222";
const PLAINTEXT = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
const BOX_SHAPE = /^v1\.[A-Za-z0-9_-]{8}\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]{22,}$/;

/** The box with the byte at `index` of its `part` (1 key id, 2 IV, 3 ciphertext+tag) flipped. */
function flipped(box: string, part: 1 | 2 | 3, index: number): string {
  const parts = box.split(".");
  const bytes = Buffer.from(parts[part] ?? "", "base64url");
  bytes[index] = (bytes[index] ?? 0) ^ 0x01;
  parts[part] = bytes.toString("base64url");
  return parts.join(".");
}

describe("SecretBox", () => {
  it("round-trips, in the documented shape, with a fresh IV each time", () => {
    const box = new SecretBox([NEW]);
    const first = box.seal(PLAINTEXT);
    const second = box.seal(PLAINTEXT);
    expect(first).toMatch(BOX_SHAPE);
    expect(first).not.toBe(second);
    expect(first.split(".")[1]).toBe(second.split(".")[1]);
    expect(first).not.toContain(PLAINTEXT);
    expect(box.open(first)).toBe(PLAINTEXT);
    expect(box.open(second)).toBe(PLAINTEXT);
  });

  it("round-trips empty and non-ASCII text", () => {
    const box = new SecretBox([NEW]);
    expect(box.open(box.seal(""))).toBe("");
    expect(box.open(box.seal("zoë ✓"))).toBe("zoë ✓");
  });

  it("opens with a second instance given the same secret (the key is derived, not random)", () => {
    expect(new SecretBox([NEW]).open(new SecretBox([NEW]).seal(PLAINTEXT))).toBe(PLAINTEXT);
  });

  it("rotates: the first secret seals, every listed secret opens, and old boxes are flagged", () => {
    const before = new SecretBox([OLD]);
    const oldBox = before.seal(PLAINTEXT);
    const after = new SecretBox([NEW, OLD]);
    expect(after.open(oldBox)).toBe(PLAINTEXT);
    expect(after.needsReencryption(oldBox)).toBe(true);
    const newBox = after.seal(after.open(oldBox));
    expect(after.needsReencryption(newBox)).toBe(false);
    expect(before.needsReencryption(newBox)).toBe(true);
    expect(() => before.open(newBox)).toThrow(SecretBoxError);
    expect(new SecretBox([NEW]).open(newBox)).toBe(PLAINTEXT);
  });

  it("refuses a box sealed under a secret that is not configured, naming the reason", () => {
    const box = new SecretBox([OTHER]).seal(PLAINTEXT);
    expect(() => new SecretBox([NEW, OLD]).open(box)).toThrow(/not configured/);
  });

  it("refuses a box whose key id is relabelled to a configured key", () => {
    const both = new SecretBox([NEW, OLD]);
    const oldBox = new SecretBox([OLD]).seal(PLAINTEXT);
    const newKeyId = both.seal("x").split(".")[1];
    const relabelled = oldBox
      .split(".")
      .with(1, newKeyId ?? "")
      .join(".");
    expect(() => both.open(relabelled)).toThrow(/failed authentication/);
  });

  it("refuses every single-bit change of the IV, ciphertext and tag, never returning text", () => {
    const box = new SecretBox([NEW]);
    const sealed = box.seal(PLAINTEXT);
    const sealedLength = Buffer.from(sealed.split(".")[3] ?? "", "base64url").length;
    for (let index = 0; index < 12; index++) {
      expect(() => box.open(flipped(sealed, 2, index))).toThrow(SecretBoxError);
    }
    for (let index = 0; index < sealedLength; index++) {
      expect(() => box.open(flipped(sealed, 3, index))).toThrow(/failed authentication/);
    }
  });

  it("refuses a changed key id, a truncated box and one with the tag cut off", () => {
    const box = new SecretBox([NEW]);
    const sealed = box.seal(PLAINTEXT);
    const [version, keyId, iv, body] = sealed.split(".") as [string, string, string, string];
    const bytes = Buffer.from(body, "base64url");
    expect(() => box.open(flipped(sealed, 1, 0))).toThrow(/not configured/);
    expect(() => box.open([version, keyId, iv, bytes.subarray(1).toString("base64url")].join("."))).toThrow(
      /failed authentication/,
    );
    expect(() =>
      box.open([version, keyId, iv, bytes.subarray(0, -1).toString("base64url")].join(".")),
    ).toThrow(/failed authentication/);
    expect(() =>
      box.open([version, keyId, iv, bytes.subarray(0, 15).toString("base64url")].join(".")),
    ).toThrow(/shorter than its tag/);
  });

  it("binds the box to its associated data", () => {
    const box = new SecretBox([NEW]);
    const sealed = box.seal(PLAINTEXT, "user-1");
    expect(box.open(sealed, "user-1")).toBe(PLAINTEXT);
    expect(() => box.open(sealed, "user-2")).toThrow(/failed authentication/);
    expect(() => box.open(sealed)).toThrow(/failed authentication/);
  });

  it("keeps purposes apart", () => {
    const sealed = new SecretBox([NEW], { purpose: "totp-secret" }).seal(PLAINTEXT);
    expect(() => new SecretBox([NEW], { purpose: "other-thing" }).open(sealed)).toThrow(SecretBoxError);
  });

  it.each([
    ["an empty string", ""],
    ["three parts", "v1.abcdefgh.abcdefghijklmnop"],
    ["five parts", "v1.a.b.c.d"],
    ["another version", "v2.abcdefgh.abcdefghijklmnop.abcdefghijklmnopqrstuv"],
    ["a short key id", "v1.abcdefg.abcdefghijklmnop.abcdefghijklmnopqrstuv"],
    ["a short IV", "v1.abcdefgh.abcdefghijklmno.abcdefghijklmnopqrstuv"],
    ["padding", "v1.abcdefgh.abcdefghijklmnop.abcdefghijklmnopqrstuv=="],
    ["standard base64", "v1.abcdefgh.abcdefghijklmn+/.abcdefghijklmnopqrstuv"],
    ["a huge string", `v1.abcdefgh.abcdefghijklmnop.${"a".repeat(10_000)}`],
  ])("refuses %s as not a box", (_, text) => {
    const box = new SecretBox([NEW]);
    expect(() => box.open(text)).toThrow(/not a secret box/);
    expect(() => box.needsReencryption(text)).toThrow(SecretBoxError);
  });

  it("gives its errors a stable code", () => {
    const error = (() => {
      try {
        new SecretBox([NEW]).open("nope");
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(SecretBoxError);
    expect(error).toMatchObject({ code: "ERR_SECRET_BOX", name: "SecretBoxError" });
  });

  it("refuses bad construction", () => {
    expect(() => new SecretBox([])).toThrow(ConfigurationError);
    expect(() => new SecretBox([""])).toThrow(ConfigurationError);
    expect(() => new SecretBox("secret" as unknown as string[])).toThrow(ConfigurationError);
    expect(() => new SecretBox([NEW], { purpose: "Has Spaces" })).toThrow(ConfigurationError);
  });
});
