/**
 * The HTTP contract is the same on Express, Fastify and Hono: the same requests, sent in the same
 * order to each, get the same status, the same security and caching headers, the same cookies (by
 * name) and byte-identical bodies (CSRF tokens, session handles and times aside).
 */
import request from "supertest";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  emailFor,
  FRAMEWORKS,
  type Framework,
  PASSWORD,
  startTestApp,
  type TestApp,
  TestBrowser,
  type TestResponse,
} from "./helpers.js";

/** Every header compared exactly (besides content-type, CSP and Set-Cookie, see `normalize`). */
const COMPARED_HEADERS = [
  "cache-control",
  "clear-site-data",
  "cross-origin-opener-policy",
  "cross-origin-resource-policy",
  "etag",
  "location",
  "origin-agent-cluster",
  "referrer-policy",
  "retry-after",
  "strict-transport-security",
  "vary",
  "x-content-type-options",
  "x-dns-prefetch-control",
  "x-download-options",
  "x-frame-options",
  "x-permitted-cross-domain-policies",
  "x-powered-by",
  "x-xss-protection",
];

interface Observed {
  status: number;
  headers: Record<string, string | undefined>;
  csp: string[] | undefined;
  cookies: string[];
  body: string;
}

function normalize(response: TestResponse): Observed {
  const headers: Record<string, string | undefined> = {};
  for (const name of COMPARED_HEADERS) {
    const value = response.headers[name] as string | undefined;
    headers[name] = value;
  }
  // login-manager's own JSON replies (401, CSRF 403) say `application/json` on Hono and
  // `application/json; charset=utf-8` on Express and Fastify: a difference in the adapters.
  const type = response.headers["content-type"] as string | undefined;
  headers["content-type"] = type?.startsWith("application/json") ? "application/json" : type;
  // helmet joins CSP directives with ";", hono/secure-headers with "; ": same policy.
  const csp = (response.headers["content-security-policy"] as string | undefined)
    ?.split(";")
    .map((directive) => directive.trim());
  const cookies = ((response.headers["set-cookie"] as unknown as string[] | undefined) ?? []).map(
    (cookie) => {
      const [pair = "", ...attributes] = cookie.split(";").map((part) => part.trim());
      const name = pair.slice(0, pair.indexOf("="));
      const cleared = attributes.some((attribute) => /^max-age=0$/i.test(attribute));
      return `${name}${cleared ? " (cleared)" : ""}; ${attributes
        .filter((a) => !/^expires=/i.test(a))
        .map((a) => a.replace(/^max-age=[1-9]\d*$/i, "Max-Age=N"))
        .join("; ")}`;
    },
  );
  const body = (response.text ?? "")
    .replace(/value="[\w-]{20,}"/g, 'value="TOKEN"')
    .replace(/\/account\/sessions\/[\w-]{10,}\/revoke/g, "/account/sessions/HANDLE/revoke")
    .replace(/<time datetime="[^"]+">[^<]+<\/time>/g, "<time>TIME</time>");
  return { status: response.status, headers, csp, cookies, body };
}

interface Visitor {
  app: TestApp;
  browser: TestBrowser;
}

type Step = [name: string, send: (visitor: Visitor) => Promise<TestResponse>];

const form = (app: TestApp, path: string) =>
  request(app.baseUrl).post(path).set("sec-fetch-site", "same-origin");

/** One visit: a stranger, a few odd requests, then an account's life. Run in order on each app. */
const STEPS: Step[] = [
  ["GET /", ({ browser }) => browser.get("/")],
  ["GET /login?next=/protected", ({ browser }) => browser.get("/login?next=%2Fprotected")],
  ["GET /login/ (trailing slash)", ({ browser }) => browser.get("/login/")],
  ["GET /LOGIN (case)", ({ browser }) => browser.get("/LOGIN")],
  ["GET /log%69n (escaped letter)", ({ browser }) => browser.get("/log%69n")],
  ["GET /%E0%A4%A (undecodable)", ({ browser }) => browser.get("/%E0%A4%A")],
  ["GET /protected", ({ browser }) => browser.get("/protected")],
  ["GET /protected (JSON)", ({ browser }) => browser.get("/protected", { accept: "application/json" })],
  ["GET /login with the flash", ({ browser }) => browser.get("/login")],
  ["GET /healthz", ({ app }) => request(app.baseUrl).get("/healthz")],
  ["HEAD /healthz", ({ app }) => request(app.baseUrl).head("/healthz")],
  ["GET /static/style.css", ({ app }) => request(app.baseUrl).get("/static/style.css")],
  ["HEAD /static/favicon.svg", ({ app }) => request(app.baseUrl).head("/static/favicon.svg")],
  [
    "GET /static/style.css (If-None-Match)",
    async ({ app }) => {
      const first = await request(app.baseUrl).get("/static/style.css");
      return request(app.baseUrl).get("/static/style.css").set("if-none-match", String(first.headers.etag));
    },
  ],
  ["GET /static/missing.css", ({ app }) => request(app.baseUrl).get("/static/missing.css")],
  ["GET /static/", ({ browser }) => browser.get("/static/")],
  ["GET /nope", ({ browser }) => browser.get("/nope")],
  ["OPTIONS /login", ({ app }) => request(app.baseUrl).options("/login")],
  ["PUT /login", ({ app }) => request(app.baseUrl).put("/login")],
  ["POST /logout without a token", ({ browser }) => browser.post("/logout", { _csrf: "" })],
  [
    "POST /logout without a token (JSON)",
    ({ browser }) => browser.post("/logout", { _csrf: "" }, { accept: "application/json" }),
  ],
  [
    "POST /logout cross-site",
    ({ browser }) => browser.post("/logout", {}, { "sec-fetch-site": "cross-site" }),
  ],
  [
    "POST /login too large",
    ({ browser }) => browser.post("/login", { username: "x".repeat(9000), password: "y" }),
  ],
  [
    "POST /login 101 fields",
    ({ browser }) =>
      browser.post("/login", Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`f${i}`, "1"]))),
  ],
  [
    "POST /login malformed JSON",
    ({ app }) => form(app, "/login").set("content-type", "application/json").send('{"a": '),
  ],
  [
    "POST /login JSON string",
    ({ app }) => form(app, "/login").set("content-type", "application/json").send('"a"'),
  ],
  [
    "POST /logout empty JSON body",
    ({ app }) => form(app, "/logout").set("content-type", "application/json").set("content-length", "0"),
  ],
  [
    "POST /login unsupported charset",
    ({ app }) =>
      form(app, "/login")
        .set("content-type", "application/x-www-form-urlencoded; charset=klingon")
        .send("a=b"),
  ],
  ["POST /login text/plain", ({ app }) => form(app, "/login").set("content-type", "text/plain").send("a=b")],
  ["POST /login multipart", ({ app }) => form(app, "/login").field("username", "a")],
  [
    "POST /login gzip",
    ({ app }) =>
      form(app, "/login")
        .set("content-type", "application/x-www-form-urlencoded")
        .set("content-encoding", "gzip")
        .send("a=b"),
  ],
  [
    "POST /login repeated field",
    ({ app, browser }) =>
      form(app, "/login")
        .set("cookie", browser.cookieHeader())
        .type("form")
        .send(`_csrf=${browser.csrf}&username=a&username=b&password=x`),
  ],
  [
    "POST /login malformed escape in a field",
    ({ app, browser }) =>
      form(app, "/login")
        .set("cookie", browser.cookieHeader())
        .type("form")
        .send(`_csrf=${browser.csrf}&username=%E0%A4%A&password=whatever1`),
  ],
  [
    "POST /login chunked",
    ({ app, browser }) => {
      const req = form(app, "/login")
        .set("cookie", browser.cookieHeader())
        .set("content-type", "application/x-www-form-urlencoded")
        .set("transfer-encoding", "chunked");
      req.write(`_csrf=${browser.csrf}&username=nobody`);
      req.write("&password=whatever1");
      return req;
    },
  ],
  [
    "POST /login JSON",
    ({ app, browser }) =>
      form(app, "/login")
        .set("cookie", browser.cookieHeader())
        .set("content-type", "application/json")
        .send(JSON.stringify({ _csrf: browser.csrf, username: "nobody", password: "whatever1" })),
  ],
  [
    "POST /register bad",
    ({ browser }) =>
      browser.post("/register", { username: "<b>", email: emailFor("<b>"), password: "short" }),
  ],
  [
    "POST /register",
    ({ browser }) =>
      browser.post("/register", { username: "ada", email: emailFor("ada"), password: PASSWORD }),
  ],
  [
    "POST /register taken",
    ({ browser }) =>
      browser.post("/register", { username: "ADA", email: emailFor("ADA"), password: PASSWORD }),
  ],
  [
    "POST /login wrong",
    ({ browser }) => browser.post("/login", { username: "ada", password: "wrong password" }),
  ],
  ["POST /login empty", ({ browser }) => browser.post("/login", { username: "ada", password: "" })],
  [
    "POST /login",
    ({ browser }) =>
      browser.post("/login", { username: "ada", password: PASSWORD, remember: "1", next: "/protected" }),
  ],
  ["GET /protected logged in", ({ browser }) => browser.get("/protected")],
  ["GET /account", ({ browser }) => browser.get("/account")],
  ["GET /nope logged in", ({ browser }) => browser.get("/nope")],
  ["POST /protected (no such route)", ({ browser }) => browser.post("/protected")],
  ["POST revoke undecodable handle", ({ browser }) => browser.post("/account/sessions/%E0%A4%A/revoke")],
  ["POST revoke unknown handle", ({ browser }) => browser.post("/account/sessions/nope/revoke")],
  ["GET /reauth?next twice", ({ browser }) => browser.get("/reauth?next=%2Fa&next=%2Fb")],
  ["POST /reauth wrong", ({ browser }) => browser.post("/reauth", { password: "not it", next: "/account" })],
  [
    "POST /reauth",
    ({ browser }) => browser.post("/reauth", { password: PASSWORD, next: "/account/password" }),
  ],
  ["GET /account/password", ({ browser }) => browser.get("/account/password")],
  [
    "POST /account/password policy",
    async ({ browser }) => {
      await browser.get("/account");
      return browser.post("/account/password", { current_password: PASSWORD, new_password: "password123" });
    },
  ],
  ["POST /account/sessions/revoke-others", ({ browser }) => browser.post("/account/sessions/revoke-others")],
  ["GET /account after", ({ browser }) => browser.get("/account")],
  ["POST /account/email bad", ({ browser }) => browser.post("/account/email", { email: "not an address" })],
  ["POST /account/email", ({ browser }) => browser.post("/account/email", { email: "ada.new@example.org" })],
  ["POST /account/email/resend", ({ browser }) => browser.post("/account/email/resend")],
  ["GET /email/verify bad token", ({ browser }) => browser.get("/email/verify?token=abc")],
  ["POST /email/verify bad token", ({ browser }) => browser.post("/email/verify", { token: "abc" })],
  ["GET /logout", ({ browser }) => browser.get("/logout")],
  ["POST /logout", ({ browser }) => browser.post("/logout")],
  ["GET / logged out", ({ browser }) => browser.get("/")],
  ["GET /password/forgot", ({ browser }) => browser.get("/password/forgot")],
  ["POST /password/forgot bad", ({ browser }) => browser.post("/password/forgot", { email: "nope" })],
  [
    "POST /password/forgot",
    ({ browser }) => browser.post("/password/forgot", { email: "someone@example.com" }),
  ],
  ["GET /password/reset bad token", ({ browser }) => browser.get("/password/reset?token=abc")],
  [
    "POST /password/reset bad token",
    ({ browser }) => browser.post("/password/reset", { token: "abc", password: PASSWORD }),
  ],
];

describe("the same HTTP contract on every framework", () => {
  const observed = new Map<Framework, Observed[]>();

  beforeAll(async () => {
    for (const framework of FRAMEWORKS) {
      const app = await startTestApp({ framework });
      try {
        const visitor = { app, browser: new TestBrowser(app.baseUrl) };
        const results: Observed[] = [];
        for (const [, send] of STEPS) results.push(normalize(await send(visitor)));
        observed.set(framework, results);
      } finally {
        await app.close();
      }
    }
  }, 120_000);

  it.each(STEPS.map(([name], index) => [name, index] as const))("%s", (_name, index) => {
    const express = observed.get("express")?.[index];
    expect(express).toBeDefined();
    for (const framework of FRAMEWORKS) {
      expect({ framework, ...observed.get(framework)?.[index] }).toEqual({ framework, ...express });
    }
  });
});

describe("behind a TLS-terminating proxy (TRUST_PROXY=1), on every framework", () => {
  let apps: TestApp[] = [];
  beforeAll(async () => {
    apps = await Promise.all(
      FRAMEWORKS.map((framework) => startTestApp({ framework, env: { TRUST_PROXY: "1" } })),
    );
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it.each(["/login", "/healthz", "/static/style.css", "/nope", "/%E0%A4%A"])(
    "sends the same headers with HSTS for %s over HTTPS",
    async (path) => {
      const responses = await Promise.all(
        apps.map((app) => request(app.baseUrl).get(path).set("x-forwarded-proto", "https")),
      );
      const [express, ...others] = responses.map(normalize);
      expect(express?.headers["strict-transport-security"]).toMatch(/^max-age=\d+; includeSubDomains$/);
      for (const other of others) expect(other).toEqual(express);
    },
  );
});
