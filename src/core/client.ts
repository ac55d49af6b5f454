import { hash } from "node:crypto";
import type { RequestView } from "./http.js";

const MAX_USER_AGENT_LENGTH = 256;
/** Longest entry of X-Forwarded-For / -Proto read (an address or a scheme is far shorter). */
const MAX_FORWARDED_ENTRY_LENGTH = 64;
/** Longest host name (RFC 1035's 253 characters, a port and brackets). */
const MAX_HOST_LENGTH = 255;

/**
 * The client's address: the socket peer, or, behind `trustProxyHops` trusted proxies, the entry of
 * X-Forwarded-For that the outermost trusted proxy saw. Never trusts the header without that setting.
 *
 * @example
 * ```ts
 * clientAddress(request, 0); // socket address, X-Forwarded-For ignored
 * ```
 */
export function clientAddress(request: RequestView, trustProxyHops: number): string {
  const socket = request.remoteAddress ?? "";
  if (trustProxyHops === 0) return socket;
  return trustedHopEntry(request.header("x-forwarded-for"), trustProxyHops) ?? socket;
}

/**
 * The entry of a comma-separated forwarding header written by the outermost of `hops` trusted
 * proxies: entries further left came from the client and may be forged.
 */
function trustedHopEntry(
  header: string | undefined,
  hops: number,
  maxLength = MAX_FORWARDED_ENTRY_LENGTH,
): string | undefined {
  if (!header) return undefined;
  const entries = header
    .split(",")
    .map((entry) => entry.trim())
    .filter((entry) => entry.length > 0 && entry.length <= maxLength);
  return entries[Math.max(0, entries.length - hops)];
}

/**
 * True when the request reached the app over HTTPS: a TLS socket, or with trusted proxies an
 * `X-Forwarded-Proto: https` written by the outermost trusted proxy (read like X-Forwarded-For).
 *
 * @example
 * ```ts
 * isHttps(request, 1);
 * ```
 */
export function isHttps(request: RequestView, trustProxyHops: number): boolean {
  if (request.encrypted) return true;
  if (trustProxyHops === 0) return false;
  return trustedHopEntry(request.header("x-forwarded-proto"), trustProxyHops)?.toLowerCase() === "https";
}

/**
 * The host the client asked for, as received (not validated): the Host header, or, behind
 * `trustProxyHops` trusted proxies, the entry of X-Forwarded-Host that the outermost trusted proxy
 * wrote (read like X-Forwarded-For), when there is one. A trusted proxy must therefore set
 * X-Forwarded-Host itself or remove the client's: one that passes it on unchanged lets the client
 * choose the host. `allowedHosts` decides whether the app answers for it.
 *
 * @example
 * ```ts
 * requestHost(request, 0); // "app.example.com:8443", from the Host header
 * ```
 */
export function requestHost(request: RequestView, trustProxyHops: number): string | undefined {
  if (trustProxyHops > 0) {
    const forwarded = trustedHopEntry(request.header("x-forwarded-host"), trustProxyHops, MAX_HOST_LENGTH);
    if (forwarded !== undefined) return forwarded;
  }
  return request.header("host");
}

/**
 * The User-Agent, cut to a length fit for storage and display.
 *
 * @example
 * ```ts
 * userAgent(request); // "Mozilla/5.0 (X11; Linux x86_64) ..."
 * ```
 */
export function userAgent(request: RequestView): string {
  return (request.header("user-agent") ?? "").slice(0, MAX_USER_AGENT_LENGTH);
}

/**
 * The session-protection fingerprint: a hash of client address and User-Agent.
 *
 * @example
 * ```ts
 * clientFingerprint("127.0.0.1", "curl/8"); // "n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg"
 * ```
 */
export function clientFingerprint(address: string, agent: string): string {
  // The previous request's client first, compared by content: on a keep-alive connection it is the
  // same client, and comparing the fresh User-Agent string costs a fraction of hashing it for a Map
  // lookup. A miss costs one comparison that usually stops at the length or the first characters.
  if (agent === lastAgent && address === lastAddress) return lastFingerprint;
  // Memoized: the same client sends the same address and User-Agent on every request. Inputs and
  // output are not secret; the cache is bounded and simply starts over when full. Keyed by agent,
  // then address, rather than by the joined string: joining makes a new string per request that V8
  // must flatten and hash before the lookup.
  let byAddress = fingerprints.get(agent);
  let fingerprint = byAddress?.get(address);
  if (fingerprint === undefined) {
    fingerprint = hash("sha256", `${address}|${agent}`, "base64url");
    if (cachedFingerprints >= MAX_CACHED_FINGERPRINTS) {
      fingerprints.clear();
      cachedFingerprints = 0;
      byAddress = undefined;
    }
    if (!byAddress) {
      byAddress = new Map();
      fingerprints.set(agent, byAddress);
    }
    byAddress.set(address, fingerprint);
    cachedFingerprints++;
  }
  lastAgent = agent;
  lastAddress = address;
  lastFingerprint = fingerprint;
  return fingerprint;
}

const MAX_CACHED_FINGERPRINTS = 1024;
/** Fingerprints by User-Agent, then by address. */
const fingerprints = new Map<string, Map<string, string>>();
let cachedFingerprints = 0;
let lastAgent: string | undefined;
let lastAddress: string | undefined;
let lastFingerprint = "";

/**
 * True when the client asked for JSON rather than a page (API clients, fetch with Accept JSON).
 *
 * @example
 * ```ts
 * wantsJson(request); // true for "Accept: application/json"
 * ```
 */
export function wantsJson(request: RequestView): boolean {
  const accept = request.header("accept") ?? "";
  if (accept.includes("text/html")) return false;
  return accept.includes("application/json") || request.header("x-requested-with") === "XMLHttpRequest";
}

/**
 * The request's own origin (`https://example.com`) from the Host header and protocol, or null when
 * the Host header is missing or malformed.
 *
 * @example
 * ```ts
 * requestOrigin(request, true); // "https://example.com"
 * ```
 */
export function requestOrigin(request: RequestView, https: boolean): string | null {
  const host = request.header("host");
  if (!host || host.length > 255 || !/^[A-Za-z0-9.\-:[\]]+$/.test(host)) return null;
  return `${https ? "https" : "http"}://${host.toLowerCase()}`;
}
