/**
 * The instruction targets of issue 19 and their verdicts on a run's rows.
 *
 * @module
 */
import type { Framework, Store } from "./config.js";

/** One measured cell, per request, main thread. */
export interface Row {
  readonly library: string;
  readonly framework: Framework;
  /** Store as shown in the table. */
  readonly store: string;
  /** Store key (`memory`, `sqlite-node`...), or the peer's store. */
  readonly storeKey: string;
  /** `process.version` of the server's Node. */
  readonly node: string;
  readonly hello: number;
  readonly protected: number;
  /** protected − hello. */
  readonly added: number;
  /** hello ÷ protected: the share of the bare route's throughput an authenticated request keeps. */
  readonly share: number;
  /** Every counted round: instructions per request, and V8's tiering events while it ran. */
  readonly rounds: readonly {
    readonly hello: number;
    readonly protected: number;
    readonly optimisations: number;
    readonly deoptimisations: number;
  }[];
  /** (max − min) ÷ max over the rounds averaged, the larger of the two routes. */
  readonly spread: number;
  readonly converged: boolean;
  readonly seconds: number;
  /** Requests per counted window, when the cell's differ from the run's (see Cell.requestScale). */
  readonly requestsPerWindow?: number;
  /** The ten largest self costs in the last `/protected` window, per request. */
  readonly topSelf?: readonly { readonly function: string; readonly perRequest: number }[];
}

/** One target of the issue, judged on one Node version. */
export interface Verdict {
  readonly target: string;
  readonly node: string;
  /** What is compared: a share kept, or a ratio of added instructions. */
  readonly measure: "share" | "ratio";
  readonly required: number;
  /** Undefined when a row it needs was not measured. */
  readonly measured: number | undefined;
  readonly met: boolean | undefined;
}

const SQLITE: readonly Store[] = ["sqlite-node", "sqlite-better"];

/**
 * The share kept (hello ÷ protected) the issue requires of login-manager on a framework and store;
 * undefined where it sets none (Express with Redis or PostgreSQL).
 *
 * @example
 * ```ts
 * requiredShare("fastify", "memory"); // 0.85
 * ```
 */
export function requiredShare(framework: Framework, store: string): number | undefined {
  const sqlite = SQLITE.includes(store as Store);
  if (framework === "express") return store === "memory" ? 0.92 : sqlite ? 0.88 : undefined;
  if (store === "memory") return 0.85;
  if (sqlite) return 0.75;
  return store === "redis" || store === "redis-ioredis" || store === "postgres" ? 0.6 : undefined;
}

/** The peers' targets: how many times login-manager's added instructions each peer adds at least. */
export const PEER_TARGETS = [
  { library: "passport", framework: "express", ours: "memory", required: 4 },
  { library: "better-auth", framework: "hono", ours: "sqlite-better", required: 20 },
] as const;

function shareVerdicts(rows: readonly Row[]): Verdict[] {
  return rows
    .filter((row) => row.library === "login-manager")
    .flatMap((row) => {
      const required = requiredShare(row.framework, row.storeKey);
      if (required === undefined) return [];
      return [
        {
          target: `${row.framework} + ${row.store}: share kept >= ${required}`,
          node: row.node,
          measure: "share" as const,
          required,
          measured: row.share,
          met: row.share >= required,
        },
      ];
    });
}

function peerVerdicts(rows: readonly Row[]): Verdict[] {
  const nodes = [...new Set(rows.map((row) => row.node))];
  return PEER_TARGETS.flatMap((target) =>
    nodes.flatMap((node) => {
      const peer = rows.find((row) => row.library === target.library && row.node === node);
      if (!peer) return [];
      const ours = rows.find(
        (row) =>
          row.library === "login-manager" &&
          row.framework === target.framework &&
          row.storeKey === target.ours &&
          row.node === node,
      );
      const measured = ours ? peer.added / ours.added : undefined;
      return [
        {
          target: `${target.library} adds >= ${target.required}x login-manager's instructions (${target.framework}, ${ours?.store ?? target.ours})`,
          node,
          measure: "ratio" as const,
          required: target.required,
          measured,
          met: measured === undefined ? undefined : measured >= target.required,
        },
      ];
    }),
  );
}

/**
 * Every target of the issue that the rows allow to judge.
 *
 * @example
 * ```ts
 * const verdicts = judge(rows); // [{ target: "fastify + memory: share kept >= 0.85", met: false, ... }]
 * ```
 */
export function judge(rows: readonly Row[]): Verdict[] {
  return [...shareVerdicts(rows), ...peerVerdicts(rows)];
}
