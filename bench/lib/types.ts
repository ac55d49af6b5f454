import type { LoadResult } from "./load.js";

export interface Skipped {
  what: string;
  why: string;
}

export interface LoadSample extends LoadResult {
  round?: number;
  /** CPU time the server process (and its children) used per request served, in microseconds. */
  serverCpuUsPerRequest?: number;
  storeCallsPerRequest?: number;
  storeWritesPerRequest?: number;
  storeCallsByMethod?: Record<string, number>;
  eventLoopDelayP99Ms?: number;
}

export interface TargetSummary {
  id: string;
  label: string;
  group: "lm" | "peer";
  framework: string;
  store: string;
  route: "bare" | "auth";
  rps: number;
  p50Ms: number;
  p99Ms: number;
  cpuUsPerRequest: number;
  non2xx: number;
  errors: number;
}

export interface Part1Result {
  rows: {
    framework: string;
    store: string;
    bareRps: number;
    authRps: number;
    /** Median over rounds of authRps / bareRps measured in the same round. */
    ratio: number;
    ratioPerRound: number[];
    target: number | null;
    authP99Ms: number;
    bareP99Ms: number;
    bareCpuUs: number;
    authCpuUs: number;
    /** Median over rounds of bare CPU per request / authenticated CPU per request. */
    cpuRatio: number;
    storeCallsPerRequest: number;
    storeWritesPerRequest: number;
    storeCallsByMethod: Record<string, number>;
    non2xx: number;
  }[];
  targets?: TargetSummary[];
}

export interface Part2Result {
  comparisons: {
    lm: string;
    peer: string;
    lmLabel: string;
    peerLabel: string;
    lmRps: number;
    peerRps: number;
    lmP99Ms: number;
    peerP99Ms: number;
    ratio: number;
    ratioPerRound: number[];
    lmCpuUs: number;
    peerCpuUs: number;
    /** Median over rounds of peer CPU per request / login-manager CPU per request. */
    cpuRatio: number;
    target: number | null;
    note: string;
  }[];
  targets?: TargetSummary[];
}

export interface RawArgon2 {
  parameters: Record<string, unknown>;
  cores: number;
  concurrency: number;
  durationS: number;
  verifies: number;
  verifiesPerSec: number;
  singleVerifyMsMedian: number;
  eventLoopDelayMs: { p99: number; max: number };
}

export interface Part3Result {
  framework: string;
  store: string;
  authRate: number;
  authConnections: number;
  loginConnections: number;
  rawVerifiesPerSec: number;
  raw: RawArgon2[];
  /** Logins with no authenticated load, per round and thread-pool variant. */
  aloneLogins: { round: number; variant: string; loginsPerSec: number; loginNon2xx: number }[];
  phases: {
    round: number;
    variant: string;
    mode: "fixed" | "saturated";
    storm: boolean;
    authRps: number;
    authP50Ms: number;
    authP99Ms: number;
    authNon2xx: number;
    loginsPerSec: number;
    loginP99Ms: number;
    loginNon2xx: number;
    eventLoopDelayMs: { p99: number; max: number; mean: number };
  }[];
  summary: {
    variant: string;
    idleP99Ms: number;
    stormP99Ms: number;
    p99Ratio: number;
    loginsPerSec: number;
    loginsVsRaw: number;
    aloneLoginsPerSec: number;
    aloneLoginsVsRaw: number;
    stormEventLoopP99Ms: number;
    stormEventLoopMaxMs: number;
    saturatedIdleRps: number;
    saturatedStormRps: number;
    saturatedIdleP99Ms: number;
    saturatedStormP99Ms: number;
    saturatedLoginsPerSec: number;
    saturatedEventLoopMaxMs: number;
  }[];
}

export interface Part4Result {
  n: number;
  heavySessions: number;
  users: number;
  lookups: number;
  results: {
    store: string;
    n: number;
    insertMethod: string;
    insertSeconds: number;
    lookupUs: { p50: number; p90: number; p99: number; mean: number; count: number };
    lookupHits: number;
    bytesTotal: number;
    bytesPerSession: number;
    bytesMethod: string;
    revokeMs: number[];
    revokeMedianMs: number;
    revokedPerRun: number[];
  }[];
  errors: { store: string; error: string }[];
}

export interface BenchResults {
  meta: {
    date: string;
    smoke: boolean;
    machine: {
      nproc: number;
      cpuModel: string;
      memoryGiB: number;
      kernel: string;
      loadAverageAtStart: string;
      loadAverageAtEnd?: string;
    };
    versions: Record<string, string>;
    config: Record<string, unknown>;
    totalSeconds: number;
  };
  skipped: Skipped[];
  part1?: Part1Result;
  part2?: Part2Result;
  part3?: Part3Result;
  part4?: Part4Result;
  targets?: {
    name: string;
    required: string;
    measured: string;
    met: boolean | null;
    metByCpuCost?: boolean | null;
  }[];
}
