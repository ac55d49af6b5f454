/**
 * The import graph of `src/` for the architecture tests: every static `import`, `export ... from` and
 * `import("...")` type of each non-test `.ts` file, type-only ones included, resolved to files.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const SRC = join(REPO_ROOT, "src");

/**
 * File (relative to the repository, with `/`) -> the files and package names it imports.
 *
 * @example
 * ```ts
 * buildGraph().get("src/hono/index.ts")?.files; // ["src/adapter/index.ts", "src/hono/views.ts", "src/index.ts"]
 * ```
 */
export type ModuleGraph = Map<string, { files: string[]; packages: string[] }>;

/**
 * Every `.ts` file under `dir` that is not a test.
 *
 * @example
 * ```ts
 * sourceFiles(); // [".../src/adapter/index.ts", ...]
 * ```
 */
export function sourceFiles(dir: string = SRC): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) found.push(...sourceFiles(path));
    else if (entry.name.endsWith(".ts") && !entry.name.endsWith(".test.ts")) found.push(path);
  }
  return found.sort();
}

/**
 * The module specifiers a file names: imports and re-exports (type-only too), and `import("x")` types.
 *
 * @example
 * ```ts
 * specifiersOf("a.ts", 'import type { B } from "./b.js"; export * from "./c.js";'); // ["./b.js", "./c.js"]
 * ```
 */
export function specifiersOf(fileName: string, text: string): string[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS);
  const specifiers: string[] = [];
  const visit = (node: ts.Node): void => {
    if ((ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) && node.moduleSpecifier) {
      if (ts.isStringLiteral(node.moduleSpecifier)) specifiers.push(node.moduleSpecifier.text);
    } else if (ts.isImportTypeNode(node)) {
      const argument = node.argument;
      if (ts.isLiteralTypeNode(argument) && ts.isStringLiteral(argument.literal)) {
        specifiers.push(argument.literal.text);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return specifiers;
}

function toKey(path: string): string {
  return relative(REPO_ROOT, path).split("\\").join("/");
}

/** A relative specifier's file: `./x.js` is `./x.ts` (NodeNext), or a folder's `index.ts`. */
function resolveRelative(from: string, specifier: string): string {
  const target = resolve(dirname(from), specifier);
  for (const candidate of [target.replace(/\.js$/, ".ts"), target, join(target, "index.ts")]) {
    if (candidate.endsWith(".ts") && existsSync(candidate)) return candidate;
  }
  throw new Error(`${toKey(from)} imports "${specifier}", which is no file under src`);
}

/**
 * The graph of the given files (default: every non-test file under `src/`).
 *
 * @example
 * ```ts
 * const edges = new Map([...buildGraph()].map(([file, { files }]) => [file, files]));
 * ```
 */
export function buildGraph(files: string[] = sourceFiles()): ModuleGraph {
  const graph: ModuleGraph = new Map();
  for (const file of files) {
    const entry = { files: [] as string[], packages: [] as string[] };
    for (const specifier of specifiersOf(file, readFileSync(file, "utf8"))) {
      if (specifier.startsWith(".")) entry.files.push(toKey(resolveRelative(file, specifier)));
      else entry.packages.push(specifier);
    }
    entry.files = [...new Set(entry.files)].sort();
    graph.set(toKey(file), entry);
  }
  return graph;
}

/**
 * The import cycles a depth-first search meets: one per edge back to a file still being visited
 * (a graph has a cycle exactly when the search meets such an edge), each the path from a file back
 * to itself, its first file repeated at the end; the same set of files is reported once. Empty when
 * the graph has no cycle.
 *
 * @example
 * ```ts
 * findCycles(new Map([["a", ["b"]], ["b", ["a"]]])); // [["a", "b", "a"]]
 * ```
 */
export function findCycles(edges: ReadonlyMap<string, readonly string[]>): string[][] {
  const state = new Map<string, "open" | "done">();
  const stack: string[] = [];
  const cycles: string[][] = [];
  const seen = new Set<string>();
  const visit = (node: string): void => {
    state.set(node, "open");
    stack.push(node);
    for (const next of edges.get(node) ?? []) {
      const status = state.get(next);
      if (status === "open") {
        const cycle = [...stack.slice(stack.indexOf(next)), next];
        const key = [...cycle.slice(0, -1)].sort().join("|");
        if (!seen.has(key)) {
          seen.add(key);
          cycles.push(cycle);
        }
      } else if (status === undefined) visit(next);
    }
    stack.pop();
    state.set(node, "done");
  };
  for (const node of [...edges.keys()].sort()) if (!state.has(node)) visit(node);
  return cycles;
}
