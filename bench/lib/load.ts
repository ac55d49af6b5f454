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
