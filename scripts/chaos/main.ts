/**
 * `deno task chaos`: 5 real nodes (the README's `deno task run` command) under steady writes
 * with `X-Write-Acks: all` from concurrent clients to random running nodes, while random faults
 * hit them: SIGKILL and restart empty (joining through a running peer), SIGSTOP/SIGCONT, and
 * spells of packet loss. Then the faults stop, every node is resumed or restarted, and the run
 * checks the two promises of replication:
 *
 * 1. every node converges to the same store digest (`/stats` → `store.digest`), within a
 *    deadline (the time it took is reported);
 * 2. on every node, every key's value is explained by its history (see `history.ts`): no
 *    acknowledged write or delete was lost, and no overwritten value came back.
 *
 * Usage: `deno task chaos [--seconds 180] [--seed 1] [--nodes 5] [--clients 12] [--rate 60]
 * [--keys 200] [--loss 20] [--gap 4000] [--converge-seconds 60] [--json]`. Loopback only. Run
 * as root with `ip` and `nft` (iproute2, nftables), it re-runs itself inside a network namespace
 * of its own and can inject packet loss there; otherwise it runs in place and reports loss as
 * skipped, with why.
 * Exits 1 when a write was lost or the digests did not converge.
 *
 * @module
 */

import { SeededRandom } from "../../src/util/random.ts";
import { flagsOrExit } from "../cli_flags.ts";
import { type NodeProcess, statsOf, waitFor, waitReady } from "../../testing/mod.ts";
import { ChaosCluster, type NodeCrash } from "./cluster.ts";
import { type FaultEvent, FaultInjector, type FaultKind } from "./faults.ts";
import { History, judgeKey, type Operation, type Violation } from "./history.ts";
import { PacketLoss, rerunInNamespace } from "./packet_loss.ts";
import { WriteClients } from "./workload.ts";

/** Options of {@link runChaos}. */
export interface ChaosOptions {
  /** How long faults and writes go on, seconds. @default 180 */
  seconds: number;
  /** Seed of every random choice (keys, operations, faults). @default 1 */
  seed: number;
  /** Cluster size. @default 5 */
  nodes: number;
  /**
   * Concurrent clients (each waits for its answer, and a stopped node holds one for seconds).
   * @default 12
   */
  clients: number;
  /** Operations per second over all clients (fewer while faults slow the answers). @default 60 */
  rate: number;
  /** Distinct keys. @default 200 */
  keys: number;
  /** Highest packet loss of a spell, percent (0 = no loss faults). @default 20 */
  loss: number;
  /** Mean gap between faults, ms. @default 4000 */
  gap: number;
  /** Deadline for equal digests once the faults stopped, seconds. @default 60 */
  convergeSeconds: number;
}

/** Everything a chaos run did and found. */
export interface ChaosReport {
  /** The options it ran with. */
  options: ChaosOptions;
  /** The network namespace it ran in, if any. */
  namespace: string | null;
  /** Why packet loss was not injected (null when it was). */
  lossSkipped: string | null;
  /** Operations by kind and outcome (acked = 200 with all acks; unknown = 504/error/timeout). */
  operations: Record<string, number> & { total: number; acked: number; failed: number };
  /** Faults started per kind. */
  faults: Record<FaultKind, number>;
  /** Every fault, in order. */
  faultEvents: FaultEvent[];
  /** Restarts that failed during the run. */
  faultErrors: string[];
  /** Node processes that exited on their own (crashes; the target being none). */
  crashes: NodeCrash[];
  /** Whether all digests became equal, and how long after the faults ended, ms. */
  convergence: { converged: boolean; ms: number; digest: string | null; error: string | null };
  /** Keys and node reads checked at the end. */
  checked: { keys: number; reads: number };
  /** Acknowledged operations lost (distinct operations), the target being 0. */
  lost: number;
  /** The wrong final states found (first 20). */
  violations: Violation[];
  /**
   * Every operation on the keys of the first violations (at most 3 keys; times are the driver's
   * `performance.now()`, the fault timeline's count from the injector's start): what is needed to
   * tell how a rare loss came about.
   */
  violatedKeys: { key: string; operations: readonly Operation[] }[];
  /** Load average (1, 5, 15 min) at the end. */
  loadAverage: number[];
  /** Wall time of the whole run, ms. */
  ms: number;
}

const NODE_ENV = {
  GOSSIP_PROFILE: "local",
  ANTI_ENTROPY_INTERVAL: "1s",
  LOG_LEVEL: "warn",
};

/** Runs the chaos scenario inside the current network namespace (`namespace` if it is one). */
export async function runChaos(
  options: ChaosOptions,
  namespace: string | undefined,
  log: (line: string) => void = () => {},
): Promise<ChaosReport> {
  const started = performance.now();
  const random = new SeededRandom(options.seed);
  const loss = options.loss > 0 ? await PacketLoss.open(namespace) : "disabled (--loss 0)";
  const cluster = await ChaosCluster.start("chaos", options.nodes, NODE_ENV, random);
  try {
    await waitReady(cluster.processes(), 60_000);
    log(
      `${options.nodes} nodes ready; ${
        typeof loss === "string" ? `loss skipped: ${loss}` : "loss on"
      }`,
    );
    const history = new History();
    const clients = new WriteClients(cluster, history, random, {
      clients: options.clients,
      rate: options.rate,
      keys: options.keys,
      deleteShare: 0.2,
      ttlShare: 0.25,
      maxTtlMs: 8000,
      requestTimeoutMs: 8000,
    });
    const faults = new FaultInjector(cluster, typeof loss === "string" ? undefined : loss, random, {
      meanGapMs: options.gap,
      maxDisturbed: Math.max(1, Math.floor((options.nodes - 1) / 2)),
      downMs: [500, 4000],
      stopMs: [1000, 8000],
      lossMs: [2000, 8000],
      lossPercent: options.loss,
    });
    clients.start();
    faults.start();
    await new Promise((r) => setTimeout(r, options.seconds * 1000));
    await Promise.all([faults.stop(), clients.stop()]);
    // Nodes a fault left down come back; crashed ones stay down (reported).
    for (const node of cluster.nodes) {
      const crashed = cluster.crashes.some((c) => c.node === node.index);
      if (node.condition === "down" && !crashed) await cluster.restart(node);
    }
    log(`faults stopped: ${JSON.stringify(faults.counts())}; waiting for convergence`);

    const convergence = await converge(
      cluster.running().map((n) => n.process),
      options.convergeSeconds * 1000,
    );
    log(`convergence: ${JSON.stringify(convergence)}`);
    if (!convergence.converged) {
      for (const line of await describeNodes(cluster)) log(line);
    }
    const { violations, reads } = await checkFinalStates(cluster, history);
    const lostIds = new Set(violations.flatMap((v) => (v.lost ? [v.lost.id] : [])));
    if (typeof loss !== "string") await loss.close();
    const counts = history.counts();
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    const acked = counts.put_acked + counts.delete_acked;
    return {
      options,
      namespace: namespace ?? null,
      lossSkipped: typeof loss === "string" ? loss : null,
      operations: { ...counts, total, acked, failed: total - acked },
      faults: faults.counts(),
      faultEvents: faults.events,
      faultErrors: faults.errors,
      crashes: cluster.crashes,
      convergence,
      checked: { keys: history.keys().length, reads },
      lost: lostIds.size + violations.filter((v) => !v.lost).length,
      violations: violations.slice(0, 20),
      violatedKeys: [...new Set(violations.map((v) => v.key))].slice(0, 3)
        .map((key) => ({ key, operations: history.of(key) })),
      loadAverage: Deno.loadavg(),
      ms: Math.round(performance.now() - started),
    };
  } finally {
    await cluster.close();
  }
}

/** Waits until every node is ready and peered and all digests are equal. */
async function converge(
  nodes: NodeProcess[],
  deadlineMs: number,
): Promise<ChaosReport["convergence"]> {
  const started = performance.now();
  try {
    await waitReady(nodes, deadlineMs);
    const digest = await waitFor(
      `equal digests on ${nodes.length} nodes`,
      async () => {
        const digests = await Promise.all(nodes.map(async (n) => (await statsOf(n)).store.digest));
        return digests.every((d) => d === digests[0]) ? digests[0] : undefined;
      },
      Math.max(1000, deadlineMs - (performance.now() - started)),
      100,
    );
    return { converged: true, ms: Math.round(performance.now() - started), digest, error: null };
  } catch (err) {
    const ms = Math.round(performance.now() - started);
    return { converged: false, ms, digest: null, error: (err as Error).message };
  }
}

/** One line per node: process state, readiness, peers, digest and its last log lines. */
async function describeNodes(cluster: ChaosCluster): Promise<string[]> {
  return await Promise.all(cluster.nodes.map(async (node) => {
    const p = node.process;
    const exited = await Promise.race([p.status, Promise.resolve(undefined)]);
    const ready = await fetch(p.url("/readyz"), { signal: AbortSignal.timeout(2000) })
      .then(async (r) => `${r.status} ${await r.text()}`, (e) => (e as Error).message);
    const stats = await statsOf(p).catch(() => undefined);
    const peers = stats ? Object.keys(stats.replication.peers).join(",") : "?";
    return `node ${node.index} (${p.env.NODE_NAME}, ${node.condition}, ${node.restarts} restarts${
      exited ? `, EXITED ${exited.code}/${exited.signal}` : ""
    }): readyz ${ready}; peers [${peers}]; digest ${stats?.store.digest}; log tail: ${
      p.logs.slice(exited ? -40 : -3).join("\n    ")
    }`;
  }));
}

/** Reads every key from every node and judges each value against the key's history. */
async function checkFinalStates(
  cluster: ChaosCluster,
  history: History,
): Promise<{ violations: Violation[]; reads: number }> {
  const violations: Violation[] = [];
  let reads = 0;
  for (const key of history.keys()) {
    await Promise.all(
      cluster.processes().map(async (node) => {
        const start = performance.now();
        const res = await fetch(node.url(`/cache/${key}`));
        const text = await res.text();
        if (res.status !== 200 && res.status !== 404) {
          throw new Error(`Cannot check ${key} on ${node.env.NODE_NAME}: ${res.status} ${text}`);
        }
        const value = res.status === 200 ? text : undefined;
        reads++;
        const verdict = judgeKey(key, history.of(key), { value, start, end: performance.now() });
        if (verdict) violations.push(verdict);
      }),
    );
  }
  return { violations, reads };
}

/** Default options of the command line. */
const DEFAULTS: ChaosOptions = {
  seconds: 180,
  seed: 1,
  nodes: 5,
  clients: 12,
  rate: 60,
  keys: 200,
  loss: 20,
  gap: 4000,
  convergeSeconds: 60,
};

/** A human-readable summary of a report. */
export function summary(r: ChaosReport): string {
  const o = r.operations;
  const lines = [
    `chaos: seed ${r.options.seed}, ${r.options.seconds} s, ${r.options.nodes} nodes, ${r.options.clients} clients at ${r.options.rate} ops/s over ${r.options.keys} keys${
      r.namespace ? `, in network namespace ${r.namespace}` : ""
    }`,
    `  operations: ${o.total} (${o.acked} acknowledged, ${o.failed} failed or unconfirmed) — puts ${o.put_acked}/${
      o.put_acked + o.put_unknown + o.put_refused
    } acked, deletes ${o.delete_acked}/${
      o.delete_acked + o.delete_unknown + o.delete_refused
    } acked`,
    `  faults: ${r.faults.kill} SIGKILL+restart, ${r.faults.stop} SIGSTOP/SIGCONT, ${r.faults.loss} packet-loss spells${
      r.lossSkipped ? ` (loss skipped: ${r.lossSkipped})` : ""
    }${r.faultErrors.length ? `; errors: ${r.faultErrors.join("; ")}` : ""}`,
    `  node crashes: ${r.crashes.length}`,
    ...r.crashes.map((c) => `    node ${c.node} exited ${c.code}: ${c.log.join("\n      ")}`),
    `  convergence: ${
      r.convergence.converged
        ? `equal digests ${r.convergence.ms} ms after the faults ended`
        : `NOT converged after ${r.convergence.ms} ms: ${r.convergence.error}`
    }`,
    `  checked ${r.checked.keys} keys on every node (${r.checked.reads} reads): ${r.lost} acknowledged operations lost`,
    ...r.violations.map((v) =>
      `    ${v.key}: node holds ${v.observed}; lost ${JSON.stringify(v.lost ?? "(never written)")}`
    ),
    `  load average ${r.loadAverage.map((l) => l.toFixed(2)).join(" ")}, ${
      (r.ms / 1000).toFixed(0)
    } s in all`,
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  const { json, netns, ...options } = flagsOrExit({ command: "deno task chaos" }, {
    ...DEFAULTS,
    json: false,
    netns: "",
  });
  if (options.nodes < 2) {
    console.error(`Invalid --nodes ${options.nodes}: a cluster needs at least 2`);
    Deno.exit(2);
  }
  let namespaceSkipped: string | undefined;
  if (netns === "") {
    const rerun = await rerunInNamespace("chaos", [...Deno.args]);
    if ("code" in rerun) Deno.exit(rerun.code);
    namespaceSkipped = rerun.skipped;
  }
  const log = (line: string) => console.error(`chaos: ${line}`);
  if (namespaceSkipped) log(`running in place: ${namespaceSkipped}`);
  const report = await runChaos(options, netns || undefined, log);
  if (namespaceSkipped && report.lossSkipped) report.lossSkipped = namespaceSkipped;
  console.log(json ? JSON.stringify(report) : summary(report));
  const passed = report.lost === 0 && report.convergence.converged && report.crashes.length === 0;
  Deno.exit(passed ? 0 : 1);
}
