/**
 * Picking results out of a results file and summarising them: the scale runs of the default
 * configuration by size, medians over the joins and crashes of a run, false positives per
 * member-hour.
 *
 * @module
 */

import { mean, quantile } from "./metrics.ts";
import type { FalsePositiveSpec, LifeguardVariant, RunResult, ScaleSpec } from "./spec.ts";

/** A scale run's result with its spec typed. */
export type ScaleResult = RunResult & { spec: ScaleSpec };
/** A false-positive run's result with its spec typed. */
export type FpResult = RunResult & { spec: FalsePositiveSpec };

/** Scale runs matching the filter, by size. */
export function scaleRuns(
  results: readonly RunResult[],
  filter: { variant?: LifeguardVariant; loss?: number; bandwidth?: boolean } = {},
): ScaleResult[] {
  return results
    .filter((r): r is ScaleResult => r.spec.kind === "scale")
    .filter((r) => r.spec.variant === (filter.variant ?? "lifeguard"))
    .filter((r) => r.spec.loss === (filter.loss ?? 0) && r.spec.tcpPings)
    .filter((r) => filter.bandwidth === undefined || (r.spec.bandwidthMs > 0) === filter.bandwidth)
    .sort((a, b) => a.spec.n - b.spec.n);
}

/** False-positive runs, in plan order. */
export function fpRuns(results: readonly RunResult[]): FpResult[] {
  return results.filter((r): r is FpResult => r.spec.kind === "fp");
}

/** Median over a run's joins of one time field, ms. */
export function joinMedian(r: RunResult, field: "t50" | "t99" | "t100"): number | undefined {
  return quantile(defined(r.joins.map((j) => j[field])), 0.5);
}

/** Median (or another quantile) over a run's crashes of one time field, ms. */
export function crashQuantile(
  r: RunResult,
  field: "firstSuspicion" | "firstDead" | "dead50" | "dead99" | "dead100",
  p = 0.5,
): number | undefined {
  return quantile(defined(r.crashes.map((c) => c[field])), p);
}

/** Mean over a run's crashes of one time field, ms. */
export function crashMean(
  r: RunResult,
  field: "firstSuspicion" | "firstDead" | "dead100",
): number | undefined {
  return mean(defined(r.crashes.map((c) => c[field])));
}

/** Median time from the first suspicion to the first death declaration, ms. */
export function suspicionToDead(r: RunResult): number | undefined {
  const spans = r.crashes.flatMap((c) =>
    c.firstDead !== undefined && c.firstSuspicion !== undefined
      ? [c.firstDead - c.firstSuspicion]
      : []
  );
  return quantile(spans, 0.5);
}

/** Events per member-hour. */
export function perNodeHour(r: RunResult, count: number): number {
  return r.falsePositives.nodeHours > 0 ? count / r.falsePositives.nodeHours : 0;
}

/** Seconds with two decimals, or "–". */
export function sec(ms: number | undefined, digits = 2): string {
  return ms === undefined ? "–" : (ms / 1000).toFixed(digits);
}

/** A number with `digits` decimals, or "–". */
export function num(v: number | undefined, digits = 1): string {
  return v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(digits);
}

/** `a / b` as "1.23×", or "–". */
export function ratio(a: number | undefined, b: number | undefined): string {
  if (a === undefined || b === undefined || b === 0) return "–";
  const r = a / b;
  return `${r !== 0 && r < 0.1 ? r.toPrecision(2) : r.toFixed(2)}×`;
}

/** A markdown table. */
export function table(header: string[], rows: string[][]): string[] {
  return [
    `| ${header.join(" | ")} |`,
    `| ${header.map(() => "---").join(" | ")} |`,
    ...rows.map((r) => `| ${r.join(" | ")} |`),
  ];
}

function defined(values: (number | undefined)[]): number[] {
  return values.filter((v): v is number => v !== undefined);
}
