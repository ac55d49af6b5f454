/**
 * What the install test reads from the guides at test time: each install line (and its "or:"
 * alternative), and the code a user copies, as files to typecheck.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { fencedBlocks } from "../helpers/markdown.js";
import { REPO_ROOT } from "./workspace.js";

/** The guides whose install lines are tested, in the order of the report. */
export const GUIDE_NAMES = [
  "express",
  "fastify",
  "hono",
  "store-memory",
  "store-sqlite",
  "store-postgres",
  "store-redis",
  "account-recovery",
  "second-factors",
] as const;
export type GuideName = (typeof GUIDE_NAMES)[number];

/**
 * Guides whose complete example is an app factory run by its own test (`test/guides/recovery.test.ts`,
 * with an SMTP server; `test/guides/second-factors.test.ts`): here it is installed and typechecked only.
 */
export const TYPECHECK_ONLY_GUIDES: readonly GuideName[] = ["account-recovery", "second-factors"];

/** Framework guides end in a complete example that the test runs and logs in to. */
export const FRAMEWORK_GUIDES: readonly GuideName[] = ["express", "fastify", "hono"];

/** One `npm install` line of a guide: each becomes a fresh project. */
export interface InstallLine {
  guide: GuideName;
  /** The command as the guide writes it. */
  command: string;
  /** Its arguments after `npm install`, `login-manager` still in place. */
  args: string[];
  /** A project name: the guide's, plus the packages of an alternative line. */
  label: string;
}

/** A file of the guide's code, as the test writes it into a project. */
export interface GuideFile {
  name: string;
  text: string;
  /** Packages it imports (not `node:` built-ins, not login-manager): a project must install them. */
  packages: string[];
  /** Everything it imports from, login-manager's entry points included. */
  specifiers: string[];
}

/** What the test takes from one guide. */
export interface Guide {
  name: GuideName;
  path: string;
  markdown: string;
  installLines: InstallLine[];
  files: GuideFile[];
  /** The "Start it with `…`" line of a framework guide. */
  startLine: string | undefined;
}

/**
 * Reads a guide from docs/guides/.
 *
 * @example
 * ```ts
 * const express = readGuide("express"); // express.installLines[0].command: "npm install login-manager express"
 * ```
 */
export function readGuide(name: GuideName): Guide {
  const path = join(REPO_ROOT, "docs", "guides", `${name}.md`);
  const markdown = readFileSync(path, "utf8");
  return {
    name,
    path,
    markdown,
    installLines: installLines(name, markdown),
    files: guideFiles(markdown),
    startLine: /^Start it with `(.+)`\.?$/m.exec(markdown)?.[1],
  };
}

/** `npm install … login-manager …` commands of the guide's shell blocks, "# or: npm install …" included. */
function installLines(guide: GuideName, markdown: string): InstallLine[] {
  const commands = fencedBlocks(markdown)
    .filter((block) => block.info === "sh")
    .flatMap((block) => block.body.split("\n"))
    .flatMap((line) => line.split(/#\s*or:/))
    .map((command) => command.replace(/#.*$/, "").trim())
    .filter((command) => /^npm install\b/.test(command) && command.split(/\s+/).includes("login-manager"));
  return commands.map((command, index) => {
    if (/["'`$\\|&;<>()]/.test(command)) {
      throw new Error(`${guide}.md: the install test runs "${command}" without a shell and cannot quote it`);
    }
    const args = command.split(/\s+/).slice(2);
    const packages = args.filter((arg) => arg !== "login-manager" && !arg.startsWith("-"));
    const label = index === 0 ? guide : `${guide}-${packages.join("-")}`;
    return { guide, command, args, label };
  });
}

/** A `ts file=` block is a complete file; otherwise each `ts` block is a snippet of the user's app. */
function guideFiles(markdown: string): GuideFile[] {
  const blocks = fencedBlocks(markdown);
  const complete = blocks.filter((block) => block.info.startsWith("ts file="));
  if (complete.length > 0) {
    return complete.map((block) => fileOf(basename(block.info.slice("ts file=".length)), block.body));
  }
  const snippets = blocks.filter((block) => block.info === "ts").map((block) => block.body);
  return snippets.map((body, index) =>
    fileOf(`snippet-${index + 1}.ts`, withExports(withEarlierImports(body, snippets.slice(0, index)))),
  );
}

/** The snippet's manager, store and client, exported for the script that runs it. */
function withExports(snippet: string): string {
  const names = [...snippet.matchAll(/^const (manager|store|client)\b/gm)].map((match) => match[1]);
  return names.length === 0 ? snippet : `${snippet}\nexport { ${names.join(", ")} };\n`;
}

function fileOf(name: string, text: string): GuideFile {
  const specifiers = [...new Set(importsOf(text).map((entry) => entry.from))];
  const packages = specifiers.map(packageOf).filter((pkg): pkg is string => pkg !== undefined);
  return { name, text, packages: [...new Set(packages)], specifiers };
}

/** One name an import statement binds. */
interface ImportedName {
  statement: string;
  from: string;
  local: string;
  /** How to import just this name again. */
  alone: string;
}

const IMPORT = /^import\s+(type\s+)?(.+?)\s+from\s+"([^"]+)";?\s*$/gm;

function importsOf(code: string): ImportedName[] {
  const names: ImportedName[] = [];
  for (const [statement, typeOnly = "", clause = "", from = ""] of code.matchAll(IMPORT)) {
    const keyword = `import ${typeOnly}`;
    const braces = /\{([^}]*)\}/.exec(clause);
    const outside = clause
      .replace(/\{[^}]*\}/, "")
      .replace(/,\s*$/, "")
      .trim();
    if (outside.startsWith("* as ")) {
      const local = outside.slice(5).trim();
      names.push({ statement, from, local, alone: `${keyword}* as ${local} from "${from}";` });
    } else if (outside) {
      names.push({ statement, from, local: outside, alone: `${keyword}${outside} from "${from}";` });
    }
    for (const part of braces?.[1]?.split(",") ?? []) {
      const spec = part.trim();
      if (!spec) continue;
      const local =
        spec
          .split(/\s+as\s+/)
          .pop()
          ?.replace(/^type\s+/, "") ?? spec;
      names.push({ statement, from, local, alone: `${keyword}{ ${spec} } from "${from}";` });
    }
  }
  return names;
}

/**
 * A snippet goes on from the ones before it: a name it uses but neither imports nor declares is
 * imported as an earlier snippet imported it.
 */
function withEarlierImports(snippet: string, earlier: readonly string[]): string {
  const own = new Set(importsOf(snippet).map((entry) => entry.local));
  const withoutImports = snippet.replace(IMPORT, "");
  const carried = new Map<string, string>();
  for (const entry of earlier.flatMap(importsOf)) {
    if (own.has(entry.local) || carried.has(entry.local)) continue;
    const declared = new RegExp(`\\b(const|let|class|function)\\s+${entry.local}\\b`).test(withoutImports);
    if (!declared && new RegExp(`\\b${entry.local}\\b`).test(withoutImports)) {
      carried.set(entry.local, entry.alone);
    }
  }
  if (carried.size === 0) return snippet;
  return `${[...carried.values()].join("\n")}\n${snippet}`;
}

/** The npm package of an import specifier, or undefined for built-ins, relative files and ourselves. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("node:")) return undefined;
  const parts = specifier.split("/");
  const name = specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
  return name === "login-manager" ? undefined : name;
}

/** The guide's files whose imports the line's packages cover (an "or:" line covers its own snippet). */
export function filesFor(guide: Guide, line: InstallLine): GuideFile[] {
  const installed = new Set(installedPackages(line));
  return guide.files.filter((file) => file.packages.every((pkg) => installed.has(pkg)));
}

/** The packages an install line names, without versions: `pg@8` is `pg`, `@types/pg@8` is `@types/pg`. */
export function installedPackages(line: InstallLine): string[] {
  return line.args
    .filter((arg) => !arg.startsWith("-"))
    .map((arg) => {
      const at = arg.indexOf("@", 1);
      return at === -1 ? arg : arg.slice(0, at);
    });
}

/** Every guide in docs/guides/ whose shell blocks install login-manager, tested or not. */
export function guidesWithInstallLines(): string[] {
  const folder = join(REPO_ROOT, "docs", "guides");
  return readdirSync(folder)
    .filter((file) => file.endsWith(".md"))
    .map((file) => file.slice(0, -".md".length))
    .filter(
      (name) => installLines(name as GuideName, readFileSync(join(folder, `${name}.md`), "utf8")).length > 0,
    );
}
