import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { emailFor, PASSWORD, TestBrowser } from "./helpers.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
/** The entry behind `npm start`, and the ones behind `npm run start:fastify` / `start:hono`. */
const entries = {
  default: join(root, "examples/app/src/server.ts"),
  fastify: join(root, "examples/app/src/server-fastify.ts"),
  hono: join(root, "examples/app/src/server-hono.ts"),
};
/** The entry behind `npm run revoke-all-sessions`. */
const revokeAllEntry = join(root, "examples/app/src/revoke-all-sessions.ts");
const dirs: string[] = [];
const children: ChildProcess[] = [];

afterAll(() => {
  for (const child of children)
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "lm-proc-"));
  dirs.push(dir);
  return dir;
}

interface Running {
  child: ChildProcess;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts an app entry point from source (tsx, source condition) with only PATH and `env`, collecting its output. */
function spawnEntry(
  file: string,
  env: Record<string, string>,
): { child: ChildProcess; output: { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, ["--import", "tsx", "--conditions=login-manager-source", file], {
    cwd: root,
    env: { PATH: process.env.PATH ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  const output = { stdout: "", stderr: "" };
  child.stdout?.on("data", (chunk) => {
    output.stdout += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    output.stderr += String(chunk);
  });
  return { child, output };
}

/** Runs the server the way `npm start` does, but from source (tsx with the source condition). */
function run(
  env: Record<string, string>,
  entry: keyof typeof entries = "default",
): { child: ChildProcess; started: Promise<Running> } {
  const { child, output } = spawnEntry(entries[entry], { HOST: "127.0.0.1", PORT: "0", ...env });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const started = new Promise<Running>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no address printed:\n${output.stdout}\n${output.stderr}`)),
      30_000,
    );
    const check = () => {
      const url = /listening on (http:\/\/\S+)/.exec(output.stdout)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({ child, url, stdout: () => output.stdout, stderr: () => output.stderr, exit });
    };
    child.stdout?.on("data", check);
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited before listening:\n${output.stdout}\n${output.stderr}`));
    });
  });
  started.catch(() => undefined);
  return { child, started };
}

describe("the server process", () => {
  it("prints its address, serves /healthz, warns about the generated secret and exits cleanly on SIGTERM", async () => {
    const dir = dataDir();
    const server = await run({ DATA_DIR: dir }).started;
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.text()).toBe("ok");
    const warnings = server.stderr().trim().split("\n");
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(
      /^warning: SECRET_KEY is not set; using the newly generated key in .*secret_key/,
    );
    expect(statSync(join(dir, "secret_key")).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, "app.db")).isFile()).toBe(true);
    server.child.kill("SIGTERM");
    expect(await server.exit).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toContain("stopped cleanly");
  });

  it("keeps everyone logged in across a restart (SIGINT) without SECRET_KEY", async () => {
    const dir = dataDir();
    const first = await run({ DATA_DIR: dir }).started;
    const browser = new TestBrowser(first.url);
    expect((await browser.registerAndLogin("restarter")).status).toBe(303);
    first.child.kill("SIGINT");
    expect((await first.exit).code).toBe(0);
    const second = await run({ DATA_DIR: dir }).started;
    expect(second.stderr()).toContain("using the stored key");
    const again = new TestBrowser(second.url);
    for (const [name, cookie] of browser.cookies) again.cookies.set(name, cookie);
    const page = await again.get("/protected");
    expect(page.status).toBe(200);
    expect(page.text).toContain("restarter");
    second.child.kill("SIGTERM");
    expect((await second.exit).code).toBe(0);
  });

  it("loses no acknowledged write on kill -9", async () => {
    const dir = dataDir();
    const env = { DATA_DIR: dir, SECRET_KEY: "process-test-secret-".padEnd(40, "z") };
    const first = await run(env).started;
    const browser = new TestBrowser(first.url);
    await browser.get("/register");
    const registered = await browser.post("/register", {
      username: "durable",
      email: emailFor("durable"),
      password: PASSWORD,
    });
    expect(registered.status).toBe(303);
    first.child.kill("SIGKILL");
    expect((await first.exit).signal).toBe("SIGKILL");
    const second = await run(env).started;
    const login = await new TestBrowser(second.url).login("durable");
    expect(login.status).toBe(303);
    second.child.kill("SIGTERM");
    expect((await second.exit).code).toBe(0);
  });

  it.each([
    ["SESSION_PROTECTION", "sometimes"],
    ["PORT", "eighty"],
    ["SECRET_KEY", "short"],
    ["TRUST_PROXY", "yes"],
    ["APP_FRAMEWORK", "koa"],
  ])("stops with exit code 1 and a message naming %s when it is bad", async (setting, value) => {
    const { child } = run({ DATA_DIR: dataDir(), [setting]: value });
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr += String(chunk);
    });
    const code = await new Promise((resolve) => child.on("exit", resolve));
    expect(code).toBe(1);
    expect(stderr).toMatch(new RegExp(`^Configuration error: ${setting} `));
    expect(stderr).not.toMatch(/\n\s+at /);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });
});

describe("the server process and mail", () => {
  it("in production, stops with exit code 1 and a message naming SMTP_URL when it is missing", async () => {
    const env = {
      DATA_DIR: dataDir(),
      NODE_ENV: "production",
      SECRET_KEY: "process-test-secret-".padEnd(40, "z"),
      APP_BASE_URL: "https://app.example.com",
      ALLOWED_HOSTS: "127.0.0.1",
    };
    const { child } = run(env);
    let stderr = "";
    child.stderr?.on("data", (chunk) => {
      stderr += String(chunk);
    });
    expect(await new Promise((resolve) => child.on("exit", resolve))).toBe(1);
    expect(stderr).toMatch(/^Configuration error: SMTP_URL is required in production/);
    expect(stderr.trim().split("\n")).toHaveLength(1);
  });

  it("without SMTP_URL, writes mail to DATA_DIR/outbox, lists it at /dev/outbox, with links to the port it got", async () => {
    const dir = dataDir();
    const server = await run({ DATA_DIR: dir }).started;
    await expect
      .poll(() => server.stdout())
      .toContain(`mail is written to ${join(dir, "outbox")} and listed at ${server.url}/dev/outbox`);
    const browser = new TestBrowser(server.url);
    await browser.get("/register");
    const registered = await browser.post("/register", {
      username: "mailer",
      email: emailFor("mailer"),
      password: PASSWORD,
    });
    expect(registered.status).toBe(303);
    let outbox = "";
    await expect
      .poll(async () => {
        outbox = (await browser.get("/dev/outbox")).text;
        return outbox.includes("Confirm your e-mail address");
      })
      .toBe(true);
    expect(outbox).toContain(`href="${server.url}/email/verify?token=`);
    expect(readdirSync(join(dir, "outbox")).filter((name) => name.endsWith(".eml"))).toHaveLength(1);
    server.child.kill("SIGTERM");
    expect((await server.exit).code).toBe(0);
  });
});

describe.each(["fastify", "hono"] as const)("the %s server process (npm run start:%s)", (framework) => {
  it("prints its address, serves /healthz and the pages, and exits cleanly on SIGTERM", async () => {
    const server = await run({ DATA_DIR: dataDir() }, framework).started;
    expect(server.stdout()).toContain(
      `login-manager example app (${framework}) listening on http://127.0.0.1:`,
    );
    const health = await fetch(`${server.url}/healthz`);
    expect(await health.text()).toBe("ok");
    const browser = new TestBrowser(server.url);
    expect((await browser.registerAndLogin("walker")).status).toBe(303);
    const page = await browser.get("/protected");
    expect(page.status).toBe(200);
    expect(page.text).toContain("walker");
    server.child.kill("SIGTERM");
    expect(await server.exit).toEqual({ code: 0, signal: null });
    expect(server.stdout()).toContain("stopped cleanly");
  });
});

describe("APP_FRAMEWORK", () => {
  it("picks the framework of npm start", async () => {
    const server = await run({ DATA_DIR: dataDir(), APP_FRAMEWORK: "hono" }).started;
    expect(server.stdout()).toContain("login-manager example app (hono) listening on");
    expect(await (await fetch(`${server.url}/healthz`)).text()).toBe("ok");
    server.child.kill("SIGTERM");
    expect((await server.exit).code).toBe(0);
  });
});

/** Runs `npm run revoke-all-sessions` from source (tsx with the source condition) until it exits. */
function revokeAllSessions(
  env: Record<string, string>,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const { child, output } = spawnEntry(revokeAllEntry, env);
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, ...output })));
}

/** A TCP port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe("npm run revoke-all-sessions (log everyone out)", () => {
  it("is the root package's script: checks the Node version, builds the app and runs the compiled command", () => {
    const scripts = (
      JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { scripts: Record<string, string> }
    ).scripts;
    expect(scripts["revoke-all-sessions"]).toBe(
      "node scripts/check-node.mjs && npm run build:app && node examples/app/dist/revoke-all-sessions.js",
    );
  });

  it("[A5 7.4.5] ends every session and remember-me token of every user in the running app's store, prints the counts and exits with 0", async () => {
    const env = { DATA_DIR: dataDir(), SECRET_KEY: "process-test-secret-".padEnd(40, "z") };
    const server = await run(env).started;
    const alice = new TestBrowser(server.url);
    expect((await alice.registerAndLogin("alice", PASSWORD, true)).status).toBe(303);
    const bob = new TestBrowser(server.url);
    expect((await bob.registerAndLogin("bob")).status).toBe(303);
    for (const browser of [alice, bob]) expect((await browser.get("/protected")).status).toBe(200);

    const result = await revokeAllSessions(env);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toContain(
      "Logged everyone out: ended 2 sessions and 1 remember-me token (sqlite store).",
    );
    const logged = result.stdout
      .split("\n")
      .filter((line) => line.startsWith("{"))
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(logged).toContainEqual(
      expect.objectContaining({
        kind: "security",
        event: "sessions.revoked-all",
        sessions: 2,
        rememberTokens: 1,
      }),
    );

    // The server was not restarted: the same cookies are anonymous now, the remember-me one too.
    for (const browser of [alice, bob]) {
      const page = await browser.get("/protected");
      expect(page.status).toBe(302);
      expect(page.headers.location).toBe("/login?next=%2Fprotected");
    }
    expect(alice.cookies.has("remember_token")).toBe(false);
    expect((await bob.login("bob")).status).toBe(303);
    server.child.kill("SIGTERM");
    expect((await server.exit).code).toBe(0);
  });

  it("exits with 1 and one line naming DATA_DIR when the data folder holds no database, creating nothing", async () => {
    const dir = join(dataDir(), "not-the-data-folder");
    const result = await revokeAllSessions({ DATA_DIR: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `No database at ${join(dir, "app.db")}: set DATA_DIR to the app's data folder. Nobody was logged out.\n`,
    );
    expect(existsSync(dir)).toBe(false);
  });

  it.each([
    ["DATABASE_URL", (port: number) => `postgres://operator:hunter2-db-password@127.0.0.1:${port}/app`],
    ["REDIS_URL", (port: number) => `redis://:hunter2-db-password@127.0.0.1:${port}`],
  ])(
    "exits with 1 and one line, without the password, when the store of %s cannot be reached",
    async (setting, url) => {
      const result = await revokeAllSessions({
        DATA_DIR: dataDir(),
        SECRET_KEY: "process-test-secret-".padEnd(40, "z"),
        STORE_CONNECT_TIMEOUT_MS: "500",
        [setting]: url(await closedPort()),
      });
      expect(result.code).toBe(1);
      const lines = result.stderr.trim().split("\n");
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^Could not log everyone out: the session store did not answer \(.*unavailable.*\)\. Run this again once it is reachable\.$/,
      );
      expect(result.stdout + result.stderr).not.toContain("hunter2");
      expect(result.stdout).not.toContain("Logged everyone out");
    },
  );
});
