/**
 * `npm start` on an unsupported Node prints one line that names the supported versions, not a stack trace
 * (issue 14: Node 20 reached end of life on 2026-04-30).
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
// @ts-expect-error: a plain .mjs script (it must run on any Node), without type declarations
import { isSupportedNode, unsupportedNodeMessage } from "../../scripts/check-node.mjs";

const root = join(import.meta.dirname, "..", "..");
const check = (version: string): boolean => isSupportedNode(version) as boolean;

describe("scripts/check-node.mjs", () => {
  it.each([
    ["22.13.0", true],
    ["22.23.3", true],
    ["24.0.0", true],
    ["24.21.0", true],
    ["26.10.0", true],
    ["27.1.0", true],
    ["22.12.0", false],
    ["20.20.2", false],
    ["23.11.1", false],
    ["25.9.0", false],
    ["18.20.8", false],
    ["garbage", false],
  ])("Node %s supported: %s", (version, supported) => {
    expect(check(version)).toBe(supported);
    expect(unsupportedNodeMessage(version) === null).toBe(supported);
  });

  it("agrees with package.json's engines on every version above", async () => {
    const { engines } = (await import("../../package.json", { with: { type: "json" } })).default;
    expect(engines.node).toBe("^22.13.0 || ^24.0.0 || >=26.0.0");
  });

  it("the running Node passes silently", () => {
    const result = spawnSync(process.execPath, [join(root, "scripts", "check-node.mjs")], {
      encoding: "utf8",
    });
    expect(result.status).toBe(0);
    expect(result.stderr).toBe("");
  });
});

// The machine's own Node (Debian's, 20.x here and in CI) is the unsupported one a new user is likely to have.
const oldNode = ["/usr/bin/node", "/usr/local/bin/node"].find((path) => {
  if (!existsSync(path)) return false;
  return !check(execFileSync(path, ["-p", "process.versions.node"], { encoding: "utf8" }).trim());
});
if (oldNode === undefined) {
  console.warn(
    "SKIPPED: `npm start` on an unsupported Node: no unsupported node binary at /usr/bin or /usr/local/bin",
  );
}

describe.skipIf(oldNode === undefined)("npm start on an unsupported Node", () => {
  it("prints one line naming the supported versions and exits 1 before building anything", () => {
    const bin = join(String(oldNode), "..");
    const result = spawnSync("npm", ["start", "--silent"], {
      cwd: root,
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ""}` },
      timeout: 60_000,
    });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^login-manager needs Node\.js 22 \(22\.13 or newer\), 24 or 26\+; this is Node\.js 2\d\./,
    );
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(result.stdout).not.toContain("tsc");
  });
});
