import { type ChildProcess, spawn } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { createInterface } from "node:readline";

/** A server under test running as a child process. */
export interface ServerHandle {
  name: string;
  port: number;
  pid: number;
  info: Record<string, unknown>;
  child: ChildProcess;
  stop(): Promise<void>;
}

const children = new Set<ChildProcess>();
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    for (const child of children) child.kill("SIGTERM");
    process.exit(130);
  });
}
process.once("exit", () => {
  for (const child of children) child.kill("SIGKILL");
});

function track(child: ChildProcess, name: string, readyTimeoutMs: number): Promise<never> {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return new Promise<never>((_resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name}: not ready after ${readyTimeoutMs} ms`)),
      readyTimeoutMs,
    );
    timer.unref();
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name}: exited early (code ${code}, signal ${signal})`));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
      child.once("exit", () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill("SIGTERM");
    });
}

/**
 * The Node binary that runs the processes under test (servers, the scale and raw-hashing scripts):
 * BENCH_NODE when set (another Node version, to compare), else the one running the bench.
 *
 * @example
 * ```ts
 * spawn(nodeUnderTest(), ["--import", "tsx", script]);
 * ```
 */
export function nodeUnderTest(): string {
  return process.env.BENCH_NODE || process.execPath;
}

/**
 * Starts a Node server script (TypeScript through tsx) that prints `{"ready":true,"port":N}` on
 * stdout once listening, and resolves with its handle.
 */
export async function startNodeServer(
  name: string,
  script: string,
  env: Record<string, string>,
  options: { cpuProfDir?: string; readyTimeoutMs?: number } = {},
): Promise<ServerHandle> {
  const args = ["--import", "tsx"];
  if (options.cpuProfDir)
    args.push("--cpu-prof", "--cpu-prof-dir", options.cpuProfDir, `--cpu-prof-name=${name}.cpuprofile`);
  const child = spawn(nodeUnderTest(), [...args, script], {
    env: { ...process.env, NODE_ENV: "production", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const failed = track(child, name, options.readyTimeoutMs ?? 60_000);
  const ready = new Promise<Record<string, unknown>>((resolve) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.on("line", (line) => {
      if (!line.startsWith("{")) return;
      try {
        const parsed = JSON.parse(line) as Record<string, unknown>;
        if (parsed.ready) resolve(parsed);
      } catch {
        // not our line
      }
    });
  });
  let info: Record<string, unknown>;
  try {
    info = await Promise.race([ready, failed]);
  } catch (error) {
    child.kill("SIGKILL");
    throw new Error(`${(error as Error).message}\n${stderr}`);
  }
  failed.catch(() => undefined);
  return { name, port: Number(info.port), pid: Number(info.pid), info, child, stop: stopper(child) };
}

/** Starts any command that serves HTTP on `port` and resolves once `probePath` answers. */
export async function startCommandServer(
  name: string,
  command: string,
  args: string[],
  port: number,
  probePath: string,
  options: { cwd?: string; readyTimeoutMs?: number } = {},
): Promise<ServerHandle> {
  const child = spawn(command, args, {
    cwd: options.cwd,
    stdio: ["ignore", "ignore", "pipe"],
    detached: false,
  });
  let stderr = "";
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const failed = track(child, name, options.readyTimeoutMs ?? 30_000);
  failed.catch(() => undefined);
  const deadline = Date.now() + (options.readyTimeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name}: exited early\n${stderr}`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}${probePath}`);
      await response.arrayBuffer();
      if (response.ok) return { name, port, pid: child.pid ?? 0, info: {}, child, stop: stopper(child) };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  child.kill("SIGKILL");
  throw new Error(`${name}: not ready\n${stderr}`);
}

/** Runs a Node script (TypeScript through tsx) to completion and parses the JSON it prints last. */
export function runNodeJson<T>(script: string, env: Record<string, string>, timeoutMs: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const child = spawn(nodeUnderTest(), ["--import", "tsx", script], {
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "inherit"],
    });
    children.add(child);
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString();
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.once("exit", (code) => {
      children.delete(child);
      clearTimeout(timer);
      const last = out.trim().split("\n").pop() ?? "";
      try {
        if (code !== 0) throw new Error(`exit code ${code}`);
        resolve(JSON.parse(last) as T);
      } catch (error) {
        reject(new Error(`${script}: ${(error as Error).message}\n${out.slice(-2000)}`));
      }
    });
  });
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  const { createServer } = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** CPU time (user + system, ms) used so far by a process and its direct children, from /proc. */
export function processTreeCpuMs(pid: number): number {
  const { userMs, systemMs } = processTreeCpuTimesMs(pid);
  return userMs + systemMs;
}

/**
 * CPU time used so far by a process and its direct children, from /proc, split into user mode and
 * kernel mode (ms); NaN when the process is gone.
 *
 * @example
 * ```ts
 * const { userMs, systemMs } = processTreeCpuTimesMs(server.pid);
 * ```
 */
export function processTreeCpuTimesMs(pid: number): { userMs: number; systemMs: number } {
  const ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux
  const read = (p: number): { ppid: number; user: number; system: number } | undefined => {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      return { ppid: Number(fields[1]), user: Number(fields[11]), system: Number(fields[12]) };
    } catch {
      return undefined;
    }
  };
  const self = read(pid);
  if (!self) return { userMs: Number.NaN, systemMs: Number.NaN };
  let { user, system } = self;
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry) || Number(entry) === pid) continue;
    const child = read(Number(entry));
    if (child?.ppid !== pid) continue;
    user += child.user;
    system += child.system;
  }
  return { userMs: user / ticksPerMs, systemMs: system / ticksPerMs };
}
