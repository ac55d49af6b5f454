// The Redis store's declarations as a consumer sees them: emitted from src into a temporary package,
// then typechecked from a project that has only node-redis installed and from one that has only
// ioredis, under strict with skipLibCheck: false and TypeScript 7's default types: [].
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));

const CONSUMERS = {
  "node-redis": {
    dependencies: ["redis", "@redis"],
    source: `import { connectRedis, RedisStore } from "login-manager/stores/redis";
import { createClient } from "redis";

const client = createClient({ url: "redis://127.0.0.1:6379", disableOfflineQueue: true });
export const store = new RedisStore({ client: await connectRedis(client, { timeoutMs: 5000 }) });
`,
  },
  ioredis: {
    dependencies: ["ioredis"],
    source: `import { Redis } from "ioredis";
import { connectRedis, RedisStore } from "login-manager/stores/redis";

const client = new Redis("redis://127.0.0.1:6379", { enableOfflineQueue: false });
export const store = new RedisStore({ client: await connectRedis(client, { timeoutMs: 5000 }) });
`,
  },
} as const;

const STRICT: ts.CompilerOptions = {
  strict: true,
  target: ts.ScriptTarget.ES2022,
  lib: ["lib.es2023.d.ts"],
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
};

function messages(diagnostics: readonly ts.Diagnostic[]): string[] {
  return diagnostics.map((diagnostic) => {
    const where = diagnostic.file ? `${diagnostic.file.fileName}: ` : "";
    return `${where}${ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n")}`;
  });
}

/** login-manager's declarations for ./stores/redis (and what they import), as `npm run build` emits them. */
function emitLibrary(dir: string): void {
  const program = ts.createProgram([join(ROOT, "src/stores/redis/index.ts")], {
    ...STRICT,
    types: ["node"],
    declaration: true,
    emitDeclarationOnly: true,
    rootDir: join(ROOT, "src"),
    outDir: join(dir, "dist"),
  });
  const result = program.emit();
  expect(messages(result.diagnostics)).toEqual([]);
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({
      name: "login-manager",
      type: "module",
      exports: { "./stores/redis": { types: "./dist/stores/redis/index.d.ts" } },
    }),
  );
}

/**
 * A project with a copy of `library` as node_modules/login-manager (so its declarations resolve
 * packages as an installed copy would) and only the given client packages beside it.
 */
function writeConsumer(root: string, library: string, name: keyof typeof CONSUMERS): string {
  const dir = join(root, name);
  mkdirSync(join(dir, "node_modules"), { recursive: true });
  cpSync(library, join(dir, "node_modules", "login-manager"), { recursive: true });
  for (const dependency of CONSUMERS[name].dependencies) {
    symlinkSync(join(ROOT, "node_modules", dependency), join(dir, "node_modules", dependency), "dir");
  }
  writeFileSync(join(dir, "package.json"), '{ "type": "module" }\n');
  writeFileSync(join(dir, "store.ts"), CONSUMERS[name].source);
  return join(dir, "store.ts");
}

describe("login-manager/stores/redis declarations", () => {
  let root: string;
  let library: string;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), "lm-redis-types-"));
    library = join(root, "login-manager");
    mkdirSync(library);
    emitLibrary(library);
  }, 60_000);
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it("import neither redis nor ioredis (nothing but login-manager's own files)", () => {
    const folder = join(library, "dist/stores/redis");
    const declarations = readdirSync(folder).filter((file) => file.endsWith(".d.ts"));
    expect(declarations).toContain("index.d.ts");
    for (const file of declarations) {
      const imported = ts.preProcessFile(readFileSync(join(folder, file), "utf8")).importedFiles;
      for (const { fileName } of imported) expect(fileName, file).toMatch(/^\.\.?\//);
    }
  });

  it.each(Object.keys(CONSUMERS) as (keyof typeof CONSUMERS)[])(
    "typecheck in a project with only %s installed, with skipLibCheck false and types []",
    (name) => {
      const file = writeConsumer(root, library, name);
      const program = ts.createProgram([file], { ...STRICT, noEmit: true, skipLibCheck: false, types: [] });
      // The client's own declarations (read through the symlink, from this checkout) are its
      // business: only errors in login-manager's declarations or in the consumer's file count.
      const ours = ts
        .getPreEmitDiagnostics(program)
        .filter((diagnostic) => !diagnostic.file || diagnostic.file.fileName.startsWith(root));
      expect(messages(ours)).toEqual([]);
      const loaded = program.getSourceFiles().map((source) => source.fileName);
      expect(loaded.some((path) => path.endsWith("login-manager/dist/stores/redis/index.d.ts"))).toBe(true);
    },
    60_000,
  );
});
