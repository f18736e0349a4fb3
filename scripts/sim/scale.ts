/**
 * The scale run: a warm cluster of N members, measured in three phases on virtual time.
 *
 * 1. Bandwidth: a quiet window after start-up (nothing to gossip; probes, acks and the
 *    steady push/pull share).
 * 2. Joins: new members join one after the other through a random warm member (a real
 *    push/pull join); for each, the time until 50 / 99 / 100 % of the warm members know it.
 * 3. Crashes: warm members are killed one after the other; for each, the time to the first
 *    suspicion anywhere, to the first death declaration, and until 50 / 99 / 100 % of the
 *    surviving members mark it dead.
 *
 * @module
 */

import type { Bandwidth, CrashMeasure, JoinMeasure, RunResult, ScaleSpec } from "./spec.ts";
import type { SimCluster, SimNode } from "../../src/membership/testing/sim_cluster.ts";
import { SeededRandom, shuffle } from "../../src/util/random.ts";
import { NodeState } from "../../src/membership/node_types.ts";
import { buildCluster, FalsePositiveTally } from "./setup.ts";
import { round, runCost, SpreadTracker } from "./metrics.ts";

/** Start-up time before anything is measured (every loop has ticked), ms. */
const SETTLE_MS = 5_000;
/** Gap between two joins, ms. */
const JOIN_GAP_MS = 10_000;
/** Gap between two crashes, ms. */
const CRASH_GAP_MS = 5_000;

/** Runs a scale spec to the end and reports. */
export async function runScale(spec: ScaleSpec): Promise<RunResult> {
  const t0 = performance.now();
  const { cluster, warm, warmWallMs, suspicion } = buildCluster(spec);
  // Progress on stderr, so a long run that is stopped still tells how far it got.
  const progress = (phase: string) =>
    console.error(
      `  [N=${spec.n}] ${phase}: virtual ${(cluster.now / 1000).toFixed(0)} s, wall ${
        ((performance.now() - t0) / 1000).toFixed(0)
      } s, ${memory()}`,
    );
  progress("warm start done");
  const tally = new FalsePositiveTally(cluster);
  const random = new SeededRandom(spec.seed * 31 + 7);
  await cluster.run(SETTLE_MS);
  progress("settled");
  let bandwidth: Bandwidth | undefined;
  if (spec.bandwidthMs > 0) bandwidth = await measureBandwidth(cluster, warm, spec.bandwidthMs);
  progress("bandwidth window done");
  const churnStart = cluster.now;
  const before = snapshot(cluster, warm);
  const joins = await runJoins(cluster, warm, spec.joins, random);
  progress("joins done");
  const crashes = await runCrashes(cluster, warm, spec.crashes, suspicion.max, random);
  progress("crashes done");
  const churnBandwidth = cluster.now > churnStart
    ? rate(before, snapshot(cluster, warm), warm.length, cluster.now - churnStart)
    : undefined;
  const virtualMs = cluster.now;
  const result: RunResult = {
    spec,
    ...(await runCost(t0, warmWallMs)),
    records: spec.n * spec.n,
    virtualMs,
    bandwidth,
    churnBandwidth,
    joins,
    crashes,
    falsePositives: tally.result(spec.n, virtualMs),
    suspicion,
  };
  return result;
}

interface Snapshot {
  packets: number;
  bytes: number;
  stream: number;
  pushPulls: number;
}

function snapshot(cluster: SimCluster, nodes: readonly SimNode[]): Snapshot {
  const t = cluster.totals(nodes);
  return {
    packets: t.packetsOut,
    bytes: t.bytesOut,
    stream: t.streamBytesOut,
    pushPulls: t.pushPulls,
  };
}

function rate(a: Snapshot, b: Snapshot, members: number, windowMs: number): Bandwidth {
  const perNodeSec = (x: number) => round(x / members / (windowMs / 1000), 2);
  const pushPulls = b.pushPulls - a.pushPulls;
  return {
    windowMs,
    packetsPerNodeSec: perNodeSec(b.packets - a.packets),
    bytesPerNodeSec: perNodeSec(b.bytes - a.bytes),
    streamBytesPerNodeSec: perNodeSec(b.stream - a.stream),
    pushPullBytes: pushPulls > 0 ? Math.round((b.stream - a.stream) / pushPulls) : undefined,
  };
}

async function measureBandwidth(
  cluster: SimCluster,
  warm: readonly SimNode[],
  windowMs: number,
): Promise<Bandwidth> {
  const a = snapshot(cluster, warm);
  await cluster.run(windowMs);
  return rate(a, snapshot(cluster, warm), warm.length, windowMs);
}

async function runJoins(
  cluster: SimCluster,
  warm: readonly SimNode[],
  count: number,
  random: SeededRandom,
): Promise<JoinMeasure[]> {
  if (count === 0) return [];
  const isWarm = new Set(warm.map((n) => n.name));
  const trackers = new Map<string, SpreadTracker>();
  const stop = cluster.onEffect((at, observer, effect) => {
    if (effect.type !== "join") return;
    trackers.get(effect.member.name)?.see(observer.name, at);
  });
  const failures: string[] = [];
  for (let j = 0; j < count; j++) {
    const joiner = cluster.add();
    const seed = warm[Math.floor(random.next() * warm.length)];
    trackers.set(
      joiner.name,
      new SpreadTracker(cluster.now, warm.length, (name) => isWarm.has(name)),
    );
    joiner.member.start();
    joiner.member.join(seed.member.address).catch(() => failures.push(joiner.name));
    await cluster.run(JOIN_GAP_MS);
  }
  const all = () => [...trackers.values()].every((t) => t.complete);
  await cluster.until(all, 30_000, 100);
  stop();
  return [...trackers].map(([joiner, t]) => ({
    joiner,
    of: t.total,
    known: t.known,
    t50: ms(t.timeTo(0.5)),
    t99: ms(t.timeTo(0.99)),
    t100: ms(t.timeTo(1)),
    ...(failures.includes(joiner) ? { joinFailed: true } : {}),
  }));
}

async function runCrashes(
  cluster: SimCluster,
  warm: readonly SimNode[],
  count: number,
  maxSuspicionMs: number,
  random: SeededRandom,
): Promise<CrashMeasure[]> {
  if (count === 0) return [];
  const victims = shuffle(random, [...warm]).slice(0, count);
  const victimNames = new Set(victims.map((v) => v.name));
  // Observers: every member alive at the end that is not a victim (joiners included).
  const observers = cluster.nodes.filter((n) => !n.crashed && !victimNames.has(n.name));
  const isObserver = new Set(observers.map((n) => n.name));
  const dead = new Map<string, SpreadTracker>();
  const suspected = new Map<string, number>();
  const stop = cluster.onEffect((at, observer, effect) => {
    if (effect.type === "suspicion-started") {
      const start = dead.get(effect.node)?.start;
      if (start !== undefined && !suspected.has(effect.node)) {
        suspected.set(effect.node, at - start);
      }
    } else if (effect.type === "leave" && effect.member.state === NodeState.Dead) {
      dead.get(effect.member.name)?.see(observer.name, at);
    }
  });
  for (const [i, victim] of victims.entries()) {
    if (i > 0) await cluster.run(CRASH_GAP_MS);
    dead.set(
      victim.name,
      new SpreadTracker(cluster.now, observers.length, (name) => isObserver.has(name)),
    );
    cluster.kill(victim.name);
  }
  const all = () => [...dead.values()].every((t) => t.complete);
  await cluster.until(all, maxSuspicionMs + 30_000, 100);
  stop();
  return victims.map((v) => {
    const t = dead.get(v.name)!;
    return {
      victim: v.name,
      of: t.total,
      firstSuspicion: ms(suspected.get(v.name)),
      firstDead: ms(t.first),
      dead50: ms(t.timeTo(0.5)),
      dead99: ms(t.timeTo(0.99)),
      dead100: ms(t.timeTo(1)),
    };
  });
}

/** RSS, V8 heap and memory outside it (array buffers), MiB. */
function memory(): string {
  const m = Deno.memoryUsage();
  const mib = (n: number) => Math.round(n / 2 ** 20);
  return `RSS ${mib(m.rss)} MiB (heap ${mib(m.heapUsed)}/${mib(m.heapTotal)}, external ${
    mib(m.external)
  })`;
}

function ms(value: number | undefined): number | undefined {
  return value === undefined ? undefined : round(value, 1);
}
