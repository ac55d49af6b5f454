import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../core/errors.js";
import { createPasswordHasher, type PasswordHasherOptions } from "./index.js";

function configurationError(options: unknown): ConfigurationError {
  try {
    createPasswordHasher(options as PasswordHasherOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return error as ConfigurationError;
  }
  throw new Error("expected createPasswordHasher to throw");
}

describe("createPasswordHasher options [A5 11.4.2]", () => {
  it("accepts every OWASP argon2id row and stronger settings", () => {
    const rows: Array<[number, number]> = [
      [47104, 1],
      [19456, 2],
      [12288, 3],
      [9216, 4],
      [7168, 5],
      [65536, 3],
      [7168, 10],
    ];
    for (const [memoryCostKiB, timeCost] of rows) {
      expect(createPasswordHasher({ memoryCostKiB, timeCost }).parameters).toMatchObject({
        memoryCostKiB,
        timeCost,
      });
    }
  });

  it("refuses memoryCostKiB below 19456 with timeCost 2, naming the option and the fix", () => {
    const error = configurationError({ memoryCostKiB: 16384 });
    expect(error.code).toBe("ERR_CONFIGURATION");
    expect(error.message).toContain("memoryCostKiB");
    expect(error.message).toContain("19456");
  });

  it("refuses timeCost 1 below 47104 KiB and any setting weaker than every OWASP row", () => {
    expect(configurationError({ timeCost: 1 }).message).toMatch(
      /memoryCostKiB to at least 47104 for timeCost 1/,
    );
    expect(configurationError({ memoryCostKiB: 12287, timeCost: 3 }).message).toContain("12288");
    expect(configurationError({ memoryCostKiB: 4096, timeCost: 20 }).message).toContain("7168");
  });

  it("refuses parallelism below 1 or above 255 and non-integer costs, naming the option", () => {
    for (const [name, value] of [
      ["parallelism", 0],
      ["parallelism", 256],
      ["parallelism", 1.5],
      ["timeCost", 0],
      ["timeCost", Number.NaN],
      ["memoryCostKiB", "19456"],
      ["memoryCostKiB", 2 ** 32],
    ] as const) {
      expect(configurationError({ [name]: value }).message).toContain(name);
    }
  });

  it("keeps maxPasswordBytes between 256 (64 four-byte characters) and the 1024 hard cap", () => {
    expect(createPasswordHasher({ maxPasswordBytes: 256 }).parameters.maxPasswordBytes).toBe(256);
    expect(configurationError({ maxPasswordBytes: 1025 }).message).toContain("maxPasswordBytes");
    expect(configurationError({ maxPasswordBytes: 255 }).message).toContain("maxPasswordBytes");
  });

  it("refuses a short or wrongly typed pepper without echoing it", () => {
    const short = configurationError({ pepper: "tiny-pepper" });
    expect(short.message).toContain("pepper");
    expect(short.message).not.toContain("tiny-pepper");
    expect(configurationError({ pepper: "" }).message).toContain("pepper");
    expect(configurationError({ pepper: 12345 }).message).toContain("pepper");
  });

  it("refuses unknown options such as memoryCost, suggesting the right name", () => {
    const error = configurationError({ memoryCost: 65536 });
    expect(error.message).toContain('"memoryCost"');
    expect(error.message).toContain("memoryCostKiB");
  });

  it("refuses a non-function onHashWork and a non-object options argument", () => {
    expect(configurationError({ onHashWork: "log" }).message).toContain("onHashWork");
    expect(configurationError(null).message).toContain("options");
  });
});

describe("createPasswordHasher legacyFormats", () => {
  it("accepts bcrypt and werkzeug, alone, together or none", () => {
    for (const legacyFormats of [[], ["bcrypt"], ["werkzeug"], ["werkzeug", "bcrypt"]] as const) {
      expect(() => createPasswordHasher({ legacyFormats })).not.toThrow();
    }
  });

  it("refuses an unknown format, naming the known ones, and a value that is not an array", () => {
    const unknown = configurationError({ legacyFormats: ["pbkdf2"] });
    expect(unknown.message).toContain('"pbkdf2"');
    expect(unknown.message).toContain('"bcrypt", "werkzeug"');
    expect(configurationError({ legacyFormats: ["scrypt"] }).message).toContain("werkzeug");
    expect(configurationError({ legacyFormats: "bcrypt" }).message).toContain(
      "legacyFormats must be an array",
    );
    expect(configurationError({ legacyFormats: [undefined] }).message).toContain("legacyFormats");
  });

  it("suggests legacyFormats for a misspelt key", () => {
    expect(configurationError({ legacy: ["bcrypt"] }).message).toContain('Did you mean "legacyFormats"?');
  });
});
