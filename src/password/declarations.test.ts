import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const ENTRY = join(ROOT, "src/password/index.ts");
const OUT = "/virtual/dist";

/** The .d.ts files `npm run build` writes for the password entry, emitted in memory. */
function emitDeclarations(): Map<string, string> {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(ROOT, "tsconfig.build.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
      },
    },
  );
  if (!config) throw new Error("tsconfig.build.json could not be read");
  const options = {
    ...config.options,
    outDir: OUT,
    emitDeclarationOnly: true,
    sourceMap: false,
    declarationMap: false,
  };
  const written = new Map<string, string>();
  const host = ts.createCompilerHost(options);
  host.writeFile = (fileName, text) => written.set(fileName, text);
  const result = ts.createProgram([ENTRY], options, host).emit();
  expect(result.emitSkipped).toBe(false);
  return written;
}

/** Typechecks `consumer` against the emitted declarations as a user with TypeScript 7's defaults would. */
function consumerDiagnostics(
  declarations: Map<string, string>,
  consumer: string,
  bundler: boolean,
): string[] {
  const file = `${OUT}/consumer.ts`;
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: [],
    lib: ["lib.es2023.d.ts"],
    target: ts.ScriptTarget.ES2022,
    module: bundler ? ts.ModuleKind.ESNext : ts.ModuleKind.NodeNext,
    moduleResolution: bundler ? ts.ModuleResolutionKind.Bundler : ts.ModuleResolutionKind.NodeNext,
  };
  const host = ts.createCompilerHost(options);
  const files = new Map([...declarations, [file, consumer], [`${OUT}/package.json`, '{ "type": "module" }']]);
  const readFile = host.readFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  host.readFile = (name) => files.get(name) ?? readFile(name);
  host.fileExists = (name) => files.has(name) || fileExists(name);
  host.directoryExists = (name) => name.startsWith(OUT) || ts.sys.directoryExists(name);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, language) => {
    const text = files.get(name);
    return text === undefined ? getSourceFile(name, language) : ts.createSourceFile(name, text, language);
  };
  const program = ts.createProgram([file], options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .map((diagnostic) => ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
}

describe("the password module's published types", () => {
  it("need no Node globals: a consumer with types: [] and skipLibCheck: false typechecks (nodenext and bundler)", () => {
    const declarations = emitDeclarations();
    const passwordFiles = [...declarations.keys()].filter((name) => name.startsWith(`${OUT}/password/`));
    expect(passwordFiles.length).toBeGreaterThan(3);
    for (const name of passwordFiles) expect(declarations.get(name)).not.toMatch(/\bBuffer\b|\bNodeJS\b/);

    const consumer = `
      import { createPasswordHasher, type LegacyFormat, type StoredHashInfo } from "./password/index.js";
      const legacyFormats: LegacyFormat[] = ["bcrypt", "werkzeug"];
      const hasher = createPasswordHasher({ pepper: new Uint8Array(32), legacyFormats });
      const info: StoredHashInfo = hasher.inspect("stored");
      export const verified: Promise<boolean> = hasher.verify("stored", "pw");
      export const format: string = info.format;
    `;
    expect(consumerDiagnostics(declarations, consumer, false)).toEqual([]);
    expect(consumerDiagnostics(declarations, consumer, true)).toEqual([]);
  });
});
