import { createHash } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import request from "supertest";
import { parseConfig } from "../src/domain/config.js";
import { createAppListener, FRAMEWORKS, type Framework } from "../src/frameworks.js";
import { type AppServices, createServices, type ServiceOverrides } from "../src/services.js";
import type { AppDeps } from "../src/web/app.js";

export { FRAMEWORKS, type Framework };

/** A strong password that is on no common list, used by most tests. */
export const PASSWORD = "correct horse battery staple";
/**
 * The e-mail address the tests register `username` with: unique per username (case variants
 * included), valid whatever the username's script.
 *
 * @example
 * ```ts
 * await browser.post("/register", { username: "ada", email: emailFor("ada"), password: PASSWORD });
 * ```
 */
export function emailFor(username: string): string {
  return `u${createHash("sha256").update(username).digest("hex").slice(0, 16)}@example.com`;
}

/** A Firefox on Windows User-Agent (one "device"). */
export const FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0";
/** A Safari on iPhone User-Agent (another "device"). */
export const IPHONE =
  "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";

/** An app running on a free port with its own temporary data folder and captured log. */
export interface TestApp {
  baseUrl: string;
  framework: Framework;
  /** The app's data folder (SQLite database, secret). */
  dataDir: string;
  services: AppServices;
  /** Every line the logger wrote so far. */
  logText(): string;
  /** The log lines, parsed. */
  logEntries(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/**
 * Starts the app in process on 127.0.0.1 with a temporary DATA_DIR, on `framework` (Express by
 * default), behind a real Node HTTP server on a free port: supertest and fetch talk to all three
 * frameworks the same way.
 *
 * @example
 * ```ts
 * const app = await startTestApp({ framework: "hono" });
 * ```
 */
export async function startTestApp(
  options: {
    framework?: Framework;
    env?: Record<string, string>;
    overrides?: ServiceOverrides;
    /** Replaces what the route handlers get (not the login manager), e.g. a failing user repository. */
    deps?: (services: AppServices) => Partial<AppDeps>;
    /**
     * Another app's data folder, to run a second instance on the same SQLite database and session
     * store (the folder stays: the app that created it removes it).
     */
    dataDir?: string;
  } = {},
): Promise<TestApp> {
  const framework = options.framework ?? "express";
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), "lm-app-"));
  const config = parseConfig({
    DATA_DIR: dataDir,
    SECRET_KEY: "test-secret-".padEnd(48, "x"),
    // Every test registers from 127.0.0.1: the default (10 an hour) is for the tests of the limit.
    REGISTER_ATTEMPTS_PER_HOUR: "100000",
    ...options.env,
  });
  let log = "";
  const destination = new Writable({
    write(chunk, _encoding, callback) {
      log += String(chunk);
      callback();
    },
  });
  const services = await createServices(config, { logDestination: destination, ...options.overrides });
  const app = await createAppListener(framework, {
    ...services,
    ...options.deps?.(services),
  });
  const server: Server = createServer(app.listener);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  // Like `start()` with PORT=0: links in mails point at the port the app got.
  if (options.env?.APP_BASE_URL === undefined) services.config.baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    framework,
    dataDir,
    services,
    logText: () => log,
    logEntries: () =>
      log
        .split("\n")
        .filter((line) => line !== "")
        .map((line) => JSON.parse(line) as Record<string, unknown>),
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await app.close();
      await services.close();
      if (ownDataDir) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

interface StoredCookie {
  value: string;
  persistent: boolean;
}

/** A response as the tests read it. */
export type TestResponse = request.Response;

/**
 * A browser-like client: keeps cookies (knowing which are persistent), remembers the last CSRF token
 * it saw in a page, and sends `Sec-Fetch-Site: same-origin` with its POSTs like a real browser.
 *
 * @example
 * ```ts
 * const browser = new TestBrowser(app.baseUrl);
 * await browser.get("/register");
 * await browser.post("/register", { username: "alice", email: emailFor("alice"), password: PASSWORD });
 * ```
 */
export class TestBrowser {
  readonly cookies = new Map<string, StoredCookie>();
  csrf: string | undefined;

  constructor(
    readonly baseUrl: string,
    readonly userAgent = FIREFOX,
  ) {}

  /** The Cookie header this browser sends. */
  cookieHeader(): string {
    return [...this.cookies].map(([name, cookie]) => `${name}=${cookie.value}`).join("; ");
  }

  async get(path: string, headers: Record<string, string> = {}): Promise<TestResponse> {
    const response = await this.#send(request(this.baseUrl).get(path), headers);
    return response;
  }

  /**
   * Posts a form. `_csrf` defaults to the last token seen; pass `_csrf: ""` to send none. Headers
   * default to `Sec-Fetch-Site: same-origin`; pass `{ "sec-fetch-site": "" }` to send none.
   */
  async post(
    path: string,
    fields: Record<string, string> = {},
    headers: Record<string, string> = {},
  ): Promise<TestResponse> {
    const form = { _csrf: this.csrf ?? "", ...fields };
    if (form._csrf === "") delete (form as Record<string, string>)._csrf;
    const all = { "sec-fetch-site": "same-origin", ...headers };
    const req = request(this.baseUrl).post(path).type("form").send(form);
    return this.#send(req, all);
  }

  /**
   * Posts JSON as the app's page script (public/passkeys.js) does: `Accept: application/json` and
   * the last CSRF token seen in `x-csrf-token` (pass `{ "x-csrf-token": "" }` to send none). A string
   * body is sent as it is.
   */
  async postJson(path: string, body: unknown, headers: Record<string, string> = {}): Promise<TestResponse> {
    const req = request(this.baseUrl)
      .post(path)
      .set("content-type", "application/json")
      .send(typeof body === "string" ? body : JSON.stringify(body));
    return this.#send(req, {
      accept: "application/json",
      "sec-fetch-site": "same-origin",
      "x-csrf-token": this.csrf ?? "",
      ...headers,
    });
  }

  /** Loads `formPath` (for its CSRF token), then posts `fields` to `action`. */
  async submit(formPath: string, action: string, fields: Record<string, string>): Promise<TestResponse> {
    await this.get(formPath);
    return this.post(action, fields);
  }

  /** Registers (with {@link emailFor}'s address) and logs in; resolves the login response. */
  async registerAndLogin(username: string, password = PASSWORD, remember = false): Promise<TestResponse> {
    const registered = await this.submit("/register", "/register", {
      username,
      email: emailFor(username),
      password,
    });
    if (registered.status !== 303) throw new Error(`registration failed: ${registered.status}`);
    return this.login(username, password, remember);
  }

  /** Logs in through the form. */
  async login(username: string, password = PASSWORD, remember = false): Promise<TestResponse> {
    return this.submit("/login", "/login", { username, password, ...(remember ? { remember: "1" } : {}) });
  }

  /** Like closing the browser: keeps only cookies with an expiry. */
  closeBrowser(): void {
    for (const [name, cookie] of this.cookies) if (!cookie.persistent) this.cookies.delete(name);
  }

  async #send(req: request.Test, headers: Record<string, string>): Promise<TestResponse> {
    req.set("user-agent", this.userAgent);
    const cookie = this.cookieHeader();
    if (cookie) req.set("cookie", cookie);
    for (const [name, value] of Object.entries(headers)) if (value !== "") req.set(name, value);
    const response = await req;
    this.#store(response);
    const token = /name="_csrf" value="([^"]+)"/.exec(response.text ?? "")?.[1];
    if (token) this.csrf = token;
    return response;
  }

  #store(response: TestResponse): void {
    const header = response.headers["set-cookie"] as unknown as string[] | undefined;
    for (const line of header ?? []) {
      const [pair = "", ...attributes] = line.split(";").map((part) => part.trim());
      const equals = pair.indexOf("=");
      const name = pair.slice(0, equals);
      const value = pair.slice(equals + 1);
      const maxAge = attributes.find((attribute) => /^max-age=/i.test(attribute));
      const seconds = maxAge ? Number(maxAge.split("=")[1]) : undefined;
      if (value === "" || seconds === 0) this.cookies.delete(name);
      else this.cookies.set(name, { value, persistent: seconds !== undefined });
    }
  }
}

/** The text of the page's flash messages. */
export function flashes(html: string): string[] {
  return [...html.matchAll(/<p class="flash [^"]*" role="[a-z]+">([^<]*)<\/p>/g)].map(
    (match) => match[1] ?? "",
  );
}
