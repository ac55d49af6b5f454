/**
 * The store as a consumer gets it: compiled on its own into a folder outside the project, where no
 * better-sqlite3 (and no type package) can be found.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");
const tsc = join(root, "node_modules/typescript/bin/tsc");
let dir: string;

function filesUnder(folder: string, suffix: string): string[] {
  return readdirSync(folder, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(suffix))
    .map((name) => join(folder, name));
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, JSON.stringify(value, null, 2));
}

/** Runs an ES module in `dir` with this Node; resolves to its stdout. */
function runModule(source: string): string {
  writeFileSync(join(dir, "run.mjs"), source);
  return execFileSync(process.execPath, ["--no-warnings", "run.mjs"], { cwd: dir, encoding: "utf8" });
}

describe("the SQLite store as published", () => {
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "login-manager-sqlite-published-"));
    writeJson(join(dir, "package.json"), { type: "module" });
    writeJson(join(dir, "tsconfig.build.json"), {
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2023"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        declaration: true,
        rootDir: join(root, "src"),
        outDir: join(dir, "dist"),
        typeRoots: [join(root, "node_modules/@types")],
        types: ["node"],
      },
      files: [join(root, "src/stores/sqlite/index.ts")],
    });
    execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: dir, encoding: "utf8" });
  }, 120_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it("has no declaration that imports better-sqlite3 or node:sqlite", () => {
    const declarations = filesUnder(join(dir, "dist"), ".d.ts");
    expect(declarations.map((file) => file.slice(dir.length))).toContain("/dist/stores/sqlite/index.d.ts");
    for (const file of declarations) {
      // Comments may show imports (the TSDoc examples do); code may not.
      const code = readFileSync(file, "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/\/\/.*$/gm, "");
      expect(code, file).not.toMatch(/\b(from|import)\s*["'](better-sqlite3|node:sqlite)["']/);
      expect(code, file).not.toMatch(/import\(\s*["'](better-sqlite3|node:sqlite)["']\s*\)/);
    }
    const reference = /<reference\s+types=["'](better-sqlite3|node)["']/;
    expect(declarations.filter((file) => reference.test(readFileSync(file, "utf8")))).toEqual([]);
  });

  it("typechecks in a consumer with strict, skipLibCheck false and no type packages at all", () => {
    writeFileSync(
      join(dir, "consumer.ts"),
      `import { SqliteStore, type SqliteStoreOptions } from "./dist/stores/sqlite/index.js";
const options: SqliteStoreOptions = { database: "data/app.db", driver: "better-sqlite3", tablePrefix: "auth_" };
export const store: SqliteStore = new SqliteStore(options);
export const driver: "node:sqlite" | "better-sqlite3" = store.driver;
`,
    );
    writeJson(join(dir, "tsconfig.json"), {
      compilerOptions: {
        target: "ES2022",
        lib: ["ES2023"],
        module: "NodeNext",
        moduleResolution: "NodeNext",
        strict: true,
        skipLibCheck: false,
        types: [],
        noEmit: true,
      },
      files: ["consumer.ts"],
    });
    expect(() =>
      execFileSync(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: dir, encoding: "utf8" }),
    ).not.toThrow();
  });

  it("runs on node:sqlite without better-sqlite3 installed, creating the data folder", () => {
    const output = runModule(`import { SqliteStore } from "./dist/stores/sqlite/index.js";
const store = new SqliteStore({ database: "data/app.db" });
const session = { id: "s1", secretHash: "h", userId: "42", fresh: true, createdAt: 1, lastSeenAt: 1,
  expiresAt: 9e12, absoluteExpiresAt: 9e12, fingerprint: "", userAgent: "ua", ipAddress: "::1", rememberSelector: null,
  authMethods: "pwd:1" };
await store.createSession(session);
console.log(store.driver, store.getSession("s1", 2)?.userId);
await store.close();
`);
    expect(output.trim()).toBe("node:sqlite 42");
    expect(statSync(join(dir, "data", "app.db")).isFile()).toBe(true);
  });

  it("asked for better-sqlite3 that is not installed, throws a ConfigurationError at construction with the install command", () => {
    const output = runModule(`import { SqliteStore } from "./dist/stores/sqlite/index.js";
try {
  new SqliteStore({ database: "data/other.db", driver: "better-sqlite3" });
  console.log("constructed");
} catch (error) {
  console.log(error.name, error.code, error.message);
}
`);
    expect(output).toMatch(/^ConfigurationError ERR_CONFIGURATION SqliteStore: .*npm install better-sqlite3/);
  });
});
