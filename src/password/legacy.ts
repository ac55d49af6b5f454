/**
 * Other tools' password hashes, so users moved from Passport or Flask keep their passwords: tells a
 * stored string's format and either how to verify it or why it is refused. `verify` checks a legacy
 * hash once, against the password's exact UTF-8 bytes (the tools that made them do not normalise);
 * `needsRehash` is true for all of them, so the next successful login stores argon2id.
 *
 * @module
 */
import { looksLikeBcrypt, readBcryptHash } from "./bcrypt.js";
import type { LegacyHashReading } from "./legacy-types.js";
import type { LegacyFormat } from "./options.js";
import { looksLikeWerkzeug, readWerkzeugHash } from "./werkzeug.js";

export type { LegacyHashFormat, LegacyHashReading } from "./legacy-types.js";

/**
 * Reads `stored` as a bcrypt or Werkzeug hash, or returns undefined when it is neither (argon2 or
 * unknown). A format left out of `enabled` is read but refused, so `inspect` can say why.
 *
 * @example
 * ```ts
 * readLegacyHash("pbkdf2:sha256:600000$salt$…", ["werkzeug"]); // { format: "werkzeug-pbkdf2", verify }
 * ```
 */
export function readLegacyHash(
  stored: unknown,
  enabled: readonly LegacyFormat[],
): LegacyHashReading | undefined {
  if (typeof stored !== "string") return undefined;
  if (looksLikeBcrypt(stored)) return onlyIfEnabled(readBcryptHash(stored), "bcrypt", enabled);
  if (looksLikeWerkzeug(stored)) return onlyIfEnabled(readWerkzeugHash(stored), "werkzeug", enabled);
  return undefined;
}

function onlyIfEnabled(
  reading: LegacyHashReading,
  family: LegacyFormat,
  enabled: readonly LegacyFormat[],
): LegacyHashReading {
  if (enabled.includes(family)) return reading;
  return {
    format: reading.format,
    problem: `is a ${family} hash, and legacyFormats does not include "${family}"`,
  };
}
