/**
 * Checks of the installed package itself: what npm said while installing it, the `@types/*`
 * packages a TypeScript user adds, the entry points that need no peer, and the source maps.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { REPO_ROOT } from "./workspace.js";

/**
 * npm's "install scripts not yet covered by allowScripts" warning lines that name login-manager
 * (a `prepare` or `install` script in the tarball's package.json brings one).
 *
 * @example
 * ```ts
 * expect(installScriptWarnings(install.stderr)).toEqual([]);
 * ```
 */
export function installScriptWarnings(npmOutput: string): string[] {
  return npmOutput
    .split("\n")
    .filter((line) => /\binstall-scripts\b/.test(line) && /\blogin-manager@/.test(line));
}

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
}

/**
 * True when the installed package carries its own `.d.ts` files: named in its manifest, at its root,
 * or beside the JavaScript its entry points name (`esm/index.js` with `esm/index.d.ts`, which
 * TypeScript finds without a "types" condition: @simplewebauthn/server ships them so).
 */
function shipsTypes(packageDir: string): boolean {
  const manifest = readJson(join(packageDir, "package.json"));
  if (manifest.types || manifest.typings) return true;
  if (JSON.stringify(manifest.exports ?? {}).includes('"types"')) return true;
  if (existsSync(join(packageDir, "index.d.ts"))) return true;
  return entryFiles(manifest).some((file) =>
    existsSync(join(packageDir, file.replace(/\.[cm]?js$/, ".d.ts"))),
  );
}

/** The JavaScript files a manifest's main, module and root export name. */
function entryFiles(manifest: Record<string, unknown>): string[] {
  const exported = (manifest.exports as Record<string, unknown> | undefined)?.["."] ?? manifest.exports;
  const fromExports =
    typeof exported === "string"
      ? [exported]
      : Object.values((exported as Record<string, unknown> | undefined) ?? {}).filter(
          (value): value is string => typeof value === "string",
        );
  return [manifest.main, manifest.module, ...fromExports].filter(
    (value): value is string => typeof value === "string" && /\.[cm]?js$/.test(value),
  );
}

/**
 * The `@types/*` packages a TypeScript user adds for these packages: Node's, and those of every
 * package that ships no types of its own (`express`, `pg`, `better-sqlite3`).
 *
 * @example
 * ```ts
 * typesPackagesFor(projectDir, ["express"]); // ["@types/node", "@types/express"]
 * ```
 */
export function typesPackagesFor(projectDir: string, packages: readonly string[]): string[] {
  const untyped = packages.filter(
    (name) => name !== "login-manager" && !shipsTypes(join(projectDir, "node_modules", name)),
  );
  return ["@types/node", ...untyped.map((name) => `@types/${name.replace(/^@/, "").replace("/", "__")}`)];
}

/** Entry points whose `.d.ts` files must load with no peer installed and `types: []`. */
export const PEER_FREE_ENTRY_POINTS = [
  "login-manager",
  "login-manager/options",
  "login-manager/store",
  "login-manager/password",
  "login-manager/stores/memory",
  "login-manager/stores/sqlite",
  "login-manager/testing",
] as const;

/**
 * A file that imports the types of every peer-free entry point, for a project where login-manager
 * is the only package.
 */
export function entryPointsFile(): { name: string; text: string } {
  const lines = PEER_FREE_ENTRY_POINTS.map(
    (specifier, index) => `import type * as m${index} from "${specifier}";`,
  );
  const names = PEER_FREE_ENTRY_POINTS.map((_, index) => `typeof m${index}`).join(", ");
  return { name: "entry-points.ts", text: `${lines.join("\n")}\n\nexport type EntryPoints = [${names}];\n` };
}

/**
 * A module for the store runner that uses a project's login-manager without any peer: a password
 * hashed and verified (the prebuilt argon2 binding), and a MemoryStore.
 */
export const PEER_FREE_MODULE = {
  name: "peer-free.mjs",
  text: `import { createPasswordHasher } from "login-manager/password";
import { MemoryStore } from "login-manager/stores/memory";

const hasher = createPasswordHasher();
if (!(await hasher.verify(await hasher.hash("correct horse"), "correct horse"))) throw new Error("argon2id");
export const store = new MemoryStore();
`,
};

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    return entry.isDirectory() ? filesUnder(path) : [path];
  });
}

/** What is wrong with one source of a shipped map, or undefined when nothing is. */
function sourceProblem(
  packageDir: string,
  mapPath: string,
  map: SourceMap,
  index: number,
): string | undefined {
  const source = map.sources[index] ?? "";
  const where = `${relative(packageDir, mapPath)}: "${source}"`;
  const resolved = resolve(dirname(mapPath), map.sourceRoot ?? "", source);
  if (resolved !== packageDir && !resolved.startsWith(packageDir + sep))
    return `${where} points outside the package`;
  if (existsSync(resolved)) return undefined;
  const content = map.sourcesContent?.[index];
  if (typeof content !== "string") return `${where} is neither shipped nor inlined`;
  const original = join(REPO_ROOT, relative(packageDir, resolved));
  if (!existsSync(original))
    return `${where} has no source in the checkout: a stale file of an earlier build?`;
  if (readFileSync(original, "utf8") !== content) {
    return `${where} is inlined, but not as ${relative(REPO_ROOT, original)} is now`;
  }
  return undefined;
}

interface SourceMap {
  sources: string[];
  sourceRoot?: string;
  sourcesContent?: (string | null)[];
}

/**
 * Every shipped `.map` and what is wrong with it: a source that resolves outside the installed
 * package, or to a file that is neither shipped nor inlined (`sourcesContent`), or an inlined
 * source that the checkout does not have (a stale build) or has otherwise. Also returns how many
 * maps and sources it read.
 *
 * @example
 * ```ts
 * const { problems, maps } = sourceMapProblems(join(projectDir, "node_modules", "login-manager"));
 * ```
 */
export function sourceMapProblems(packageDir: string): { maps: number; sources: number; problems: string[] } {
  const mapPaths = filesUnder(packageDir).filter((path) => path.endsWith(".map"));
  const problems: string[] = [];
  let sources = 0;
  for (const mapPath of mapPaths) {
    const map = readJson(mapPath) as unknown as SourceMap;
    for (let index = 0; index < map.sources.length; index++) {
      sources++;
      const problem = sourceProblem(packageDir, mapPath, map, index);
      if (problem) problems.push(problem);
    }
  }
  return { maps: mapPaths.length, sources, problems };
}
