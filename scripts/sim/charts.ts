/**
 * The report's SVG charts, built from run results: convergence vs N, detection vs N,
 * false positives vs loss, false positives vs slow-member delay, bandwidth vs N. Models and
 * anchors are drawn dashed next to the measurements.
 *
 * @module
 */

import { serfConvergenceMs, SWIM_FIRST_DETECTION_PERIODS } from "./anchors.ts";
import {
  crashMean,
  crashQuantile,
  fpRuns,
  joinMedian,
  perNodeHour,
  type ScaleResult,
  scaleRuns,
} from "./select.ts";
import type { RunResult } from "./spec.ts";
import { lineChart, type Series } from "./svg.ts";
import { quantile } from "./metrics.ts";
import { ANTI_ENTROPY_INTERVAL_MS } from "./replication.ts";

/** File name → SVG document, for every chart the results allow. */
export function charts(results: readonly RunResult[]): Map<string, string> {
  const out = new Map<string, string>();
  const runs = scaleRuns(results);
  const put = (name: string, svg: string | undefined) => svg && out.set(name, svg);
  put("convergence_vs_n.svg", convergence(runs.filter((r) => r.joins.length > 0)));
  put("detection_vs_n.svg", detection(runs, scaleRuns(results, { variant: "swim" })));
  put("bandwidth_vs_n.svg", bandwidth(scaleRuns(results, { bandwidth: true })));
  put("false_positives_vs_loss.svg", fpVsLoss(results));
  put("false_positives_vs_slowness.svg", fpVsSlowness(results));
  put("replication_vs_n.svg", replication(results));
  return out;
}

const s = (ms: number | undefined) => (ms === undefined ? undefined : ms / 1000);

function convergence(runs: ScaleResult[]): string | undefined {
  if (runs.length === 0) return undefined;
  const measured = (label: string, f: "t50" | "t99" | "t100"): Series => ({
    label,
    points: runs.map((r) => ({ x: r.spec.n, y: s(joinMedian(r, f)) })),
  });
  const model = (label: string, p: number): Series => ({
    label,
    dashed: true,
    points: [...runs.map((r) => r.spec.n), 10_000].map((n) => ({
      x: n,
      y: serfConvergenceMs(n, p) / 1000,
    })),
  });
  return lineChart({
    title: "Join convergence vs cluster size (LAN, gossip 200 ms × 3)",
    xLabel: "members (log scale)",
    yLabel: "seconds after the join",
    logX: true,
    series: [
      measured("50 % know", "t50"),
      measured("99 % know", "t99"),
      measured("100 % know", "t100"),
      model("Serf model 50 %", 0.5),
      model("Serf model 99 %", 0.99),
      model("Serf model 99.99 %", 0.9999),
    ],
  });
}

function detection(runs: ScaleResult[], swim: ScaleResult[]): string | undefined {
  const crashed = runs.filter((r) => r.crashes.length > 0);
  if (crashed.length === 0) return undefined;
  const series: Series[] = [
    {
      label: "first suspicion (mean)",
      points: crashed.map((r) => ({ x: r.spec.n, y: s(crashMean(r, "firstSuspicion")) })),
    },
    {
      label: "dead everywhere (median)",
      points: crashed.map((r) => ({ x: r.spec.n, y: s(crashQuantile(r, "dead100")) })),
    },
    {
      label: "suspicion min (formula)",
      dashed: true,
      points: crashed.map((r) => ({ x: r.spec.n, y: r.suspicion.min / 1000 })),
    },
    {
      label: "SWIM 1.58 periods",
      dashed: true,
      points: crashed.map((r) => ({ x: r.spec.n, y: SWIM_FIRST_DETECTION_PERIODS })),
    },
  ];
  const swimCrashed = swim.filter((r) => r.crashes.length > 0);
  if (swimCrashed.length > 0) {
    series.push({
      label: "dead everywhere, SWIM config",
      points: swimCrashed.map((r) => ({ x: r.spec.n, y: s(crashQuantile(r, "dead100")) })),
    });
  }
  return lineChart({
    title: "Crash detection vs cluster size (LAN, probe period 1 s)",
    xLabel: "members (log scale)",
    yLabel: "seconds after the crash",
    logX: true,
    series,
  });
}

function bandwidth(runs: ScaleResult[]): string | undefined {
  if (runs.length === 0) return undefined;
  const line = (label: string, y: (r: ScaleResult) => number | undefined): Series => ({
    label,
    points: runs.map((r) => ({ x: r.spec.n, y: y(r) })),
  });
  return lineChart({
    title: "Bytes sent per member per second vs cluster size",
    xLabel: "members (log scale)",
    yLabel: "bytes / member / s",
    logX: true,
    series: [
      line("UDP, steady", (r) => r.bandwidth?.bytesPerNodeSec),
      line("TCP push/pull, steady", (r) => r.bandwidth?.streamBytesPerNodeSec),
      line("UDP, joins + crashes", (r) => r.churnBandwidth?.bytesPerNodeSec),
    ],
  });
}

function fpVsLoss(results: readonly RunResult[]): string | undefined {
  const runs = fpRuns(results).filter((r) => r.spec.slowFraction === 0);
  if (runs.length === 0) return undefined;
  const line = (label: string, variant: string, tcp: boolean): Series => ({
    label,
    points: runs
      .filter((r) => r.spec.variant === variant && r.spec.tcpPings === tcp)
      .sort((a, b) => a.spec.loss - b.spec.loss)
      .map((r) => ({ x: r.spec.loss * 100, y: perNodeHour(r, r.falsePositives.fpHealthy) })),
  });
  return lineChart({
    title: "False deaths vs packet loss (no slow members)",
    xLabel: "packet loss on every link, %",
    yLabel: "live members marked dead / member-hour",
    series: [
      line("SWIM config, no TCP fallback", "swim", false),
      line("Lifeguard, no TCP fallback", "lifeguard", false),
      line("Lifeguard + TCP fallback", "lifeguard", true),
    ].filter((x) => x.points.length > 0),
  });
}

function fpVsSlowness(results: readonly RunResult[]): string | undefined {
  const runs = fpRuns(results).filter((r) => r.spec.slowFraction > 0);
  if (runs.length === 0) return undefined;
  const variants = [...new Set(runs.map((r) => r.spec.variant))];
  return lineChart({
    title: "Healthy members marked dead vs slow members' backlog",
    xLabel: "receive backlog of the slow members (10 %), s",
    yLabel: "healthy marked dead / member-hour",
    series: variants.map((variant) => ({
      label: variant,
      points: runs
        .filter((r) => r.spec.variant === variant)
        .sort((a, b) => a.spec.slowDelayMs - b.spec.slowDelayMs)
        .map((r) => ({
          x: r.spec.slowDelayMs / 1000,
          y: perNodeHour(r, r.falsePositives.fpHealthy),
        })),
    })),
  });
}

function replication(results: readonly RunResult[]): string | undefined {
  const runs = results.filter((r) => r.spec.kind === "replication");
  if (runs.length === 0) return undefined;
  const sizes = [...new Set(runs.map((r) => r.spec.n))].sort((a, b) => a - b);
  const median = (n: number, mode: string) => {
    const r = runs.find((x) =>
      x.spec.n === n && x.spec.kind === "replication" && x.spec.mode === mode
    );
    const t = quantile((r?.writes ?? []).filter((v): v is number => v !== undefined), 0.5);
    return s(t);
  };
  return lineChart({
    title: "Time for a write to reach every replica",
    xLabel: "replicas (log scale)",
    yLabel: "seconds (log scale)",
    logX: true,
    logY: true,
    series: [
      { label: "fast path (median)", points: sizes.map((n) => ({ x: n, y: median(n, "fast") })) },
      {
        label: "anti-entropy only (median)",
        points: sizes.map((n) => ({ x: n, y: median(n, "anti-entropy") })),
      },
      {
        label: "5 s × log₃ N",
        dashed: true,
        points: sizes.map((n) => ({
          x: n,
          y: (ANTI_ENTROPY_INTERVAL_MS / 1000) * Math.log(n) / Math.log(3),
        })),
      },
    ],
  });
}
