import { spawn, spawnSync } from "node:child_process";
import autocannon from "autocannon";

/** One load-generator run: autocannon, in this process, against a server in another process. */
export interface LoadResult {
  rps: number;
  requests: number;
  durationS: number;
  latencyMs: { p50: number; p90: number; p99: number; max: number; mean: number };
  non2xx: number;
  errors: number;
  timeouts: number;
}

export interface LoadOptions {
  url: string;
  durationS: number;
  connections: number;
  headers?: Record<string, string>;
  method?: "GET" | "POST";
  body?: string;
  /** Fixed total request rate; latencies are then corrected for coordinated omission. */
  overallRate?: number;
}

let wrkAvailable: boolean | undefined;

/** True when Debian's wrk is installed (a C load generator: less CPU per request than autocannon). */
export function haveWrk(): boolean {
  wrkAvailable ??= spawnSync("wrk", ["--version"]).error === undefined;
  return wrkAvailable;
}

function wrkMs(text: string | undefined): number {
  const match = /^([\d.]+)(us|ms|s|m)$/.exec(text ?? "");
  if (!match) return Number.NaN;
  const value = Number(match[1]);
  return match[2] === "us"
    ? value / 1000
    : match[2] === "ms"
      ? value
      : match[2] === "s"
        ? value * 1000
        : value * 60_000;
}

/**
 * One wrk run (one thread, whole seconds, GET only) in a child process; same result shape as
 * {@link runLoad}. wrk counts non-2xx/3xx responses; they are reported as non2xx.
 */
export async function runWrk(options: LoadOptions): Promise<LoadResult> {
  const args = [
    "-t1",
    `-c${options.connections}`,
    `-d${Math.max(1, Math.round(options.durationS))}s`,
    "--latency",
  ];
  for (const [name, value] of Object.entries(options.headers ?? {})) args.push("-H", `${name}: ${value}`);
  args.push(options.url);
  const output = await new Promise<string>((resolve, reject) => {
    const child = spawn("wrk", args, { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      text += chunk.toString();
    });
    child.once("error", reject);
    child.once("exit", (code) =>
      code === 0 ? resolve(text) : reject(new Error(`wrk exited ${code}: ${text}`)),
    );
  });
  const requests = Number(/(\d+) requests in ([\d.]+)(ms|s|m)/.exec(output)?.[1] ?? Number.NaN);
  const durationMatch = /\d+ requests in ([\d.]+)(ms|s|m)/.exec(output);
  const durationS = durationMatch ? wrkMs(`${durationMatch[1]}${durationMatch[2]}`) / 1000 : Number.NaN;
  const line = (label: string) => new RegExp(`^\\s*${label}\\s+(\\S+)`, "m").exec(output)?.[1];
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(output);
  const avg = /Latency\s+(\S+)\s+\S+\s+(\S+)/.exec(output);
  return {
    rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(output)?.[1] ?? Number.NaN),
    requests,
    durationS,
    latencyMs: {
      p50: wrkMs(line("50%")),
      p90: wrkMs(line("90%")),
      p99: wrkMs(line("99%")),
      max: wrkMs(avg?.[2]),
      mean: wrkMs(avg?.[1]),
    },
    non2xx: Number(/Non-2xx or 3xx responses: (\d+)/.exec(output)?.[1] ?? 0),
    errors: socketErrors ? Number(socketErrors[1]) + Number(socketErrors[2]) + Number(socketErrors[3]) : 0,
    timeouts: socketErrors ? Number(socketErrors[4]) : 0,
  };
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const result = await autocannon({
    url: options.url,
    duration: options.durationS,
    connections: options.connections,
    headers: options.headers,
    method: options.method ?? "GET",
    body: options.body,
    overallRate: options.overallRate,
  });
  const requests = result.requests.total;
  const durationS = result.duration;
  return {
    rps: durationS > 0 ? requests / durationS : 0,
    requests,
    durationS,
    latencyMs: {
      p50: result.latency.p50,
      p90: result.latency.p90,
      p99: result.latency.p99,
      max: result.latency.max,
      mean: result.latency.average,
    },
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
  };
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index] as number;
}
