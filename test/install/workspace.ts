/**
 * The install test's workspace: child processes run with the Node under test, the tarball packed
 * once, the compilers installed once in a shared tools folder, and fresh projects made the way a
 * new user makes them (`npm init -y`, `"type": "module"`).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The checkout under test. */
export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** What a child process printed, and how it ended. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs at most `limit` tasks at once; the others wait in order. */
export function limiter(limit: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    if (running >= limit) await new Promise<void>((resolve) => waiting.push(resolve));
    running++;
    try {
      return await task();
    } finally {
      running--;
      waiting.shift()?.();
    }
  };
}

/** Compilers and servers use the CPU: no more of them at once than there are cores. */
export const cpuBound = limiter(availableParallelism());
/** npm installs mostly wait on the network and the disk. */
const installs = limiter(4);

/** The environment of every child: the Node under test first on PATH, so npm and tsc run on it too. */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ""}`,
    // npm's own update check and funding lines are noise in the captured output.
    npm_config_update_notifier: "false",
    npm_config_fund: "false",
    npm_config_audit: "false",
    ...extra,
  };
}

/**
 * Runs a command to its end and returns what it printed; never throws for an exit code.
 *
 * @example
 * ```ts
 * const { code, stdout } = await run("npm", ["--version"], "/tmp");
 * ```
 */
export function run(
  command: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: childEnv(env), stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs a command and throws, with everything it printed, unless it exits 0. */
export async function runOk(
  command: string,
  args: readonly string[],
  cwd: string,
  env: Record<string, string> = {},
): Promise<RunResult> {
  const result = await run(command, args, cwd, env);
  if (result.code !== 0) {
    throw new Error(
      `\`${command} ${args.join(" ")}\` in ${cwd} exited ${result.code}\n${result.stdout}\n${result.stderr}`,
    );
  }
  return result;
}

/** `npm install` arguments, one at a time per project and at most four projects at once. */
export function npmInstall(
  projectDir: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<RunResult> {
  return installs(() => run("npm", ["install", ...args], projectDir, env));
}

/** The folder of one test run: projects and the tarball, removed at the end. */
export function makeRunFolder(): string {
  return mkdtempSync(join(tmpdir(), "login-manager-install-"));
}

/** Removes a run folder (keeps it when KEEP_INSTALL_TEST=1, to look into a failure). */
export function removeRunFolder(folder: string): void {
  if (process.env.KEEP_INSTALL_TEST === "1") console.log(`install test projects kept in ${folder}`);
  else rmSync(folder, { recursive: true, force: true });
}

/**
 * Packs the checkout into `destination` as a user would (`npm pack`, whose `prepack` builds dist/)
 * and returns the tarball's path.
 */
export async function packTarball(destination: string): Promise<string> {
  const { stdout } = await runOk("npm", ["pack", "--json", "--pack-destination", destination], REPO_ROOT);
  const [packed] = JSON.parse(stdout.slice(stdout.indexOf("["))) as { filename: string }[];
  if (!packed) throw new Error(`npm pack printed no file: ${stdout}`);
  return join(destination, packed.filename);
}

/** The two compilers, by the name a report shows. */
export const COMPILERS = { "TypeScript 5.9": "typescript@5.9", "TypeScript 7": "typescript@7" } as const;
export type CompilerName = keyof typeof COMPILERS;

const TOOLS_DIR = join(tmpdir(), "login-manager-install-tools");
/** Tools older than this are installed again, so "today's" compilers stay today's. */
const TOOLS_MAX_AGE_MS = 24 * 60 * 60 * 1000;

function toolAlias(name: CompilerName): string {
  return name === "TypeScript 5.9" ? "typescript-5.9" : "typescript-7";
}

/**
 * Installs both compilers once into a folder under the OS temp dir shared by every run (again
 * after a day), and returns the path of each one's `tsc` script.
 */
export async function installCompilers(): Promise<Record<CompilerName, string>> {
  const stamp = join(TOOLS_DIR, "installed-at");
  const fresh = existsSync(stamp) && Date.now() - Number(readFileSync(stamp, "utf8")) < TOOLS_MAX_AGE_MS;
  if (!fresh) {
    // Installed beside the shared folder and then renamed, so a concurrent run never sees half of it.
    const staging = `${TOOLS_DIR}.${process.pid}`;
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    writeFileSync(join(staging, "package.json"), '{ "private": true }\n');
    const specs = Object.entries(COMPILERS).map(
      ([name, spec]) => `${toolAlias(name as CompilerName)}@npm:${spec}`,
    );
    await runOk("npm", ["install", ...specs], staging);
    writeFileSync(join(staging, "installed-at"), String(Date.now()));
    rmSync(TOOLS_DIR, { recursive: true, force: true });
    renameSync(staging, TOOLS_DIR);
  }
  const tsc = (name: CompilerName) => join(TOOLS_DIR, "node_modules", toolAlias(name), "bin", "tsc");
  return { "TypeScript 5.9": tsc("TypeScript 5.9"), "TypeScript 7": tsc("TypeScript 7") };
}

/** Makes a fresh project as a new user does: `npm init -y`, then `"type": "module"`. */
export async function createProject(folder: string, name: string): Promise<string> {
  const dir = join(folder, name);
  mkdirSync(dir, { recursive: true });
  await runOk("npm", ["init", "-y"], dir);
  const manifest = join(dir, "package.json");
  writeFileSync(
    manifest,
    JSON.stringify({ ...JSON.parse(readFileSync(manifest, "utf8")), type: "module" }, null, 2),
  );
  return dir;
}
