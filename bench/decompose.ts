/**
 * Where the per-request cost of `/protected` goes, per framework: `npm run bench:decompose`.
 *
 * Serves `bench/servers/decompose-server.ts` (one process per framework, memory store) and loads each
 * of its routes with wrk (50 connections, BENCH_DURATION_S seconds, default 3), in BENCH_ROUNDS rounds
 * (default 3) whose order alternates. For each route it reports the median requests/s and the median
 * server CPU per request (user + kernel, from /proc), and both against `/hello` in the same round, and
 * the extra CPU split into user mode and kernel mode. `/spin` busy-waits a known time (SPIN_NS,
 * default 8000 ns, set in decompose-server.ts): it shows what that much plain user-mode work costs on
 * this machine, kernel time included, to compare with login-manager's own routes.
 *
 * Uses Debian's wrk when installed (`npm run bench` installs it), else autocannon, whose own CPU use
 * then shares the cores with the server. Not part of `npm run bench`: it explains the Part 1 figures,
 * it does not add to them. BENCH_FRAMEWORKS picks frameworks; BENCH_NODE runs the servers on another
 * Node binary (the first line of the output names the version).
 */
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { haveWrk, median, runLoad, runWrk } from "./lib/load.js";
import { nodeUnderTest, processTreeCpuTimesMs, startNodeServer } from "./lib/procs.js";

const ROUTES = ["/hello", "/hook", "/headers", "/spin", "/identified", "/protected"] as const;
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const durationS = Number(process.env.BENCH_DURATION_S ?? 3);
const frameworks = (process.env.BENCH_FRAMEWORKS ?? "express,fastify,hono").split(",");
const root = join(import.meta.dirname, "..");
const generator = haveWrk() ? "wrk" : "autocannon";
const runGenerator = generator === "wrk" ? runWrk : runLoad;

interface RouteSample {
  rps: number;
  cpuUsPerRequest: number;
  userUsPerRequest: number;
  kernelUsPerRequest: number;
}

/** What the load generator sends: the server's session cookie and the User-Agent it was made for. */
type Client = { cookie: string; "user-agent": string };

async function measure(port: number, pid: number, path: string, client: Client): Promise<RouteSample> {
  const before = processTreeCpuTimesMs(pid);
  const load = await runGenerator({
    url: `http://127.0.0.1:${port}${path}`,
    durationS,
    connections: 50,
    headers: client,
  });
  const after = processTreeCpuTimesMs(pid);
  if (load.non2xx > 0 || load.errors > 0)
    throw new Error(`${path}: ${load.non2xx} non-2xx, ${load.errors} errors`);
  const userUsPerRequest = ((after.userMs - before.userMs) * 1000) / load.requests;
  const kernelUsPerRequest = ((after.systemMs - before.systemMs) * 1000) / load.requests;
  return {
    rps: load.rps,
    cpuUsPerRequest: userUsPerRequest + kernelUsPerRequest,
    userUsPerRequest,
    kernelUsPerRequest,
  };
}

async function decompose(framework: string): Promise<string[]> {
  const server = await startNodeServer(
    `decompose-${framework}`,
    join(root, "bench/servers/decompose-server.ts"),
    { BENCH_FRAMEWORK: framework },
  );
  const client: Client = { cookie: String(server.info.cookie), "user-agent": String(server.info.userAgent) };
  const samples = new Map<string, RouteSample[]>(ROUTES.map((route) => [route, []]));
  try {
    for (const route of ROUTES) {
      await runGenerator({
        url: `http://127.0.0.1:${server.port}${route}`,
        durationS: 1,
        connections: 50,
        headers: client,
      });
    }
    for (let round = 0; round < rounds; round++) {
      const order = round % 2 === 0 ? ROUTES : [...ROUTES].reverse();
      for (const route of order)
        samples.get(route)?.push(await measure(server.port, server.pid, route, client));
    }
  } finally {
    await server.stop();
  }
  const hello = samples.get("/hello") ?? [];
  return ROUTES.map((route) => {
    const own = samples.get(route) ?? [];
    const rps = median(own.map((sample) => sample.rps));
    const cpu = median(own.map((sample) => sample.cpuUsPerRequest));
    const ratio = median(own.map((sample, i) => sample.rps / (hello[i]?.rps ?? Number.NaN)));
    const extra = (of: (sample: RouteSample) => number) =>
      signed(median(own.map((sample, i) => of(sample) - (hello[i] ? of(hello[i]) : Number.NaN))));
    return `| ${framework} | \`${route}\` | ${Math.round(rps).toLocaleString("en-US")} | ${ratio.toFixed(2)}x | ${cpu.toFixed(1)} | ${extra((s) => s.cpuUsPerRequest)} | ${extra((s) => s.userUsPerRequest)} | ${extra((s) => s.kernelUsPerRequest)} |`;
  });
}

function signed(value: number): string {
  return `${value >= 0 ? "+" : ""}${value.toFixed(1)}`;
}

const nodeVersion = execFileSync(nodeUnderTest(), ["--version"], { encoding: "utf8" }).trim();
const lines = [
  `Node ${nodeVersion}; ${rounds} rounds x ${durationS} s per route, 50 connections, ${generator}; medians; ratio and extra CPU against /hello in the same round.`,
  "",
  "| framework | route | req/s | vs /hello | server CPU µs/req | extra CPU µs/req | of which user | of which kernel |",
  "| --- | --- | --- | --- | --- | --- | --- | --- |",
];
for (const framework of frameworks) lines.push(...(await decompose(framework)));
console.log(lines.join("\n"));
