/**
 * The false-positive run: a warm cluster in which a fraction of the members are slow — they
 * handle every datagram and stream they receive `slowDelayMs` late (a backed-up receive queue
 * of a CPU-starved process) while their timers fire on time — run for a long virtual time
 * with nobody crashing. Every death declared is a false positive; they are counted per
 * member-hour, split by whether the member declared dead was healthy or slow.
 *
 * @module
 */

import { SeededRandom, shuffle } from "../../src/util/random.ts";
import { runCost } from "./metrics.ts";
import { buildCluster, FalsePositiveTally } from "./setup.ts";
import type { FalsePositiveSpec, RunResult } from "./spec.ts";

/** Runs a false-positive spec to the end and reports. */
export async function runFalsePositives(spec: FalsePositiveSpec): Promise<RunResult> {
  const t0 = performance.now();
  const { cluster, warm, warmWallMs, suspicion } = buildCluster(spec);
  const random = new SeededRandom(spec.seed * 131 + 3);
  const slowCount = Math.round(spec.slowFraction * warm.length);
  const slow = shuffle(random, [...warm]).slice(0, slowCount);
  for (const node of slow) node.transport.inboundDelayMs = spec.slowDelayMs;
  const tally = new FalsePositiveTally(cluster, new Set(slow.map((n) => n.name)));
  await cluster.run(spec.durationMs);
  return {
    spec,
    ...(await runCost(t0, warmWallMs)),
    records: spec.n * spec.n,
    virtualMs: cluster.now,
    joins: [],
    crashes: [],
    falsePositives: tally.result(spec.n, cluster.now),
    suspicion,
  };
}
