import { describe, expect, it } from "vitest";
import { ConfigurationError } from "../core/errors.js";
import { createPasswordHasher, type PasswordHasherOptions } from "./index.js";

function message(options: Record<string, unknown>): string {
  try {
    createPasswordHasher(options as PasswordHasherOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigurationError);
    return (error as ConfigurationError).message;
  }
  throw new Error("expected a ConfigurationError");
}

describe("createPasswordHasher unknown option names", () => {
  it("suggests the closest name for a typo, not only the listed synonyms", () => {
    expect(message({ timecost: 2 })).toContain('unknown option "timecost". Did you mean "timeCost"?');
    expect(message({ paralelism: 1 })).toContain('Did you mean "parallelism"?');
  });

  it("still maps the listed synonyms and gives no hint when nothing is close", () => {
    expect(message({ secret: "x".repeat(32) })).toContain('Did you mean "pepper"?');
    const far = message({ colour: "blue" });
    expect(far).toContain('unknown option "colour".');
    expect(far).not.toContain("Did you mean");
    expect(far).toContain("Known options: memoryCostKiB, timeCost");
  });
});
