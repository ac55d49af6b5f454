import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { PASSWORD, TestBrowser } from "./helpers.js";

const root = fileURLToPath(new URL("../../..", import.meta.url));
/** The entry behind `npm start`, and the ones behind `npm run start:fastify` / `start:hono`. */
const entries = {
  default: join(root, "examples/app/src/server.ts"),
  fastify: join(root, "examples/app/src/server-fastify.ts"),
  hono: join(root, "examples/app/src/server-hono.ts"),
};
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

/** Runs the server the way `npm start` does, but from source (tsx with the source condition). */
function run(
  env: Record<string, string>,
  entry: keyof typeof entries = "default",
): { child: ChildProcess; started: Promise<Running> } {
  const child = spawn(
    process.execPath,
    ["--import", "tsx", "--conditions=login-manager-source", entries[entry]],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? "", HOST: "127.0.0.1", PORT: "0", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  children.push(child);
  let stdout = "";
  let stderr = "";
  child.stdout?.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr?.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal })),
  );
  const started = new Promise<Running>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no address printed:\n${stdout}\n${stderr}`)), 30_000);
    const check = () => {
      const url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
      if (!url) return;
      clearTimeout(timer);
      resolve({ child, url, stdout: () => stdout, stderr: () => stderr, exit });
    };
    child.stdout?.on("data", check);
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`exited before listening:\n${stdout}\n${stderr}`));
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
    const registered = await browser.post("/register", { username: "durable", password: PASSWORD });
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
