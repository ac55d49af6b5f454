import { describe, expect, it } from "vitest";
import { decodeFlashes, encodeFlashes } from "./flash.js";
import { KeyRing } from "./signing.js";

const KEY = "0123456789abcdef0123456789abcdef";
const OTHER = "fedcba9876543210fedcba9876543210";
const keys = new KeyRing([KEY]);

describe("flash cookie encoding", () => {
  it("round-trips messages with their categories", () => {
    const messages = [
      { category: "message", message: "Please log in to access this page." },
      { category: "error", message: "caf\u00e9 \u4f50\u85e4 \ud83d\ude00" },
    ];
    expect(decodeFlashes(keys, encodeFlashes(keys, messages))).toEqual(messages);
  });

  it("produces a value that is valid in a cookie", () => {
    const value = encodeFlashes(keys, [{ category: "m", message: 'a; b="c"\r\n' }]);
    expect(value).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
  });

  it("yields nothing for a tampered payload, a tampered MAC, another key or garbage", () => {
    const value = encodeFlashes(keys, [{ category: "message", message: "hello" }]);
    const [payload, mac] = value.split(".") as [string, string];
    const forgedPayload = Buffer.from(JSON.stringify([{ category: "message", message: "evil" }])).toString(
      "base64url",
    );
    expect(decodeFlashes(keys, `${forgedPayload}.${mac}`)).toEqual([]);
    expect(decodeFlashes(keys, `${payload}.${mac.slice(0, -1)}${mac.endsWith("A") ? "B" : "A"}`)).toEqual([]);
    expect(decodeFlashes(new KeyRing([OTHER]), value)).toEqual([]);
    for (const garbage of [undefined, "", ".", "abc", ".abc", "abc.", "a.b.c", "%%%.%%%"]) {
      expect(decodeFlashes(keys, garbage)).toEqual([]);
    }
  });

  it("still reads a cookie signed with an older key kept in the list", () => {
    const value = encodeFlashes(new KeyRing([OTHER]), [{ category: "c", message: "m" }]);
    expect(decodeFlashes(new KeyRing([KEY, OTHER]), value)).toEqual([{ category: "c", message: "m" }]);
  });

  it("drops signed entries that are not messages", () => {
    const payload = Buffer.from(
      JSON.stringify([{ category: 1, message: "x" }, "text", null, { category: "c", message: "m" }]),
    ).toString("base64url");
    expect(decodeFlashes(keys, `${payload}.${keys.sign("flash", payload)}`)).toEqual([
      { category: "c", message: "m" },
    ]);
    const notArray = Buffer.from(JSON.stringify({ category: "c", message: "m" })).toString("base64url");
    expect(decodeFlashes(keys, `${notArray}.${keys.sign("flash", notArray)}`)).toEqual([]);
  });

  it("does not accept a MAC made for another purpose with the same key", () => {
    const payload = Buffer.from(JSON.stringify([{ category: "c", message: "m" }])).toString("base64url");
    expect(decodeFlashes(keys, `${payload}.${keys.sign("csrf", payload)}`)).toEqual([]);
  });

  it("keeps the last five messages and cuts long texts and categories", () => {
    const many = Array.from({ length: 8 }, (_, i) => ({
      category: "c".repeat(50),
      message: `${i}${"m".repeat(400)}`,
    }));
    const decoded = decodeFlashes(keys, encodeFlashes(keys, many));
    expect(decoded).toHaveLength(5);
    expect(decoded[0]?.message.startsWith("3")).toBe(true);
    for (const entry of decoded) {
      expect(entry.message).toHaveLength(300);
      expect(entry.category).toHaveLength(32);
    }
  });

  it("keeps name and value within 4096 bytes even for multi-byte text [A5 3.3.5]", () => {
    const heavy = Array.from({ length: 5 }, () => ({
      category: "\u00e9".repeat(32),
      message: "\u00e9".repeat(300),
    }));
    const value = encodeFlashes(keys, heavy);
    expect(`__Host-${"f".repeat(64)}=${value}`.length).toBeLessThanOrEqual(4096);
    expect(decodeFlashes(keys, value).length).toBeGreaterThanOrEqual(1);
    const controls = [{ category: "c", message: "\u0001".repeat(300) }];
    expect(decodeFlashes(keys, encodeFlashes(keys, controls))).toEqual(controls);
  });
});
