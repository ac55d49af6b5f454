/**
 * The breached-password check (ASVS 6.2.12) against a real range API server on 127.0.0.1, started
 * here: it speaks the Pwned Passwords protocol and records every request it receives, so the tests
 * see exactly what leaves the app.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { pino } from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createRangeApiChecker, MAX_RANGE_RESPONSE_BYTES } from "../src/domain/breached-passwords.js";
import { emailFor, FRAMEWORKS, PASSWORD, startTestApp, type TestApp, TestBrowser } from "./helpers.js";

/** In the server's corpus, seen 1,234 times. */
const BREACHED = "Tr0ub4dor&3 horse staple";
/** Its suffix is in the answer, but only as a padding line (count 0). */
const PADDED_ONLY = "a padded suffix passphrase";
const TIMEOUT_MS = 400;

function sha1(password: string): string {
  return createHash("sha1").update(password, "utf8").digest("hex").toUpperCase();
}

interface Seen {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** How the server answers: the protocol, or one of the ways an API fails. */
type Mode = "ok" | "hang" | "trickle" | "reset" | "error" | "huge";

interface RangeServer {
  url: string;
  seen: Seen[];
  mode: Mode;
  close(): Promise<void>;
}

function answer(prefix: string): string {
  const lines: string[] = [];
  // Padding, as `Add-Padding: true` asks for: made-up suffixes with a count of 0.
  for (let i = 0; i < 800; i += 1)
    lines.push(`${randomBytes(18).toString("hex").slice(0, 35).toUpperCase()}:0`);
  if (prefix === sha1(BREACHED).slice(0, 5)) lines.splice(400, 0, `${sha1(BREACHED).slice(5)}:1234`);
  if (prefix === sha1(PADDED_ONLY).slice(0, 5)) lines.splice(10, 0, `${sha1(PADDED_ONLY).slice(5)}:0`);
  lines.push(`${"0".repeat(35)}:7`);
  return lines.join("\r\n");
}

async function startRangeServer(): Promise<RangeServer> {
  const state = { mode: "ok" as Mode, seen: [] as Seen[] };
  const server: Server = createServer((req, res: ServerResponse) => {
    let body = "";
    req.on("data", (chunk) => {
      body += String(chunk);
    });
    req.on("end", () => {
      state.seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      const prefix = /\/range\/([0-9A-F]{5})$/.exec(req.url ?? "")?.[1];
      if (prefix === undefined) {
        res.writeHead(400).end();
        return;
      }
      switch (state.mode) {
        case "ok":
          res.writeHead(200, { "content-type": "text/plain" }).end(answer(prefix));
          return;
        case "hang":
          return; // never answers
        case "trickle":
          res.writeHead(200, { "content-type": "text/plain" });
          res.write(`${"0".repeat(35)}:1\r\n`); // then never finishes the body
          return;
        case "reset":
          req.socket.destroy();
          return;
        case "error":
          res.writeHead(503, { "content-type": "text/plain" }).end("busy");
          return;
        case "huge": {
          res.writeHead(200, { "content-type": "text/plain" });
          const line = `${"A".repeat(35)}:0\r\n`;
          res.end(line.repeat(Math.ceil((MAX_RANGE_RESPONSE_BYTES * 2) / line.length)));
          return;
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/pwned`,
    get seen() {
      return state.seen;
    },
    get mode() {
      return state.mode;
    },
    set mode(mode: Mode) {
      state.mode = mode;
    },
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

let range: RangeServer;
beforeAll(async () => {
  range = await startRangeServer();
});
afterAll(async () => {
  await range.close();
});
beforeEach(() => {
  range.mode = "ok";
  range.seen.length = 0;
});

describe.each(FRAMEWORKS)("%s", (framework) => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({
      framework,
      env: { BREACHED_PASSWORD_API_URL: range.url, BREACHED_PASSWORD_TIMEOUT_MS: String(TIMEOUT_MS) },
    });
  });
  afterAll(async () => {
    await app.close();
  });

  let counter = 0;
  async function register(password: string) {
    counter += 1;
    const username = `breach${counter}`;
    const browser = new TestBrowser(app.baseUrl);
    await browser.get("/register");
    const started = performance.now();
    const response = await browser.post("/register", { username, email: emailFor(username), password });
    return { username, browser, response, elapsedMs: performance.now() - started };
  }

  const breachWarnings = () => app.logEntries().filter((entry) => entry.event === "password.breach-check");

  it("refuses a breached password at registration, saying why [A5 6.2.12]", async () => {
    const { username, response } = await register(BREACHED);
    expect(response.status).toBe(400);
    expect(response.text).toContain(
      "This password has appeared in a data breach (1,234 times in the breached-password lists), so attackers try it. Please choose another.",
    );
    expect(await app.services.users.findByKey(username)).toBeNull();
  });

  it("sends only the first 5 hex characters of the password's SHA-1, with Add-Padding [A5 6.2.12]", async () => {
    for (const password of [BREACHED, PASSWORD]) {
      range.seen.length = 0;
      await register(password);
      const hash = sha1(password);
      expect(range.seen).toHaveLength(1);
      const [request] = range.seen;
      expect(request).toMatchObject({ method: "GET", url: `/pwned/range/${hash.slice(0, 5)}`, body: "" });
      expect(request?.headers["add-padding"]).toBe("true");
      const everything = JSON.stringify(range.seen).toUpperCase();
      expect(everything).not.toContain(hash.slice(5));
      expect(everything).not.toContain(hash.slice(4)); // not even one more character
      expect(everything).not.toContain(password.toUpperCase());
    }
  });

  it("accepts a password the API does not list, or lists only as padding (count 0) [A5 6.2.12]", async () => {
    expect((await register(PASSWORD)).response.status).toBe(303);
    const padded = await register(PADDED_ONLY);
    expect(padded.response.status).toBe(303);
    expect(range.seen.at(-1)?.url).toBe(`/pwned/range/${sha1(PADDED_ONLY).slice(0, 5)}`);
    expect(breachWarnings()).toEqual([]);
  });

  it("refuses a breached password on password change too [A5 6.2.12]", async () => {
    const { username, browser } = await register(PASSWORD);
    expect((await browser.login(username)).status).toBe(303);
    await browser.get("/account");
    const refused = await browser.post("/account/password", {
      current_password: PASSWORD,
      new_password: BREACHED,
    });
    expect(refused.status).toBe(400);
    expect(refused.text).toContain("This password has appeared in a data breach");
    const changed = await browser.post("/account/password", {
      current_password: PASSWORD,
      new_password: "an unbreached new passphrase",
    });
    expect(changed.status).toBe(303);
  });

  it.each([
    ["answers nothing", "hang", "timeout"],
    ["starts an answer and never finishes it", "trickle", "timeout"],
    ["drops the connection", "reset", "unreachable"],
    ["answers 503", "error", "http-error"],
    ["answers more than 256 KiB", "huge", "too-large"],
  ] as const)(
    "accepts the password within the timeout and logs a warning when the API %s [A5 6.2.12]",
    async (_what, mode, reason) => {
      range.mode = mode;
      const before = breachWarnings().length;
      const { username, browser, response, elapsedMs } = await register(BREACHED);
      expect(response.status).toBe(303);
      expect(range.seen).toHaveLength(1);
      // Hashing the password takes some time on top of the check.
      expect(elapsedMs).toBeLessThan(TIMEOUT_MS + 1500);
      if (reason === "timeout") expect(elapsedMs).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
      const warnings = breachWarnings().slice(before);
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatchObject({ level: "warn", kind: "security", outcome: "failure", reason });
      expect(JSON.stringify(warnings[0])).not.toContain(sha1(BREACHED).slice(5));
      range.mode = "ok";
      expect((await browser.login(username, BREACHED)).status).toBe(303);
    },
  );
});

describe("createRangeApiChecker", () => {
  const logger = pino({ level: "silent" });

  it("is unavailable, quickly, when nothing listens at the address [A5 6.2.12]", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const checker = createRangeApiChecker({ baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 2000, logger });
    const started = performance.now();
    expect(await checker.check(BREACHED)).toEqual({ status: "unavailable", reason: "unreachable" });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("reads the API's answer: breached with its count, padding ignored, suffixes in any case", async () => {
    const checker = createRangeApiChecker({ baseUrl: range.url, timeoutMs: 2000, logger });
    expect(await checker.check(BREACHED)).toEqual({ status: "breached", count: 1234 });
    expect(await checker.check(PADDED_ONLY)).toEqual({ status: "not-found" });
    expect(await checker.check(PASSWORD)).toEqual({ status: "not-found" });
  });

  it("is off unless BREACHED_PASSWORD_API_URL is set: a default app makes no request", async () => {
    const plain = await startTestApp();
    try {
      expect(plain.services.config.breachedPasswords).toBeUndefined();
      expect(plain.services.breachedPasswords).toBeUndefined();
      const browser = new TestBrowser(plain.baseUrl);
      await browser.get("/register");
      expect(
        (
          await browser.post("/register", {
            username: "offline",
            email: emailFor("offline"),
            password: BREACHED,
          })
        ).status,
      ).toBe(303);
      expect(range.seen).toEqual([]);
    } finally {
      await plain.close();
    }
  });
});
