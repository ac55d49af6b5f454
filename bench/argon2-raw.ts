/**
 * Raw argon2id throughput on this machine: `hasher.verify` (login-manager/password, default
 * parameters) in a loop from BENCH_CONCURRENCY callers for BENCH_DURATION_S seconds, nothing else
 * running in the process. Prints one JSON line.
 */
import { availableParallelism } from "node:os";
import { monitorEventLoopDelay } from "node:perf_hooks";
import type * as Password from "../src/password/index.js";
import { importLib } from "./lib/lib.js";

const { createPasswordHasher } = await importLib<typeof Password>("password/index");

const durationS = Number(process.env.BENCH_DURATION_S ?? 5);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? process.env.UV_THREADPOOL_SIZE ?? 4);
const hasher = createPasswordHasher();
const password = "correct horse battery staple";
const phc = await hasher.hash(password);

const single: number[] = [];
for (let i = 0; i < 10; i++) {
  const start = performance.now();
  await hasher.verify(phc, password);
  single.push(performance.now() - start);
}
single.sort((a, b) => a - b);

const eld = monitorEventLoopDelay({ resolution: 2 });
eld.enable();
let count = 0;
const start = performance.now();
const deadline = start + durationS * 1000;
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    while (performance.now() < deadline) {
      await hasher.verify(phc, password);
      count++;
    }
  }),
);
const elapsedS = (performance.now() - start) / 1000;
eld.disable();
process.stdout.write(
  `${JSON.stringify({
    parameters: hasher.parameters,
    cores: availableParallelism(),
    concurrency,
    durationS: elapsedS,
    verifies: count,
    verifiesPerSec: count / elapsedS,
    singleVerifyMsMedian: single[5],
    eventLoopDelayMs: { p99: eld.percentile(99) / 1e6, max: eld.max / 1e6 },
  })}\n`,
);
