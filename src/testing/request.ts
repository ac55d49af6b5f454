import type { RequestView } from "../core/http.js";

/**
 * Options of {@link fakeRequest}. Everything has a plain default: a GET of `/` from loopback over
 * HTTP, with no headers and no form body.
 *
 * @example
 * ```ts
 * const options: FakeRequestOptions = { method: "POST", headers: { cookie: "session=..." } };
 * ```
 */
export interface FakeRequestOptions {
  /** @default "GET" */
  method?: string;
  /** Path and query as received. @default "/" */
  url?: string;
  /** Request headers; names are matched case-insensitively, an undefined value is no header. */
  headers?: Record<string, string | undefined>;
  /**
   * The socket's address; `undefined` given explicitly is a request whose address is unknown.
   * @default "::ffff:127.0.0.1" (loopback as Node reports it)
   */
  remoteAddress?: string | undefined;
  /** True for a TLS connection. @default false */
  encrypted?: boolean;
  /** Parsed form or JSON body fields, for the CSRF check's `_csrf` field. */
  form?: Record<string, unknown>;
}

/**
 * A {@link RequestView} built from plain values, for tests that call the manager directly
 * (`manager.authenticate(fakeRequest(...), response)`) and for custom adapters' unit tests.
 * A plain object: spread it to replace single members.
 *
 * @example
 * ```ts
 * const auth = await manager.authenticate(
 *   fakeRequest({ headers: { cookie: await createLoginCookie(manager, user) } }),
 *   { setCookie: () => {}, setHeader: () => {} },
 * );
 * ```
 */
export function fakeRequest(options: FakeRequestOptions = {}): RequestView {
  const headers = new Map<string, string>();
  for (const [name, value] of Object.entries(options.headers ?? {})) {
    if (value !== undefined) headers.set(name.toLowerCase(), value);
  }
  const form = options.form ?? {};
  return {
    method: options.method ?? "GET",
    url: options.url ?? "/",
    header: (name) => headers.get(name.toLowerCase()),
    remoteAddress: "remoteAddress" in options ? options.remoteAddress : "::ffff:127.0.0.1",
    encrypted: options.encrypted ?? false,
    formField: (name) => (Object.hasOwn(form, name) ? form[name] : undefined),
  };
}
