import { randomBytes } from "node:crypto";
import type { PasswordHashParameters } from "./options.js";

/** The cost parameters read from an argon2 PHC string. */
export interface PhcParameters {
  readonly algorithm: "argon2id" | "argon2i" | "argon2d";
  readonly version: number;
  readonly memoryCostKiB: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

// $argon2id$v=19$m=19456,t=2,p=1$<salt b64>$<hash b64>; strict on purpose: anything else needs a rehash.
const PHC_PATTERN =
  /^\$(argon2id|argon2i|argon2d)\$v=(\d{1,3})\$m=(\d{1,10}),t=(\d{1,10}),p=(\d{1,3})\$[A-Za-z0-9+/]{11,}\$[A-Za-z0-9+/]{11,}$/;

/**
 * Parses an argon2 PHC string; returns undefined when it is not one.
 *
 * @example
 * ```ts
 * parsePhc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2g"); // { algorithm: "argon2id", version: 19, ... }
 * ```
 */
export function parsePhc(phc: unknown): PhcParameters | undefined {
  if (typeof phc !== "string") return undefined;
  const match = PHC_PATTERN.exec(phc);
  if (!match) return undefined;
  const [, algorithm, version, m, t, p] = match;
  return {
    algorithm: algorithm as PhcParameters["algorithm"],
    version: Number(version),
    memoryCostKiB: Number(m),
    timeCost: Number(t),
    parallelism: Number(p),
  };
}

/**
 * True when `phc` was not produced with exactly these parameters (or is not a PHC string at all).
 *
 * @example
 * ```ts
 * if (phcNeedsRehash(user.passwordHash, hasher.parameters)) { ... }
 * ```
 */
export function phcNeedsRehash(phc: unknown, current: PasswordHashParameters): boolean {
  const stored = parsePhc(phc);
  if (!stored) return true;
  return (
    stored.algorithm !== current.algorithm ||
    stored.version !== current.version ||
    stored.memoryCostKiB !== current.memoryCostKiB ||
    stored.timeCost !== current.timeCost ||
    stored.parallelism !== current.parallelism
  );
}

/**
 * A PHC string with the given parameters and a random salt and digest. Verifying any password
 * against it costs one full argon2 run and (with overwhelming probability, 2^-256) fails, so it
 * stands in for a real hash without spending hash work to create it.
 *
 * @example
 * ```ts
 * const dummy = dummyPhc(hasher.parameters);
 * ```
 */
export function dummyPhc(parameters: PasswordHashParameters): string {
  const { memoryCostKiB, timeCost, parallelism } = parameters;
  const salt = unpaddedBase64(randomBytes(16));
  const digest = unpaddedBase64(randomBytes(32));
  return `$argon2id$v=19$m=${memoryCostKiB},t=${timeCost},p=${parallelism}$${salt}$${digest}`;
}

function unpaddedBase64(bytes: Buffer): string {
  return bytes.toString("base64").replace(/=+$/, "");
}
