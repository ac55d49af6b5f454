/**
 * Typechecks a project's copy of the guide's code as a new user's `tsc --init` project would, with
 * `skipLibCheck: false` so login-manager's own `.d.ts` files are checked too, under TypeScript 5.9
 * and 7, with `nodenext` and with `preserve` + `bundler`.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { CompilerName } from "./workspace.js";
import { cpuBound, run } from "./workspace.js";

/**
 * What the snippets of a store guide take from the rest of the user's app: its user class, user
 * lookup and logger.
 */
export const SNIPPET_CONTEXT = {
  name: "app-context.d.ts",
  text: `import { UserMixin } from "login-manager";

declare global {
  class User extends UserMixin {
    readonly id: string;
  }
  const users: Map<string, User>;
  function userLoader(id: string): User | null;
  const logger: { warn(fields: Record<string, unknown>, message: string): void };
}
`,
};

/**
 * `tsc --init`'s options (TypeScript 5.9 and 7 write the same ones), with `skipLibCheck: false`,
 * emitting to out/ for the run on Node. `types` is `tsc --init`'s `[]` where the program is
 * login-manager's own types; a Node app lists `"node"` there, as the generated file's comment and
 * the compiler's own message say (its code reads `process`, and `@hono/node-server`'s types import
 * `node:http` without a reference to Node's types).
 */
function tsconfig(files: readonly string[], types: readonly string[]): object {
  return {
    compilerOptions: {
      module: "nodenext",
      target: "esnext",
      types,
      sourceMap: true,
      declaration: true,
      declarationMap: true,
      noUncheckedIndexedAccess: true,
      exactOptionalPropertyTypes: true,
      strict: true,
      verbatimModuleSyntax: true,
      isolatedModules: true,
      noUncheckedSideEffectImports: true,
      moduleDetection: "force",
      skipLibCheck: false,
      rootDir: ".",
      outDir: "out",
    },
    files,
  };
}

/** The two module settings a consumer uses. */
export const MODULE_SETTINGS = {
  nodenext: [],
  "preserve + bundler": ["--module", "preserve", "--moduleResolution", "bundler"],
} as const;
export type ModuleSetting = keyof typeof MODULE_SETTINGS;

/** One compilation's outcome. */
export interface TypecheckResult {
  compiler: CompilerName;
  setting: ModuleSetting;
  /** No error in the project's files or in login-manager's. */
  ok: boolean;
  /** Errors inside another package's own `.d.ts` files, which `skipLibCheck: false` also reports. */
  thirdParty: string[];
  output: string;
}

/** An error located in a package other than login-manager: that package's to fix, not ours. */
const THIRD_PARTY_ERROR = /^node_modules\/(?!login-manager\/)/;

/**
 * Writes files and the tsconfig into a project and compiles them four ways; TypeScript 7 with
 * `nodenext` also emits out/ (the JavaScript the test then runs).
 *
 * @example
 * ```ts
 * const results = await typecheckProject(dir, [{ name: "app.ts", text }], compilers, ["node"]);
 * ```
 */
export async function typecheckProject(
  dir: string,
  files: readonly { name: string; text: string }[],
  compilers: Record<CompilerName, string>,
  types: readonly string[],
): Promise<TypecheckResult[]> {
  for (const file of files) writeFileSync(join(dir, file.name), file.text);
  const names = files.map((file) => file.name);
  writeFileSync(join(dir, "tsconfig.json"), `${JSON.stringify(tsconfig(names, types), null, 2)}\n`);
  const runs = Object.entries(compilers).flatMap(([compiler, tsc]) =>
    Object.entries(MODULE_SETTINGS).map(([setting, flags]) => {
      const emits = compiler === "TypeScript 7" && setting === "nodenext";
      const args = [tsc, "-p", "tsconfig.json", ...flags, ...(emits ? [] : ["--noEmit"])];
      return cpuBound(async () => {
        const { code, stdout, stderr } = await run(process.execPath, args, dir);
        const output = `${stdout}${stderr}`.trim();
        const errors = output.split("\n").filter((line) => /error TS\d+/.test(line));
        const ours = errors.filter((line) => !THIRD_PARTY_ERROR.test(line));
        return {
          compiler: compiler as CompilerName,
          setting: setting as ModuleSetting,
          ok: (code === 0 || errors.length > 0) && ours.length === 0,
          thirdParty: errors.filter((line) => THIRD_PARTY_ERROR.test(line)),
          output,
        };
      });
    }),
  );
  return Promise.all(runs);
}

/** The failed compilations, each with what the compiler printed, for an assertion message. */
export function typecheckFailures(results: readonly TypecheckResult[]): string[] {
  return results
    .filter((result) => !result.ok)
    .map((result) => `${result.compiler}, ${result.setting}:\n${result.output}`);
}

/** The other packages' own errors, once each, for a warning. */
export function thirdPartyErrors(results: readonly TypecheckResult[]): string[] {
  return [...new Set(results.flatMap((result) => result.thirdParty))];
}
