/**
 * What the instrument needs on the machine before it measures: valgrind (Debian's, installed with
 * apt-get when missing), a Node binary of each major under test, and the tsc build in `dist/`.
 *
 * @module
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";

/** A Node binary to run servers on. */
export interface NodeBinary {
  readonly path: string;
  /** `process.version` of that binary, e.g. `v24.21.0`. */
  readonly version: string;
  /** Where it came from, for the log. */
  readonly source: string;
}

function onPath(command: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${command}`], { stdio: "ignore" }).status === 0;
}

/**
 * Makes sure `valgrind` and `callgrind_control` run, installing Debian's valgrind with apt-get when
 * they are missing (and saying so on `log`); throws with the command to run when that fails.
 *
 * @example
 * ```ts
 * ensureValgrind(console.error);
 * ```
 */
export function ensureValgrind(log: (line: string) => void): string {
  if (!onPath("valgrind") || !onPath("callgrind_control")) {
    log("valgrind is missing: installing Debian's valgrind with apt-get ...");
    const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
    const update = spawnSync("apt-get", ["update", "-qq"], { stdio: "inherit", env });
    const install =
      update.status === 0
        ? spawnSync("apt-get", ["install", "-y", "-qq", "--no-install-recommends", "valgrind"], {
            stdio: "inherit",
            env,
          })
        : update;
    if (install.status !== 0 || !onPath("valgrind"))
      throw new Error("valgrind could not be installed; run `apt-get install valgrind` (as root) and retry");
  }
  return execFileSync("valgrind", ["--version"], { encoding: "utf8" }).trim();
}

function versionOf(path: string): string {
  return execFileSync(path, ["-p", "process.version"], { encoding: "utf8" }).trim();
}

/**
 * A Node binary of the given major ("24", "26", or "current" for the one running this script): this
 * Node when it is that major, else `~/node<major>` when present, else the `node` package of that
 * major from the npm registry, installed once into `~/.cache/login-manager-bench/node-<major>`.
 *
 * @example
 * ```ts
 * const node26 = nodeBinary("26", console.error); // { path, version: "v26.10.0", source }
 * ```
 */
export function nodeBinary(major: string, log: (line: string) => void): NodeBinary {
  const current = process.versions.node.split(".")[0];
  if (major === "current" || major === current)
    return { path: process.execPath, version: process.version, source: "this Node" };
  if (!/^\d+$/.test(major)) throw new Error(`BENCH_INSTR_NODES: "${major}" is not a Node major`);
  const home = join(homedir(), `node${major}`, "node_modules", ".bin", "node");
  if (existsSync(home)) return { path: home, version: versionOf(home), source: `~/node${major}` };
  const dir = join(homedir(), ".cache", "login-manager-bench", `node-${major}`);
  const cached = join(dir, "node_modules", ".bin", "node");
  if (!existsSync(cached)) {
    log(`installing Node ${major} from the npm registry into ${dir} ...`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "package.json"), `${JSON.stringify({ name: `node-${major}`, private: true })}\n`);
    execFileSync("npm", ["install", "--no-audit", "--no-fund", `node@${major}`], {
      cwd: dir,
      stdio: "inherit",
    });
  }
  return { path: cached, version: versionOf(cached), source: dir };
}

/**
 * Builds `dist/` of the tree at `root` with the project's tsc (from `toolsRoot`): the servers load the
 * library from there, as the published package runs it (tsx's transform wraps every closure in a
 * `__name()` call that dist does not have).
 *
 * @example
 * ```ts
 * buildDist(root);
 * ```
 */
export function buildDist(root: string, toolsRoot = root): void {
  execFileSync(
    process.execPath,
    [join(toolsRoot, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
    { cwd: root, stdio: "inherit" },
  );
}

/**
 * The commit checked out in `root`, with `+dirty` when tracked files under `src/` differ from it.
 *
 * @example
 * ```ts
 * headCommit(root); // "85c7f34…" or "85c7f34…+dirty"
 * ```
 */
export function headCommit(root: string): string {
  const commit = execFileSync("git", ["rev-parse", "HEAD"], { cwd: root, encoding: "utf8" }).trim();
  const dirty = execFileSync("git", ["status", "--porcelain", "--untracked-files=no", "--", "src"], {
    cwd: root,
    encoding: "utf8",
  }).trim();
  return dirty ? `${commit}+dirty` : commit;
}
