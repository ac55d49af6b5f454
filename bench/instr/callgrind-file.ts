/**
 * Reads one callgrind file (one thread of one dump) into self and inclusive instructions per
 * function, with run-time-compiled code named through a perf map (see annotate.ts). Used by
 * `bench/instr/profile.ts` to say where `/protected`'s extra instructions go.
 *
 * The format (valgrind's docs, "Callgrind Format Specification"): `fn=(id) name` starts a function's
 * cost lines (`position cost`); `cfn=(id) name` then `calls=count position` announce a call, and the
 * cost line right after it is the call's inclusive cost, not the caller's own.
 *
 * @module
 */
import { readFileSync } from "node:fs";
import type { CodeNamer } from "./annotate.js";

/** One function's instructions in a dump. */
export interface FunctionCost {
  /** Its own instructions. */
  self: number;
  /** Its own plus those of everything it called (calls to itself not counted twice). */
  inclusive: number;
}

/** Per function name (run-time code named through the perf map when given). */
export type Profile = Map<string, FunctionCost>;

/** The inclusive cost of the calls from one function to another: `calls.get(caller)?.get(callee)`. */
export type CallCosts = Map<string, Map<string, number>>;

const COMPRESSED = /^\((\d+)\)(?: (.*))?$/;

/** `(12) name` defines id 12; `(12)` refers to it. */
function resolveName(spec: string, names: Map<string, string>): string {
  const match = COMPRESSED.exec(spec.trim());
  if (!match?.[1]) return spec.trim();
  if (match[2] !== undefined) names.set(match[1], match[2]);
  return names.get(match[1]) ?? `(${match[1]})`;
}

/** The cost of a cost line: its last field (the file records one event, Ir). */
function costOf(line: string): number {
  const fields = line.trim().split(/\s+/);
  return fields.length >= 2 ? Number(fields[fields.length - 1]) : 0;
}

/**
 * A function name as shown: `0x…` addresses of JIT code named by `namer` (else one bucket), the
 * rest as callgrind wrote them.
 */
function displayName(raw: string, namer: CodeNamer | undefined, cache: Map<string, string>): string {
  if (!/^0x[0-9a-f]+$/i.test(raw)) return raw;
  let name = cache.get(raw);
  if (name === undefined) {
    name = namer?.(BigInt(raw)) ?? "(JIT code without a name)";
    cache.set(raw, name);
  }
  return name;
}

function entryOf(profile: Profile, name: string): FunctionCost {
  let entry = profile.get(name);
  if (!entry) {
    entry = { self: 0, inclusive: 0 };
    profile.set(name, entry);
  }
  return entry;
}

function addCall(calls: CallCosts, caller: string, callee: string, cost: number): void {
  let callees = calls.get(caller);
  if (!callees) {
    callees = new Map();
    calls.set(caller, callees);
  }
  callees.set(callee, (callees.get(callee) ?? 0) + cost);
}

/**
 * Parses the text of a callgrind file; with `calls`, also records the cost of each caller → callee
 * pair there.
 *
 * @example
 * ```ts
 * parseCallgrind("fn=(1) main\n1 10\ncfn=(2) f\ncalls=1 2\n1 5\nfn=(2)\n2 5\n").get("main"); // { self: 10, inclusive: 15 }
 * ```
 */
export function parseCallgrind(text: string, namer?: CodeNamer, calls?: CallCosts): Profile {
  const profile: Profile = new Map();
  const names = new Map<string, string>();
  const named = new Map<string, string>();
  let current: FunctionCost | undefined;
  let currentName = "";
  let callee: string | undefined;
  let callCost = false;
  for (const line of text.split("\n")) {
    if (line.startsWith("fn=")) {
      currentName = displayName(resolveName(line.slice(3), names), namer, named);
      current = entryOf(profile, currentName);
    } else if (line.startsWith("cfn=")) {
      callee = displayName(resolveName(line.slice(4), names), namer, named);
    } else if (line.startsWith("calls=")) {
      callCost = true;
    } else if (/^[0-9+\-*]/.test(line) && current) {
      const cost = costOf(line);
      if (callCost) {
        // A call from a function to itself (recursion, or two JIT ranges of one name) is already in
        // its inclusive cost.
        if (callee !== currentName) current.inclusive += cost;
        if (calls && callee !== undefined) addCall(calls, currentName, callee, cost);
        callCost = false;
      } else {
        current.self += cost;
        current.inclusive += cost;
      }
    }
  }
  return profile;
}

/**
 * Reads and parses a callgrind file.
 *
 * @example
 * ```ts
 * const profile = readCallgrind("/tmp/keep/lm-fastify-memory-node24.123.10-01", perfMapNamer("/tmp/keep/perf-123.map"));
 * ```
 */
export function readCallgrind(file: string, namer?: CodeNamer, calls?: CallCosts): Profile {
  return parseCallgrind(readFileSync(file, "utf8"), namer, calls);
}
