/**
 * The simulation report as markdown tables, from a list of run results: cost of each scale run
 * (wall, CPU, peak RSS, per-record memory), join convergence, crash detection, bandwidth, the
 * loss sweep, false positives with slow members, replication, partitions, and the comparison with
 * the anchors.
 *
 * @module
 */

import { SERF_MAX_GOSSIP_BYTES_PER_SEC, serfConvergenceMs } from "./anchors.ts";
import { quantile } from "./metrics.ts";
import { ANTI_ENTROPY_INTERVAL_MS } from "./replication.ts";
import { anchorTable } from "./report_anchors.ts";
import {
  crashMean,
  crashQuantile,
  fpRuns,
  joinMedian,
  num,
  perNodeHour,
  ratio,
  type ScaleResult,
  scaleRuns,
  sec,
  suspicionToDead,
  table,
} from "./select.ts";
import type { RunResult } from "./spec.ts";

/** Every table the results allow, as markdown lines. */
export function reportLines(results: readonly RunResult[]): string[] {
  return [
    ...section("Cost of the simulation (one process per run)", costTable(results)),
    ...section("Join convergence (warm cluster, one new member at a time)", joinTable(results)),
    ...section("Crash detection", crashTable(results)),
    ...section("Bandwidth per member", bandwidthTable(results)),
    ...section("Packet loss sweep (joins and crashes)", lossTable(results)),
    ...section(
      "False positives vs packet loss (TCP fallback off unless said)",
      fpLossTable(results),
    ),
    ...section("False positives with slow members", slowTable(results)),
    ...section("Replication: time for a write to reach every replica", replicationTable(results)),
    ...section("Latency sweep (joins and crashes, no loss)", latencyTable(results)),
    ...section("Network partition: the split and the heal", partitionTable(results)),
    ...section("Simulation vs anchors", anchorTable(results)),
  ];
}

function section(title: string, lines: string[]): string[] {
  return lines.length === 0 ? [] : [`### ${title}`, "", ...lines, ""];
}

function costTable(results: readonly RunResult[]): string[] {
  const rows = results
    .filter((r): r is ScaleResult => r.spec.kind === "scale")
    .sort((a, b) => a.spec.n - b.spec.n)
    .map((r) => [
      `${r.spec.n}${r.spec.variant === "lifeguard" ? "" : ` (${r.spec.variant})`}${
        r.spec.loss > 0 ? ` loss ${r.spec.loss * 100}%` : ""
      }`,
      r.records.toLocaleString("en-US"),
      sec(r.warmWallMs, 1),
      sec(r.wallMs, 1),
      sec(r.cpuMs, 1),
      String(r.peakRssMib),
      sec(r.virtualMs, 0),
      num((r.wallMs - r.warmWallMs) / r.virtualMs, 2),
      r.records >= 100_000 ? num((r.peakRssMib * 2 ** 20) / r.records, 0) : "–",
    ]);
  if (rows.length === 0) return [];
  return table(
    [
      "N",
      "member records",
      "warm start s",
      "wall s",
      "CPU s",
      "peak RSS MiB",
      "virtual s",
      "wall s per virtual s",
      "peak RSS per record B",
    ],
    rows,
  );
}

function joinTable(results: readonly RunResult[]): string[] {
  const rows = scaleRuns(results).filter((r) => r.joins.length > 0).map((r) => [
    String(r.spec.n),
    String(r.joins.length),
    sec(joinMedian(r, "t50")),
    sec(joinMedian(r, "t99")),
    sec(joinMedian(r, "t100")),
    sec(serfConvergenceMs(r.spec.n, 0.5), 1),
    sec(serfConvergenceMs(r.spec.n, 0.99), 1),
    sec(serfConvergenceMs(r.spec.n, 0.9999), 1),
  ]);
  if (rows.length === 0) return [];
  return table(
    ["N", "joins", "50 % s", "99 % s", "100 % s", "Serf 50 %", "Serf 99 %", "Serf 99.99 %"],
    rows,
  );
}

function crashTable(results: readonly RunResult[]): string[] {
  const runs = [...scaleRuns(results), ...scaleRuns(results, { variant: "swim" })]
    .filter((r) => r.crashes.length > 0)
    .sort((a, b) => a.spec.n - b.spec.n);
  const rows = runs.map((r) => [
    `${r.spec.n}${r.spec.variant === "swim" ? " (SWIM config)" : ""}`,
    String(r.crashes.length),
    num((crashMean(r, "firstSuspicion") ?? NaN) / 1000, 2),
    sec(suspicionToDead(r), 1),
    sec(crashQuantile(r, "dead50")),
    sec(crashQuantile(r, "dead100")),
    sec(crashQuantile(r, "dead100", 1)),
    `${sec(r.suspicion.min, 1)} / ${sec(r.suspicion.max, 1)}`,
  ]);
  if (rows.length === 0) return [];
  return table(
    [
      "N",
      "crashes",
      "first suspicion, mean (probe periods)",
      "suspicion → first dead, median s",
      "dead at 50 %, median s",
      "dead everywhere, median s",
      "dead everywhere, max s",
      "suspicion min / max s",
    ],
    rows,
  );
}

function bandwidthTable(results: readonly RunResult[]): string[] {
  const rows = scaleRuns(results, { bandwidth: true }).map((r) => [
    String(r.spec.n),
    num(r.bandwidth?.packetsPerNodeSec, 2),
    num(r.bandwidth?.bytesPerNodeSec, 0),
    num(r.bandwidth?.streamBytesPerNodeSec, 0),
    num(r.bandwidth?.pushPullBytes ?? r.churnBandwidth?.pushPullBytes, 0),
    num(r.churnBandwidth?.packetsPerNodeSec, 2),
    num(r.churnBandwidth?.bytesPerNodeSec, 0),
    ratio(r.churnBandwidth?.bytesPerNodeSec, SERF_MAX_GOSSIP_BYTES_PER_SEC),
  ]);
  if (rows.length === 0) return [];
  return table(
    [
      "N",
      "steady packets/s",
      "steady UDP B/s",
      "steady TCP B/s",
      "bytes per push/pull",
      "churn packets/s",
      "churn UDP B/s",
      "churn UDP vs Serf's 42 kB/s bound",
    ],
    rows,
  );
}

function lossTable(results: readonly RunResult[]): string[] {
  const runs = results
    .filter((r): r is ScaleResult =>
      r.spec.kind === "scale" && r.spec.bandwidthMs === 0 && r.spec.latencyMs === undefined
    )
    .sort((a, b) => a.spec.loss - b.spec.loss);
  const rows = runs.map((r) => [
    `${Math.round(r.spec.loss * 100)} %`,
    String(r.spec.n),
    sec(joinMedian(r, "t99")),
    sec(joinMedian(r, "t100")),
    sec(serfConvergenceMs(r.spec.n, 0.9999, { loss: r.spec.loss }), 1),
    num((crashMean(r, "firstSuspicion") ?? NaN) / 1000, 2),
    sec(crashQuantile(r, "dead100")),
    num(perNodeHour(r, r.falsePositives.falseSuspicions), 1),
    num(perNodeHour(r, r.falsePositives.fpHealthy), 2),
  ]);
  if (rows.length === 0) return [];
  return table(
    [
      "loss",
      "N",
      "join 99 % s",
      "join 100 % s",
      "Serf 99.99 % s",
      "first suspicion (periods)",
      "dead everywhere s",
      "false suspicions /member-h",
      "false deaths /member-h",
    ],
    rows,
  );
}

function fpLossTable(results: readonly RunResult[]): string[] {
  const runs = fpRuns(results).filter((r) => r.spec.slowFraction === 0);
  const losses = [...new Set(runs.map((r) => r.spec.loss))].sort((a, b) => a - b);
  const pick = (loss: number, variant: string, tcp: boolean) =>
    runs.find((r) => r.spec.loss === loss && r.spec.variant === variant && r.spec.tcpPings === tcp);
  const rate = (r: RunResult | undefined) => r && perNodeHour(r, r.falsePositives.fpHealthy);
  const rows = losses.map((loss) => {
    const swim = pick(loss, "swim", false), lg = pick(loss, "lifeguard", false);
    const tcp = pick(loss, "lifeguard", true);
    return [
      `${Math.round(loss * 100)} %`,
      String((swim ?? lg)?.spec.n ?? "–"),
      num(rate(swim), 2),
      num(rate(lg), 2),
      ratio(rate(swim), rate(lg)),
      num(swim && perNodeHour(swim, swim.falsePositives.falseSuspicions), 0),
      num(lg && perNodeHour(lg, lg.falsePositives.falseSuspicions), 0),
      num(rate(tcp), 2),
    ];
  });
  if (rows.length === 0) return [];
  return table(
    [
      "loss",
      "N",
      "SWIM false deaths /member-h",
      "Lifeguard false deaths /member-h",
      "SWIM / Lifeguard",
      "SWIM suspicions /member-h",
      "Lifeguard suspicions /member-h",
      "Lifeguard + TCP fallback false deaths /member-h",
    ],
    rows,
  );
}

function slowTable(results: readonly RunResult[]): string[] {
  const runs = fpRuns(results).filter((r) => r.spec.slowFraction > 0);
  const swimOf = (delay: number) =>
    runs.find((r) => r.spec.slowDelayMs === delay && r.spec.variant === "swim");
  const rows = runs.map((r) => {
    const f = r.falsePositives, swim = swimOf(r.spec.slowDelayMs);
    return [
      sec(r.spec.slowDelayMs, 0),
      r.spec.variant,
      `${r.spec.n} (${Math.round(r.spec.slowFraction * r.spec.n)} slow)`,
      num(perNodeHour(r, f.falseSuspicions), 0),
      num(perNodeHour(r, f.fpHealthy), 2),
      num(perNodeHour(r, f.declaredHealthy), 2),
      ratio(swim?.falsePositives.fpHealthy, f.fpHealthy || undefined),
      num(perNodeHour(r, f.fpSlow), 1),
      num(perNodeHour(r, f.declaredSlow), 1),
    ];
  });
  if (rows.length === 0) return [];
  return table(
    [
      "slow delay s",
      "variant",
      "N",
      "false suspicions /member-h",
      "healthy marked dead /member-h",
      "of which declared by own timer",
      "SWIM / this (healthy)",
      "slow marked dead /member-h",
      "of which declared by own timer",
    ],
    rows,
  );
}

function replicationTable(results: readonly RunResult[]): string[] {
  const runs = results.filter((r) => r.spec.kind === "replication");
  const sizes = [...new Set(runs.map((r) => r.spec.n))].sort((a, b) => a - b);
  const times = (n: number, mode: string) => {
    const r = runs.find((x) =>
      x.spec.n === n && x.spec.kind === "replication" && x.spec.mode === mode
    );
    return (r?.writes ?? []).filter((t): t is number => t !== undefined);
  };
  const rows = sizes.map((n) => {
    const fast = times(n, "fast"), ae = times(n, "anti-entropy");
    const med = quantile(ae, 0.5);
    return [
      String(n),
      `${num(quantile(fast, 0.5), 1)} / ${num(quantile(fast, 1), 1)}`,
      `${sec(med, 1)} / ${sec(quantile(ae, 1), 1)}`,
      num(med === undefined ? undefined : med / ANTI_ENTROPY_INTERVAL_MS, 1),
      num(Math.log(n) / Math.log(3), 1),
    ];
  });
  if (rows.length === 0) return [];
  return table(
    [
      "replicas",
      "fast path median / max ms",
      "anti-entropy only median / max s",
      "anti-entropy rounds (median / 5 s)",
      "log₃ N (push-pull epidemic)",
    ],
    rows,
  );
}

function partitionTable(results: readonly RunResult[]): string[] {
  const rows = results
    .filter((r) => r.spec.kind === "partition" && r.partition !== undefined)
    .sort((a, b) => a.spec.n - b.spec.n || a.partition!.sides[0] - b.partition!.sides[0])
    .map((r) => {
      const p = r.partition!;
      return [
        String(r.spec.n),
        `${p.sides[0]} \\| ${p.sides[1]}`,
        `${sec(p.split50, 1)} / ${sec(p.split99, 1)} / ${sec(p.split100, 1)}`,
        p.splitBySide.map((x, i) =>
          x.t100 !== undefined ? sec(x.t100, 1) : `${x.complete} of ${p.sides[i]}`
        ).join(" / "),
        String(p.sameSideDeaths),
        `${sec(p.heal50, 1)} / ${sec(p.heal99, 1)} / ${sec(p.heal100, 1)}`,
        p.merged === undefined
          ? "**not within " + sec(r.spec.kind === "partition" ? r.spec.healMaxMs : undefined, 0) +
            " s**"
          : sec(p.merged, 1),
        String(p.deathsAfterHeal),
        String(p.refutationsAfterHeal),
      ];
    });
  if (rows.length === 0) return [];
  return table(
    [
      "N",
      "sides",
      "other side dead for 50 / 99 / 100 % s",
      "same, 100 % of smaller / larger side s",
      "own side declared dead",
      "no member dead for 50 / 99 / 100 % s after heal",
      "all alive in every table s after heal",
      "deaths after heal",
      "refutations after heal",
    ],
    rows,
  );
}

function latencyTable(results: readonly RunResult[]): string[] {
  const runs = results
    .filter((r): r is ScaleResult =>
      r.spec.kind === "scale" && r.spec.bandwidthMs === 0 && r.spec.loss === 0
    );
  const swept = runs.filter((r) => r.spec.latencyMs !== undefined);
  if (swept.length === 0) return [];
  // The loss sweep's 0 % row at the same size is the default latency (1 + [0, 1) ms).
  const base = runs.filter((r) => r.spec.latencyMs === undefined && r.spec.n === swept[0].spec.n);
  const rows = [...base, ...swept.sort((a, b) => a.spec.latencyMs! - b.spec.latencyMs!)].map((
    r,
  ) => [
    `${r.spec.latencyMs ?? 1} + [0, ${r.spec.jitterMs ?? 1}) ms`,
    String(r.spec.n),
    sec(joinMedian(r, "t99")),
    sec(joinMedian(r, "t100")),
    num((crashMean(r, "firstSuspicion") ?? NaN) / 1000, 2),
    sec(crashQuantile(r, "dead100")),
    num(perNodeHour(r, r.falsePositives.falseSuspicions), 1),
    num(perNodeHour(r, r.falsePositives.fpHealthy), 2),
  ]);
  return table(
    [
      "one-way latency",
      "N",
      "join 99 % s",
      "join 100 % s",
      "first suspicion (periods)",
      "dead everywhere s",
      "false suspicions /member-h",
      "false deaths /member-h",
    ],
    rows,
  );
}
