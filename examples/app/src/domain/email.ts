/**
 * E-mail addresses: what the app accepts, and the key that makes them unique regardless of case.
 *
 * @module
 */
import { domainToASCII } from "node:url";

/** Longest address, in characters (RFC 5321's 256-octet path less its angle brackets). */
export const EMAIL_MAX_LENGTH = 254;
/** Longest local part (before the `@`), RFC 5321. */
const LOCAL_MAX_LENGTH = 64;
/** A dot-atom local part: the characters of WHATWG's `type=email`, dots only between them. */
const LOCAL_PART = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** One label of a domain name in ASCII (after IDNA): letters, digits and inner hyphens. */
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** An address that passed {@link checkEmail}: how to send to it and how to compare it. */
export interface ValidEmail {
  /** Trimmed and NFC-normalised, case kept: where mail goes and what the app shows. */
  email: string;
  /** Lowercased, the domain in ASCII (IDNA): unique per user, what look-ups compare. */
  key: string;
}

const INVALID = "Enter an e-mail address like name@example.com.";

/**
 * Checks an e-mail address typed into a form: at most 254 characters, `local@domain` with a
 * dot-atom local part of at most 64 ASCII characters (no quoted strings, comments or spaces) and a
 * domain of at least two labels, the last not all digits (IDN allowed). `allowDotless` accepts `name@localhost`.
 *
 * @example
 * ```ts
 * checkEmail(" Ada@Example.com "); // { ok: true, value: { email: "Ada@Example.com", key: "ada@example.com" } }
 * checkEmail("ada@");              // { ok: false, message: "Enter an e-mail address like name@example.com." }
 * ```
 */
export function checkEmail(
  raw: unknown,
  options: { allowDotless?: boolean } = {},
): { ok: true; value: ValidEmail } | { ok: false; message: string } {
  if (typeof raw !== "string" || /\p{Cs}/u.test(raw)) return { ok: false, message: INVALID };
  const email = raw.trim().normalize("NFC");
  if (email === "") return { ok: false, message: "Enter your e-mail address." };
  if ([...email].length > EMAIL_MAX_LENGTH) {
    return { ok: false, message: `E-mail addresses are at most ${EMAIL_MAX_LENGTH} characters long.` };
  }
  const at = email.lastIndexOf("@");
  const local = email.slice(0, at);
  const domain = asciiDomain(email.slice(at + 1));
  const labels = domain?.split(".") ?? [];
  const valid =
    at > 0 &&
    local.length <= LOCAL_MAX_LENGTH &&
    LOCAL_PART.test(local) &&
    domain !== undefined &&
    domain.length <= 253 &&
    labels.every((label) => LABEL.test(label)) &&
    /[a-z]/.test(labels.at(-1) ?? "") &&
    (labels.length >= 2 || options.allowDotless === true);
  if (!valid) return { ok: false, message: INVALID };
  return { ok: true, value: { email, key: `${local.toLowerCase()}@${domain}` } };
}

/**
 * The comparison key of an address, or undefined when {@link checkEmail} refuses it.
 *
 * @example
 * ```ts
 * emailKey("Ada@Bücher.example"); // "ada@xn--bcher-kva.example"
 * ```
 */
export function emailKey(raw: unknown): string | undefined {
  const checked = checkEmail(raw);
  return checked.ok ? checked.value.key : undefined;
}

/** The domain in lowercase ASCII (IDNA), or undefined when it is no valid domain name. */
function asciiDomain(domain: string): string | undefined {
  if (domain === "" || domain.endsWith(".")) return undefined;
  const ascii = domainToASCII(domain);
  return ascii === "" ? undefined : ascii.toLowerCase();
}
