/**
 * The table that puts simulated figures next to the published anchors, with the ratio and a
 * one-line reason for any gap. Rows whose runs are missing are left out.
 *
 * @module
 */

import {
  ENGINE_FIRST_DETECTION_PERIODS,
  LIFEGUARD_FP_REDUCTION,
  SERF_MAX_GOSSIP_BYTES_PER_SEC,
  serfConvergenceMs,
  SWIM_FIRST_DETECTION_PERIODS,
} from "./anchors.ts";
import { mean } from "./metrics.ts";
import {
  crashMean,
  crashQuantile,
  fpRuns,
  joinMedian,
  num,
  ratio,
  type ScaleResult,
  scaleRuns,
  sec,
  suspicionToDead,
  table,
} from "./select.ts";
import type { RunResult } from "./spec.ts";

type Row = [anchor: string, published: string, simulated: string, ratio: string, why: string];

/** The anchor comparison as markdown lines. */
export function anchorTable(results: readonly RunResult[]): string[] {
  const runs = scaleRuns(results);
  const rows: Row[] = [
    ...detectionRows(runs),
    ...convergenceRows(runs),
    ...suspicionRows(runs, scaleRuns(results, { variant: "swim" })),
    ...lifeguardRows(results),
    ...loadRows(scaleRuns(results, { bandwidth: true })),
  ];
  if (rows.length === 0) return [];
  return table(["anchor", "published / model", "simulated", "ratio", "why the gap"], rows);
}

function detectionRows(runs: ScaleResult[]): Row[] {
  const withCrashes = runs.filter((r) => r.crashes.length > 0);
  if (withCrashes.length === 0) return [];
  const perN = withCrashes.map((r) => (crashMean(r, "firstSuspicion") ?? NaN) / 1000);
  const all = mean(
    withCrashes.flatMap((r) =>
      r.crashes.flatMap((c) => c.firstSuspicion === undefined ? [] : [c.firstSuspicion / 1000])
    ),
  );
  const range = `${num(Math.min(...perN), 2)}–${num(Math.max(...perN), 2)} over N = ${
    withCrashes[0].spec.n
  }…${withCrashes.at(-1)!.spec.n}`;
  return [[
    "SWIM: crash → first detection, independent of N",
    `${num(SWIM_FIRST_DETECTION_PERIODS, 2)} periods`,
    `${num(all, 2)} periods (mean of ${
      withCrashes.reduce((a, r) => a + r.crashes.length, 0)
    } crashes; per-N means ${range})`,
    ratio(all, SWIM_FIRST_DETECTION_PERIODS),
    `SWIM counts lock-step rounds; here probes are staggered: first probe after ~1 period, ` +
    `failure declared 1 period later (model ${ENGINE_FIRST_DETECTION_PERIODS} periods: ` +
    `${ratio(all, ENGINE_FIRST_DETECTION_PERIODS)}). Flat in N, as SWIM says.`,
  ]];
}

function convergenceRows(runs: ScaleResult[]): Row[] {
  const rows: Row[] = [];
  const at1000 = runs.find((r) => r.spec.n === 1000 && r.joins.length > 0);
  if (at1000) {
    for (const [p, field] of [[0.5, "t50"], [0.99, "t99"]] as const) {
      const model = serfConvergenceMs(1000, p);
      const sim = joinMedian(at1000, field);
      rows.push([
        `Serf model: ${p * 100} % of 1,000 members`,
        `${sec(model, 1)} s`,
        `${sec(sim)} s`,
        ratio(sim, model),
        convergenceWhy(sim, model),
      ]);
    }
  }
  const joined = runs.filter((r) => r.joins.length > 0);
  const largest = joined.at(-1);
  if (largest && largest.spec.n >= 10_000) {
    const model = serfConvergenceMs(largest.spec.n, 0.9999);
    const sim = joinMedian(largest, "t100");
    rows.push([
      `Serf model: 99.99 % of ${largest.spec.n.toLocaleString("en-US")} members (100 % measured)`,
      `${sec(model, 1)} s`,
      `${sec(sim)} s`,
      ratio(sim, model),
      convergenceWhy(sim, model),
    ]);
  } else if (largest) {
    const model = serfConvergenceMs(largest.spec.n, 0.9999);
    const sim = joinMedian(largest, "t100");
    rows.push([
      `Serf model: 99.99 % of N (simulated at N = ${largest.spec.n}; 100 % measured)`,
      `${sec(model, 1)} s`,
      `${sec(sim)} s`,
      ratio(sim, model),
      `${convergenceWhy(sim, model)}; 10,000 members were not simulated (see cost)`,
    ]);
    const fit = logFit(joined.map((r) => [r.spec.n, joinMedian(r, "t100")]));
    if (fit) {
      const at10k = fit(10_000);
      rows.push([
        "Serf model: 99.99 % of 10,000 members in 2.6 s",
        "2.60 s",
        `${sec(at10k)} s (extrapolated: least squares on log10 N)`,
        ratio(at10k, 2600),
        "extrapolation of the measured 100 % times, not a simulation",
      ]);
    }
  }
  return rows;
}

function suspicionRows(runs: ScaleResult[], swim: ScaleResult[]): Row[] {
  const rows: Row[] = [];
  for (const r of runs.filter((x) => x.crashes.length > 0 && [100, 1000].includes(x.spec.n))) {
    const span = suspicionToDead(r);
    rows.push([
      `memberlist suspicion timeout at N = ${r.spec.n} (min / max)`,
      `${sec(r.suspicion.min, 0)} / ${sec(r.suspicion.max, 0)} s`,
      `${sec(span)} s from first suspicion to first death`,
      ratio(span, r.suspicion.min),
      "k = 2 confirmations arrive within seconds (others probe the victim too), so the " +
      "timer shrinks to min; the extra is the confirmations' gossip delay",
    ]);
  }
  const at100 = runs.find((r) => r.spec.n === 100 && r.crashes.length > 0);
  if (at100) {
    const sim = crashQuantile(at100, "dead100");
    rows.push([
      "Crash → dead everywhere at N = 100 (protocol notes' estimate)",
      "10–13 s",
      `${sec(sim)} s (median)`,
      ratio(sim, 11_500),
      `${
        sim === undefined
          ? "not reached"
          : sim < 10_000
          ? "slightly faster than"
          : sim <= 13_000
          ? "within"
          : "slower than"
      } the estimate: ~2 s to the first failed probe, then the 8 s minimum suspicion (k = 2 ` +
      "confirmations arrive in time), then < 0.5 s for the dead message's gossip",
    ]);
  }
  for (const s of swim.filter((x) => x.crashes.length > 0)) {
    const lg = runs.find((r) => r.spec.n === s.spec.n && r.crashes.length > 0);
    if (!lg) continue;
    const a = crashQuantile(lg, "dead100"), b = crashQuantile(s, "dead100");
    rows.push([
      `Lifeguard: "modest increase in detection latency" (N = ${s.spec.n})`,
      "modest increase",
      `${sec(a)} s Lifeguard vs ${sec(b)} s SWIM config (dead everywhere)`,
      ratio(a, b),
      "with confirmations Lifeguard's timer ends at the same min as SWIM's fixed timeout",
    ]);
  }
  return rows;
}

function lifeguardRows(results: readonly RunResult[]): Row[] {
  const slow = fpRuns(results).filter((r) => r.spec.slowFraction > 0);
  const rows: Row[] = [];
  for (const delay of [...new Set(slow.map((r) => r.spec.slowDelayMs))].sort((a, b) => a - b)) {
    const swim = slow.find((r) => r.spec.slowDelayMs === delay && r.spec.variant === "swim");
    const lg = slow.find((r) => r.spec.slowDelayMs === delay && r.spec.variant === "lifeguard");
    if (!swim || !lg) continue;
    const a = swim.falsePositives.fpHealthy, b = lg.falsePositives.fpHealthy;
    rows.push([
      `Lifeguard: false positives at healthy members, slow members ${sec(delay, 0)} s behind`,
      `> ${LIFEGUARD_FP_REDUCTION}× fewer`,
      `${a} (SWIM config) vs ${b} (Lifeguard) in ${num(lg.falsePositives.nodeHours, 0)} member-h`,
      b === 0 ? (a === 0 ? "– (none either way)" : `> ${a}× (0 with Lifeguard)`) : ratio(a, b),
      delay < lg.suspicion.min
        ? "the backlog is shorter than the suspicion minimum, so refutations mostly arrive in " +
          "time with either config"
        : delay < lg.suspicion.max
        ? "a slow member's own suspicion timer (fixed at min in SWIM) expires before it reads " +
          "the refutation; Lifeguard starts it at max and slows the slow member's probes (LHM)"
        : "the backlog outlasts even Lifeguard's max timeout; what is left is LHM's slower probing",
    ]);
  }
  return rows;
}

function loadRows(runs: ScaleResult[]): Row[] {
  if (runs.length < 2) return [];
  const first = runs[0], last = runs.at(-1)!;
  const peak = Math.max(...runs.map((r) => r.churnBandwidth?.bytesPerNodeSec ?? 0));
  return [
    [
      "SWIM: message load per member independent of N",
      "constant",
      `${num(first.bandwidth?.packetsPerNodeSec, 2)} packets/s at N = ${first.spec.n}, ${
        num(last.bandwidth?.packetsPerNodeSec, 2)
      } at N = ${last.spec.n}`,
      ratio(last.bandwidth?.packetsPerNodeSec, first.bandwidth?.packetsPerNodeSec),
      "steady state is one probe (ping + ack) per member per period; nothing to gossip",
    ],
    [
      "Serf: gossip bandwidth bound per member",
      "42 kB/s",
      `${num(peak, 0)} B/s (highest churn-phase mean)`,
      ratio(peak, SERF_MAX_GOSSIP_BYTES_PER_SEC),
      "the bound assumes full 1,400-byte packets on every gossip tick; the engine sends gossip " +
      "only while its queue holds news",
    ],
  ];
}

function convergenceWhy(sim: number | undefined, model: number): string {
  if (sim === undefined) return "not reached in the run";
  return sim <= model
    ? "faster than the model: each member that hears the news sends it in 3 gossip packets " +
      "every 200 ms until its retransmit limit (12–16) and piggybacks it on probes, with " +
      "staggered ticks; the model assumes half of the sends are wasted (c = 0.5 × fanout / n)"
    : "slower than the model: the news starts at one member (the join's seed) and each " +
      "member forwards it only until its retransmit limit";
}

/** Least-squares fit y = a + b·log10(x) over the defined points; undefined with < 2 points. */
function logFit(points: [number, number | undefined][]): ((x: number) => number) | undefined {
  const p = points.filter((q): q is [number, number] => q[1] !== undefined);
  if (p.length < 2) return undefined;
  const xs = p.map(([x]) => Math.log10(x)), ys = p.map(([, y]) => y);
  const mx = mean(xs)!, my = mean(ys)!;
  const b = xs.reduce((s, x, i) => s + (x - mx) * (ys[i] - my), 0) /
    xs.reduce((s, x) => s + (x - mx) ** 2, 0);
  const a = my - b * mx;
  return (x) => a + b * Math.log10(x);
}
