import { createHash } from "node:crypto";
import type { Logger } from "pino";
import { logSecurityEvent } from "./security-log.js";

/** What a breach check found out about a password. */
export type BreachCheckResult =
  /** The password is in the breach corpus, seen `count` times. */
  | { status: "breached"; count: number }
  /** The corpus does not hold the password. */
  | { status: "not-found" }
  /** No answer (timeout, network error, bad response): the password is accepted (fail open). */
  | { status: "unavailable"; reason: BreachCheckFailure };

/** Why a breach check got no usable answer. Never holds the password or its hash. */
export type BreachCheckFailure = "timeout" | "unreachable" | "http-error" | "too-large";

/** Checks passwords against a corpus of breached passwords (ASVS 6.2.12). */
export interface BreachedPasswords {
  /** Never rejects: an unusable answer resolves `unavailable`. */
  check(password: string): Promise<BreachCheckResult>;
}

/** Longest range-API answer read, in bytes (a padded answer is 800-1,000 lines of about 40 bytes). */
export const MAX_RANGE_RESPONSE_BYTES = 256 * 1024;

/** Options of {@link createRangeApiChecker}. */
export interface RangeApiOptions {
  /** The API's base URL: the check requests `<baseUrl>/range/<first 5 hex characters of the SHA-1>`. */
  baseUrl: string;
  /** Longest wait for the whole answer, body included. */
  timeoutMs: number;
  /** Where a failed check is logged (a warning, `event: "password.breach-check"`). */
  logger: Logger;
  /** Longest answer read; a longer one counts as a failure. Defaults to {@link MAX_RANGE_RESPONSE_BYTES}. */
  maxResponseBytes?: number;
}

/**
 * A breach check on a k-anonymity range API (the Pwned Passwords protocol): the SHA-1 of the
 * password is computed here and only its first 5 hex characters are sent, as
 * `GET <baseUrl>/range/<PREFIX>` with `Add-Padding: true`; the answer lists the suffixes of every
 * known hash with that prefix as `SUFFIX:COUNT` lines, and the password is breached when its own
 * suffix is listed with a count above 0 (padding lines have count 0).
 *
 * Fails open: when the API does not answer within `timeoutMs` (body included), cannot be reached,
 * answers an error status or more than `maxResponseBytes`, the result is `unavailable` and a warning
 * is logged, so an outage of a third-party service cannot stop people from registering.
 *
 * @example
 * ```ts
 * const breached = createRangeApiChecker({ baseUrl: "https://api.pwnedpasswords.com", timeoutMs: 2000, logger });
 * await breached.check("P@ssw0rd"); // { status: "breached", count: 100000 } or so
 * ```
 */
export function createRangeApiChecker(options: RangeApiOptions): BreachedPasswords {
  const limit = options.maxResponseBytes ?? MAX_RANGE_RESPONSE_BYTES;
  const base = options.baseUrl.endsWith("/") ? options.baseUrl : `${options.baseUrl}/`;
  return {
    async check(password) {
      const hash = createHash("sha1").update(password, "utf8").digest("hex").toUpperCase();
      const prefix = hash.slice(0, 5);
      const suffix = hash.slice(5);
      const answer = await fetchRange(new URL(`range/${prefix}`, base), options.timeoutMs, limit);
      if (typeof answer !== "string") {
        logSecurityEvent(options.logger, {
          event: "password.breach-check",
          outcome: "failure",
          reason: answer.reason,
        });
        return { status: "unavailable", reason: answer.reason };
      }
      const count = countOf(answer, suffix);
      return count > 0 ? { status: "breached", count } : { status: "not-found" };
    },
  };
}

async function fetchRange(
  url: URL,
  timeoutMs: number,
  limit: number,
): Promise<string | { reason: BreachCheckFailure }> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const response = await fetch(url, {
      headers: { "add-padding": "true", accept: "text/plain" },
      redirect: "error",
      signal,
    });
    if (!response.ok) {
      await response.body?.cancel();
      return { reason: "http-error" };
    }
    const text = await readLimited(response, limit);
    return text ?? { reason: "too-large" };
  } catch {
    return { reason: signal.aborted ? "timeout" : "unreachable" };
  }
}

/** The body as UTF-8 text, or undefined (and the rest left unread) past `limit` bytes. */
async function readLimited(response: Response, limit: number): Promise<string | undefined> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > limit) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.body) return "";
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > limit) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** The count of `suffix` in a range answer (`SUFFIX:COUNT` lines), 0 when absent or padding. */
function countOf(answer: string, suffix: string): number {
  for (const line of answer.split("\n")) {
    const [listed = "", count = ""] = line.trim().split(":");
    if (listed.toUpperCase() !== suffix) continue;
    const parsed = /^\d{1,12}$/.test(count) ? Number(count) : 0;
    if (parsed > 0) return parsed;
  }
  return 0;
}

/**
 * The message for a breached password.
 *
 * @example
 * ```ts
 * breachedMessage(3); // "This password has appeared in a data breach (3 times) ..."
 * ```
 */
export function breachedMessage(count: number): string {
  const times = count === 1 ? "once" : `${count.toLocaleString("en-US")} times`;
  return `This password has appeared in a data breach (${times} in the breached-password lists), so attackers try it. Please choose another.`;
}
