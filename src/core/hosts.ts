/**
 * The Host check (`allowedHosts`, as Django's `ALLOWED_HOSTS`): the host names an app answers for.
 * Each adapter asks {@link LoginManager.checkHost} before anything else, so a request for another
 * name (a DNS-rebinding page, whose browser sends its own name as Host and Origin) gets 400 before
 * any session is read or cookie written. The CSRF check then expects an Origin on an allowed host
 * only (see `expectedOrigin`).
 *
 * @module
 */
import { isHttps, requestHost, wantsJson } from "./client.js";
import { ConfigurationError } from "./errors.js";
import type { AuthReply, RequestView } from "./http.js";

/**
 * What `allowedHosts` is when it is not set: the loopback names only, so an app on a developer's
 * machine works as it is and a deployed one refuses every other name until it lists its own.
 *
 * @example
 * ```ts
 * DEFAULT_ALLOWED_HOSTS; // [".localhost", "127.0.0.1", "[::1]"]
 * ```
 */
export const DEFAULT_ALLOWED_HOSTS: readonly string[] = Object.freeze([".localhost", "127.0.0.1", "[::1]"]);

/** The entry that turns the check off. */
const ANY_HOST = "*";
/** What a Host header may hold: a name, an IPv4 or bracketed IPv6 address, a port. */
const HOST_HEADER = /^[A-Za-z0-9._\-:[\]]{1,255}$/;
/** An entry's host and optional port (`example.com:8443`, `[::1]:3000`). */
const ENTRY = /^(\[[^\]]*\]|[^:[\]]+)(?::(\d{1,5}))?$/;
/** Hosts found allowed are remembered, per scheme, up to this many (then the memory starts over). */
const MAX_REMEMBERED_HOSTS = 256;

/**
 * Validates an `allowedHosts` list and returns it normalised (lower case, IDNs in punycode, IPv6
 * compressed, no trailing dot), frozen; undefined gives {@link DEFAULT_ALLOWED_HOSTS}. Each entry is
 * `"*"` (any host: the check is off), a host name or IP address with an optional port
 * (`"example.com"`, `"example.com:8443"`, `"[2001:db8::1]"`), or a name with a leading dot for it and
 * every subdomain (`".example.com"`). An entry without a port allows every port. Throws a
 * {@link ConfigurationError} that names the bad entry and the fix.
 *
 * @example
 * ```ts
 * resolveAllowedHosts(["App.Example.com", ".example.org", "[::1]:3000"]);
 * // ["app.example.com", ".example.org", "[::1]:3000"]
 * ```
 */
export function resolveAllowedHosts(value: readonly string[] | undefined): readonly string[] {
  if (value === undefined) return DEFAULT_ALLOWED_HOSTS;
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigurationError(
      'allowedHosts must be a non-empty array of host names, e.g. ["app.example.com"] (["*"] turns the Host check off)',
    );
  }
  return Object.freeze(value.map(normalizeEntry));
}

function normalizeEntry(entry: unknown): string {
  if (entry === ANY_HOST) return ANY_HOST;
  const refuse = (why: string) =>
    new ConfigurationError(`allowedHosts entry ${JSON.stringify(entry)} ${why}`);
  if (typeof entry !== "string") throw refuse("is not a string");
  if (entry.includes("://")) throw refuse("must be a host name, not a URL: leave out the scheme and path");
  if (entry.startsWith("*."))
    throw refuse(`has a "*." wildcard: write "${entry.slice(1)}" for a domain and its subdomains`);
  const subdomains = entry.startsWith(".");
  const match = ENTRY.exec(subdomains ? entry.slice(1) : entry);
  const hostname = match ? hostnameOf(match[1] as string) : undefined;
  const port = match?.[2] === undefined ? undefined : Number(match[2]);
  if (!hostname || (port !== undefined && (port < 1 || port > 65_535))) {
    throw refuse(
      'is not a host name with an optional port, like "example.com", ".example.com" or "[::1]:3000"',
    );
  }
  if (subdomains && /^[\d.]+$|^\[/.test(hostname)) throw refuse("is an IP address: it has no subdomains");
  return `${subdomains ? "." : ""}${hostname}${port === undefined ? "" : `:${port}`}`;
}

/** The normalised host name (as a URL has it, without a trailing dot), or undefined when invalid. */
function hostnameOf(host: string): string | undefined {
  if (/[\s/?#@\\%]/.test(host)) return undefined;
  try {
    const { hostname } = new URL(`http://${host}`);
    const name = hostname.endsWith(".") ? hostname.slice(0, -1) : hostname;
    return name === "" ? undefined : name;
  } catch {
    return undefined;
  }
}

interface HostPattern {
  readonly hostname: string;
  /** A leading-dot entry: the name and its subdomains. */
  readonly subdomains: boolean;
  readonly port: number | undefined;
}

function patternOf(entry: string): HostPattern {
  const subdomains = entry.startsWith(".");
  const match = ENTRY.exec(subdomains ? entry.slice(1) : entry) as RegExpExecArray;
  return {
    hostname: match[1] as string,
    subdomains,
    port: match[2] === undefined ? undefined : Number(match[2]),
  };
}

/** A Host header understood: the name to match, the port it means, and the Origin a browser sends. */
interface RequestHost {
  readonly hostname: string;
  readonly port: number;
  readonly origin: string;
}

/** Parses a Host header with the request's scheme (which gives the default port), or null when malformed. */
function parseRequestHost(raw: string, https: boolean): RequestHost | null {
  if (!HOST_HEADER.test(raw)) return null;
  let url: URL;
  try {
    url = new URL(`${https ? "https" : "http"}://${raw}`);
  } catch {
    return null;
  }
  const hostname = url.hostname.endsWith(".") ? url.hostname.slice(0, -1) : url.hostname;
  if (hostname === "") return null;
  const port = url.port === "" ? (https ? 443 : 80) : Number(url.port);
  return { hostname, port, origin: url.origin };
}

function matches(pattern: HostPattern, host: RequestHost): boolean {
  if (pattern.port !== undefined && pattern.port !== host.port) return false;
  if (host.hostname === pattern.hostname) return true;
  return pattern.subdomains && host.hostname.endsWith(`.${pattern.hostname}`);
}

/**
 * `allowedHosts` applied to requests: which host a request is for (the Host header, or behind
 * `trustProxyHops` trusted proxies their X-Forwarded-Host), whether it is allowed, and the Origin a
 * browser on it sends. Built once by the manager.
 *
 * @example
 * ```ts
 * const hosts = new HostPolicy({ allowedHosts: ["app.example.com"], trustProxyHops: 0 });
 * hosts.check(request); // null, or the 400 reply
 * ```
 */
export class HostPolicy {
  readonly #any: boolean;
  readonly #patterns: readonly HostPattern[];
  readonly #trustProxyHops: number;
  /** Warn (once) about a refusal only while `allowedHosts` is the default the app may not know about. */
  #warnOnRefusal: boolean;
  /** Hosts as received that were found allowed, to the Origin a browser sends: over HTTP, over HTTPS. */
  readonly #allowed: readonly [Map<string, string>, Map<string, string>] = [new Map(), new Map()];
  /** The last allowed host header, its scheme and its origin. */
  #lastRaw: string | undefined;
  #lastHttps = false;
  #lastOrigin = "";

  constructor(options: { readonly allowedHosts: readonly string[]; readonly trustProxyHops: number }) {
    this.#any = options.allowedHosts.includes(ANY_HOST);
    this.#patterns = options.allowedHosts.filter((entry) => entry !== ANY_HOST).map(patternOf);
    this.#trustProxyHops = options.trustProxyHops;
    this.#warnOnRefusal = options.allowedHosts === DEFAULT_ALLOWED_HOSTS;
  }

  /**
   * Null when the request's host is allowed, otherwise a 400 reply (text, or JSON for API clients)
   * that names neither the host nor the allowed ones. A missing or malformed Host is refused too,
   * unless `allowedHosts` has `"*"`.
   */
  check(request: RequestView): AuthReply | null {
    if (this.#any) return null;
    const raw = requestHost(request, this.#trustProxyHops);
    const https = isHttps(request, this.#trustProxyHops);
    if (raw !== undefined && this.#allowedOrigin(raw, https) !== null) return null;
    this.#warnOnce(raw);
    const message = "This server does not answer for that host name.";
    const headers = { "cache-control": "no-store" };
    return wantsJson(request)
      ? { status: 400, headers, body: { error: "host_not_allowed", message } }
      : { status: 400, headers, body: `Bad Request: ${message}` };
  }

  /**
   * The origin a same-origin request from a browser carries (`https://app.example.com`), built from
   * the request's host when it is allowed, else null. With `"*"`, the origin of any well-formed host.
   */
  expectedOrigin(request: RequestView): string | null {
    const raw = requestHost(request, this.#trustProxyHops);
    if (raw === undefined) return null;
    const https = isHttps(request, this.#trustProxyHops);
    if (this.#any) return parseRequestHost(raw, https)?.origin ?? null;
    return this.#allowedOrigin(raw, https);
  }

  #allowedOrigin(raw: string, https: boolean): string | null {
    // The previous request's host first, compared by content: cheaper than hashing the fresh header
    // string for the Map lookup, and the usual case (one name per site).
    if (raw === this.#lastRaw && https === this.#lastHttps) return this.#lastOrigin;
    const remembered = this.#allowed[https ? 1 : 0];
    let origin = remembered.get(raw);
    if (origin === undefined) {
      const host = parseRequestHost(raw, https);
      if (!host || !this.#patterns.some((pattern) => matches(pattern, host))) return null;
      if (remembered.size >= MAX_REMEMBERED_HOSTS) remembered.clear();
      origin = host.origin;
      remembered.set(raw, origin);
    }
    this.#lastRaw = raw;
    this.#lastHttps = https;
    this.#lastOrigin = origin;
    return origin;
  }

  #warnOnce(raw: string | undefined): void {
    if (!this.#warnOnRefusal) return;
    this.#warnOnRefusal = false;
    const shown =
      raw !== undefined && HOST_HEADER.test(raw) ? `"${raw}"` : "with a missing or malformed Host";
    process.emitWarning(
      `login-manager answered 400 to a request for ${shown}: allowedHosts is not set, so only localhost, 127.0.0.1 and [::1] are served. List the names the site is served under, e.g. new LoginManager({ allowedHosts: ["app.example.com"], ... }).`,
      { code: "LOGIN_MANAGER_HOST_NOT_ALLOWED" },
    );
  }
}
