/**
 * Time-based one-time passwords (RFC 6238) over `node:crypto` HMAC: 6 digits, a 30-second step,
 * the current step and one step of clock drift either side accepted. Replay protection is the
 * caller's: {@link verifyTotp} returns the time step a code matched, the caller stores it, and passes
 * it back as `lastUsedStep` next time, so no step is accepted twice.
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import { ConfigurationError } from "../core/errors.js";
import { decodeBase32, encodeBase32 } from "./base32.js";

/**
 * Seconds in one TOTP time step.
 *
 * @example
 * ```ts
 * const secondsLeft = TOTP_PERIOD_SECONDS - (Math.floor(clock.now() / 1000) % TOTP_PERIOD_SECONDS);
 * ```
 */
export const TOTP_PERIOD_SECONDS = 30;
/**
 * Digits in a TOTP code this module verifies.
 *
 * @example
 * ```ts
 * `<input name="code" inputmode="numeric" maxlength="${TOTP_DIGITS + 1}">`;
 * ```
 */
export const TOTP_DIGITS = 6;
/**
 * Random bytes in a secret from {@link generateTotpSecret} (160 bits, RFC 4226's recommendation).
 *
 * @example
 * ```ts
 * decodeBase32(generateTotpSecret()).length === TOTP_SECRET_BYTES; // true
 * ```
 */
export const TOTP_SECRET_BYTES = 20;
/** Steps of drift accepted either side of the current one. */
const DRIFT_STEPS = 1;
/** RFC 4226 R6: a shared secret of at least 128 bits. */
const MIN_SECRET_BYTES = 16;
/** Longer than any code with spaces a person could mean; refused before any other work. */
const MAX_INPUT_LENGTH = 32;
const SIX_DIGITS = /^[0-9]{6}$/;

/**
 * The HMAC of a TOTP. SHA-1 is what authenticator apps use; the others are for RFC 6238's vectors
 * and apps that support them.
 *
 * @example
 * ```ts
 * const algorithm: TotpAlgorithm = "SHA1";
 * ```
 */
export type TotpAlgorithm = "SHA1" | "SHA256" | "SHA512";

/**
 * A TOTP secret: its bytes, or the base32 text {@link generateTotpSecret} returns and the
 * `otpauth://` URI carries (either case, padding optional).
 *
 * @example
 * ```ts
 * const secret: TotpSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
 * ```
 */
export type TotpSecret = Uint8Array | string;

/**
 * Options of {@link hotpCode} and {@link totpCode}. `digits` other than 6 exists for RFC 6238's
 * 8-digit test vectors.
 *
 * @example
 * ```ts
 * const options: TotpCodeOptions = { algorithm: "SHA256", digits: 8 };
 * ```
 */
export interface TotpCodeOptions {
  readonly algorithm?: TotpAlgorithm;
  readonly digits?: 6 | 7 | 8;
}

/**
 * Options of {@link verifyTotp}: the time to verify at (milliseconds since the epoch, from the
 * app's `Clock`), the step of the last code accepted for this secret (codes of that step or earlier
 * are refused), and the HMAC.
 *
 * @example
 * ```ts
 * const options: TotpVerifyOptions = { now: clock.now(), lastUsedStep: user.totpLastStep };
 * ```
 */
export interface TotpVerifyOptions {
  readonly now: number;
  readonly lastUsedStep?: number | null;
  readonly algorithm?: TotpAlgorithm;
}

/**
 * What {@link verifyTotp} decided. On success, `step` is the time step the code matched: store it
 * and pass it as `lastUsedStep` next time. `malformed`: not 6 digits (nothing was computed);
 * `mismatch`: no step in the window has this code; `replayed`: it matches only steps already used.
 *
 * @example
 * ```ts
 * const result: TotpVerification = { ok: false, reason: "replayed" };
 * ```
 */
export type TotpVerification =
  | { readonly ok: true; readonly step: number }
  | { readonly ok: false; readonly reason: "malformed" | "mismatch" | "replayed" };

/**
 * A new secret: {@link TOTP_SECRET_BYTES} bytes from `crypto.randomBytes`, as base32 without
 * padding (32 characters). Encrypt it before storing (see `SecretBox`).
 *
 * @example
 * ```ts
 * const secret = generateTotpSecret(); // "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
 * ```
 */
export function generateTotpSecret(): string {
  return encodeBase32(randomBytes(TOTP_SECRET_BYTES));
}

/**
 * The time step containing `now` (milliseconds since the epoch): whole 30-second periods since
 * the epoch.
 *
 * @example
 * ```ts
 * totpStep(59_000); // 1
 * ```
 */
export function totpStep(now: number): number {
  if (!Number.isFinite(now) || now < 0) throw new ConfigurationError(`now must be a time in ms, got ${now}`);
  return Math.floor(now / 1000 / TOTP_PERIOD_SECONDS);
}

/**
 * The HOTP value (RFC 4226) of `secret` at `counter`, as a zero-padded string of `digits` digits.
 *
 * @example
 * ```ts
 * hotpCode(Buffer.from("12345678901234567890"), 0); // "755224"
 * ```
 */
export function hotpCode(secret: TotpSecret, counter: number, options: TotpCodeOptions = {}): string {
  return hotpOfKey(secretBytes(secret), counter, options.algorithm ?? "SHA1", options.digits ?? TOTP_DIGITS);
}

/**
 * The TOTP code of `secret` at `now` (milliseconds since the epoch).
 *
 * @example
 * ```ts
 * totpCode(Buffer.from("12345678901234567890"), 59_000, { digits: 8 }); // "94287082"
 * ```
 */
export function totpCode(secret: TotpSecret, now: number, options: TotpCodeOptions = {}): string {
  return hotpCode(secret, totpStep(now), options);
}

/**
 * A code as a person typed it, reduced to its 6 digits: spaces removed, then exactly six ASCII
 * digits or `undefined`. Anything not a string is `undefined`.
 *
 * @example
 * ```ts
 * normaliseTotpCode("123 456"); // "123456"
 * normaliseTotpCode("12345x");  // undefined
 * ```
 */
export function normaliseTotpCode(input: unknown): string | undefined {
  if (typeof input !== "string" || input.length > MAX_INPUT_LENGTH) return undefined;
  const digits = input.replaceAll(" ", "");
  return SIX_DIGITS.test(digits) ? digits : undefined;
}

/**
 * Checks a 6-digit code against the steps `current - 1`, `current` and `current + 1`. Each is
 * computed and compared in constant time; the first step (current, then the earlier, then the
 * later) that matches and is after `lastUsedStep` is returned. Malformed input is refused before
 * the secret is touched.
 *
 * @example
 * ```ts
 * const result = verifyTotp(secret, req.body.code, { now: clock.now(), lastUsedStep: user.totpLastStep });
 * if (result.ok) await users.setTotpLastStep(user.id, result.step);
 * ```
 */
export function verifyTotp(secret: TotpSecret, code: unknown, options: TotpVerifyOptions): TotpVerification {
  const presented = normaliseTotpCode(code);
  if (presented === undefined) return { ok: false, reason: "malformed" };
  const current = totpStep(options.now);
  const matched = matchingSteps(secretBytes(secret), presented, current, options.algorithm ?? "SHA1");
  if (matched.length === 0) return { ok: false, reason: "mismatch" };
  const lastUsed = options.lastUsedStep ?? Number.NEGATIVE_INFINITY;
  const unused = matched.find((step) => step > lastUsed);
  return unused === undefined ? { ok: false, reason: "replayed" } : { ok: true, step: unused };
}

/**
 * Options of {@link totpUri}: the issuer (the app's name, shown in the authenticator), the account
 * (usually the e-mail address), the base32 secret, and the HMAC (SHA-1 unless the app knows its
 * users' authenticators support another).
 *
 * @example
 * ```ts
 * const options: TotpUriOptions = { issuer: "Example", account: "ada@example.com", secret };
 * ```
 */
export interface TotpUriOptions {
  readonly issuer: string;
  readonly account: string;
  readonly secret: string;
  readonly algorithm?: TotpAlgorithm;
}

/**
 * The `otpauth://totp/...` URI an authenticator app reads from a QR code: label
 * `<issuer>:<account>` and every parameter percent-encoded (spaces as `%20`), the secret
 * upper-case without padding. Issuer and account must be non-empty and contain no colon (the
 * label's separator); the secret must be base32 of at least 16 bytes, as {@link verifyTotp} needs.
 *
 * @example
 * ```ts
 * totpUri({ issuer: "Example Co", account: "ada@example.com", secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP" });
 * // "otpauth://totp/Example%20Co:ada%40example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Example%20Co&algorithm=SHA1&digits=6&period=30"
 * ```
 */
export function totpUri(options: TotpUriOptions): string {
  const issuer = labelPart("issuer", options.issuer);
  const account = labelPart("account", options.account);
  const secret = encodeBase32(secretBytes(options.secret));
  const algorithm = checkedAlgorithm(options.algorithm ?? "SHA1");
  const query = `secret=${secret}&issuer=${issuer}&algorithm=${algorithm}&digits=${TOTP_DIGITS}&period=${TOTP_PERIOD_SECONDS}`;
  return `otpauth://totp/${issuer}:${account}?${query}`;
}

/** The steps in the window whose code equals `presented`, in the order current, earlier, later. */
function matchingSteps(key: Uint8Array, presented: string, current: number, algorithm: TotpAlgorithm) {
  const given = Buffer.from(presented, "ascii");
  const matched: number[] = [];
  for (const step of [current, current - DRIFT_STEPS, current + DRIFT_STEPS]) {
    if (step < 0) continue;
    const expected = Buffer.from(hotpOfKey(key, step, algorithm, TOTP_DIGITS), "ascii");
    if (timingSafeEqual(expected, given)) matched.push(step);
  }
  return matched;
}

/** RFC 4226 section 5.3: HMAC of the 8-byte big-endian counter, dynamic truncation, modulo 10^digits. */
function hotpOfKey(key: Uint8Array, counter: number, algorithm: TotpAlgorithm, digits: number): string {
  if (!Number.isSafeInteger(counter) || counter < 0) {
    throw new ConfigurationError(`the HOTP counter must be a non-negative integer, got ${counter}`);
  }
  if (!Number.isInteger(digits) || digits < 6 || digits > 8) {
    throw new ConfigurationError(`digits must be 6, 7 or 8, got ${digits}`);
  }
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(hashOf(checkedAlgorithm(algorithm)), key)
    .update(message)
    .digest();
  const offset = (mac[mac.length - 1] ?? 0) & 0x0f;
  const binary = mac.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 10 ** digits).padStart(digits, "0");
}

function secretBytes(secret: TotpSecret): Uint8Array {
  const bytes = typeof secret === "string" ? decodeBase32(secret) : secret;
  if (!(bytes instanceof Uint8Array) || bytes.length < MIN_SECRET_BYTES) {
    throw new ConfigurationError(
      `a TOTP secret must have at least ${MIN_SECRET_BYTES} bytes (RFC 4226); use generateTotpSecret()`,
    );
  }
  return bytes;
}

function checkedAlgorithm(algorithm: TotpAlgorithm): TotpAlgorithm {
  if (algorithm !== "SHA1" && algorithm !== "SHA256" && algorithm !== "SHA512") {
    throw new ConfigurationError(`algorithm must be "SHA1", "SHA256" or "SHA512", got ${String(algorithm)}`);
  }
  return algorithm;
}

function hashOf(algorithm: TotpAlgorithm): string {
  return algorithm === "SHA1" ? "sha1" : algorithm === "SHA256" ? "sha256" : "sha512";
}

function labelPart(name: string, value: string): string {
  if (typeof value !== "string" || value.length === 0 || value.includes(":")) {
    throw new ConfigurationError(
      `${name} must be a non-empty string without ":" (the otpauth label separator)`,
    );
  }
  return encodeURIComponent(value);
}
