/**
 * The outputs of a run: `bench/instr-results.json` and the section of BENCHMARKS.md between
 * `<!-- instr:begin -->` and `<!-- instr:end -->`, the only part of that file this script rewrites.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve, sep } from "node:path";
import type { Row, Verdict } from "./targets.js";
import { PEER_TARGETS, requiredShare } from "./targets.js";

/** Everything `bench/instr-results.json` holds. */
export interface InstrResults {
  readonly generated: string;
  /** The commit measured (`+dirty` when src/ had uncommitted changes). */
  readonly commit: string;
  readonly valgrind: string;
  /** A smoke run: too few requests for the JIT to settle, figures for checking the plumbing only. */
  readonly smoke: boolean;
  /** `dist` (the tsc build) or `src` (through tsx). */
  readonly lib: "dist" | "src";
  readonly method: {
    readonly requestsPerWindow: number;
    readonly warmupRounds: number;
    /** Requests per route and warm-up round (absent in files written before it was a setting: then requestsPerWindow). */
    readonly warmupRequests?: number;
    readonly settleRounds: number;
    readonly maxRounds: number;
    readonly tolerance: number;
    readonly v8Flags: readonly string[];
  };
  readonly wallSeconds: number;
  readonly rows: readonly Row[];
  readonly targets: readonly Verdict[];
  /** Cells not measured, and why. */
  readonly skipped: readonly string[];
}

export const BEGIN = "<!-- instr:begin -->";
export const END = "<!-- instr:end -->";
const HEADING = "## Instructions per request";

const kilo = (n: number) => `${(n / 1000).toFixed(1)}k`;
const mark = (met: boolean | undefined) => (met === undefined ? "n/a" : met ? "yes" : "**no**");

function table(head: readonly string[], rows: readonly (readonly string[])[]): string[] {
  return [
    `| ${head.join(" | ")} |`,
    `| ${head.map(() => "---").join(" | ")} |`,
    ...rows.map((row) => `| ${row.join(" | ")} |`),
  ];
}

function duration(seconds: number): string {
  return seconds < 120 ? `${seconds} s` : `${Math.round(seconds / 60)} min`;
}

function majorOf(version: string): string {
  return version.slice(1).split(".")[0] as string;
}

/** The share kept, bold when it misses its target, with a dagger when the rounds did not converge. */
function keptCell(row: Row): string {
  const required = requiredShare(row.framework, row.storeKey);
  const share = row.share.toFixed(2);
  const shown = required === undefined || row.share >= required ? share : `**${share}**`;
  return row.converged ? shown : `${shown} †`;
}

function oursTable(rows: readonly Row[], nodes: readonly string[]): string[] {
  const ours = rows.filter((row) => row.library === "login-manager");
  const cells = [...new Map(ours.map((row) => [`${row.framework}|${row.store}`, row])).values()];
  const head = ["framework", "store"];
  for (const node of nodes) head.push(`Node ${majorOf(node)}: /hello`, "/protected", "added", "kept");
  head.push("target (kept)");
  const body = cells.map((cell) => {
    const line = [cell.framework, cell.store];
    for (const node of nodes) {
      const row = ours.find(
        (r) => r.framework === cell.framework && r.store === cell.store && r.node === node,
      );
      if (!row) line.push("-", "-", "-", "-");
      else {
        line.push(kilo(row.hello), kilo(row.protected), `+${kilo(row.added)}`, keptCell(row));
      }
    }
    const required = requiredShare(cell.framework, cell.storeKey);
    line.push(required === undefined ? "none set" : `>= ${required.toFixed(2)}`);
    return line;
  });
  return table(head, body);
}

function peersTable(rows: readonly Row[]): string[] {
  const body: string[][] = [];
  for (const target of PEER_TARGETS) {
    for (const peer of rows.filter((row) => row.library === target.library)) {
      const ours = rows.find(
        (row) =>
          row.library === "login-manager" &&
          row.framework === target.framework &&
          row.storeKey === target.ours &&
          row.node === peer.node,
      );
      const ratio = ours ? peer.added / ours.added : undefined;
      body.push([
        `${peer.library} (${peer.framework}, ${peer.store})`,
        majorOf(peer.node),
        kilo(peer.hello),
        `${kilo(peer.protected)}${peer.converged ? "" : " †"}`,
        `+${kilo(peer.added)}`,
        ours ? `+${kilo(ours.added)} (${ours.store})` : "not measured",
        ratio === undefined ? "-" : `${ratio.toFixed(1)}x`,
        `>= ${target.required}x`,
        mark(ratio === undefined ? undefined : ratio >= target.required),
      ]);
    }
  }
  return table(
    ["peer", "Node", "/hello", "/protected", "added", "login-manager adds", "ratio", "target", "met"],
    body,
  );
}

/** The rows counted with fewer requests per window than the run's (see Cell.requestScale). */
function scaledNote(rows: readonly Row[], requests: number): string[] {
  const scaled = rows.filter(
    (row) => row.requestsPerWindow !== undefined && row.requestsPerWindow !== requests,
  );
  if (scaled.length === 0) return [];
  const names = [
    ...new Set(
      scaled.map(
        (row) =>
          `${row.library} (${row.requestsPerWindow} requests per window and route, warm-up rounds cut in the same proportion)`,
      ),
    ),
  ];
  return ["", `Counted with fewer requests, as each costs many times ours: ${names.join(", ")}.`];
}

/**
 * The Markdown between the markers: how it was measured, login-manager's table, the peers' table and
 * the count of targets met.
 *
 * @example
 * ```ts
 * const lines = sectionBody(results);
 * ```
 */
export function sectionBody(results: InstrResults): string[] {
  const nodes = [...new Set(results.rows.map((row) => row.node))].sort(
    (a, b) => Number(majorOf(a)) - Number(majorOf(b)),
  );
  const met = results.targets.filter((t) => t.met === true).length;
  const unconverged = results.rows.filter((row) => !row.converged);
  const m = results.method;
  const warmup = m.warmupRequests ?? m.requestsPerWindow;
  return [
    ...(results.smoke
      ? ["**Smoke run: too few requests for V8 to settle; these figures check the plumbing only.**", ""]
      : []),
    `Generated by \`npm run bench:instr\` (\`bench/instr.ts\`) on ${results.generated.slice(0, 10)} at commit ` +
      `\`${results.commit.slice(0, 12)}${results.commit.endsWith("+dirty") ? "+dirty" : ""}\`, Node ${nodes.join(" and ")}, ${results.valgrind}; ` +
      `library loaded from \`${results.lib}/\`; the run took ${duration(results.wallSeconds)}. Raw figures: [bench/instr-results.json](bench/instr-results.json).`,
    "",
    "Instructions per request on the server's main thread, counted by `valgrind --tool=callgrind " +
      "--separate-threads=yes`. One server process per row: after the login and " +
      `${m.warmupRounds} warm-up rounds of ${warmup} requests to \`/hello\` then ${warmup} to \`/protected\` ` +
      `(instrumentation off), counted rounds of ${m.requestsPerWindow} then ${m.requestsPerWindow}, each window opened by emptying the young ` +
      "generation and `callgrind_control --zero`, closed by `callgrind_control --dump`; rounds go on until the " +
      `last ${m.settleRounds} agree within ${(m.tolerance * 100).toFixed(1)}% on both routes (at most ${m.maxRounds} rounds), and the figure is their mean. ` +
      "One keep-alive connection from a client process, one request at a time. `/hello` is served before " +
      "login-manager; `/protected` is behind `loginRequired` and reads `currentUser()`. kept = /hello ÷ " +
      "/protected; added = /protected − /hello. Both routes get the same headers (the session cookie " +
      `included). The servers run with \`${m.v8Flags.join(" ")}\` (a fixed young generation; no memory ` +
      "reducer, which under valgrind takes the slowed process for an idle one) and `--expose-gc`. Kernel " +
      "time (the socket writes) is not counted; neither are V8's compiler and GC threads.",
    "",
    ...oursTable(results.rows, nodes),
    "",
    ...peersTable(results.rows),
    "",
    `Targets met: ${met} of ${results.targets.length} (bold: missed).` +
      (unconverged.length
        ? ` †: ${unconverged.length} of ${results.rows.length} rows did not converge (their last ${m.settleRounds} rounds differ by more than ${(m.tolerance * 100).toFixed(1)}%; see \`spread\` in the JSON).`
        : ` Every row converged (largest spread over the last ${m.settleRounds} rounds: ${(Math.max(...results.rows.map((row) => row.spread)) * 100).toFixed(2)}%).`),
    ...scaledNote(results.rows, m.requestsPerWindow),
    ...(results.skipped.length ? ["", ...results.skipped.map((line) => `- Not measured: ${line}`)] : []),
  ];
}

/**
 * Replaces the text between the markers of BENCHMARKS.md with `body`, or, when the file has no
 * markers yet, adds the section (heading and markers) before `## Part 1` (at the end when absent).
 *
 * @example
 * ```ts
 * writeSection("BENCHMARKS.md", sectionBody(results));
 * ```
 */
export function writeSection(file: string, body: readonly string[]): void {
  const text = existsSync(file) ? readFileSync(file, "utf8") : "# Benchmarks\n";
  const block = [BEGIN, ...body, END].join("\n");
  const begin = text.indexOf(BEGIN);
  const end = text.indexOf(END);
  if (begin >= 0 && end > begin) {
    writeFileSync(file, text.slice(0, begin) + block + text.slice(end + END.length));
  } else {
    const section = `${HEADING}\n\n${block}\n\n`;
    const anchor = text.indexOf("\n## Part 1");
    writeFileSync(
      file,
      anchor >= 0
        ? text.slice(0, anchor + 1) + section + text.slice(anchor + 1)
        : `${text.trimEnd()}\n\n${section}`,
    );
  }
  formatMarkdown(file);
}

/** Pads the table columns the way the project's formatter (Biome) does, so `npm run lint` stays green. */
function formatMarkdown(file: string): void {
  const root = process.cwd();
  const biome = join(root, "node_modules", ".bin", "biome");
  // Only the project's own BENCHMARKS.md: one elsewhere (BENCH_INSTR_OUT_DIR) stays as written.
  if (!resolve(file).startsWith(`${root}${sep}`) || !existsSync(biome)) return;
  execFileSync(biome, ["format", "--write", file], { stdio: "ignore" });
}

/**
 * Writes `bench/instr-results.json`.
 *
 * @example
 * ```ts
 * writeJson("bench/instr-results.json", results);
 * ```
 */
export function writeJson(file: string, results: InstrResults): void {
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, `${JSON.stringify(results, null, 2)}\n`);
}
