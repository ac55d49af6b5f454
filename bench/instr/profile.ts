/**
 * Where `/protected`'s extra instructions go, from the files a `npm run bench:instr` run kept:
 *
 *   BENCH_INSTR_KEEP=/tmp/keep BENCH_INSTR_JS_NAMES=1 BENCH_INSTR_FRAMEWORKS=fastify \
 *     BENCH_INSTR_STORES=memory BENCH_INSTR_PEERS= BENCH_INSTR_NODES=24 npm run bench:instr
 *   npx tsx bench/instr/profile.ts /tmp/keep lm-fastify-memory-node24 [--requests 500] [--round N] \
 *     [--fn name]... [--callers name-fragment]...
 *
 * Prints, per request and for the last counted round (or round N): the self instructions of each
 * area (see areas.ts) on `/hello`, on `/protected` and the difference; the functions whose self cost
 * grew most; and the inclusive cost on `/protected` of login-manager's entry points and of a few
 * functions of Node and the frameworks (`--fn name` adds one); with `--callers`, who calls a function
 * and what those calls cost. Inclusive costs count what a function
 * called; functions V8 inlined into others have no line of their own.
 *
 * @module
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { perfMapNamer } from "./annotate.js";
import { areaOf } from "./areas.js";
import { type CallCosts, type Profile, readCallgrind } from "./callgrind-file.js";

/** Functions whose inclusive cost is printed (matched as `'name ` or `name ` in a JS name, or a native prefix). */
const ENTRY_POINTS = [
  "loginManagerHook",
  "loginManagerHostCheck",
  "loginManagerMiddleware",
  "admitThenNext",
  "proceed",
  "admit",
  "identify",
  "#contextFor",
  "AuthContext",
  "readCookies",
  "loadRequestUser",
  "loadFromSession",
  "loadSessionUser",
  "findSession",
  "getSession",
  "hashToken",
  "constantTimeEqual",
  "parseTokenPair",
  "fingerprintMatches",
  "clientFingerprint",
  "isHttps",
  "runInContext",
  "runWithAuth",
  "run",
  "loginRequired",
  "guard",
  "guardReply",
  "currentUser",
  "setHeader",
  "appendVary",
  "header",
  "flush",
];

interface Dumps {
  readonly hello: string;
  readonly protected: string;
  readonly perfMap: string | undefined;
  readonly round: number;
}

function labelOf(file: string): string | undefined {
  return /^desc: Trigger: dump (\S+)$/m.exec(readFileSync(file, "utf8").slice(0, 2000))?.[1];
}

function findDumps(dir: string, cell: string, round: number | undefined): Dumps {
  const byLabel = new Map<string, string>();
  let pid: string | undefined;
  for (const name of readdirSync(dir)) {
    const match = new RegExp(`^${cell}\\.(\\d+)\\.\\d+-01$`).exec(name);
    if (!match) continue;
    pid = match[1];
    const label = labelOf(join(dir, name));
    if (label) byLabel.set(label, join(dir, name));
  }
  const rounds = [...byLabel.keys()].flatMap((label) => {
    const n = /^protected-(\d+)$/.exec(label)?.[1];
    return n === undefined ? [] : [Number(n)];
  });
  const chosen = round ?? Math.max(...rounds);
  const hello = byLabel.get(`hello-${chosen}`);
  const guarded = byLabel.get(`protected-${chosen}`);
  if (!hello || !guarded) throw new Error(`no dumps of round ${chosen} for ${cell} in ${dir}`);
  const map = pid ? join(dir, `perf-${pid}.map`) : undefined;
  const perfMap = map && readdirSync(dir).includes(`perf-${pid}.map`) ? map : undefined;
  return { hello, protected: guarded, perfMap, round: chosen };
}

function byArea(profile: Profile): Map<string, number> {
  const areas = new Map<string, number>();
  for (const [name, cost] of profile) {
    const area = areaOf(name);
    areas.set(area, (areas.get(area) ?? 0) + cost.self);
  }
  return areas;
}

const perRequest = (n: number, requests: number) => Math.round(n / requests).toLocaleString("en-US");

function areaTable(hello: Profile, guarded: Profile, requests: number): string[] {
  const before = byArea(hello);
  const after = byArea(guarded);
  const areas = [...new Set([...before.keys(), ...after.keys()])];
  const added = (area: string) => (after.get(area) ?? 0) - (before.get(area) ?? 0);
  areas.sort((a, b) => added(b) - added(a));
  const total = (m: Map<string, number>) => [...m.values()].reduce((s, v) => s + v, 0);
  return [
    "| area | /hello | /protected | added |",
    "| --- | ---: | ---: | ---: |",
    ...areas
      .filter((area) => Math.abs(added(area)) >= requests * 50)
      .map(
        (area) =>
          `| ${area} | ${perRequest(before.get(area) ?? 0, requests)} | ${perRequest(after.get(area) ?? 0, requests)} | ${perRequest(added(area), requests)} |`,
      ),
    `| total | ${perRequest(total(before), requests)} | ${perRequest(total(after), requests)} | ${perRequest(total(after) - total(before), requests)} |`,
  ];
}

function topGrowth(hello: Profile, guarded: Profile, requests: number, count: number): string[] {
  const names = [...new Set([...hello.keys(), ...guarded.keys()])];
  const growth = (name: string) => (guarded.get(name)?.self ?? 0) - (hello.get(name)?.self ?? 0);
  names.sort((a, b) => growth(b) - growth(a));
  return [
    "| function (self) | added per request | area |",
    "| --- | ---: | --- |",
    ...names
      .slice(0, count)
      .map(
        (name) => `| \`${name.slice(0, 110)}\` | ${perRequest(growth(name), requests)} | ${areaOf(name)} |`,
      ),
  ];
}

function matches(name: string, fn: string): boolean {
  if (/^(?:JS|Script):/.test(name))
    return name.includes(`'${fn} `) || name.includes(`*${fn} `) || name.includes(`~${fn} `);
  return name === fn || name.startsWith(`${fn}(`);
}

function inclusiveTable(guarded: Profile, requests: number, functions: readonly string[]): string[] {
  const rows: string[] = [];
  for (const fn of functions) {
    for (const [name, cost] of guarded) {
      if (!matches(name, fn) || cost.inclusive < requests * 20) continue;
      rows.push(
        `| \`${name.slice(0, 110)}\` | ${perRequest(cost.inclusive, requests)} | ${perRequest(cost.self, requests)} |`,
      );
    }
  }
  return ["| function on /protected | inclusive per request | self |", "| --- | ---: | ---: |", ...rows];
}

/** Who calls the functions whose name contains `fragment`, and what those calls cost, on /protected. */
function callersTable(calls: CallCosts, requests: number, fragment: string): string[] {
  const rows: [string, string, number][] = [];
  for (const [caller, callees] of calls) {
    for (const [callee, cost] of callees) if (callee.includes(fragment)) rows.push([caller, callee, cost]);
  }
  rows.sort((a, b) => b[2] - a[2]);
  return [
    `| caller of \`${fragment}\` on /protected | callee | per request |`,
    "| --- | --- | ---: |",
    ...rows
      .slice(0, 15)
      .map(
        ([caller, callee, cost]) =>
          `| \`${caller.slice(0, 100)}\` | \`${callee.slice(0, 60)}\` | ${perRequest(cost, requests)} |`,
      ),
  ];
}

function main(argv: readonly string[]): void {
  const [dir, cell] = argv;
  if (!dir || !cell)
    throw new Error(
      "usage: profile.ts <keep dir> <cell, e.g. lm-fastify-memory-node24> [--requests N] [--round N] [--fn name]...",
    );
  const option = (flag: string) => {
    const index = argv.indexOf(flag);
    return index >= 0 ? argv[index + 1] : undefined;
  };
  const requests = Number(option("--requests") ?? 500);
  const roundOption = option("--round");
  const extra = argv.flatMap((arg, i) => (arg === "--fn" && argv[i + 1] ? [argv[i + 1] as string] : []));
  const dumps = findDumps(dir, cell, roundOption === undefined ? undefined : Number(roundOption));
  const namer = dumps.perfMap ? perfMapNamer(dumps.perfMap) : undefined;
  const hello = readCallgrind(dumps.hello, namer);
  const calls: CallCosts = new Map();
  const guarded = readCallgrind(dumps.protected, namer, calls);
  const callers = argv.flatMap((arg, i) =>
    arg === "--callers" && argv[i + 1] ? [argv[i + 1] as string] : [],
  );
  const out = [
    `${cell}, round ${dumps.round}, ${requests} requests per window${namer ? "" : " (no perf map: JIT code unnamed)"}`,
    "",
    ...areaTable(hello, guarded, requests),
    "",
    ...topGrowth(hello, guarded, requests, 40),
    "",
    ...inclusiveTable(guarded, requests, [...ENTRY_POINTS, ...extra]),
    ...callers.flatMap((fragment) => ["", ...callersTable(calls, requests, fragment)]),
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}

main(process.argv.slice(2));
