// docs/guides/store-redis.md: its two start-up blocks (node-redis and ioredis) are written to a
// temporary package exactly as the guide shows them, typechecked, and run each in its own Node
// process. With Redis up they start and the first store call succeeds; against a closed port the
// process ends by itself within a bound, with the error the guide shows and no password in it.
import { spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fencedFileBlock } from "../helpers/markdown.js";
import { describeIfRedis, redisUrl } from "../helpers/services.js";

const GUIDE = new URL("../../docs/guides/store-redis.md", import.meta.url);
const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const BLOCKS = ["store-redis/node-redis.ts", "store-redis/ioredis.ts"] as const;
/** The guide's `timeoutMs`, plus Node and tsx starting and compiling the block. */
const STARTUP_BOUND_MS = 5000 + 10_000;
/** A process still running after this is hung: it is killed and the test fails. */
const KILL_AFTER_MS = 30_000;

/**
 * Imports a block, then makes the first store call at once (an ioredis client without an offline
 * queue used to fail it), prints the result, and closes the client so the process can end.
 */
const RUNNER = `
const { redis, store } = await import(process.argv[2]);
const session = await store.getSession("no-such-session", Date.now());
console.log(JSON.stringify({ started: true, session }));
await store.close();
await (typeof redis.close === "function" ? redis.close() : redis.quit());
`;

/** The guide's blocks in a temporary package that resolves login-manager and the clients to this checkout. */
function writeGuideFiles(): string {
  const dir = mkdtempSync(join(tmpdir(), "lm-store-redis-"));
  mkdirSync(join(dir, "node_modules"));
  symlinkSync(ROOT, join(dir, "node_modules", "login-manager"), "dir");
  for (const dependency of ["redis", "@redis", "ioredis", "@types"]) {
    symlinkSync(join(ROOT, "node_modules", dependency), join(dir, "node_modules", dependency), "dir");
  }
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  writeFileSync(join(dir, "runner.mjs"), RUNNER);
  for (const block of BLOCKS) writeFileSync(join(dir, fileOf(block)), fencedFileBlock(GUIDE, block));
  return dir;
}

function fileOf(block: (typeof BLOCKS)[number]): string {
  return block.replace("store-redis/", "");
}

function typeErrors(dir: string): string[] {
  const program = ts.createProgram(
    BLOCKS.map((block) => join(dir, fileOf(block))),
    {
      strict: true,
      noEmit: true,
      noUnusedLocals: true,
      skipLibCheck: true,
      target: ts.ScriptTarget.ES2022,
      lib: ["lib.es2023.d.ts"],
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      customConditions: ["login-manager-source"],
      types: ["node"],
    },
  );
  // Only the guide's files: an error inside the library is the library's tests' business.
  return ts
    .getPreEmitDiagnostics(program)
    .filter((diagnostic) => diagnostic.file?.fileName.startsWith(dir))
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
}

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  elapsedMs: number;
}

/** Runs one block under the runner with `REDIS_URL`, killing it if it has not ended in time. */
function runBlock(dir: string, block: (typeof BLOCKS)[number], url: string): Promise<Run> {
  const tsx = import.meta.resolve("tsx");
  const started = Date.now();
  const child = spawn(
    process.execPath,
    ["--conditions=login-manager-source", "--import", tsx, "runner.mjs", `./${fileOf(block)}`],
    { cwd: dir, env: { ...process.env, REDIS_URL: url }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk: Buffer) => {
    stdout += chunk;
  });
  child.stderr.on("data", (chunk: Buffer) => {
    stderr += chunk;
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), KILL_AFTER_MS);
  return new Promise((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      resolve({ code, signal, stdout, stderr, elapsedMs: Date.now() - started });
    });
  });
}

/** A port nothing listens on: bound, then released. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** The start-up error the guide shows (a ```text block), for the server at `port`. */
function guideErrorFor(port: number): string {
  const shown = /```text\n(StoreError: Redis at .*)\n```/.exec(readFileSync(GUIDE, "utf8"))?.[1];
  if (!shown) throw new Error("the guide shows no start-up error");
  return shown.replaceAll("127.0.0.1:6379", `127.0.0.1:${port}`);
}

let dir: string;
beforeAll(() => {
  dir = writeGuideFiles();
});
afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("docs/guides/store-redis.md", () => {
  it("typechecks both start-up blocks under strict with nodenext", () => {
    expect(typeErrors(dir)).toEqual([]);
  }, 60_000);

  it.concurrent.each(BLOCKS)(
    "%s against a closed port: the process ends by itself within the bound, with the guide's error and no password",
    async (block) => {
      const port = await closedPort();
      const run = await runBlock(dir, block, `redis://:s3cret-pw@127.0.0.1:${port}`);
      expect(run.signal, `hung; stderr: ${run.stderr}`).toBeNull();
      expect(run.code).toBe(1);
      expect(run.stdout).not.toContain("started");
      expect(run.stderr).toContain(guideErrorFor(port));
      expect(run.stderr).not.toContain("s3cret-pw");
      expect(run.elapsedMs).toBeGreaterThanOrEqual(5000);
      expect(run.elapsedMs).toBeLessThan(STARTUP_BOUND_MS);
    },
    KILL_AFTER_MS + 5000,
  );
});

await describeIfRedis("docs/guides/store-redis.md with Redis up", () => {
  it.concurrent.each(BLOCKS)(
    "%s starts, and the first store call after start-up succeeds",
    async (block) => {
      const run = await runBlock(dir, block, redisUrl());
      expect(run.signal, `hung; stderr: ${run.stderr}`).toBeNull();
      expect(run.stderr).toBe("");
      expect(run.code).toBe(0);
      expect(JSON.parse(run.stdout)).toEqual({ started: true, session: null });
      expect(run.elapsedMs).toBeLessThan(STARTUP_BOUND_MS);
    },
    KILL_AFTER_MS + 5000,
  );
});
