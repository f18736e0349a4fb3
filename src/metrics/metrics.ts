/**
 * Prometheus metrics for a node: exactly the series of the catalogue (`catalogue.ts`), in its
 * order. HTTP requests are counted by route/method/status with latency histograms as plain
 * numbers on the request path; everything else is read at scrape: the node's `stats()` (each
 * catalogue entry names its stats path), the process and runtime figures (`runtime.ts`) and
 * `cache_build_info`. Nothing is counted twice and nothing is formatted until a scrape.
 *
 * Why the text is written by hand (`exposition.ts`) and not by prom-client: the node needs only
 * counters, gauges and histograms, whose exposition is a few lines; prom-client depends on
 * `tdigest` (for summary quantiles we never use), whose `bintrees` package ships a test data file
 * that makes `deno compile` overflow its stack, so no single executable could be built. Plain
 * numbers bumped on the request path and formatted at scrape also keep metric work off the hot
 * path.
 *
 * @module
 */

import type { Clock } from "../util/clock.ts";
import { DENO_VERSION, VERSION } from "../util/version.ts";
import { METRIC_CATALOGUE, type MetricSpec } from "./catalogue.ts";
import {
  CONTENT_TYPE,
  expositionText,
  familyText,
  formatLabels,
  formatValue,
  Histogram,
  type HistogramSeries,
} from "./exposition.ts";
import { EventLoopLagSampler, type ProcessFigures, processFigures } from "./runtime.ts";

/** Where the node's counters come from: its `stats()` snapshot, one object per section. */
export type StatsSource = () => Record<string, unknown>;

/**
 * The sample lines of a stats-fed series: the value at `spec.stat` in `stats`, one line per
 * label set its `{label}` segments walk. `undefined` when the path does not reach a value or a
 * map (the section is absent: not in a cluster, not partitioned), so the family is left out.
 */
export function statSamples(spec: MetricSpec, stats: unknown): string[] | undefined {
  const segments = spec.stat!.split(".");
  const divisor = spec.scale === undefined ? 1 : 1 / spec.scale;
  const lines: string[] = [];
  let reached = false;
  const walk = (value: unknown, i: number, labels: Record<string, string>): void => {
    if (i === segments.length) {
      const n = typeof value === "boolean" ? Number(value) : value;
      if (typeof n !== "number") return;
      reached = true;
      lines.push(`${spec.name}${formatLabels(labels)} ${formatValue(n / divisor)}`);
      return;
    }
    if (value === null || typeof value !== "object") return;
    const segment = segments[i];
    const label = /^\{(\w+)\}$/.exec(segment)?.[1];
    if (label === undefined) {
      walk((value as Record<string, unknown>)[segment], i + 1, labels);
      return;
    }
    reached = true;
    for (const [key, inner] of Object.entries(value)) {
      walk(inner, i + 1, { ...labels, [label]: key });
    }
  };
  walk(stats, 0, {});
  return reached ? lines : undefined;
}

/** The latency buckets of `cache_http_request_duration_seconds`, in seconds. */
const LATENCY_BUCKETS = [
  0.00005,
  0.0001,
  0.00025,
  0.0005,
  0.001,
  0.0025,
  0.005,
  0.01,
  0.05,
  0.25,
  1,
  5,
];

/** The counters and latency series of one route and method. */
interface RequestSeries {
  latency: HistogramSeries;
  byStatus: Map<number, { labels: string; count: number }>;
}

/** Build facts exported as `cache_build_info`. */
export interface BuildInfo {
  /** cachenode's version. */
  version: string;
  /** The Deno runtime's version. */
  deno: string;
}

/** Options of {@link NodeMetrics}. */
export interface NodeMetricsOptions {
  /** The versions exported by `cache_build_info`. @default this build's */
  build?: BuildInfo;
  /** Timers of the event-loop lag sampler. @default systemClock */
  clock?: Clock;
}

/** The node's metrics: request counters kept as plain numbers, everything else read at scrape. */
export class NodeMetrics {
  /** Request counters in order of first use (the exposition's order). */
  readonly #requests: { labels: string; count: number }[] = [];
  readonly #routes = new Map<string, Map<string, RequestSeries>>();
  readonly #latency = new Histogram(LATENCY_BUCKETS);
  readonly #stats: StatsSource;
  readonly #lag: EventLoopLagSampler;
  readonly #computed: Readonly<
    Record<string, (stats: Record<string, unknown>) => string[] | undefined>
  >;
  #requestCount = 0;
  // Read once per scrape, before the process series are written.
  #figures: ProcessFigures = processFigures();

  /**
   * @param stats the node's stats snapshot, read at each scrape
   * @param options build info and clock
   */
  constructor(stats: StatsSource, options: NodeMetricsOptions = {}) {
    this.#stats = stats;
    this.#lag = new EventLoopLagSampler({ clock: options.clock });
    const build = options.build ?? { version: VERSION, deno: DENO_VERSION };
    const buildLine = `cache_build_info${
      formatLabels({ version: build.version, deno: build.deno })
    } 1`;
    // Unlabelled series computed at scrape, each a single sample.
    const single: Record<string, () => number> = {
      process_start_time_seconds: () => this.#figures.startTimeSeconds,
      process_cpu_seconds_total: () => this.#figures.cpuSeconds,
      process_resident_memory_bytes: () => this.#figures.rssBytes,
      cache_runtime_heap_used_bytes: () => this.#figures.heapUsedBytes,
      cache_runtime_heap_total_bytes: () => this.#figures.heapTotalBytes,
      cache_runtime_external_memory_bytes: () => this.#figures.externalBytes,
      cache_runtime_event_loop_lag_seconds: () => this.#lag.lastMs / 1000,
      cache_runtime_event_loop_lag_max_seconds: () => this.#lag.maxMs / 1000,
    };
    this.#computed = {
      ...Object.fromEntries(
        Object.entries(single).map(([name, value]) => [
          name,
          () => [`${name} ${formatValue(value())}`],
        ]),
      ),
      cache_http_requests_total: () =>
        this.#requests.map(({ labels, count }) => `cache_http_requests_total${labels} ${count}`),
      cache_http_request_duration_seconds: () =>
        this.#latency.samples("cache_http_request_duration_seconds"),
      cache_build_info: () => [buildLine],
      cache_workers_request_duration_seconds: (stats) =>
        durationHistogram("cache_workers_request_duration_seconds", stats.workers),
    };
  }

  /** Starts the event-loop lag sampler (the node's start). */
  start(): void {
    this.#lag.start();
  }

  /** Stops the event-loop lag sampler (the node's close). */
  stop(): void {
    this.#lag.stop();
  }

  /** Records one request: its route template, method, status and handler time in seconds. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.#requestCount++;
    // Two map lookups and no string built: this runs for every request.
    let methods = this.#routes.get(route);
    if (methods === undefined) this.#routes.set(route, methods = new Map());
    let series = methods.get(method);
    if (series === undefined) {
      series = {
        latency: this.#latency.series(`${route} ${method}`, { route, method }),
        byStatus: new Map(),
      };
      methods.set(method, series);
    }
    const counter = series.byStatus.get(status);
    if (counter !== undefined) counter.count++;
    else {
      const labels = formatLabels({ route, method, status: String(status) });
      const created = { labels, count: 1 };
      series.byStatus.set(status, created);
      this.#requests.push(created);
    }
    series.latency.observe(seconds);
  }

  /** HTTP requests observed so far (all routes). */
  get requestCount(): number {
    return this.#requestCount;
  }

  /**
   * The Prometheus text exposition, with stats read now: every catalogue family whose source
   * exists (a stats section absent outside a cluster leaves its families out).
   */
  text(): string {
    const stats = this.#stats();
    this.#figures = processFigures();
    const families: string[] = [];
    for (const spec of METRIC_CATALOGUE) {
      const samples = spec.stat === undefined
        ? this.#computedSamples(spec.name, stats)
        : statSamples(spec, stats);
      if (samples !== undefined) {
        families.push(familyText(spec.name, spec.type, spec.help, samples));
      }
    }
    return expositionText(families);
  }

  #computedSamples(name: string, stats: Record<string, unknown>): string[] | undefined {
    const compute = this.#computed[name];
    if (compute === undefined) {
      throw new Error(`Cannot export ${name}: the catalogue names no stat and none is computed`);
    }
    return compute(stats);
  }

  /** The content type of {@link NodeMetrics.text}. */
  get contentType(): string {
    return CONTENT_TYPE;
  }
}

/**
 * Histogram samples from a stats section holding `durationMsSum` and per-bucket counts
 * `durationBuckets: [{le (ms) | "+Inf", count}]` (not cumulative); none when the section is absent.
 */
function durationHistogram(name: string, section: unknown): string[] | undefined {
  const s = section as {
    durationMsSum?: number;
    durationBuckets?: { le: number | "+Inf"; count: number }[];
  } | undefined;
  if (s?.durationBuckets === undefined) return undefined;
  let total = 0;
  const lines = s.durationBuckets.map(({ le, count }) => {
    total += count;
    const bound = le === "+Inf" ? "+Inf" : formatValue(le / 1000);
    return `${name}_bucket${formatLabels({ le: bound })} ${total}`;
  });
  lines.push(`${name}_sum ${formatValue((s.durationMsSum ?? 0) / 1000)}`, `${name}_count ${total}`);
  return lines;
}

const KNOWN_ROUTES: ReadonlySet<string> = new Set([
  "/",
  "/healthz",
  "/readyz",
  "/stats",
  "/metrics",
  "/cluster/members",
  "/openapi.json",
  "/dashboard/state",
]);

/** Route template of a request path, for a bounded `route` label. */
export function routeOf(path: string): string {
  if (path === "/cache/members") return "/cache/members";
  if (path.startsWith("/cache/")) return "/cache/{key}";
  if (path.startsWith("/internal/")) return "/internal";
  return KNOWN_ROUTES.has(path) ? path : "other";
}
