import { serializeCookie } from "./cookies.js";
import type { ResponseView } from "./http.js";
import type { CookieChanges } from "./login-state.js";
import type { CookieSettings } from "./settings.js";

/**
 * The pending-login cookie's base name (a right password, the second factor to come): the session
 * cookie's, suffixed, so every cookie of a login shares one prefix.
 *
 * @example
 * ```ts
 * pendingCookieName("session"); // "session_pending"
 * ```
 */
export function pendingCookieName(sessionName: string): string {
  return `${sessionName}_pending`;
}

/**
 * One request's cookies: the values it came with and the Set-Cookie headers it sends, under the
 * names actually used (`__Host-<name>` when cookies are Secure).
 *
 * @example
 * ```ts
 * const jar = new CookieJar(cookies, response, settings.cookies, https);
 * jar.set(settings.cookies.sessionName, value);
 * ```
 */
export class CookieJar {
  readonly #received: ReadonlyMap<string, string>;
  readonly #response: ResponseView;
  readonly #settings: CookieSettings;
  readonly #secure: boolean;

  constructor(
    received: ReadonlyMap<string, string>,
    response: ResponseView,
    settings: CookieSettings,
    https: boolean,
  ) {
    this.#received = received;
    this.#response = response;
    this.#settings = settings;
    this.#secure = settings.secure === "auto" ? https : settings.secure;
  }

  /** The cookie settings this jar writes with. */
  get settings(): CookieSettings {
    return this.#settings;
  }

  /** The name used on this request for the cookie `base`. */
  name(base: string): string {
    return this.#secure ? `__Host-${base}` : base;
  }

  /** The value the request carried for `base`, if any. */
  get(base: string): string | undefined {
    return this.#received.get(this.name(base));
  }

  /** True when the request carried `base`. */
  has(base: string): boolean {
    return this.#received.has(this.name(base));
  }

  /** Sends the cookie (a session cookie unless `maxAgeSeconds`). */
  set(base: string, value: string, maxAgeSeconds?: number): void {
    const name = this.name(base);
    this.#response.setCookie(
      name,
      serializeCookie(name, value, {
        secure: this.#secure,
        sameSite: this.#settings.sameSite,
        maxAgeSeconds,
      }),
    );
  }

  /** Expires a cookie; unless `always`, only when the request carried it (no needless Set-Cookie). */
  clear(base: string, always = false): void {
    if (!always && !this.has(base)) return;
    this.set(base, "", 0);
  }

  /** Marks the response as not to be stored by any cache (it carries or depends on a session). */
  noStore(): void {
    this.#response.setHeader("cache-control", "no-store");
  }

  /** Sends a new session cookie; the response must then not be cached (ASVS 14.3.2). */
  setSession(value: string): void {
    this.set(this.#settings.sessionName, value);
    this.noStore();
  }

  /** Sends a remember-me cookie that lasts `maxAgeSeconds`. */
  setRemember(value: string, maxAgeSeconds: number): void {
    this.set(this.#settings.rememberName, value, maxAgeSeconds);
  }

  /** Clears the session and remember-me cookies (unless `always`, only those the request carried). */
  clearLogin(always: boolean): void {
    this.clear(this.#settings.sessionName, always);
    this.clear(this.#settings.rememberName, always);
  }

  /** Applies what the loader decided: dead cookies cleared, a restored session and rotated token sent. */
  applyLoaderChanges(changes: CookieChanges): void {
    if (changes.clearSession) this.clear(this.#settings.sessionName);
    if (changes.clearRemember) this.clear(this.#settings.rememberName);
    if (changes.session) this.set(this.#settings.sessionName, changes.session);
    if (changes.remember) this.setRemember(changes.remember.value, changes.remember.maxAgeSeconds);
  }
}
