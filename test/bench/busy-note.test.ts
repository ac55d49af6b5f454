import { describe, expect, it } from "vitest";
import { busyNote } from "../../bench/lib/report.js";
import type { BenchResults } from "../../bench/lib/types.js";

function resultsWithLoad(atStart: string, atEnd: string): BenchResults {
  return {
    meta: {
      date: "2026-11-29T00:00:00.000Z",
      smoke: false,
      machine: {
        nproc: 2,
        cpuModel: "test",
        memoryGiB: 1,
        kernel: "test",
        loadAverageAtStart: atStart,
        loadAverageAtEnd: atEnd,
      },
      versions: {},
      config: {},
      totalSeconds: 1,
    },
    skipped: [],
  };
}

describe("the report's busy-machine warning", () => {
  it("is left out when the machine was quiet at the start, however high the benchmark's own load at the end", () => {
    expect(busyNote(resultsWithLoad("0.78 1.68 2.20 1/167 1", "2.66 3.27 2.90 1/170 2"))).toEqual([]);
  });

  it("is given when other work already loaded every core at the start", () => {
    const note = busyNote(resultsWithLoad("3.10 2.80 2.50 3/170 1", "0.50 1.00 1.50 1/170 2")).join("\n");
    expect(note).toContain("The machine was shared with other work during this run");
    expect(note).toContain("1-minute load average 3.1 at start, on 2 cores");
  });
});
