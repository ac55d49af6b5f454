/**
 * A bench server under `valgrind --tool=callgrind`, and the two commands the instrument sends it
 * through `callgrind_control` (valgrind's gdbserver, which reaches the process even while it sleeps
 * in epoll_wait): `--zero` after the warm-up, `--dump=<label>` after each route. Each dump holds the
 * instructions since the previous zero or dump, one file per thread; the main thread's is `-01`.
 *
 * @module
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline";

/** A server running under callgrind. */
export interface CallgrindServer {
  readonly port: number;
  /** The pid of the valgrind process, which is the server's (valgrind runs it in place). */
  readonly pid: number;
  /** Turns instrumentation on (valgrind then retranslates the code it runs: slower, and counted). */
  instrument(): void;
  /** Has the server empty its young generation (see gc-signal.ts); resolves once it has. */
  emptyYoungGeneration(): Promise<void>;
  /** V8's tiering events so far (the server must run with `--trace-opt --trace-deopt`). */
  jitEvents(): JitEvents;
  /** Zeroes every thread's counters. */
  zero(): void;
  /** Writes the counters since the last zero or dump to files labelled `label`, then zeroes them. */
  dump(label: string): void;
  /** The main thread's instructions in the dump labelled `label`. */
  mainThreadInstructions(label: string): number;
  /** The main thread's file of the dump labelled `label`. */
  mainThreadFile(label: string): string;
  stop(): Promise<void>;
}

/** How to start one server under callgrind. */
export interface CallgrindStart {
  readonly name: string;
  readonly node: string;
  /** Arguments after the Node binary (e.g. `--import tsx server.ts`). */
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly cwd: string;
  /** Where the callgrind files go. */
  readonly outDir: string;
  readonly readyTimeoutMs: number;
}

const live = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of live) child.kill("SIGKILL");
});

/**
 * Starts `node <args>` under callgrind with instrumentation off (start-up and warm-up then run several
 * times faster; {@link CallgrindServer.instrument} turns it on), counts kept per thread
 * (`--separate-threads=yes`), and resolves once the server prints `{"ready":true,"port":N}`.
 *
 * @example
 * ```ts
 * const server = await startUnderCallgrind({ name: "fastify-memory", node, args, env, cwd, outDir, readyTimeoutMs: 300_000 });
 * ```
 */
export async function startUnderCallgrind(start: CallgrindStart): Promise<CallgrindServer> {
  const prefix = join(start.outDir, start.name);
  const child = spawn(
    "valgrind",
    [
      "--tool=callgrind",
      "--separate-threads=yes",
      "--instr-atstart=no",
      `--callgrind-out-file=${prefix}.%p`,
      start.node,
      ...start.args,
    ],
    { cwd: start.cwd, env: start.env, stdio: ["ignore", "pipe", "pipe"] },
  );
  live.add(child);
  child.once("exit", () => live.delete(child));
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-6000);
  });
  const jitEvents: JitEvents = { optimisations: 0, deoptimisations: 0 };
  const lines = serverLines(child, jitEvents);
  let port: number;
  try {
    port = await readyPort(child, start, lines);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  const pid = child.pid as number;
  const gc = { answered: 0 };
  const fileOf = (label: string) => dumpFile(start.outDir, `${start.name}.${pid}.`, label);
  return {
    port,
    pid,
    instrument: () => control(pid, ["--instr=on"]),
    emptyYoungGeneration: () => collected(child, lines, gc),
    jitEvents: () => ({ ...jitEvents }),
    zero: () => control(pid, ["--zero"]),
    dump: (label) => control(pid, [`--dump=${label}`]),
    mainThreadFile: fileOf,
    mainThreadInstructions: (label) => summaryOf(readFileSync(fileOf(label), "utf8")),
    stop: () => stop(child),
  };
}

/** The JSON lines a server prints on stdout, handed to whoever waits for one. */
type LineWaiters = Set<(line: Record<string, unknown>) => void>;

/**
 * V8's tiering events seen so far, from `--trace-opt --trace-deopt` on the server's stdout: functions
 * marked for optimisation, and deoptimisations.
 */
export interface JitEvents {
  optimisations: number;
  deoptimisations: number;
}

function countJitEvent(line: string, events: JitEvents): void {
  if (line.startsWith("[marking ") && line.includes(" for optimization")) events.optimisations++;
  else if (line.startsWith("[bailout ")) events.deoptimisations++;
}

function serverLines(child: ChildProcess, events: JitEvents): LineWaiters {
  const waiters: LineWaiters = new Set();
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    countJitEvent(line, events);
    if (!line.startsWith("{")) return;
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return;
    }
    for (const waiter of waiters) waiter(parsed);
  });
  return waiters;
}

function nextLine(
  child: ChildProcess,
  lines: LineWaiters,
  what: string,
  matches: (line: Record<string, unknown>) => boolean,
  timeoutMs: number,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const done = () => {
      clearTimeout(timer);
      lines.delete(waiter);
      child.off("exit", exited);
    };
    const waiter = (line: Record<string, unknown>) => {
      if (!matches(line)) return;
      done();
      resolve(line);
    };
    const exited = (code: number | null, signal: string | null) => {
      done();
      reject(new Error(`${what}: the server exited (code ${code}, signal ${signal})`));
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`${what}: no answer after ${timeoutMs} ms`));
    }, timeoutMs);
    lines.add(waiter);
    child.once("exit", exited);
  });
}

async function readyPort(child: ChildProcess, start: CallgrindStart, lines: LineWaiters): Promise<number> {
  const line = await nextLine(
    child,
    lines,
    `${start.name} ready`,
    (l) => l.ready === true,
    start.readyTimeoutMs,
  );
  return Number(line.port);
}

async function collected(child: ChildProcess, lines: LineWaiters, gc: { answered: number }): Promise<void> {
  // A signal to a process under valgrind was seen to go unanswered once in a few hundred (no answer
  // in two minutes on a loaded machine): ask again every 30 s. Answers carry the collection count,
  // and one that a repeated signal may still bring is waited for (briefly) here, so that it is not
  // taken for the next window's.
  const expected = gc.answered + 1;
  const answerTo = (count: number, timeoutMs: number) =>
    nextLine(
      child,
      lines,
      "young-generation GC",
      (l) => typeof l.instrGc === "number" && l.instrGc >= count,
      timeoutMs,
    );
  const answer = answerTo(expected, 180_000);
  child.kill("SIGUSR2");
  let repeated = 0;
  const again = setInterval(() => {
    repeated++;
    child.kill("SIGUSR2");
  }, 30_000);
  try {
    gc.answered = Number((await answer).instrGc);
  } finally {
    clearInterval(again);
  }
  if (repeated > 0 && gc.answered < expected + repeated) {
    const late = await answerTo(expected + repeated, 5_000).catch(() => undefined);
    if (late) gc.answered = Number(late.instrGc);
  }
}

function control(pid: number, args: readonly string[]): void {
  execFileSync("callgrind_control", [...args, String(pid)], { stdio: ["ignore", "pipe", "pipe"] });
}

/**
 * Finds the main thread's file of a dump: callgrind names dumps `<prefix>.<pid>.<n>-<thread>` and
 * writes the label in a `desc: Trigger:` line.
 */
function dumpFile(dir: string, stem: string, label: string): string {
  for (const name of readdirSync(dir)) {
    if (!name.startsWith(stem) || !name.endsWith("-01")) continue;
    const path = join(dir, name);
    if (readFileSync(path, "utf8").slice(0, 2000).includes(`desc: Trigger: dump ${label}\n`)) return path;
  }
  throw new Error(`no callgrind dump labelled ${label} for ${stem} in ${dir}`);
}

/**
 * The `summary:` line of a callgrind file: the instructions of its thread over the dumped interval.
 *
 * @example
 * ```ts
 * summaryOf("events: Ir\nsummary: 1234\n"); // 1234
 * ```
 */
export function summaryOf(text: string): number {
  const match = /^summary: (\d+)$/m.exec(text);
  if (!match?.[1]) throw new Error("no summary line in the callgrind file");
  return Number(match[1]);
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const timer = setTimeout(() => child.kill("SIGKILL"), 60_000);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill("SIGTERM");
  });
}
