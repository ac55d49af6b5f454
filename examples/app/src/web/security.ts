import { isHttps } from "login-manager/adapter";

/**
 * The Content-Security-Policy of every response: no inline scripts or styles at all, images from the
 * site (and data: URLs), forms posting to the site only, and no framing.
 */
export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  "default-src": ["'self'"],
  "script-src": ["'self'"],
  "style-src": ["'self'"],
  "img-src": ["'self'", "data:"],
  "form-action": ["'self'"],
  "frame-ancestors": ["'none'"],
  "base-uri": ["'none'"],
  "object-src": ["'none'"],
};

/** `Referrer-Policy`: full URLs to the site itself, nothing to other sites. */
export const REFERRER_POLICY = "same-origin" as const;

/** `X-Frame-Options` for browsers that predate `frame-ancestors`. */
export const FRAME_OPTIONS = "DENY" as const;

/** `Strict-Transport-Security`, sent only on requests that came over HTTPS. */
export const HSTS = "max-age=31536000; includeSubDomains";

/**
 * Helmet's options for the headers above (Express uses helmet, Fastify `@fastify/helmet`, which
 * wraps it); helmet's other defaults (`X-Content-Type-Options: nosniff`, the cross-origin policies,
 * ...) stay on. HSTS is off here: it is added per request, only over HTTPS ({@link isHttpsRequest}).
 *
 * @example
 * ```ts
 * app.use(helmet(helmetOptions()));
 * ```
 */
export function helmetOptions() {
  const directives: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(CSP_DIRECTIVES)) directives[name] = [...values];
  return {
    contentSecurityPolicy: { useDefaults: false, directives },
    referrerPolicy: { policy: REFERRER_POLICY },
    xFrameOptions: { action: "deny" as const },
    strictTransportSecurity: false,
  };
}

/**
 * True when the request came over HTTPS: a TLS socket, or, behind `trustProxyHops` trusted proxies,
 * `X-Forwarded-Proto: https`. The same rule login-manager uses for `Secure` / `__Host-` cookies, so
 * HSTS and secure cookies always go together.
 *
 * @example
 * ```ts
 * if (isHttpsRequest({ encrypted, header: (name) => req.get(name) }, 1)) res.setHeader("strict-transport-security", HSTS);
 * ```
 */
export function isHttpsRequest(
  request: { encrypted: boolean; header(name: string): string | undefined },
  trustProxyHops: number,
): boolean {
  return isHttps(
    {
      method: "GET",
      url: "/",
      remoteAddress: undefined,
      encrypted: request.encrypted,
      header: (name) => request.header(name),
      formField: () => undefined,
    },
    trustProxyHops,
  );
}
