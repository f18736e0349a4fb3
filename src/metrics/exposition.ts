/**
 * The Prometheus text exposition format (version 0.0.4), written by hand: a metric family is a
 * `# HELP` line, a `# TYPE` line and one line per sample, `name{label="value",...} number`.
 * The node exports only counters, gauges and histograms, whose text is a few lines of string
 * building; see `metrics.ts` for why no client library is used.
 *
 * @module
 */

/** The content type of the text format. */
export const CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

/** The metric types the node exports. */
export type MetricType = "counter" | "gauge" | "histogram";

/** Label names and values of one series. */
export type Labels = Readonly<Record<string, string>>;

const escapeHelp = (s: string) => s.replace(/\\/g, "\\\\").replace(/\n/g, "\\n");
const escapeLabel = (s: string) => escapeHelp(s).replace(/"/g, '\\"');

/** `{a="x",b="y"}` for `labels` (label values escaped), or `""` when there are none. */
export function formatLabels(labels: Labels): string {
  const parts: string[] = [];
  for (const [name, value] of Object.entries(labels)) parts.push(`${name}="${escapeLabel(value)}"`);
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

/** A sample value as the format spells it: `NaN`, `+Inf`, `-Inf` or the number. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return "NaN";
  if (value === Infinity) return "+Inf";
  if (value === -Infinity) return "-Inf";
  return String(value);
}

/** One family's text (no trailing newline): HELP, TYPE, then the sample lines given. */
export function familyText(
  name: string,
  type: MetricType,
  help: string,
  samples: readonly string[],
): string {
  return [`# HELP ${name} ${escapeHelp(help)}`, `# TYPE ${name} ${type}`, ...samples].join("\n");
}

/** The whole exposition: families separated by a blank line, ending with a newline. */
export function expositionText(families: readonly string[]): string {
  return `${families.join("\n\n")}\n`;
}

/**
 * A histogram with fixed bucket bounds over label sets: an observation is a bucket search and
 * three additions on plain numbers; the cumulative `_bucket`, `_sum` and `_count` lines are
 * built at scrape only.
 */
export class Histogram {
  readonly #bounds: readonly number[];
  readonly #series = new Map<string, HistogramSeries>();

  /** @param bounds the buckets' upper bounds, ascending (`+Inf` is implied) */
  constructor(bounds: readonly number[]) {
    this.#bounds = bounds;
  }

  /** Counts `value` in the series `key` (labels `labels`, remembered on first use). */
  observe(key: string, labels: Labels, value: number): void {
    this.series(key, labels).observe(value);
  }

  /**
   * The series `key` (created with `labels` on first use), to observe into directly: a caller
   * that keeps it saves the lookup (the request path keeps one per route and method).
   */
  series(key: string, labels: Labels): HistogramSeries {
    let series = this.#series.get(key);
    if (!series) {
      series = new HistogramSeries(this.#bounds, labels);
      this.#series.set(key, series);
    }
    return series;
  }

  /** The sample lines of histogram `name`: `le` first on bucket lines, then the series labels. */
  samples(name: string): string[] {
    const lines: string[] = [];
    for (const { labels, counts, sum } of this.#series.values()) {
      let acc = 0;
      this.#bounds.forEach((bound, i) => {
        acc += counts[i];
        lines.push(`${name}_bucket${formatLabels({ le: formatValue(bound), ...labels })} ${acc}`);
      });
      acc += counts[this.#bounds.length];
      lines.push(`${name}_bucket${formatLabels({ le: "+Inf", ...labels })} ${acc}`);
      lines.push(`${name}_sum${formatLabels(labels)} ${formatValue(sum)}`);
      lines.push(`${name}_count${formatLabels(labels)} ${acc}`);
    }
    return lines;
  }
}

/** One label set of a {@link Histogram}: bucket counts and the sum, as plain numbers. */
export class HistogramSeries {
  /** The series' labels. */
  readonly labels: Labels;
  /** Count per bucket (the last is `+Inf`), not cumulative. */
  readonly counts: number[];
  /** Sum of the observed values. */
  sum = 0;
  readonly #bounds: readonly number[];

  /** An empty series over `bounds` with `labels`. */
  constructor(bounds: readonly number[], labels: Labels) {
    this.#bounds = bounds;
    this.labels = labels;
    this.counts = new Array(bounds.length + 1).fill(0);
  }

  /** Counts `value`: a bucket search and two additions. */
  observe(value: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]) i++;
    this.counts[i]++;
    this.sum += value;
  }
}
