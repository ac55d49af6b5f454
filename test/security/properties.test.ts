// Property-based tests (fast-check): whatever arrives in cookies, `next`, bodies and proxy headers,
// the library never throws past its boundary and never grants what only a real token may grant.
import { validateHeaderValue } from "node:http";
import * as fc from "fast-check";
import type { RequestView } from "login-manager";
import { isSafeNextUrl, safeNextUrl } from "login-manager";
import type { ResponseView } from "login-manager/adapter";
import { clientAddress, isHttps } from "login-manager/adapter";
import { type FakeRequestOptions, fakeRequest } from "login-manager/testing";
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Served, TestUser } from "./support.js";
import {
  createExpressApp,
  createTestManager,
  serve,
  serveFastify,
  serveHono,
  setCookies,
} from "./support.js";

const APP_ORIGIN = "https://app.example";
const BASE64URL = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
/** Property tests run thousands of cases; give them room on a loaded CI machine. */
const SLOW_MS = 120_000;
const NO_RESPONSE: ResponseView = { setCookie: () => undefined, setHeader: () => undefined };

function view(options: FakeRequestOptions = {}): RequestView {
  return fakeRequest({ remoteAddress: "192.0.2.10", ...options });
}

/** Logs alice in with remember-me on a fresh manager and returns the two real cookie values. */
async function realTokens(encrypted: boolean) {
  const fixture = createTestManager();
  const cookies = new Map<string, string>();
  const auth = await fixture.manager.authenticate(view({ encrypted }), {
    setCookie: (name, serialized) =>
      cookies.set(name, serialized.slice(name.length + 1, serialized.indexOf(";"))),
    setHeader: () => undefined,
  });
  await auth.loginUser(fixture.users.get("alice") as TestUser, { remember: true });
  const prefix = encrypted ? "__Host-" : "";
  return {
    ...fixture,
    session: cookies.get(`${prefix}session`) as string,
    remember: cookies.get(`${prefix}remember_token`) as string,
  };
}

const base64urlChar = fc.constantFrom(...BASE64URL);
const tokenShaped = fc
  .tuple(
    fc.string({ unit: base64urlChar, minLength: 22, maxLength: 22 }),
    fc.string({ unit: base64urlChar, minLength: 22, maxLength: 22 }),
  )
  .map(([id, secret]) => `${id}.${secret}`);

/** Edits that always change a token (never just whitespace or quotes, which cookie parsing strips). */
const mutation = fc.oneof(
  fc.tuple(fc.nat(), base64urlChar).map(([at, char]) => (value: string) => {
    const index = at % value.length;
    const replacement = value[index] === char ? (char === "A" ? "B" : "A") : char;
    return value.slice(0, index) + replacement + value.slice(index + 1);
  }),
  fc
    .nat()
    .map((at) => (value: string) => value.slice(0, at % value.length) + value.slice((at % value.length) + 1)),
  fc.tuple(fc.nat(), base64urlChar).map(([at, char]) => (value: string) => {
    const index = at % (value.length + 1);
    return value.slice(0, index) + char + value.slice(index);
  }),
  fc.constant((value: string) => value.split(".").reverse().join(".")),
  fc.constant((value: string) => value.replace(".", "~")),
  fc.constant((value: string) => (value.toUpperCase() === value ? `${value}x` : value.toUpperCase())),
  fc.constant(
    (value: string) => encodeURIComponent(value).replace(/A/, "%41") + (value.includes("A") ? "" : "%41"),
  ),
  fc.constant((value: string) => value.slice(0, 22)),
  fc.constant((value: string) => `${value}.${value}`),
);

type Piece = (real: { session: string; remember: string; encrypted: boolean }) => string;

const cookieName = fc.oneof(
  fc.constantFrom(
    "session",
    "__Host-session",
    "remember_token",
    "__Host-remember_token",
    "csrf",
    "__Host-csrf",
    "flash",
    "__Secure-session",
    "__host-session",
    "Session",
    "REMEMBER_TOKEN",
  ),
  fc.string({ maxLength: 12 }),
);

/** One `name=value` cookie pair (or raw junk) built from the real tokens without ever presenting one under its name. */
const cookiePiece: fc.Arbitrary<Piece> = fc.oneof(
  fc.tuple(cookieName, fc.string({ unit: "binary", maxLength: 60 })).map(
    ([n, v]) =>
      () =>
        `${n}=${v}`,
  ),
  fc.tuple(cookieName, tokenShaped).map(
    ([n, v]) =>
      () =>
        `${n}=${v}`,
  ),
  fc.tuple(cookieName, fc.constantFrom("session", "remember"), mutation).map(
    ([n, which, edit]): Piece =>
      (real) => {
        const value = which === "session" ? real.session : real.remember;
        const edited = edit(value);
        return edited === value ? `${n}=${value}x` : `${n}=${edited}`;
      },
  ),
  // The real value under a name this request does not read (the other scheme's prefix, other case).
  fc
    .tuple(fc.constantFrom("session", "remember"), fc.constantFrom("other-scheme", "upper", "secure-prefix"))
    .map(
      ([which, variant]): Piece =>
        (real) => {
          const base = which === "session" ? "session" : "remember_token";
          const value = which === "session" ? real.session : real.remember;
          const name =
            variant === "other-scheme"
              ? real.encrypted
                ? base
                : `__Host-${base}`
              : variant === "upper"
                ? base.toUpperCase()
                : `__Secure-${base}`;
          return `${name}=${value}`;
        },
    ),
  fc.string({ unit: "binary", maxLength: 40 }).map((junk) => () => junk.replace(/=/g, "")),
  fc.nat({ max: 9000 }).map((size) => () => `session=${"A".repeat(size)}`),
);

const separator = fc.constantFrom("; ", ";", ";;", " ; ", ", ", "\t;");

describe("cookies: manager.authenticate never throws and never authenticates without a real token [A5 7.2.1, 7.2.3] [checklist E.33, I.64]", () => {
  it(
    "arbitrary Cookie headers (unicode, huge, duplicates, __Host- variants, mutated real tokens) stay anonymous",
    async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.boolean(),
          fc.array(cookiePiece, { maxLength: 8 }),
          fc.array(separator, { minLength: 8, maxLength: 8 }),
          async (encrypted, pieces, separators) => {
            const real = await realTokens(encrypted);
            const header = pieces
              .map((piece, index) => piece({ ...real, encrypted }) + (separators[index] ?? "; "))
              .join("");
            const auth = await real.manager.authenticate(
              view({ encrypted, headers: { cookie: header } }),
              NO_RESPONSE,
            );
            expect(auth.isAuthenticated).toBe(false);
            expect(auth.source).toBeNull();
          },
        ),
        { numRuns: 3000 },
      );
    },
    SLOW_MS,
  );

  it("control: the real session or remember cookie amid arbitrary other cookies does authenticate", async () => {
    const otherName = fc.string({
      unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz_"),
      minLength: 1,
      maxLength: 10,
    });
    const otherValue = fc.string({
      unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789-._~%"),
      maxLength: 40,
    });
    await fc.assert(
      fc.asyncProperty(
        fc.boolean(),
        fc.constantFrom("session", "remember"),
        fc.array(fc.tuple(otherName, otherValue), { maxLength: 6 }),
        fc.nat({ max: 6 }),
        async (encrypted, which, others, position) => {
          const real = await realTokens(encrypted);
          const prefix = encrypted ? "__Host-" : "";
          const own =
            which === "session"
              ? `${prefix}session=${real.session}`
              : `${prefix}remember_token=${real.remember}`;
          const pairs = others
            .filter(([name]) => !["session", "remember_token"].includes(name))
            .map(([name, value]) => `${name}=${value}`);
          pairs.splice(position, 0, own);
          const auth = await real.manager.authenticate(
            view({ encrypted, headers: { cookie: pairs.join("; ") } }),
            NO_RESPONSE,
          );
          expect(auth.isAuthenticated).toBe(true);
          expect(auth.source).toBe(which);
        },
      ),
      { numRuns: 300 },
    );
  });
});

const NEXT_PIECES = [
  "/",
  "//",
  "\\",
  "\\\\",
  "/\\",
  "http:",
  "https:",
  "HTTPS:",
  "javascript:",
  "data:",
  "ftp:",
  "evil.example",
  "app.example",
  "@",
  ":",
  ".",
  "..",
  "?",
  "#",
  "%2F",
  "%2f",
  "%5C",
  "%09",
  "%0A",
  "%00",
  "\t",
  "\n",
  "\r",
  " ",
  "\u0000",
  "\u000b",
  "\u000c",
  "\u007f",
  "\u0085",
  "\u00a0",
  "\u1680",
  "\u2028",
  "\u3000",
  "\ufeff",
  "\uff0f",
  "\uff3c",
  "\u2215",
  "\u2044",
  "ｅｖｉｌ.example",
  "xn--e1afmkfd",
  "127.0.0.1",
  "[::1]",
  "0x7f.1",
];

const nextCandidate = fc.oneof(
  fc.string({ unit: "binary", maxLength: 80 }),
  fc.array(fc.constantFrom(...NEXT_PIECES), { maxLength: 10 }).map((parts) => parts.join("")),
  fc
    .tuple(
      fc.array(fc.constantFrom(...NEXT_PIECES), { maxLength: 6 }),
      fc.string({ unit: "binary", maxLength: 20 }),
    )
    .map(([parts, tail]) => parts.join("") + tail),
  fc
    .array(fc.constantFrom(...NEXT_PIECES), { maxLength: 6 })
    .map((parts) => encodeURIComponent(parts.join(""))),
  fc.nat({ max: 5000 }).map((size) => `/${"a".repeat(size)}`),
);

/** Where a browser would go: it strips tab/newline, and leading/trailing C0 controls and spaces. */
function browserTargets(location: string): string[] {
  const stripped = location.replace(/[\t\n\r]/g, "");
  // biome-ignore lint/suspicious/noControlCharactersInRegex: browsers strip exactly these
  const trimmed = stripped.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, "");
  return [location, stripped, trimmed, trimmed.replace(/\\/g, "/")];
}

describe("safeNextUrl over generated redirect targets [A5 3.7.2] [CS-Unvalidated_Redirects] [checklist K.71]", () => {
  it(
    "never throws and never yields a URL that resolves off-origin, as parsed or as browsers normalise it",
    async () => {
      await fc.assert(
        fc.property(nextCandidate, (next) => {
          const result = safeNextUrl(next, "/home");
          const accepted = isSafeNextUrl(next);
          expect(result === "/home" || accepted).toBe(true);
          for (const target of browserTargets(result)) {
            expect(new URL(target, APP_ORIGIN).origin).toBe(APP_ORIGIN);
          }
          if (accepted) {
            // The same target as given, serialised: printable ASCII only (a valid Location header).
            expect(new URL(result, APP_ORIGIN).href).toBe(new URL(next, APP_ORIGIN).href);
            expect(result).toMatch(/^[\u0021-\u007e]*$/);
            expect(() => validateHeaderValue("location", result)).not.toThrow();
            expect(result.startsWith("/") && !result.startsWith("//")).toBe(true);
            expect(safeNextUrl(result, "/home")).toBe(result);
          }
        }),
        { numRuns: 20_000 },
      );
    },
    SLOW_MS,
  );

  it("turns every rooted path over all of Unicode into a valid Location header or the fallback (issue 16.2)", async () => {
    const unicodePath = fc
      .array(
        fc.oneof(fc.string({ unit: "binary", maxLength: 12 }), fc.constantFrom("/", "?", "#", "&", "=", "%")),
        {
          maxLength: 8,
        },
      )
      .map((parts) => `/${parts.join("")}`);
    await fc.assert(
      fc.property(unicodePath, (next) => {
        const result = safeNextUrl(next, "/home");
        expect(() => validateHeaderValue("location", result)).not.toThrow();
        expect(result).toMatch(/^\/(?![/\\])[\u0021-\u007e]*$|^\/$/);
        expect(new URL(result, APP_ORIGIN).origin).toBe(APP_ORIGIN);
      }),
      { numRuns: 20_000 },
    );
  });

  it("never throws on non-string input and treats it as unsafe", async () => {
    await fc.assert(
      fc.property(fc.anything(), (next) => {
        if (typeof next === "string") return;
        expect(isSafeNextUrl(next)).toBe(false);
        expect(safeNextUrl(next, "/home")).toBe("/home");
      }),
      { numRuns: 2000 },
    );
  });
});

type Body = { type?: string; payload: string };

/**
 * Bodies a client might send, carrying anything but the one valid token in a top-level form or JSON
 * field: wrong, mutated or repeated tokens, the raw cookie value, nested fields, malformed encodings.
 */
function bodyArbitrary(token: string, cookie: string): fc.Arbitrary<Body> {
  const near = fc.oneof(
    fc.constantFrom(cookie, token.slice(1), `${token}x`, token.toUpperCase(), ""),
    mutation.map((edit) => {
      const edited = edit(token);
      return edited === token ? `${token}!` : edited;
    }),
    fc.string({ unit: "binary", maxLength: 40 }),
  );
  const contentType = fc.constantFrom(
    "application/x-www-form-urlencoded",
    "application/x-www-form-urlencoded; charset=utf-8",
    "application/x-www-form-urlencoded; charset=iso-8859-1",
    "application/x-www-form-urlencoded; charset=utf-16",
    "application/json",
    "application/json; charset=utf-8",
    "application/json; charset=koi8-r",
    "text/plain",
    "multipart/form-data",
    "multipart/form-data; boundary=xyz",
    "application/octet-stream",
    "",
  );
  return fc.oneof(
    fc.record({ type: contentType, payload: fc.string({ unit: "binary", maxLength: 300 }) }),
    fc.record({
      type: fc.constantFrom("application/x-www-form-urlencoded", "application/json"),
      payload: fc
        .tuple(near, fc.string({ maxLength: 20 }), fc.nat({ max: 3 }))
        .map(
          ([wrong, other, layout]) =>
            [
              `_csrf=${encodeURIComponent(wrong)}&x=${encodeURIComponent(other)}`,
              `_csrf=${encodeURIComponent(wrong)}&_csrf=${encodeURIComponent(other)}&_csrf=${encodeURIComponent(wrong)}`,
              `x[_csrf]=${encodeURIComponent(token)}&_csrf[]=${encodeURIComponent(token)}`,
              `_csrf=${encodeURIComponent(wrong)}&${"a=1&".repeat(120)}`,
            ][layout] as string,
        ),
    }),
    fc.record({
      type: fc.constantFrom("application/json", "application/x-www-form-urlencoded", "text/plain"),
      payload: fc
        .tuple(near, fc.jsonValue({ maxDepth: 3 }), fc.nat({ max: 4 }))
        .map(
          ([wrong, value, layout]) =>
            [
              JSON.stringify({ _csrf: wrong, value }),
              JSON.stringify({ _csrf: [token] }),
              JSON.stringify({ nested: { _csrf: token } }),
              `{"__proto__": {"_csrf": ${JSON.stringify(token)}}}`,
              JSON.stringify(value),
            ][layout] as string,
        ),
    }),
    fc.record({ type: fc.constant("text/plain"), payload: fc.constant(`_csrf=${token}`) }),
    fc.record({ type: fc.constant("application/json"), payload: fc.constant(`{"_csrf": "${token}"`) }),
    fc.record({
      type: fc.constant("application/json"),
      payload: fc.nat({ max: 20_000 }).map((n) => `${"[".repeat(n)}`),
    }),
    fc.record({
      type: fc.constant("application/x-www-form-urlencoded"),
      payload: fc.nat({ max: 40_000 }).map((n) => `_csrf=${"x".repeat(n)}`),
    }),
  );
}

const ADAPTERS = [
  {
    name: "Express (initApp)",
    runs: 1500,
    start: async () => {
      const { manager, users } = createTestManager();
      const app = createExpressApp(manager, users);
      app.post("/echo", (_req, res) => {
        res.send("passed");
      });
      return serve(app);
    },
  },
  { name: "Fastify", runs: 500, start: () => startWithEcho("fastify") },
  { name: "Hono", runs: 500, start: () => startWithEcho("hono") },
];

/** Fastify and Hono servers from the suite; their `POST /logout` answers 200 only past the CSRF check. */
async function startWithEcho(kind: "fastify" | "hono"): Promise<Served & { echoPath: string }> {
  const { manager, users } = createTestManager();
  const served = kind === "fastify" ? await serveFastify(manager, users) : await serveHono(manager, users);
  return { ...served, echoPath: "/logout" };
}

describe.each(ADAPTERS)(
  "request bodies on $name: never 5xx, and CSRF never passes without the token [A5 3.5.1] [checklist J.66, M.79]",
  (adapter) => {
    let served: Served & { echoPath?: string };
    let cookie: string;
    let token: string;
    let path: string;

    beforeAll(async () => {
      served = await adapter.start();
      path = served.echoPath ?? "/echo";
      const page = await request(served.url).get("/csrf");
      token = (page.body as { csrf: string }).csrf;
      const csrfCookie = setCookies(page.headers).find((c) => c.name === "csrf");
      cookie = csrfCookie?.value as string;
    });
    afterAll(async () => served.close());

    async function post(body: Body, headers: Record<string, string> = {}) {
      const call = request(served.url)
        .post(path)
        .set({ cookie: `csrf=${cookie}`, "sec-fetch-site": "same-origin", ...headers });
      if (body.type) call.set("content-type", body.type);
      return call.send(body.payload);
    }

    it("control: the real token in the form passes", async () => {
      const response = await post({
        type: "application/x-www-form-urlencoded",
        payload: `_csrf=${encodeURIComponent(token)}`,
      });
      expect(response.status).toBe(200);
    });

    it("arbitrary urlencoded, JSON, multipart and malformed bodies without the token get a 4xx, never 2xx or 5xx", async () => {
      await fc.assert(
        fc.asyncProperty(
          bodyArbitrary(token, cookie),
          fc.option(fc.string({ unit: "binary-ascii", maxLength: 60 }), { nil: undefined }),
          async (body, headerToken) => {
            const headers: Record<string, string> = {};
            // biome-ignore lint/suspicious/noControlCharactersInRegex: header values cannot carry these
            const safeHeader = headerToken?.replace(/[\u0000-\u001f\u007f]/g, "");
            if (safeHeader !== undefined && safeHeader !== token) headers["x-csrf-token"] = safeHeader;
            const response = await post(body, headers);
            expect(response.status).toBeGreaterThanOrEqual(400);
            expect(response.status).toBeLessThan(500);
          },
        ),
        { numRuns: adapter.runs },
      );
    });
  },
);

describe("proxy headers: clientAddress and isHttps [flask-login #700] [checklist I.65]", () => {
  const header = fc.oneof(
    fc.string({ unit: "binary", maxLength: 200 }),
    fc
      .array(fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 80 })), { maxLength: 12 })
      .map((list) => list.join(",")),
    fc.nat({ max: 2000 }).map((n) => "1.2.3.4, ".repeat(n)),
    fc.constantFrom("https", "HTTPS", "https, http", "http, https", " https ", "https\u0000"),
  );
  const socket = fc.option(fc.oneof(fc.ipV4(), fc.ipV6()), { nil: undefined });

  it(
    "with trustProxyHops 0 the address is the socket's and the scheme the socket's, whatever the headers",
    async () => {
      await fc.assert(
        fc.property(
          socket,
          fc.boolean(),
          header,
          header,
          header,
          (remoteAddress, encrypted, xff, xfp, forwarded) => {
            const req = view({
              remoteAddress,
              encrypted,
              headers: { "x-forwarded-for": xff, "x-forwarded-proto": xfp, forwarded, "x-real-ip": xff },
            });
            expect(clientAddress(req, 0)).toBe(remoteAddress ?? "");
            expect(isHttps(req, 0)).toBe(encrypted);
          },
        ),
        { numRuns: 5000 },
      );
    },
    SLOW_MS,
  );

  it(
    "the manager's context reports the socket address by default (trustProxyHops 0)",
    async () => {
      const { manager } = createTestManager();
      await fc.assert(
        fc.asyncProperty(socket, header, async (remoteAddress, xff) => {
          const auth = await manager.authenticate(
            view({ remoteAddress, headers: { "x-forwarded-for": xff, "x-real-ip": xff } }),
            NO_RESPONSE,
          );
          expect(auth.clientAddress).toBe(remoteAddress ?? "");
        }),
        { numRuns: 1000 },
      );
    },
    SLOW_MS,
  );

  it(
    "with trustProxyHops k, never throws, and the address depends only on the k proxy-appended entries",
    async () => {
      await fc.assert(
        fc.property(
          fc.integer({ min: 1, max: 5 }),
          header,
          fc.array(fc.oneof(fc.ipV4(), fc.ipV6()), { minLength: 5, maxLength: 5 }),
          socket,
          (hops, clientWritten, appended, remoteAddress) => {
            const trusted = appended.slice(0, hops);
            const req = view({
              remoteAddress,
              headers: { "x-forwarded-for": [clientWritten, ...trusted].join(", ") },
            });
            expect(clientAddress(req, hops)).toBe(trusted[0]);
            const anything = view({ remoteAddress, headers: { "x-forwarded-for": clientWritten } });
            const address = clientAddress(anything, hops);
            expect(address === (remoteAddress ?? "") || address.length <= 64).toBe(true);
          },
        ),
        { numRuns: 5000 },
      );
    },
    SLOW_MS,
  );
});
