import { spawnSync } from "node:child_process";
import { resolve } from "node:path";
import { describe, expect, it } from "vitest";

const root = resolve(import.meta.dirname, "../..");
const ROUTES = ["/hello", "/hook", "/headers", "/spin", "/identified", "/protected"];

describe("npm run bench:decompose", () => {
  it("loads every route of one framework and reports its throughput and server CPU (user and kernel) against /hello", () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", "bench/decompose.ts"], {
      cwd: root,
      env: {
        ...process.env,
        BENCH_FRAMEWORKS: "fastify",
        BENCH_ROUNDS: "1",
        BENCH_DURATION_S: "1",
        BENCH_LIB: "src",
        BENCH_NODE: "",
      },
      encoding: "utf8",
      timeout: 90_000,
    });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Node ${process.version};`);
    const rows = run.stdout.split("\n").filter((line) => line.startsWith("| fastify |"));
    expect(rows.map((row) => /`([^`]+)`/.exec(row)?.[1])).toEqual(ROUTES);
    for (const row of rows) {
      const [rps, ratio, cpu] = row
        .split("|")
        .slice(3, 6)
        .map((cell) => Number.parseFloat(cell.replace(/,/g, "")));
      expect(rps).toBeGreaterThan(0);
      expect(ratio).toBeGreaterThan(0);
      expect(cpu).toBeGreaterThan(0);
      const [extra = Number.NaN, user = Number.NaN, kernel = Number.NaN] = row
        .split("|")
        .slice(6, 9)
        .map((cell) => Number.parseFloat(cell));
      // One round, so no medians: user + kernel is the extra CPU, up to the rounding of each to 0.1 µs.
      expect(user + kernel).toBeCloseTo(extra, 0);
    }
    expect(rows[0]).toContain("| 1.00x |");
    expect(rows[0]).toMatch(/\| \+0\.0 \| \+0\.0 \| \+0\.0 \|$/);
  }, 100_000);
});
