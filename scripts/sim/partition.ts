/**
 * The partition run: a warm cluster is cut in two (a random `minority` fraction on one side) for
 * `durationMs`, then healed. Measured: how fast each member holds the whole other side dead, how
 * many members are wrongly declared dead by their own side meanwhile, and after the heal how fast
 * every member holds every member alive again. Nothing outside the engine helps the merge: it
 * is the engine's reconnect loop (Serf's rule: retry a failed member with a probability of failed
 * over alive members, every 30 s) that finds the other side, and refutations and push/pull that
 * spread the news.
 *
 * @module
 */

import { NodeState } from "../../src/membership/node_types.ts";
import { SeededRandom, shuffle } from "../../src/util/random.ts";
import { round, runCost } from "./metrics.ts";
import { buildCluster, FalsePositiveTally } from "./setup.ts";
import type { PartitionMeasure, PartitionSpec, RunResult, SideSplit } from "./spec.ts";

/** Start-up time before the cut, ms. */
const SETTLE_MS = 5_000;

/** Runs a partition spec to the end and reports. */
export async function runPartition(spec: PartitionSpec): Promise<RunResult> {
  const t0 = performance.now();
  const { cluster, warm, warmWallMs, suspicion } = buildCluster(spec);
  const tally = new FalsePositiveTally(cluster);
  await cluster.run(SETTLE_MS);

  const random = new SeededRandom(spec.seed * 131 + 17);
  const shuffled = shuffle(random, [...warm]);
  const cut = Math.max(1, Math.round(spec.n * spec.minority));
  const sideOf = new Map<string, 0 | 1>(shuffled.map((n, i) => [n.name, i < cut ? 0 : 1]));
  const sides: [number, number] = [cut, spec.n - cut];

  // Per member: the members it holds dead right now (from the engine's own effects).
  const down = new Map<string, Set<string>>(warm.map((n) => [n.name, new Set<string>()]));
  const otherSideDown = new Map<string, number>(warm.map((n) => [n.name, 0]));
  let phase: "cut" | "healed" = "cut";
  let start = cluster.now;
  const splitTimes: number[] = [];
  const sideTimes: [number[], number[]] = [[], []];
  const healTimes: number[] = [];
  const healed = new Set<string>();
  let sameSideDeaths = 0;
  let deathsAfterHeal = 0;
  cluster.onEffect((at, observer, effect) => {
    const held = down.get(observer.name);
    if (held === undefined) return;
    if (effect.type === "leave" && effect.member.state === NodeState.Dead) {
      const name = effect.member.name;
      if (held.has(name)) return;
      held.add(name);
      const across = sideOf.get(name) !== sideOf.get(observer.name);
      if (phase === "healed") deathsAfterHeal++;
      else if (!across) sameSideDeaths++;
      else {
        const count = otherSideDown.get(observer.name)! + 1;
        otherSideDown.set(observer.name, count);
        const side = sideOf.get(observer.name)!;
        if (count === sides[1 - side]) {
          splitTimes.push(at - start);
          sideTimes[side].push(at - start);
        }
      }
    } else if (effect.type === "join") {
      held.delete(effect.member.name);
      if (phase === "healed" && held.size === 0 && !healed.has(observer.name)) {
        healed.add(observer.name);
        healTimes.push(at - start);
      }
    }
  });

  const addr = (name: string) => cluster.node(name).transport.localAddress;
  const sideA = shuffled.slice(0, cut).map((n) => addr(n.name));
  const sideB = shuffled.slice(cut).map((n) => addr(n.name));
  console.error(`  [N=${spec.n}] cut ${sides[0]} | ${sides[1]} at virtual ${cluster.now / 1000} s`);
  cluster.net.partition(sideA, sideB);
  await cluster.run(spec.durationMs);

  cluster.net.heal();
  phase = "healed";
  start = cluster.now;
  const before = cluster.totals(warm);
  console.error(`  [N=${spec.n}] healed at virtual ${cluster.now / 1000} s`);
  // Each member's own view first (from the effects), then the tables themselves: every member
  // must hold every member alive, none suspect or dead.
  const allAlive = () => warm.every((m) => m.member.numAlive === warm.length);
  const healStart = cluster.now;
  await cluster.until(() => healed.size === warm.length, spec.healMaxMs, 500);
  const merged = await cluster.until(allAlive, spec.healMaxMs - (cluster.now - healStart), 1_000);
  const after = cluster.totals(warm);
  const mergedAtEnd = allAlive();
  const at = (times: number[], p: number) => {
    const need = Math.max(1, Math.ceil(p * warm.length - 1e-9));
    const sorted = [...times].sort((a, b) => a - b);
    return need <= sorted.length ? round(sorted[need - 1], 1) : undefined;
  };
  const partition: PartitionMeasure = {
    sides,
    split50: at(splitTimes, 0.5),
    split99: at(splitTimes, 0.99),
    split100: at(splitTimes, 1),
    splitBySide: [0, 1].map((side) => {
      const times = sideTimes[side];
      const all = times.length === sides[side];
      return { complete: times.length, ...(all ? { t100: round(Math.max(...times), 1) } : {}) };
    }) as [SideSplit, SideSplit],
    sameSideDeaths,
    heal50: at(healTimes, 0.5),
    heal99: at(healTimes, 0.99),
    heal100: at(healTimes, 1),
    merged: merged === undefined ? undefined : round(cluster.now - healStart, 1),
    deathsAfterHeal,
    refutationsAfterHeal: after.refutations - before.refutations,
    pushPullsAfterHeal: after.pushPulls - before.pushPulls,
    mergedAtEnd,
  };
  const virtualMs = cluster.now;
  return {
    spec,
    ...(await runCost(t0, warmWallMs)),
    records: spec.n * spec.n,
    virtualMs,
    joins: [],
    crashes: [],
    falsePositives: tally.result(spec.n, virtualMs),
    suspicion,
    partition,
  };
}
