import { randomBytes } from "node:crypto";
import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

/** Where the secret came from: the environment, a key file from an earlier start, or a new key file. */
export type SecretSource = "env" | "file" | "generated";

/** File in the data folder that keeps the generated secret. */
export const SECRET_FILE_NAME = "secret_key";

/**
 * Returns `configured` when set; otherwise the key kept in `dataDir/secret_key`, creating it (mode
 * 0600, 32 random bytes) on first start so that restarts keep everyone logged in.
 *
 * @example
 * ```ts
 * const { secret, source, path } = loadOrCreateSecret(process.env.SECRET_KEY, "./data");
 * if (source !== "env") console.warn(`SECRET_KEY not set; using ${path}`);
 * ```
 */
export function loadOrCreateSecret(
  configured: string | undefined,
  dataDir: string,
): { secret: string; source: SecretSource; path: string } {
  const path = join(dataDir, SECRET_FILE_NAME);
  if (configured !== undefined) return { secret: configured, source: "env", path };
  const generated = randomBytes(32).toString("base64url");
  try {
    // "wx" fails when the file exists, so two processes starting together keep one key.
    writeFileSync(path, `${generated}\n`, { mode: 0o600, flag: "wx" });
    return { secret: generated, source: "generated", path };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  chmodSync(path, 0o600);
  const stored = readFileSync(path, "utf8").trim();
  if (stored.length < 32) {
    throw new Error(`${path} does not hold a valid key (delete it to generate a new one, or set SECRET_KEY)`);
  }
  return { secret: stored, source: "file", path };
}
