/**
 * Runs the compiled guide code on the Node under test, from a project that has only the guide's
 * packages: a framework guide's complete example behind its own start line, reached over HTTP;
 * a store guide's snippets, whose store then keeps a session that a cookie finds again.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { basename, join } from "node:path";
import { run } from "./workspace.js";

/** A secret as the guides ask for: 32 random characters or more. */
export const SECRET_KEY = "install-test-secret-0123456789abcdefghijkl";
/** The password of the guides' user "alice". */
export const PASSWORD = "correct horse battery staple";

/**
 * start.ts: the guide's "Start it with" line, on a port the test picks instead of 3000, with the
 * imports it needs.
 *
 * @example
 * ```ts
 * startFile("(await createApp({ secret: process.env.SECRET_KEY ?? \"\" })).listen(3000)", "express.ts");
 * ```
 */
export function startFile(startLine: string, exampleFile: string): { name: string; text: string } {
  if (!/\b3000\b/.test(startLine)) throw new Error(`the start line listens on no port 3000: ${startLine}`);
  const imports = [`import { createApp } from "./${basename(exampleFile, ".ts")}.js";`];
  if (/\bserve\(/.test(startLine)) imports.push('import { serve } from "@hono/node-server";');
  const line = startLine.replace(/\b3000\b/, "Number(process.env.PORT)");
  return { name: "start.ts", text: `${imports.join("\n")}\n\n${line};\n` };
}

/** A free TCP port on 127.0.0.1. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject()));
    });
  });
}

/** The example's server process. */
export interface RunningExample {
  baseUrl: string;
  /** What the process printed so far, for a failure message. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts out/start.js and waits until it answers HTTP (or throws with what it printed). */
export async function startExample(projectDir: string): Promise<RunningExample> {
  const port = await freePort();
  const child = spawn(process.execPath, [join("out", "start.js")], {
    cwd: projectDir,
    env: { ...process.env, PORT: String(port), SECRET_KEY },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let printed = "";
  child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
    printed += chunk;
  });
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    printed += chunk;
  });
  const example = {
    baseUrl: `http://127.0.0.1:${port}`,
    output: () => printed,
    stop: () => stopChild(child),
  };
  await waitUntilAnswering(example, child);
  return example;
}

async function waitUntilAnswering(example: RunningExample, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`the example exited ${child.exitCode}:\n${example.output()}`);
    try {
      await fetch(`${example.baseUrl}/`, { redirect: "manual" });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  await example.stop();
  throw new Error(`the example did not answer within 20 s:\n${example.output()}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** A response reduced to what the login walk checks. */
export interface Page {
  status: number;
  location: string | null;
  text: string;
}

/** fetch with a cookie jar, no redirects followed, and a browser's Origin on POSTs unless told not to. */
export class HttpUser {
  readonly #jar = new Map<string, string>();

  constructor(readonly baseUrl: string) {}

  get(path: string): Promise<Page> {
    return this.#send(path, { method: "GET" });
  }

  post(path: string, form: Record<string, string>, { origin = true } = {}): Promise<Page> {
    const headers: Record<string, string> = { "content-type": "application/x-www-form-urlencoded" };
    if (origin) headers.origin = this.baseUrl;
    return this.#send(path, { method: "POST", headers, body: new URLSearchParams(form).toString() });
  }

  async #send(path: string, init: { method: string; headers?: Record<string, string>; body?: string }) {
    const cookie = [...this.#jar].map(([name, value]) => `${name}=${value}`).join("; ");
    const headers = { ...init.headers, ...(cookie ? { cookie } : {}) };
    const response = await fetch(`${this.baseUrl}${path}`, { ...init, headers, redirect: "manual" });
    for (const setCookie of response.headers.getSetCookie()) {
      const [pair = ""] = setCookie.split(";");
      const name = pair.slice(0, pair.indexOf("="));
      if (/max-age=0\b/i.test(setCookie)) this.#jar.delete(name);
      else this.#jar.set(name, pair.slice(name.length + 1));
    }
    return {
      status: response.status,
      location: response.headers.get("location"),
      text: await response.text(),
    };
  }
}

/** The `_csrf` field of a page's form. */
export function csrfField(page: Page): string {
  const match = /name="_csrf" value="([^"]+)"/.exec(page.text);
  if (!match?.[1]) throw new Error(`no CSRF field in: ${page.text}`);
  return match[1];
}

/**
 * The script that runs a store guide's snippet: it supplies the app's user class, user lookup and
 * logger, imports the compiled snippet, then logs alice in through the snippet's store (a cookie
 * from `createLoginCookie`) and finds her again from that cookie.
 */
const STORE_RUNNER = `import { pathToFileURL } from "node:url";
import { LoginManager, UserMixin } from "login-manager";
import { createLoginCookie, fakeRequest } from "login-manager/testing";

class User extends UserMixin {
  constructor(id) {
    super();
    this.id = id;
  }
}
const alice = new User("alice");
const users = new Map([["alice", alice]]);
const userLoader = (id) => users.get(id) ?? null;
const logger = { warn: (fields, message) => console.error(message, fields) };
Object.assign(globalThis, { User, users, userLoader, logger });

const guide = await import(pathToFileURL(process.argv[2]).href);
if (!guide.manager && !guide.store) throw new Error("the snippet makes neither a manager nor a store");
const manager = guide.manager ?? new LoginManager({ secret: process.env.SECRET_KEY, store: guide.store, userLoader });
const cookie = await createLoginCookie(manager, alice);
const auth = await manager.authenticate(fakeRequest({ headers: { cookie } }), { setCookie() {}, setHeader() {} });
console.log("signed in as " + auth.requireUser().getId());
process.exit(0);
`;

/**
 * Runs a module of the project that exports `manager` or `store` (a compiled snippet, say)
 * through the store runner, in a fresh empty folder, with the services' URLs in the environment.
 *
 * @example
 * ```ts
 * const { code, stdout } = await runStoreModule(dir, "out/snippet-1.js", { DATABASE_URL: url });
 * ```
 */
export function runStoreModule(projectDir: string, module: string, env: Record<string, string> = {}) {
  writeFileSync(join(projectDir, "store-runner.mjs"), STORE_RUNNER);
  // Each module starts in an empty folder of its own, as in a fresh app: what it creates on disk
  // (data/app.db) is its own doing, whichever module ran before.
  const cwd = mkdtempSync(join(projectDir, "run-"));
  const runner = join(projectDir, "store-runner.mjs");
  return run(process.execPath, [runner, join(projectDir, module)], cwd, { SECRET_KEY, ...env });
}
