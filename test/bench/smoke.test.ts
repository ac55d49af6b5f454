import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { BenchResults } from "../../bench/lib/types.js";

const root = resolve(import.meta.dirname, "../..");
const outDir = mkdtempSync(join(tmpdir(), "lm-bench-smoke-test-"));

afterAll(() => {
  rmSync(outDir, { recursive: true, force: true });
});

describe("npm run bench:smoke", () => {
  it("runs one tiny round of every part and writes well-formed results", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "bench/run.ts", "--smoke"], {
      cwd: root,
      env: { ...process.env, BENCH_OUT_DIR: outDir, BENCH_NO_APT: "1" },
      encoding: "utf8",
      timeout: 170_000,
    });
    expect(run.status, run.stderr).toBe(0);

    const results = JSON.parse(readFileSync(join(outDir, "bench/results.json"), "utf8")) as BenchResults;
    expect(results.meta.smoke).toBe(true);
    expect(results.meta.machine.nproc).toBeGreaterThan(0);
    expect(results.meta.versions.node).toBe(process.version);
    expect(Array.isArray(results.skipped)).toBe(true);

    // Part 1: at least Express with the memory store, with a bare/auth ratio and store counts.
    const rows = results.part1?.rows ?? [];
    const express = rows.find((r) => r.framework === "express" && r.store === "memory");
    expect(express).toBeDefined();
    for (const row of rows) {
      expect(row.bareRps).toBeGreaterThan(0);
      expect(row.authRps).toBeGreaterThan(0);
      expect(row.ratio).toBeGreaterThan(0);
      expect(row.non2xx).toBe(0);
      expect(row.storeCallsPerRequest).toBeGreaterThan(0);
      expect(row.storeWritesPerRequest).toBeGreaterThanOrEqual(0);
      expect(row.authCpuUs).toBeGreaterThan(0);
      expect(row.bareCpuUs).toBeGreaterThan(0);
    }

    // Part 2: peers measured or listed as skipped with a reason.
    const peers = (results.part2?.targets ?? []).filter((t) => t.group === "peer");
    expect(
      peers.length + results.skipped.filter((s) => /peer|passport/i.test(s.what)).length,
    ).toBeGreaterThan(0);
    for (const peer of peers) expect(peer.rps).toBeGreaterThan(0);
    for (const c of results.part2?.comparisons ?? []) expect(Number.isFinite(c.ratio)).toBe(true);

    // Part 3: raw hashing and storm phases with event-loop delay from inside the server.
    const storm = results.part3;
    expect(storm).toBeDefined();
    expect(storm?.rawVerifiesPerSec).toBeGreaterThan(0);
    expect(storm?.phases.some((p) => p.storm && p.loginsPerSec > 0)).toBe(true);
    expect(storm?.aloneLogins.length).toBeGreaterThan(0);
    for (const alone of storm?.aloneLogins ?? []) {
      expect(alone.loginsPerSec).toBeGreaterThan(0);
      expect(alone.loginNon2xx).toBe(0);
    }
    for (const phase of storm?.phases ?? []) {
      expect(phase.authNon2xx).toBe(0);
      expect(phase.loginNon2xx).toBe(0);
      expect(Number.isFinite(phase.eventLoopDelayMs.max)).toBe(true);
    }

    // Part 4: SQLite always; every store that ran found every looked-up session.
    const scale = results.part4;
    expect(scale?.results.some((r) => r.store === "sqlite")).toBe(true);
    for (const r of scale?.results ?? []) {
      expect(r.lookupHits).toBe(r.lookupUs.count);
      expect(r.bytesPerSession).toBeGreaterThan(0);
      expect(r.revokedPerRun.every((n) => n === scale?.heavySessions)).toBe(true);
    }

    // Targets are evaluated and the report and chart are written.
    expect(results.targets?.length).toBeGreaterThan(0);
    const report = readFileSync(join(outDir, "BENCHMARKS.md"), "utf8");
    expect(report).toContain("## Part 1");
    expect(report).toContain("bench/chart.svg");
    const svg = readFileSync(join(outDir, "bench/chart.svg"), "utf8");
    expect(svg.startsWith("<svg")).toBe(true);
    expect(svg).toContain("</svg>");
    expect(existsSync(join(outDir, "bench/results.json"))).toBe(true);
  }, 180_000);
});
