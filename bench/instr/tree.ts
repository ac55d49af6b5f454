/**
 * Which code the instrument measures: the working tree as it is (the default, to see an uncommitted
 * change), or, with BENCH_INSTR_TREE=head (or a commit), that commit exported into a scratch folder, so
 * that a run names exactly the library it measured even while the checkout has uncommitted edits (or,
 * with a commit, while others' work in progress on HEAD does not build). The
 * export gets the working tree's `bench/` (the servers and the instrument itself), so a change to the
 * instrument can be tried before it is committed; only the library comes from the commit.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildDist, headCommit } from "./toolchain.js";

/** A project tree ready to serve: `dist/` built, `node_modules` reachable. */
export interface MeasuredTree {
  readonly root: string;
  /** The commit, with `+dirty` for a working tree whose src/ differs from it. */
  readonly commit: string;
  readonly kind: "working tree" | "commit export";
}

function exportCommit(root: string, commit: string): string {
  const dir = mkdtempSync(join(tmpdir(), "lm-instr-tree-"));
  const archive = execFileSync("git", ["-C", root, "archive", commit], { maxBuffer: 1 << 30 });
  execFileSync("tar", ["-x", "-C", dir], { input: archive });
  rmSync(join(dir, "bench"), { recursive: true, force: true });
  cpSync(join(root, "bench"), join(dir, "bench"), { recursive: true });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  return dir;
}

/**
 * Prepares the tree to measure and builds its `dist/`.
 *
 * @example
 * ```ts
 * const tree = prepareTree(root, { commit: "HEAD", build: true }, console.error);
 * ```
 */
export function prepareTree(
  root: string,
  options: { commit: string | undefined; build: boolean },
  log: (line: string) => void,
): MeasuredTree {
  if (options.commit === undefined) {
    if (!options.build) return { root, commit: headCommit(root), kind: "working tree" };
    log("building dist/ of the working tree (tsc -p tsconfig.build.json) ...");
    buildDist(root);
    return { root, commit: headCommit(root), kind: "working tree" };
  }
  const commit = execFileSync("git", ["rev-parse", "--verify", `${options.commit}^{commit}`], {
    cwd: root,
    encoding: "utf8",
  }).trim();
  const dir = exportCommit(root, commit);
  log(
    `exported ${options.commit} (${commit.slice(0, 12)}) into ${dir}${options.build ? "; building its dist/ ..." : ""}`,
  );
  if (options.build) buildDist(dir, root);
  return { root: dir, commit, kind: "commit export" };
}
