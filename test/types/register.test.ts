import { execFile } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { installCompilers } from "../install/workspace.js";

const run = promisify(execFile);
const root = fileURLToPath(new URL("../..", import.meta.url));

/** The project's own TypeScript 5.9, and TypeScript 7 from the install test's shared tools folder. */
const COMPILERS = {
  "TypeScript 5.9": async () => createRequire(import.meta.url).resolve("typescript/bin/tsc"),
  "TypeScript 7": async () => (await installCompilers())["TypeScript 7"],
};

it.each(Object.entries(COMPILERS))(
  "declare module 'login-manager' { interface Register { user } } types req.auth, request.auth, c.var.auth and currentUser() with the app's user (%s)",
  async (_name, tscPath) => {
    // Its own compilation: the merge would otherwise retype RegisteredUser for the whole project.
    const result = await run(
      process.execPath,
      [await tscPath(), "-p", "test/types/.register/tsconfig.json", "--listFiles"],
      { cwd: root },
    ).catch((error: { stdout?: string; stderr?: string; code?: number }) => error);
    const output = `${result.stdout ?? ""}${result.stderr ?? ""}`;
    expect(output).not.toMatch(/error TS\d+/);
    expect("code" in result ? result.code : 0).toBe(0);
    // The fixture and the three adapters really were compiled (not an empty program).
    for (const file of [
      "test/types/.register/register.types.ts",
      "src/express/index.ts",
      "src/fastify/index.ts",
      "src/hono/index.ts",
    ]) {
      expect(output).toContain(file);
    }
  },
  180_000,
);
