/**
 * The largest self costs of one callgrind dump, through `callgrind_annotate`. Code that V8 compiled
 * at run time has no symbols for valgrind (it shows as `???:0x…`): with the perf map that
 * `node --perf-basic-prof` writes (BENCH_INSTR_JS_NAMES=1), each address is named after its
 * JavaScript function; without it, all of it is added up into one entry.
 *
 * @module
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

/** One function's own instructions (its callees excluded), per request. */
export interface SelfCost {
  readonly function: string;
  readonly perRequest: number;
}

/** The name every run-time-compiled function is counted under. */
export const JIT_CODE = "(JavaScript compiled by V8 at run time, all functions)";

const LINE = /^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+)$/;

/** Names run-time code by address; the last entry covering an address wins (code is reused). */
export type CodeNamer = (address: bigint) => string | undefined;

/**
 * Reads a perf map (`/tmp/perf-<pid>.map`: `start size name` in hex, one code object a line).
 *
 * @example
 * ```ts
 * const name = perfMapNamer("/tmp/perf-123.map")(0x281ae440n); // "JS:*parserOnIncoming node:_http_server:..."
 * ```
 */
export function perfMapNamer(file: string): CodeNamer {
  const entries = readFileSync(file, "utf8")
    .split("\n")
    .flatMap((line) => {
      const match = /^([0-9a-f]+) ([0-9a-f]+) (.+)$/i.exec(line);
      if (!match?.[1] || !match[2] || !match[3]) return [];
      const start = BigInt(`0x${match[1]}`);
      return [{ start, end: start + BigInt(`0x${match[2]}`), name: match[3] }];
    });
  return (address) => {
    for (let i = entries.length - 1; i >= 0; i--) {
      const entry = entries[i] as (typeof entries)[number];
      if (address >= entry.start && address < entry.end) return entry.name;
    }
    return undefined;
  };
}

function functionName(raw: string, namer: CodeNamer | undefined): string {
  const withoutObject = raw.replace(/\s+\[[^\]]*\]$/, "");
  const name = withoutObject.replace(/^\?\?\?:/, "");
  if (!/^0x[0-9a-f]+$/i.test(name)) return name;
  return namer?.(BigInt(name)) ?? JIT_CODE;
}

/**
 * Parses `callgrind_annotate --threshold=100` output into self costs by function; run-time code is
 * named by `namer`, or summed under {@link JIT_CODE}.
 *
 * @example
 * ```ts
 * parseAnnotate(" 1,000 ( 5.00%)  ???:Builtins_LoadIC [/usr/bin/node]\n"); // Map { "Builtins_LoadIC" => 1000 }
 * ```
 */
export function parseAnnotate(text: string, namer?: CodeNamer): Map<string, number> {
  const costs = new Map<string, number>();
  for (const line of text.split("\n")) {
    const match = LINE.exec(line);
    if (!match?.[1] || !match[2] || match[2].includes("PROGRAM TOTALS")) continue;
    const name = functionName(match[2], namer);
    costs.set(name, (costs.get(name) ?? 0) + Number(match[1].replaceAll(",", "")));
  }
  return costs;
}

/**
 * The `count` largest self costs of a dump, divided by the requests it covers.
 *
 * @example
 * ```ts
 * topSelfCosts(row.protectedDump, 1000, 10); // [{ function: "(JavaScript compiled ...)", perRequest: 23969 }, ...]
 * ```
 */
export function topSelfCosts(file: string, requests: number, count: number, perfMap?: string): SelfCost[] {
  const text = execFileSync("callgrind_annotate", ["--threshold=100", "--auto=no", file], {
    encoding: "utf8",
    maxBuffer: 256 << 20,
  });
  const namer = perfMap && existsSync(perfMap) ? perfMapNamer(perfMap) : undefined;
  return [...parseAnnotate(text, namer)]
    .sort((a, b) => b[1] - a[1])
    .slice(0, count)
    .map(([name, total]) => ({ function: name, perRequest: Math.round(total / requests) }));
}
