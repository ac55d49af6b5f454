import { describe, expect, it, vi } from "vitest";
import { BCRYPT_HASHES, WERKZEUG_HASHES } from "../../test/fixtures/legacy-hashes.js";

// Counts how often bcryptjs is loaded: vitest runs this factory on the module's first import.
const loads = vi.hoisted(() => ({ count: 0 }));
vi.mock("bcryptjs", async (importOriginal) => {
  loads.count += 1;
  return importOriginal();
});

describe("bcryptjs is loaded lazily", () => {
  it("not for argon2id or Werkzeug hashes, nor for inspecting a bcrypt one; once, on the first bcrypt verify", async () => {
    const { createPasswordHasher } = await import("./index.js");
    const hasher = createPasswordHasher();
    const werkzeug = WERKZEUG_HASHES[0];
    const [bcrypt] = BCRYPT_HASHES;
    if (!werkzeug || !bcrypt) throw new Error("fixtures missing");

    expect(await hasher.verify(await hasher.hash("pw"), "pw")).toBe(true);
    expect(await hasher.verify(werkzeug.stored, werkzeug.password)).toBe(true);
    expect(hasher.inspect(bcrypt.stored).verifiable).toBe(true);
    expect(await hasher.verifyDummy("pw")).toBe(false);
    expect(loads.count).toBe(0);

    expect(await hasher.verify(bcrypt.stored, bcrypt.password)).toBe(true);
    expect(await hasher.verify(bcrypt.stored, "wrong")).toBe(false);
    expect(loads.count).toBe(1);
  });
});
