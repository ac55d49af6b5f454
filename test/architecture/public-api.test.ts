/**
 * The published surface: the root `login-manager` stays small (what an application uses, at most 35
 * names, types included), the adapter plumbing lives in `login-manager/adapter`, every subpath of
 * package.json's "exports" points at a source entry and its built files, and the declarations built
 * with tsconfig.build.json (`stripInternal`) carry no `@internal` member.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import ts from "typescript";
import { beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, SRC, sourceFiles } from "./module-graph.js";

const MAX_ROOT_EXPORTS = 35;

/** Names only adapters need: they must not come back to the root. */
const ADAPTER_ONLY = [
  "guardReply",
  "runWithAuth",
  "isPromiseLike",
  "replaceSetCookie",
  "readCookies",
  "serializeCookie",
  "NodeRequestView",
  "unavailableStoreError",
  "ResponseView",
  "AuthReply",
  "MaybePromise",
];

let program: ts.Program;
let options: ts.CompilerOptions;
const declarations = new Map<string, string>();

/** The program of tsconfig.build.json, and the declarations it emits (kept in memory). */
beforeAll(() => {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    join(REPO_ROOT, "tsconfig.build.json"),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (diagnostic) => {
        throw new Error(ts.flattenDiagnosticMessageText(diagnostic.messageText, "\n"));
      },
    },
  );
  if (!parsed) throw new Error("tsconfig.build.json could not be read");
  options = parsed.options;
  program = ts.createProgram({
    rootNames: parsed.fileNames,
    options: {
      ...parsed.options,
      noEmit: false,
      declaration: true,
      emitDeclarationOnly: true,
      sourceMap: false,
    },
  });
  program.emit(undefined, (fileName, text) => {
    if (fileName.endsWith(".d.ts")) declarations.set(fileName, text);
  });
}, 180_000);

function exportsOf(entry: string): string[] {
  const source = program.getSourceFile(join(SRC, entry));
  if (!source) throw new Error(`${entry} is not part of the build`);
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(source);
  if (!module) throw new Error(`${entry} is not a module`);
  return checker
    .getExportsOfModule(module)
    .map((symbol) => symbol.getName())
    .sort();
}

describe("the root login-manager", () => {
  it(`exports at most ${MAX_ROOT_EXPORTS} names, types included`, () => {
    const names = exportsOf("index.ts");
    expect(names.length, `the root exports ${names.length} names:\n${names.join(", ")}`).toBeLessThanOrEqual(
      MAX_ROOT_EXPORTS,
    );
    // What every application uses is there.
    for (const name of [
      "LoginManager",
      "AuthContext",
      "currentUser",
      "UserMixin",
      "Register",
      "StoreError",
    ]) {
      expect(names).toContain(name);
    }
  });

  it("leaves adapter plumbing to login-manager/adapter", () => {
    const root = exportsOf("index.ts");
    expect(root.filter((name) => ADAPTER_ONLY.includes(name))).toEqual([]);
    expect(exportsOf("adapter/index.ts")).toEqual(expect.arrayContaining(ADAPTER_ONLY));
  });

  it("leaves the store contract to login-manager/store, SessionStore aside", () => {
    const root = exportsOf("index.ts");
    const store = exportsOf("store/index.ts");
    expect(store).toEqual(
      expect.arrayContaining(["SessionStore", "SessionRecord", "SessionStorage", "StoreError"]),
    );
    expect(root.filter((name) => store.includes(name)).sort()).toEqual(["SessionStore", "StoreError"]);
  });
});

describe("package.json exports", () => {
  const manifest = JSON.parse(readFileSync(join(REPO_ROOT, "package.json"), "utf8")) as {
    exports: Record<string, string | Record<string, string>>;
  };
  const subpaths = Object.entries(manifest.exports).filter(([subpath]) => subpath !== "./package.json");

  it("has the adapter, options and store subpaths", () => {
    expect(Object.keys(manifest.exports)).toEqual(
      expect.arrayContaining(["./adapter", "./options", "./store"]),
    );
  });

  it.each(subpaths)("%s maps its source, types and code alike", (_subpath, target) => {
    expect(typeof target).toBe("object");
    const conditions = target as Record<string, string>;
    expect(Object.keys(conditions)).toEqual(["login-manager-source", "types", "default"]);
    const source = conditions["login-manager-source"] ?? "";
    expect(source).toMatch(/^\.\/src\/.+\.ts$/);
    expect(existsSync(join(REPO_ROOT, source))).toBe(true);
    const built = source.replace(/^\.\/src\//, "./dist/").replace(/\.ts$/, "");
    expect(conditions.types).toBe(`${built}.d.ts`);
    expect(conditions.default).toBe(`${built}.js`);
  });
});

describe("the built declarations", () => {
  it("are built with stripInternal", () => {
    expect(options.stripInternal).toBe(true);
  });

  it("carry no @internal member", () => {
    // Not vacuous: the sources do mark members @internal, and the build emits every entry point.
    const marked = sourceFiles().filter((file) => readFileSync(file, "utf8").includes("@internal"));
    expect(marked.length).toBeGreaterThan(0);
    expect([...declarations.keys()].some((file) => file.endsWith("/index.d.ts"))).toBe(true);
    const leaking = [...declarations].filter(([, text]) => text.includes("@internal")).map(([file]) => file);
    expect(leaking).toEqual([]);
  });
});
