/**
 * Requests on which Express, Fastify and Hono used to disagree (issue 16.9), and requests for a host
 * the app does not serve (16.7), as one table run on the reference app on all three frameworks: each
 * row gets the same status everywhere, with the same security headers as an ordinary page.
 *
 * Before: `GET *` was the home page on Fastify, 404 on Express and a bare 400 on Hono;
 * `/x/../protected` reached the guarded route on Hono only (@hono/node-server resolves dot segments
 * with the WHATWG URL parser, Express and Fastify route the raw path and found nothing); a repeated
 * `_csrf` passed on Hono only (its parseBody keeps the last value); the 400s @hono/node-server answers
 * itself (`*`, a backslash, a missing or malformed Host) had no security headers; any Host was served.
 */
import { StoreError } from "login-manager";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Framework } from "../src/frameworks.js";
import { FRAMEWORKS, startTestApp, type TestApp, TestBrowser } from "./helpers.js";
import { type RawHttpResponse, rawRequest } from "./raw-http.js";

/** The headers the app's security hook sets (helmet, or hono/secure-headers with the same policy). */
const SECURITY_HEADERS = [
  "content-security-policy",
  "cross-origin-opener-policy",
  "cross-origin-resource-policy",
  "origin-agent-cluster",
  "referrer-policy",
  "x-content-type-options",
  "x-dns-prefetch-control",
  "x-download-options",
  "x-frame-options",
  "x-permitted-cross-domain-policies",
  "x-xss-protection",
];

function securityHeaders(response: RawHttpResponse): Record<string, string | undefined> {
  const headers: Record<string, string | undefined> = {};
  for (const name of SECURITY_HEADERS) headers[name] = response.headers[name];
  // helmet joins CSP directives with ";", hono/secure-headers with "; ": the same policy.
  headers["content-security-policy"] = headers["content-security-policy"]
    ?.split(";")
    .map((directive) => directive.trim())
    .join(";");
  return headers;
}

/** What a row sends, given the visitor's cookie and CSRF token (from GET /login). */
type Send = (baseUrl: string, visitor: { cookie: string; csrf: string }) => Promise<RawHttpResponse>;

const get =
  (target: string, headers = "Host: 127.0.0.1"): Send =>
  (baseUrl) =>
    rawRequest(baseUrl, `GET ${target} HTTP/1.1\r\n${headers}`);

const postForm =
  (host: string, fields: (csrf: string) => string, extra = ""): Send =>
  (baseUrl, { cookie, csrf }) => {
    const body = fields(csrf);
    const head = [
      "POST /login HTTP/1.1",
      `Host: ${host}`,
      `Cookie: ${cookie}`,
      "Sec-Fetch-Site: same-origin",
      "Content-Type: application/x-www-form-urlencoded",
      `Content-Length: ${Buffer.byteLength(body)}`,
      ...(extra ? [extra] : []),
    ].join("\r\n");
    return rawRequest(baseUrl, head, body);
  };

const ROWS: Array<[name: string, status: number, send: Send]> = [
  ["GET * (asterisk-form, for OPTIONS only)", 400, get("*")],
  ["OPTIONS *", 400, (baseUrl) => rawRequest(baseUrl, "OPTIONS * HTTP/1.1\r\nHost: 127.0.0.1")],
  ["GET /x/../protected", 400, get("/x/../protected")],
  ["GET /x/%2E%2E/protected (encoded dots)", 400, get("/x/%2E%2E/protected")],
  ["GET /./login", 400, get("/./login")],
  ["GET /static/../healthz", 400, get("/static/../healthz")],
  ["GET /x\\..\\protected (backslashes)", 400, get("/x\\..\\protected")],
  ["GET / over HTTP/1.0 without a Host", 400, (baseUrl) => rawRequest(baseUrl, "GET / HTTP/1.0")],
  ["GET / with a malformed Host", 400, get("/", "Host: evil.example/phish?")],
  ["GET / for another host", 400, get("/", "Host: evil.example")],
  [
    "POST /login rebinding: Host and Origin the attacker's name, same-origin to the browser",
    400,
    postForm("evil.example", (csrf) => `_csrf=${csrf}&username=a&password=b`, "Origin: http://evil.example"),
  ],
  [
    "POST /login for another host with an oversized body (refused before reading it)",
    400,
    postForm("evil.example", () => `a=${"x".repeat(9000)}`),
  ],
  [
    "POST /login with the _csrf field twice (both the right token)",
    403,
    postForm("127.0.0.1", (csrf) => `_csrf=${csrf}&_csrf=${csrf}&username=a&password=b`),
  ],
];

describe("one behaviour on Express, Fastify and Hono [issue 16.7, 16.9]", () => {
  const apps = new Map<Framework, TestApp>();
  const pageHeaders = new Map<Framework, Record<string, string | undefined>>();
  const visitors = new Map<Framework, { cookie: string; csrf: string }>();

  beforeAll(async () => {
    for (const framework of FRAMEWORKS) {
      const app = await startTestApp({ framework });
      apps.set(framework, app);
      const browser = new TestBrowser(app.baseUrl);
      await browser.get("/login");
      const visitor = { cookie: browser.cookieHeader(), csrf: browser.csrf ?? "" };
      visitors.set(framework, visitor);
      pageHeaders.set(framework, securityHeaders(await get("/login")(app.baseUrl, visitor)));
    }
  }, 60_000);

  afterAll(async () => {
    await Promise.all([...apps.values()].map((app) => app.close()));
  });

  it("sends the same security headers on an ordinary page everywhere (the reference for the rows)", () => {
    const express = pageHeaders.get("express");
    expect(express?.["content-security-policy"]).toContain("default-src 'self'");
    for (const framework of FRAMEWORKS) expect(pageHeaders.get(framework)).toEqual(express);
  });

  it.each(ROWS)("%s: %i with the security headers", async (_name, status, send) => {
    for (const framework of FRAMEWORKS) {
      const app = apps.get(framework) as TestApp;
      const response = await send(app.baseUrl, visitors.get(framework) as { cookie: string; csrf: string });
      expect({ framework, status: response.status }).toEqual({ framework, status });
      expect({ framework, ...securityHeaders(response) }).toEqual({
        framework,
        ...pageHeaders.get(framework),
      });
      expect(response.headers["set-cookie"]).toBeUndefined();
    }
  });
});

describe("security headers on the 500 and 503 pages too, on every framework", () => {
  const session = `session=${"a".repeat(22)}.${"b".repeat(22)}`;
  it.each([
    ["500 (a store that throws)", 500, new Error("boom")],
    ["503 (an unreachable store)", 503, new StoreError("down", { unavailable: true })],
  ])("%s", async (_name, status, failure) => {
    for (const framework of FRAMEWORKS) {
      const store = new Proxy({}, { get: () => () => Promise.reject(failure) });
      const app = await startTestApp({ framework, overrides: { manager: { store: store as never } } });
      try {
        const page = await get("/login")(app.baseUrl, { cookie: "", csrf: "" });
        const response = await rawRequest(
          app.baseUrl,
          `GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${session}`,
        );
        expect({ framework, status: response.status }).toEqual({ framework, status });
        expect({ framework, ...securityHeaders(response) }).toEqual({ framework, ...securityHeaders(page) });
      } finally {
        await app.close();
      }
    }
  });
});
