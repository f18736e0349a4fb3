/**
 * Which runs a `deno task sim` invocation makes. Scenarios: `join`, `crash` and `bandwidth`
 * share one warm-cluster run per size (plus SWIM-variant runs for detection latency); `loss` is a
 * loss sweep (joins and crashes at a fixed size, and long false-positive runs with the TCP
 * fallback off); `fp` is slow members with and without Lifeguard's features; `replication` is
 * the time for a write to reach every replica through the fast path and through anti-entropy;
 * `partition` cuts a warm cluster in two for a minute and measures the split and the heal;
 * `latency` repeats joins and crashes with longer one-way latencies.
 *
 * @module
 */

import type {
  FalsePositiveSpec,
  LifeguardVariant,
  PartitionSpec,
  ReplicationSpec,
  RunSpec,
  ScaleSpec,
} from "./spec.ts";

/** Every scenario name. */
export const SCENARIOS = [
  "join",
  "crash",
  "bandwidth",
  "loss",
  "fp",
  "replication",
  "partition",
  "latency",
] as const;
/** A scenario name. */
export type Scenario = (typeof SCENARIOS)[number];

/** Options of {@link buildPlan}. */
export interface PlanOptions {
  /** Small sizes and short runs (a few minutes in all). */
  quick: boolean;
  /** Scenarios to run. */
  scenarios: ReadonlySet<Scenario>;
  /** Seed of every run. */
  seed: number;
  /** Smallest cluster size to simulate. @default 0 */
  minN?: number;
  /** Largest cluster size to simulate. */
  maxN: number;
}

/** Cluster sizes of the scale runs. */
export function scaleSizes(quick: boolean): number[] {
  return quick ? [10, 50, 200] : [10, 30, 100, 300, 1000, 2000, 3000, 10000];
}

/** The runs for `options`, smallest first. */
export function buildPlan(o: PlanOptions): RunSpec[] {
  const runs: RunSpec[] = [];
  const base = { seed: o.seed, loss: 0, variant: "lifeguard" as LifeguardVariant, tcpPings: true };
  const scale = (n: number, extra: Partial<ScaleSpec> = {}): ScaleSpec => ({
    kind: "scale",
    ...base,
    n,
    bandwidthMs: o.quick ? 10_000 : 20_000,
    joins: o.quick ? 2 : 3,
    // Several crashes per size (first detection is close to exponential), at most a fifth.
    crashes: Math.min(o.quick ? 3 : 8, Math.floor(n / 5)),
    ...extra,
  });
  const fp = (extra: Partial<FalsePositiveSpec>): FalsePositiveSpec => ({
    kind: "fp",
    ...base,
    n: o.quick ? 30 : 50,
    slowFraction: 0,
    slowDelayMs: 0,
    durationMs: o.quick ? 120_000 : 300_000,
    ...extra,
  });
  const has = (s: Scenario) => o.scenarios.has(s);
  if (has("join") || has("crash") || has("bandwidth")) {
    for (const n of scaleSizes(o.quick)) runs.push(scale(n));
  }
  if (has("crash")) {
    for (const n of o.quick ? [50] : [100, 1000]) runs.push(scale(n, { variant: "swim" }));
  }
  if (has("loss")) {
    const n = o.quick ? 50 : 200;
    for (const loss of o.quick ? [0.1, 0.3] : [0, 0.05, 0.1, 0.2, 0.3, 0.4]) {
      runs.push(scale(n, { loss, bandwidthMs: 0 }));
    }
    for (const loss of o.quick ? [0.2, 0.4] : [0, 0.1, 0.2, 0.3, 0.4]) {
      for (const variant of ["swim", "lifeguard"] as const) {
        runs.push(fp({ loss, variant, tcpPings: false }));
      }
      if (!o.quick) runs.push(fp({ loss, variant: "lifeguard", tcpPings: true }));
    }
  }
  if (has("fp")) {
    const variants: LifeguardVariant[] = o.quick
      ? ["swim", "lifeguard"]
      : ["swim", "lhm-only", "suspicion-only", "lifeguard"];
    for (const slowDelayMs of o.quick ? [10_000] : [2_000, 10_000, 30_000]) {
      for (const variant of variants) {
        runs.push(fp({ variant, slowFraction: 0.1, slowDelayMs }));
      }
    }
  }
  if (has("replication")) {
    for (const n of o.quick ? [10, 50] : [10, 30, 100, 300]) {
      for (const mode of ["fast", "anti-entropy"] as const) {
        const writes = mode === "fast" ? (o.quick ? 5 : 20) : (o.quick ? 3 : 5);
        const spec: ReplicationSpec = {
          kind: "replication",
          n,
          seed: o.seed,
          mode,
          writes,
          latencyMs: 1,
        };
        runs.push(spec);
      }
    }
  }
  if (has("latency")) {
    // One-way latency plus uniform jitter of the same size (the default is 1 + [0, 1) ms, the
    // loss sweep's 0 % row); the LAN preset's probe timeout is 500 ms.
    for (const latencyMs of o.quick ? [50] : [10, 50, 100, 200]) {
      runs.push(scale(o.quick ? 50 : 200, { bandwidthMs: 0, latencyMs, jitterMs: latencyMs }));
    }
  }
  if (has("partition")) {
    // Half and half, and a fifth cut off; the cut lasts longer than the suspicion maximum's
    // minimum path at these sizes, the heal gets ten reconnect periods.
    for (const n of o.quick ? [30] : [50, 200, 1000]) {
      for (const minority of o.quick ? [0.5] : [0.5, 0.2]) {
        const spec: PartitionSpec = {
          kind: "partition",
          ...base,
          n,
          minority,
          durationMs: 60_000,
          healMaxMs: 300_000,
        };
        runs.push(spec);
      }
    }
  }
  return runs.filter((r) => r.n >= (o.minN ?? 0) && r.n <= o.maxN).sort((a, b) => a.n - b.n);
}
