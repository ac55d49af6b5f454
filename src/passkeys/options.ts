/**
 * The options of `Passkeys`, checked once at construction and frozen: the relying party (its id and
 * name), the origins the ceremonies may come from, the user lookup and the challenges' lifetime.
 * Every mistake that would make each ceremony fail later (an rpId that is not a suffix of an
 * origin's host, an origin with a path or without https) is refused at setup with the fix.
 *
 * @module
 */
import { ConfigurationError } from "../core/errors.js";
import { rejectUnknownKeys, showValue } from "../core/option-names.js";
import type { AuthUser } from "../core/users.js";
import { requireText, wholeNumberOption } from "../mfa/shared.js";

const CONTEXT = "Passkeys";
const OPTION_NAMES = ["rpId", "rpName", "origins", "findUserById", "timeoutSeconds"] as const;
const HINTS = { origin: "origins", expectedOrigin: "origins", timeout: "timeoutSeconds", rpID: "rpId" };
const DEFAULT_TIMEOUT_SECONDS = 300;
const MIN_TIMEOUT_SECONDS = 30;
const MAX_TIMEOUT_SECONDS = 600;
const MAX_ORIGINS = 20;
const MAX_RP_NAME_LENGTH = 64;
const LABEL = "[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?";
const DOMAIN = new RegExp(`^(?=.{1,253}$)${LABEL}(?:\\.${LABEL})*$`);
const IPV4 = /^\d+\.\d+\.\d+\.\d+$/;

/**
 * Options of `Passkeys`.
 *
 * @example
 * ```ts
 * const options: PasskeysOptions<User> = {
 *   rpId: "example.com",
 *   rpName: "Example",
 *   origins: ["https://example.com"],
 *   findUserById: (id) => users.findById(id),
 * };
 * ```
 */
export interface PasskeysOptions<U extends AuthUser> {
  /** The relying party id: the site's domain (`example.com`), a suffix of every origin's host. */
  readonly rpId: string;
  /** The site's name as the browser's passkey dialog shows it (1 to 64 characters). */
  readonly rpName: string;
  /** The origins ceremonies may come from (`https://example.com`; `http://localhost:3000` in development). */
  readonly origins: readonly string[];
  /** The user a passkey belongs to, for a usernameless sign-in; null when gone (no login then). */
  findUserById(id: string): Promise<U | null>;
  /** How long a ceremony may take, in seconds (30 to 600). @default 300 */
  readonly timeoutSeconds?: number;
}

/**
 * {@link PasskeysOptions} with every default applied, frozen.
 *
 * @example
 * ```ts
 * passkeys.options.timeoutSeconds; // 300
 * ```
 */
export interface ResolvedPasskeysOptions<U extends AuthUser> {
  readonly rpId: string;
  readonly rpName: string;
  readonly origins: readonly string[];
  readonly findUserById: (id: string) => Promise<U | null>;
  readonly timeoutSeconds: number;
}

/**
 * Checks `options` and returns them frozen with defaults applied; throws a `ConfigurationError` that
 * says the fix (unknown names get a did-you-mean).
 *
 * @example
 * ```ts
 * resolvePasskeysOptions({ rpId: "example.com", rpName: "Example", origins: ["https://example.com"], findUserById });
 * ```
 */
export function resolvePasskeysOptions<U extends AuthUser>(options: unknown): ResolvedPasskeysOptions<U> {
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new ConfigurationError(`${CONTEXT}: options must be an object, got ${showValue(options)}`);
  }
  rejectUnknownKeys(options, OPTION_NAMES, CONTEXT, { hints: HINTS });
  const given = options as Partial<PasskeysOptions<U>>;
  const rpId = checkRpId(given.rpId);
  const origins = checkOrigins(given.origins, rpId);
  if (typeof given.findUserById !== "function") {
    throw new ConfigurationError(
      `${CONTEXT}: findUserById must be a function (id) => Promise<user | null>, got ${showValue(given.findUserById)}`,
    );
  }
  const findUserById = given.findUserById.bind(given);
  return Object.freeze({
    rpId,
    rpName: requireText(given.rpName, "rpName", CONTEXT, MAX_RP_NAME_LENGTH),
    origins,
    findUserById,
    timeoutSeconds: wholeNumberOption(
      given.timeoutSeconds,
      "timeoutSeconds",
      CONTEXT,
      DEFAULT_TIMEOUT_SECONDS,
      MIN_TIMEOUT_SECONDS,
      MAX_TIMEOUT_SECONDS,
    ),
  });
}

function checkRpId(rpId: unknown): string {
  if (typeof rpId !== "string" || rpId.includes("/") || rpId.includes(":")) {
    throw new ConfigurationError(
      `${CONTEXT}: rpId must be the site's domain name without scheme, port or path (e.g. "example.com"), got ${showValue(rpId)}`,
    );
  }
  if (!DOMAIN.test(rpId) || IPV4.test(rpId)) {
    throw new ConfigurationError(
      `${CONTEXT}: rpId must be a lower-case domain name (browsers refuse IP addresses; use "localhost" in development), got ${showValue(rpId)}`,
    );
  }
  return rpId;
}

function checkOrigins(origins: unknown, rpId: string): readonly string[] {
  if (!Array.isArray(origins) || origins.length === 0 || origins.length > MAX_ORIGINS) {
    throw new ConfigurationError(
      `${CONTEXT}: origins must be a list of 1 to ${MAX_ORIGINS} origins such as ["https://example.com"], got ${showValue(origins)}`,
    );
  }
  return Object.freeze(origins.map((origin) => checkOrigin(origin, rpId)));
}

function checkOrigin(origin: unknown, rpId: string): string {
  const url = typeof origin === "string" && URL.canParse(origin) ? new URL(origin) : null;
  if (url === null || (url.protocol !== "https:" && url.protocol !== "http:")) {
    throw new ConfigurationError(
      `${CONTEXT}: each origin must be an http(s) origin such as "https://example.com", got ${showValue(origin)}`,
    );
  }
  if (url.origin !== origin) {
    throw new ConfigurationError(
      `${CONTEXT}: write the origin ${showValue(origin)} as ${JSON.stringify(url.origin)} (scheme, host and port only, no path or trailing slash): browsers report it that way`,
    );
  }
  const host = url.hostname;
  if (url.protocol === "http:" && host !== "localhost" && !host.endsWith(".localhost")) {
    throw new ConfigurationError(
      `${CONTEXT}: the origin ${JSON.stringify(origin)} must use https (browsers offer passkeys over http only on localhost)`,
    );
  }
  if (host !== rpId && !host.endsWith(`.${rpId}`)) {
    throw new ConfigurationError(
      `${CONTEXT}: rpId ${JSON.stringify(rpId)} must be the host of every origin or a parent domain of it, and ${JSON.stringify(origin)} is on ${JSON.stringify(host)}: set rpId to ${JSON.stringify(host)} (or a domain it ends with), or remove the origin`,
    );
  }
  return origin;
}
