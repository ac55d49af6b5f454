/**
 * The module structure of `src/`: no import cycle (type-only imports count too: a cycle of types
 * still ties the files' designs together), and the layers only import downwards: the core imports no
 * entry point or adapter, the adapters reach the core only through `login-manager/adapter` and the
 * root, and the subpath entry points only re-export.
 */
import { describe, expect, it } from "vitest";
import { buildGraph, findCycles, type ModuleGraph, specifiersOf } from "./module-graph.js";

const graph: ModuleGraph = buildGraph();
const edges = new Map([...graph].map(([file, { files }]) => [file, files]));

function importsOf(prefix: string): { file: string; imported: string }[] {
  return [...graph]
    .filter(([file]) => file.startsWith(prefix))
    .flatMap(([file, { files }]) => files.map((imported) => ({ file, imported })));
}

describe("the import graph of src/", () => {
  it("covers the whole library, tests aside", () => {
    expect(graph.has("src/index.ts")).toBe(true);
    expect(graph.has("src/core/manager.ts")).toBe(true);
    expect(graph.has("src/adapter/index.ts")).toBe(true);
    expect([...graph.keys()].some((file) => file.endsWith(".test.ts"))).toBe(false);
  });

  it("reads type-only imports, re-exports and import() types", () => {
    const text = [
      'import type { A } from "./a.js";',
      'import { type B } from "./b.js";',
      'export type { C } from "./c.js";',
      'export * from "./d.js";',
      'let e: import("./e.js").E;',
      'import "./f.js";',
    ].join("\n");
    expect(specifiersOf("x.ts", text)).toEqual(["./a.js", "./b.js", "./c.js", "./d.js", "./e.js", "./f.js"]);
  });

  it("finds a cycle when there is one, and prints its path", () => {
    const withCycle = new Map([
      ["a", ["b"]],
      ["b", ["c"]],
      ["c", ["a", "d"]],
      ["d", []],
    ]);
    expect(findCycles(withCycle)).toEqual([["a", "b", "c", "a"]]);
    expect(
      findCycles(
        new Map([
          ["a", ["b"]],
          ["b", []],
        ]),
      ),
    ).toEqual([]);
  });

  it("has no import cycle, type-only imports included", () => {
    const cycles = findCycles(edges).map((cycle) => cycle.join(" -> "));
    expect(cycles, `import cycles:\n${cycles.join("\n")}`).toEqual([]);
  });
});

describe("the layers of src/", () => {
  it("the core imports nothing outside src/core", () => {
    const outside = importsOf("src/core/").filter(({ imported }) => !imported.startsWith("src/core/"));
    expect(outside).toEqual([]);
  });

  it("the adapters reach the library only through login-manager/adapter and the root", () => {
    for (const adapter of ["express", "fastify", "hono"]) {
      const other = importsOf(`src/${adapter}/`).filter(
        ({ imported }) =>
          imported !== "src/adapter/index.ts" &&
          imported !== "src/index.ts" &&
          !imported.startsWith(`src/${adapter}/`),
      );
      expect(other, adapter).toEqual([]);
    }
  });

  it("login-manager/adapter, /options and /store only re-export the core", () => {
    for (const entry of ["src/adapter/index.ts", "src/options/index.ts", "src/store/index.ts"]) {
      const imported = graph.get(entry);
      expect(imported?.packages, entry).toEqual([]);
      expect(
        imported?.files.every((file) => file.startsWith("src/core/")),
        entry,
      ).toBe(true);
    }
  });
});
