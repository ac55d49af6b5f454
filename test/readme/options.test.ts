/**
 * The README's Options section against the library: its tables list every option (top level, then one
 * table per group) and nothing else, each default shown as a value is the one the manager resolves,
 * and its example builds a manager (an unknown or former flat name would throw).
 */
import { readFileSync } from "node:fs";
import { LoginManager } from "login-manager";
import { MemoryStore } from "login-manager/stores/memory";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { OPTION_GROUPS, TOP_LEVEL_NAMES } from "../../src/core/option-paths.js";
import { fencedBlocks } from "../helpers/markdown.js";

const SECRET = "readme-options-secret-0123456789abcdef";

/** The README from `## Options` up to the next `## ` heading. */
function optionsSection(): string {
  const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");
  const start = readme.indexOf("\n## Options\n");
  if (start === -1) throw new Error("README.md has no '## Options' section");
  const end = readme.indexOf("\n## ", start + 1);
  return readme.slice(start, end === -1 ? undefined : end);
}

interface OptionRow {
  path: string;
  defaultCell: string;
}

/** Table rows whose first cell is one backticked option path. */
function optionRows(section: string): OptionRow[] {
  const rows: OptionRow[] = [];
  for (const line of section.split("\n")) {
    const match = /^\| `([A-Za-z.]+)`\s*\| ([^|]*?)\s*\|/.exec(line);
    if (match?.[1] && match[2] !== undefined) rows.push({ path: match[1], defaultCell: match[2] });
  }
  return rows;
}

/** Every option path the manager accepts: the top-level names that are not groups, then `group.name`. */
function knownPaths(): string[] {
  const groups = Object.keys(OPTION_GROUPS);
  return [
    ...TOP_LEVEL_NAMES.filter((name) => !groups.includes(name)),
    ...Object.entries(OPTION_GROUPS).flatMap(([group, names]) => names.map((name) => `${group}.${name}`)),
  ];
}

/** The value at `path` ("session.idleTimeoutSeconds") of resolved options. */
function valueAt(options: object, path: string): unknown {
  return path.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown>)?.[key], options);
}

/** A default cell written as a JSON-like literal (`1800`, `"basic"`, `null`, `[...]`), or undefined. */
function literal(cell: string): { value: unknown } | undefined {
  const match = /^`([^`]+)`$/.exec(cell);
  if (!match?.[1]) return undefined;
  try {
    return { value: JSON.parse(match[1].replaceAll(/(\d)_(\d)/g, "$1$2")) };
  } catch {
    return undefined;
  }
}

describe("README: Options", () => {
  const section = optionsSection();
  const rows = optionRows(section);

  it("has a row for every option, once, and no row for an option that does not exist", () => {
    const paths = rows.map((row) => row.path);
    expect(new Set(paths).size, "an option is listed twice").toBe(paths.length);
    expect([...paths].sort()).toEqual(knownPaths().sort());
  });

  it("has a table per group, under a heading that names it", () => {
    for (const [group, names] of Object.entries(OPTION_GROUPS)) {
      const heading = section.indexOf(`\n### \`${group}\``);
      expect(heading, `no heading for ${group}`).toBeGreaterThan(-1);
      const table = section.slice(heading).split("\n### ")[1] ?? "";
      for (const name of names) expect(table).toContain(`| \`${group}.${name}\``);
    }
  });

  it("shows the defaults the manager resolves", () => {
    const resolved = new LoginManager({ secret: SECRET, store: new MemoryStore() }).options;
    let compared = 0;
    for (const { path, defaultCell } of rows) {
      if (defaultCell === "required") {
        expect(["secret", "store"]).toContain(path);
        continue;
      }
      const shown = literal(defaultCell);
      const actual = valueAt(resolved, path);
      if (defaultCell === "none") expect(actual, path).toBeUndefined();
      if (!shown) continue;
      expect(actual, path).toEqual(shown.value);
      compared += 1;
    }
    expect(compared).toBeGreaterThanOrEqual(30);
  });

  it("links the upgrade guide's mapping of the former flat names, whose heading exists", () => {
    expect(section).toContain("(docs/guides/migrating.md#upgrading-from-an-earlier-login-manager)");
    const guide = readFileSync(new URL("../../docs/guides/migrating.md", import.meta.url), "utf8");
    expect(guide).toMatch(/^## Upgrading from an earlier login-manager$/m);
  });

  it("builds a manager from its example, with the values it shows", () => {
    const block = fencedBlocks(section).find((candidate) => candidate.info === "ts");
    if (!block) throw new Error("the Options section has no ts block");
    const js = ts.transpileModule(block.body, {
      compilerOptions: { target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const env = { SECRET_KEY: SECRET, OLD_SECRET_KEY: `${SECRET}-old` };
    const build = new Function("LoginManager", "store", "users", "process", `return ${js.trim()}`);
    const users = { find: () => null };
    const manager = build(LoginManager, new MemoryStore(), users, { env }) as LoginManager;
    expect(manager).toBeInstanceOf(LoginManager);
    expect(manager.options.views.loginView).toBe("/login");
    expect(manager.options.network).toEqual({ trustProxyHops: 1, allowedHosts: ["app.example.com"] });
    expect(manager.options.session.idleTimeoutSeconds).toBe(1800);
  });
});
