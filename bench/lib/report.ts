import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { BenchResults } from "./types.js";

const fmt = (value: number | undefined, digits = 0): string =>
  value === undefined || !Number.isFinite(value)
    ? "n/a"
    : value.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
const ratio = (value: number | undefined): string =>
  value === undefined || !Number.isFinite(value) ? "n/a" : `${value.toFixed(2)}x`;
const mark = (met: boolean | null): string => (met === null ? "-" : met ? "met" : "**missed**");

/** Evaluates the issue's targets on these results (only what was measured in this run). */
export function evaluateTargets(results: BenchResults): NonNullable<BenchResults["targets"]> {
  const targets: NonNullable<BenchResults["targets"]> = [];
  for (const row of results.part1?.rows ?? []) {
    if (row.target !== null) {
      targets.push({
        name: `${row.framework} + ${row.store}: authenticated / bare`,
        required: `>= ${row.target.toFixed(2)}x`,
        measured: `${ratio(row.ratio)} (CPU-cost ratio ${ratio(row.cpuRatio)})`,
        met: row.ratio >= row.target,
        metByCpuCost: Number.isFinite(row.cpuRatio) ? row.cpuRatio >= row.target : null,
      });
    }
  }
  for (const row of results.part1?.rows ?? []) {
    targets.push({
      name: `${row.framework} + ${row.store}: store round trips per authenticated request`,
      required: "1",
      measured: fmt(row.storeCallsPerRequest, 3),
      met: Number.isFinite(row.storeCallsPerRequest) ? row.storeCallsPerRequest <= 1.001 : null,
    });
    targets.push({
      name: `${row.framework} + ${row.store}: store writes per authenticated request`,
      required: "0 on most requests",
      measured: fmt(row.storeWritesPerRequest, 4),
      met: Number.isFinite(row.storeWritesPerRequest) ? row.storeWritesPerRequest < 0.01 : null,
    });
  }
  for (const c of results.part2?.comparisons ?? []) {
    if (c.target === null) continue;
    targets.push({
      name: `${c.lmLabel} vs ${c.peerLabel}`,
      required: `>= ${c.target}x`,
      measured: `${ratio(c.ratio)} (CPU-cost ratio ${ratio(c.cpuRatio)})`,
      met: c.ratio >= c.target,
      metByCpuCost: Number.isFinite(c.cpuRatio) ? c.cpuRatio >= c.target : null,
    });
  }
  for (const s of results.part3?.summary ?? []) {
    targets.push({
      name: `login storm (${s.variant} thread pool): logins/s vs raw argon2id verifies/s`,
      required: ">= 0.80",
      measured: `${fmt(s.loginsPerSec)} / ${fmt(results.part3?.rawVerifiesPerSec)} = ${s.loginsVsRaw.toFixed(2)}`,
      met: s.loginsVsRaw >= 0.8,
    });
    targets.push({
      name: `logins alone, no authenticated load (${s.variant} thread pool): logins/s vs raw argon2id verifies/s (diagnostic: the library's own cost per login)`,
      required: ">= 0.80",
      measured: `${fmt(s.aloneLoginsPerSec)} / ${fmt(results.part3?.rawVerifiesPerSec)} = ${s.aloneLoginsVsRaw.toFixed(2)}`,
      met: s.aloneLoginsVsRaw >= 0.8,
    });
    targets.push({
      name: `login storm (${s.variant} thread pool): authenticated p99 storm / idle`,
      required: "<= 3x",
      measured: `${fmt(s.stormP99Ms, 1)} ms / ${fmt(s.idleP99Ms, 1)} ms = ${ratio(s.p99Ratio)}`,
      met: s.p99Ratio <= 3,
    });
  }
  return targets;
}

interface Bar {
  label: string;
  value: number;
  kind: "bare" | "lm" | "peer";
  note?: string;
}

/** A horizontal bar chart of median requests/s, written by hand (no chart library). */
export function chartSvg(results: BenchResults): string {
  const groups: { title: string; bars: Bar[] }[] = [];
  const rows = results.part1?.rows ?? [];
  for (const framework of [...new Set(rows.map((r) => r.framework))]) {
    const frameworkRows = rows.filter((r) => r.framework === framework);
    const bars: Bar[] = [{ label: "bare /hello", value: frameworkRows[0]?.bareRps ?? 0, kind: "bare" }];
    for (const r of frameworkRows) {
      bars.push({
        label: `login-manager, ${r.store}`,
        value: r.authRps,
        kind: "lm",
        note: `${ratio(r.ratio)}; by CPU cost ${ratio(r.cpuRatio)}`,
      });
    }
    groups.push({ title: `Part 1: ${framework}, bare route vs authenticated route`, bars });
  }
  const peers = (results.part2?.targets ?? []).filter((t) => t.group === "peer");
  if (peers.length > 0) {
    groups.push({
      title: "Part 2: peers, authenticated route",
      bars: peers.map((p) => ({ label: p.label, value: p.rps, kind: "peer" as const })),
    });
  }
  const width = 1080;
  const labelWidth = 410;
  const barArea = width - labelWidth - 280;
  const barHeight = 18;
  const gap = 6;
  const max = Math.max(1, ...groups.flatMap((g) => g.bars.map((b) => b.value)).filter(Number.isFinite));
  const colors = { bare: "#9aa0a6", lm: "#1a73e8", peer: "#e8710a" };
  const esc = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const parts: string[] = [];
  let y = 56;
  for (const group of groups) {
    parts.push(`<text x="10" y="${y}" class="h">${esc(group.title)}</text>`);
    y += 12;
    for (const bar of group.bars) {
      const value = Number.isFinite(bar.value) ? bar.value : 0;
      const w = Math.max(1, (value / max) * barArea);
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + 13}" class="l" text-anchor="end">${esc(bar.label)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${w.toFixed(1)}" height="${barHeight}" fill="${colors[bar.kind]}"/>`,
        `<text x="${(labelWidth + w + 6).toFixed(1)}" y="${y + 13}" class="v">${fmt(value)} req/s${bar.note ? ` (${bar.note})` : ""}</text>`,
      );
      y += barHeight + gap;
    }
    y += 18;
  }
  const height = y + 20;
  const m = results.meta;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif">
<style>.t{font-size:16px;font-weight:bold}.s{font-size:11px;fill:#555}.h{font-size:13px;font-weight:bold}.l{font-size:12px}.v{font-size:11px;fill:#333}</style>
<rect width="100%" height="100%" fill="#fff"/>
<text x="10" y="22" class="t">login-manager: median requests/s (${String(m.config.loadGenerator)}, ${m.config.connections} connections, loopback)</text>
<text x="10" y="40" class="s">${esc(`${m.machine.nproc} cores ${m.machine.cpuModel}, Node ${m.versions.node}, ${m.config.rounds} interleaved rounds of ${m.config.durationS} s, ${m.date.slice(0, 10)}; ratio = authenticated / bare in the same round; CPU cost = bare / authenticated server CPU per request`)}</text>
${parts.join("\n")}
</svg>
`;
}

type Phase = NonNullable<BenchResults["part3"]>["phases"][number];

/** f(idle, storm) for each round of the fixed-rate phases of one variant. */
function stormPerRound(
  part3: NonNullable<BenchResults["part3"]>,
  variant: string,
  f: (idle: Phase, storm: Phase) => number,
): number[] {
  const fixed = part3.phases.filter((x) => x.variant === variant && x.mode === "fixed");
  return fixed
    .filter((x) => x.storm)
    .map((storm) => {
      const idle = fixed.find((x) => !x.storm && x.round === storm.round);
      return idle ? f(idle, storm) : Number.NaN;
    });
}

function perRound(values: number[] | undefined): string {
  return values && values.length > 1 ? ` (${values.map((v) => v.toFixed(2)).join(", ")})` : "";
}

/**
 * A warning when the machine was busy with other work when the benchmark started. Only the load at the
 * start tells: the load at the end is mostly the benchmark's own last phase (the scale inserts).
 */
export function busyNote(results: BenchResults): string[] {
  const { machine } = results.meta;
  const start = Number(machine.loadAverageAtStart.split(" ")[0]);
  if (!(start > machine.nproc)) return [];
  return [
    `> **The machine was shared with other work during this run** (1-minute load average ${start} at start, on ${machine.nproc} cores). ` +
      "Requests/s are therefore far below what the same code serves on an idle machine (the reference baselines measured about 63,000 req/s for a bare Fastify route on this kind of machine), " +
      "and ratios computed from requests/s move from round to round (per-round values are shown). The server's CPU time per request, and the ratios computed from it, are the steadier figures; " +
      "they are inflated in absolute terms too (a busy core runs slower), but bare and authenticated routes alike.",
    "",
  ];
}

function table(headers: string[], rows: (string | number)[][]): string {
  const lines = [`| ${headers.join(" | ")} |`, `| ${headers.map(() => "---").join(" | ")} |`];
  for (const row of rows) lines.push(`| ${row.join(" | ")} |`);
  return lines.join("\n");
}

/** Writes BENCHMARKS.md and bench/chart.svg into `outDir`. */
export function writeReport(results: BenchResults, outDir: string, root: string): void {
  results.targets = evaluateTargets(results);
  writeFileSync(join(outDir, "bench/chart.svg"), chartSvg(results));
  writeFileSync(join(outDir, "bench/results.json"), `${JSON.stringify(results, null, 2)}\n`);
  const m = results.meta;
  const c = m.config as Record<string, number | boolean | string | string[]>;
  const out: string[] = [];
  out.push(
    "# Benchmarks",
    "",
    `Generated by \`npm run bench\` (\`bench/run.ts\`) on ${m.date}${m.smoke ? " — **smoke run, figures meaningless**" : ""}; ` +
      `the whole run took ${fmt(m.totalSeconds)} s. Raw figures: [bench/results.json](bench/results.json).`,
    "",
    "![median requests/s](bench/chart.svg)",
    "",
    "## Machine and versions",
    "",
    `- ${m.machine.nproc} cores (\`nproc\`), ${m.machine.cpuModel}, ${m.machine.memoryGiB} GiB RAM, ${m.machine.kernel}; /proc/loadavg at start: ${m.machine.loadAverageAtStart}${m.machine.loadAverageAtEnd ? `; at end: ${m.machine.loadAverageAtEnd}` : ""}`,
    `- ${Object.entries(m.versions)
      .map(([k, v]) => `${k} ${v}`)
      .join(", ")}`,
    "",
    ...busyNote(results),
    "## Method",
    "",
    `- login-manager is loaded from ${c.lib === "src" ? "its TypeScript sources through tsx (smoke run)" : "the tsc build in dist/ (rebuilt at the start of the run), as the published package runs"}. Every server under test runs in its own child process (\`node --import tsx\` for the server scripts, NODE_ENV=production, or gunicorn); the load generator runs in another process, so it never shares the server's event loop: for parts 1 and 2 ${c.loadGenerator === "wrk" ? "Debian's wrk (C, one thread, --latency), spawned per measurement" : "autocannon (programmatic API, in the parent process)"}; for part 3 autocannon in the parent process (it can hold a fixed request rate). Everything is on 127.0.0.1. Load generator and servers share the machine's cores, as in the reference baselines.`,
    `- Parts 1 and 2: ${c.rounds} rounds; in each round every target gets ${c.durationS} s of load at ${c.connections} connections (after one ${c.warmupS} s warm-up each), in alternating order (odd rounds reversed), so slow drift of a noisy machine hits A and B alike. Ratios are the **median over rounds of the ratio measured within the same round**; requests/s and p99 columns are medians over rounds.`,
    "- login-manager apps (`bench/servers/lm-server.ts`): one process per framework and store. `/hello` is mounted before login-manager (the bare route); `/protected` is `loginRequired` and answers `Hello, <currentUser().name>!`. The user loader is an in-memory Map (no user cache), session protection is on (default `basic`), CSRF on. The session cookie comes from a real login (GET /csrf, POST /login with argon2id verify), then autocannon replays it with the same User-Agent. In these processes the bare route pays AsyncLocalStorage's promise hook too: on Node 20 the first authenticated request enables it for the whole process, so the bare route measures an app that uses login-manager somewhere, not an app without it. The rows marked `asyncContext: false` run in processes of their own that never enable it (the manager is created with `asyncContext: false` and `/protected` reads the request's own `auth`); comparing their bare route with the others shows the hook's cost to routes that never touch login-manager.",
    "- Store round trips and writes are counted by a forwarding wrapper around the store (`bench/lib/counting-store.ts`: one call = one round trip for SQL/Redis stores) during the measured rounds, divided by the requests autocannon completed.",
    "- Peers (`bench/servers/`): Express 5 + express-session + passport 0.7 (MemoryStore, and connect-redis on node-redis); the Flask-Login README app on Debian's Flask/Flask-Login with gunicorn (workers = nproc, 4 threads each); better-auth on Hono with better-sqlite3, email+password, default options (cookie cache off), `/protected` calling `auth.api.getSession`.",
    `- Part 3 (login storm): login-manager on ${results.part3?.framework ?? "n/a"} with the memory store. Authenticated requests at a fixed ${fmt(Number(c.stormRate))} req/s (${c.stormAuthConnections} connections; latencies corrected for coordinated omission), first alone (idle), then together with ${c.stormLoginConnections} connections POSTing /login as fast as they are answered, cycling over 64 accounts (attempts on one account are serialised by design) (argon2id verify via login-manager/password with default parameters, attemptLogin, new session). Then the same logins alone, with no authenticated load: the load generator and the authenticated requests take CPU from the hashing threads in the storm, so only this phase isolates login-manager's own cost per login. Also a saturated variant (authenticated load at ${c.connections} connections, no rate). Event-loop delay is measured inside the server with \`perf_hooks.monitorEventLoopDelay\` (2 ms resolution). Raw argon2id throughput: \`bench/argon2-raw.ts\`, the same hasher alone in a process, 4 concurrent verifies (libuv's default pool) for the same duration, measured once per round. Two server variants: the default, and one whose libuv pool threads (where argon2 runs) are reniced to 19 so the event loop thread always wins a core (on a machine shared with other work those threads also yield to every other process, which lowers their hashing throughput).`,
    `- Part 4 (scale): \`bench/scale.ts\`, N = ${fmt(results.part4?.n ?? Number(c.scaleN))} sessions per store (user "heavy" holds ${fmt(results.part4?.heavySessions)} of them, the rest spread over ${fmt(results.part4?.users)} users). Bulk insert by each store's own tables/keys (method per row below); lookups (${fmt(results.part4?.lookups)} random ids, sequential) and revocation (\`deleteUserSessions("heavy")\`, 3 times, re-inserting in between) through the store API.`,
    "",
  );

  if (results.part1) {
    out.push("## Part 1: overhead per framework and store", "");
    out.push(
      table(
        [
          "framework",
          "store",
          "bare req/s",
          "auth req/s",
          "ratio (per round)",
          "target",
          "",
          "server CPU µs/req bare → auth",
          "CPU-cost ratio",
          "bare p99",
          "auth p99",
          "store calls/req",
          "writes/req",
        ],
        results.part1.rows.map((r) => [
          r.framework,
          r.store,
          fmt(r.bareRps),
          fmt(r.authRps),
          `${ratio(r.ratio)} (${r.ratioPerRound.map((x) => x.toFixed(2)).join(", ")})`,
          r.target === null ? "-" : `>= ${r.target.toFixed(2)}x`,
          mark(r.target === null ? null : r.ratio >= r.target),
          `${fmt(r.bareCpuUs, 1)} → ${fmt(r.authCpuUs, 1)}`,
          ratio(r.cpuRatio),
          `${fmt(r.bareP99Ms, 1)} ms`,
          `${fmt(r.authP99Ms, 1)} ms`,
          fmt(r.storeCallsPerRequest, 3),
          fmt(r.storeWritesPerRequest, 4),
        ]),
      ),
      "",
    );
    const methods = results.part1.rows
      .map(
        (r) =>
          `${r.framework}/${r.store}: ${
            Object.entries(r.storeCallsByMethod)
              .map(([k, v]) => `${k} ${v}`)
              .join(", ") || "none"
          }`,
      )
      .join("; ");
    out.push(`Store calls by method in the last round: ${methods}.`, "");
  }

  if (results.part2) {
    out.push("## Part 2: peers, same route, same machine", "");
    out.push(
      table(
        ["target", "req/s", "p50", "p99", "server CPU µs/req", "non-2xx"],
        (results.part2.targets ?? []).map((t) => [
          t.label,
          fmt(t.rps),
          `${fmt(t.p50Ms, 1)} ms`,
          `${fmt(t.p99Ms, 1)} ms`,
          fmt(t.cpuUsPerRequest, 1),
          fmt(t.non2xx),
        ]),
      ),
      "",
      table(
        ["login-manager", "peer", "ratio (per round)", "target", "", "CPU-cost ratio", "note"],
        results.part2.comparisons.map((x) => [
          `${x.lmLabel} (${fmt(x.lmRps)})`,
          `${x.peerLabel} (${fmt(x.peerRps)})`,
          `${ratio(x.ratio)} (${x.ratioPerRound.map((v) => v.toFixed(2)).join(", ")})`,
          x.target === null ? "-" : `>= ${x.target}x`,
          mark(x.target === null ? null : x.ratio >= x.target),
          `${ratio(x.cpuRatio)} (${fmt(x.peerCpuUs, 1)} / ${fmt(x.lmCpuUs, 1)} µs)`,
          x.note,
        ]),
      ),
      "",
    );
  }

  if (results.part3) {
    const p = results.part3;
    const raw = p.raw[0];
    out.push(
      "## Part 3: login storm",
      "",
      `Raw argon2id (${raw ? `m=${String(raw.parameters.memoryCostKiB)} KiB, t=${String(raw.parameters.timeCost)}, p=${String(raw.parameters.parallelism)}` : ""}) on this machine: ` +
        `${fmt(p.rawVerifiesPerSec, 1)} verifies/s with ${raw?.concurrency ?? "?"} concurrent (median of rounds: ${p.raw.map((r) => fmt(r.verifiesPerSec, 1)).join(", ")}); one verify alone takes ${fmt(raw?.singleVerifyMsMedian, 1)} ms.`,
      "",
      table(
        [
          "thread pool",
          "auth p99 idle",
          "auth p99 storm",
          "ratio",
          "logins/s",
          "vs raw",
          "logins/s alone (vs raw)",
          "event loop p99 / max (storm)",
          "saturated auth req/s idle → storm",
          "saturated p99 idle → storm",
          "logins/s (saturated)",
          "loop max (saturated)",
        ],
        p.summary.map((s) => [
          s.variant,
          `${fmt(s.idleP99Ms, 1)} ms`,
          `${fmt(s.stormP99Ms, 1)} ms`,
          `${ratio(s.p99Ratio)}${perRound(stormPerRound(p, s.variant, (idle, storm) => storm.authP99Ms / idle.authP99Ms))}`,
          fmt(s.loginsPerSec, 1),
          `${s.loginsVsRaw.toFixed(2)}${perRound(stormPerRound(p, s.variant, (_idle, storm) => storm.loginsPerSec / (p.raw[storm.round]?.verifiesPerSec ?? Number.NaN)))}`,
          `${fmt(s.aloneLoginsPerSec, 1)} (${s.aloneLoginsVsRaw.toFixed(2)})`,
          `${fmt(s.stormEventLoopP99Ms, 1)} / ${fmt(s.stormEventLoopMaxMs, 1)} ms`,
          `${fmt(s.saturatedIdleRps)} → ${fmt(s.saturatedStormRps)}`,
          `${fmt(s.saturatedIdleP99Ms, 1)} → ${fmt(s.saturatedStormP99Ms, 1)} ms`,
          fmt(s.saturatedLoginsPerSec, 1),
          `${fmt(s.saturatedEventLoopMaxMs, 1)} ms`,
        ]),
      ),
      "",
    );
  }

  if (results.part4) {
    const p = results.part4;
    out.push(
      "## Part 4: scale",
      "",
      table(
        [
          "store",
          "sessions",
          "bulk insert",
          "lookup p50 / p90 / p99 (µs)",
          "hits",
          "bytes per session",
          "revoke 1,000 sessions of a user (median of 3)",
          "insert method",
        ],
        p.results.map((r) => [
          r.store,
          fmt(r.n),
          `${fmt(r.insertSeconds, 1)} s`,
          `${fmt(r.lookupUs.p50)} / ${fmt(r.lookupUs.p90)} / ${fmt(r.lookupUs.p99)}`,
          `${fmt(r.lookupHits)}/${fmt(r.lookupUs.count)}`,
          `${fmt(r.bytesPerSession)} (${r.bytesMethod})`,
          `${fmt(r.revokeMedianMs, 1)} ms (${r.revokeMs.map((x) => x.toFixed(1)).join(", ")}; deleted ${r.revokedPerRun.join("/")})`,
          r.insertMethod,
        ]),
      ),
      "",
    );
    for (const e of p.errors) out.push(`- ${e.store} failed: \`${e.error.split("\n")[0]}\``);
    if (p.errors.length) out.push("");
  }

  const profiling = join(root, "bench/profiling.md");
  if (existsSync(profiling)) out.push(readFileSync(profiling, "utf8").trim(), "");

  out.push("## Targets (this run)", "");
  out.push(
    "`met` judges the measured throughput ratio, as the targets are worded; `by CPU cost` judges the same ratio computed from the server's CPU time per request, which other load on the machine disturbs far less.",
    "",
    table(
      ["target", "required", "measured", "", "by CPU cost"],
      results.targets.map((t) => [t.name, t.required, t.measured, mark(t.met), mark(t.metByCpuCost ?? null)]),
    ),
    "",
  );
  out.push("## Skipped", "");
  if (results.skipped.length === 0) out.push("Nothing was skipped.", "");
  for (const s of results.skipped) out.push(`- ${s.what}: ${s.why}`);
  out.push("");
  writeFileSync(join(outDir, "BENCHMARKS.md"), out.join("\n"));
}
