/**
 * The small per-request helpers that are not about identity: the CSRF token for forms and the
 * flashed messages. Each keeps its state in its own signed cookie.
 *
 * @module
 */
import type { CookieJar } from "./cookie-jar.js";
import { csrfTokenFor } from "./csrf.js";
import { decodeFlashes, encodeFlashes, type FlashMessage } from "./flash.js";
import type { KeyRing } from "./signing.js";
import { randomToken } from "./tokens.js";

/**
 * The request's CSRF secret (its cookie) and the token forms echo.
 *
 * @example
 * ```ts
 * const csrf = new CsrfCookie(jar, keys);
 * form.hidden("_csrf", csrf.token());
 * ```
 */
export class CsrfCookie {
  readonly #jar: CookieJar;
  readonly #keys: KeyRing;
  #value: string | undefined;

  constructor(jar: CookieJar, keys: KeyRing) {
    this.#jar = jar;
    this.#keys = keys;
    this.#value = jar.get(jar.settings.csrfName);
  }

  /** The secret the request carried (or set), for the CSRF check. */
  get value(): string | undefined {
    return this.#value;
  }

  /** The token to put in forms; sets the cookie on first use. */
  token(): string {
    if (this.#value === undefined) this.rotate();
    return csrfTokenFor(this.#keys, this.#value as string);
  }

  /** Replaces the secret (at login and logout); earlier tokens stop working. */
  rotate(): void {
    this.#value = randomToken();
    this.#jar.set(this.#jar.settings.csrfName, this.#value);
  }
}

/**
 * Messages for the next page (Flask's `flash`), in a signed cookie.
 *
 * @example
 * ```ts
 * const flashes = new FlashQueue(jar, keys);
 * flashes.add("Saved", "info");
 * ```
 */
export class FlashQueue {
  readonly #jar: CookieJar;
  readonly #keys: KeyRing;
  #pending: FlashMessage[] | undefined;

  constructor(jar: CookieJar, keys: KeyRing) {
    this.#jar = jar;
    this.#keys = keys;
  }

  /** Queues a message. */
  add(message: string, category: string): void {
    const pending = this.#read();
    pending.push({ category, message });
    this.#jar.set(this.#jar.settings.flashName, encodeFlashes(this.#keys, pending));
  }

  /** Returns and clears the queued messages. */
  take(): FlashMessage[] {
    const pending = this.#read();
    this.#pending = [];
    const name = this.#jar.settings.flashName;
    if (pending.length > 0 || this.#jar.has(name)) this.#jar.clear(name);
    return pending;
  }

  #read(): FlashMessage[] {
    this.#pending ??= decodeFlashes(this.#keys, this.#jar.get(this.#jar.settings.flashName));
    return this.#pending;
  }
}
