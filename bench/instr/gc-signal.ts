/**
 * Preloaded into each server the instrument measures (`node --expose-gc --import tsx --import
 * bench/instr/gc-signal.ts server.ts`): on SIGUSR2 it runs two young-generation collections,
 * synchronously (the second promotes what survived the first), then prints `{"instrGc":n}` on stdout.
 *
 * Why: a scavenge costs a few million instructions on the main thread and comes every few thousand
 * requests, so whether one falls into a window of N requests would swing its count by several
 * percent. Each window starts from an empty young generation of a fixed size (the instrument pins
 * it at 16 MB), so the scavenges inside a window fall on the same requests in every run. A full
 * collection is not used: it drops optimised code and inline caches, which the window would then pay
 * to rebuild.
 *
 * @module
 */
type Collect = (options: { type: "minor"; execution: "sync" }) => void;

const collect = (globalThis as { gc?: Collect }).gc;
if (!collect) throw new Error("bench/instr/gc-signal.ts needs node --expose-gc");

let collections = 0;
process.on("SIGUSR2", () => {
  collect({ type: "minor", execution: "sync" });
  collect({ type: "minor", execution: "sync" });
  collections++;
  process.stdout.write(`${JSON.stringify({ instrGc: collections })}\n`);
});
