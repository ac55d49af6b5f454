import { describe, expect, it } from "vitest";
import { ConfigurationError } from "./errors.js";
import { closestName, editDistance, findUnknownKey, rejectUnknownKeys, showValue } from "./option-names.js";

function refusal(run: () => void): ConfigurationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error("expected a ConfigurationError");
}

describe("closestName", () => {
  it("finds a name that differs only in case, or by a few edits", () => {
    expect(closestName("loginview", ["loginMessage", "loginView"])).toBe("loginView");
    expect(closestName("keyPrefx", ["client", "keyPrefix"])).toBe("keyPrefix");
    expect(closestName("TIMECOST", ["timeCost"])).toBe("timeCost");
  });

  it("finds a name that contains the one given, after any close typo", () => {
    expect(closestName("memory", ["timeCost", "memoryCostKiB"])).toBe("memoryCostKiB");
    expect(closestName("nextFeld", ["nextFieldName", "nextField"])).toBe("nextField");
    expect(closestName("ttl", ["maxEntries", "ttlSeconds"])).toBe("ttlSeconds");
    expect(closestName("sec", ["clock", "session"])).toBeUndefined();
  });

  it("gives nothing when no candidate is close, nor for short names that match anything short", () => {
    expect(closestName("colour", ["secret", "store"])).toBeUndefined();
    expect(closestName("ab", ["xy", "clock"])).toBeUndefined();
    expect(closestName("x", [])).toBeUndefined();
  });

  it("prefers the closer of two candidates and the earlier one on a tie", () => {
    expect(closestName("secre", ["secure", "secret"])).toBe("secure");
    expect(closestName("secrets", ["secure", "secret"])).toBe("secret");
  });
});

describe("editDistance", () => {
  it("counts insertions, deletions and replacements", () => {
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
  });
});

describe("rejectUnknownKeys", () => {
  it("accepts known names", () => {
    expect(() => rejectUnknownKeys({ client: 1 }, ["client", "keyPrefix"], "RedisStore")).not.toThrow();
    expect(() => rejectUnknownKeys({}, new Set(["client"]), "RedisStore")).not.toThrow();
  });

  it("refuses an unknown name, suggesting the closest and listing the known ones", () => {
    const error = refusal(() =>
      rejectUnknownKeys({ keyprefix: "app:" }, ["client", "keyPrefix"], "RedisStore"),
    );
    expect(error.message).toBe(
      'RedisStore: unknown option "keyprefix": did you mean "keyPrefix"? Known options: client, keyPrefix.',
    );
  });

  it("refuses without a suggestion when nothing is close", () => {
    const error = refusal(() => rejectUnknownKeys({ colour: 1 }, ["client"], "RedisStore"));
    expect(error.message).toBe('RedisStore: unknown option "colour". Known options: client.');
  });

  it("follows hints, exactly or by closeness, and shows the level's path", () => {
    const rules = { path: "views", hints: { idleTimeoutSeconds: "session.idleTimeoutSeconds" } };
    const exact = refusal(() => rejectUnknownKeys({ idleTimeoutSeconds: 1 }, ["loginView"], "LM", rules));
    expect(exact.message).toContain(
      'unknown option "views.idleTimeoutSeconds": did you mean "session.idleTimeoutSeconds"?',
    );
    const close = refusal(() => rejectUnknownKeys({ idletimeoutsecond: 1 }, ["loginView"], "LM", rules));
    expect(close.message).toContain('did you mean "session.idleTimeoutSeconds"?');
    const own = refusal(() => rejectUnknownKeys({ loginview: 1 }, ["loginView"], "LM", rules));
    expect(own.message).toContain('unknown option "views.loginview": did you mean "views.loginView"?');
    expect(own.message).toContain("Known options in views: loginView.");
  });

  it("does not take inherited names such as toString for known ones", () => {
    const error = refusal(() => rejectUnknownKeys({ toString: 1 }, ["client"], "X", { hints: {} }));
    expect(error.message).toContain('"toString"');
  });
});

describe("findUnknownKey", () => {
  it("gives the first unknown key, its shown path and hint, or undefined", () => {
    expect(findUnknownKey({ loginView: 1, loginview: 2 }, ["loginView"], { path: "views" })).toEqual({
      key: "loginview",
      shown: "views.loginview",
      hint: "views.loginView",
    });
    expect(findUnknownKey({ colour: 1 }, ["loginView"])).toEqual({
      key: "colour",
      shown: "colour",
      hint: undefined,
    });
    expect(findUnknownKey({ loginView: 1 }, ["loginView"])).toBeUndefined();
  });
});

describe("showValue", () => {
  it("quotes strings so a number given as text is visible", () => {
    expect(showValue("1800")).toBe('"1800"');
    expect(showValue('say "hi"')).toBe('"say \\"hi\\""');
  });

  it("shows numbers, booleans, null, undefined and bigints as written", () => {
    expect(showValue(1800)).toBe("1800");
    expect(showValue(Number.NaN)).toBe("NaN");
    expect(showValue(Number.POSITIVE_INFINITY)).toBe("Infinity");
    expect(showValue(false)).toBe("false");
    expect(showValue(null)).toBe("null");
    expect(showValue(undefined)).toBe("undefined");
    expect(showValue(10n)).toBe("10n");
  });

  it("shows arrays and plain objects as JSON, shortened, and other objects by kind", () => {
    expect(showValue(["a", 1])).toBe('["a",1]');
    expect(showValue({ a: 1 })).toBe('{"a":1}');
    expect(showValue(Object.assign(Object.create(null), { a: 1 }))).toBe('{"a":1}');
    expect(showValue(["x".repeat(200)]).length).toBe(80);
    expect(showValue(new Map())).toBe("an instance of Map");
    expect(showValue(() => 1)).toBe("a function");
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(showValue(cyclic)).toBe("an object");
  });
});
