/**
 * Prometheus metrics for a node: HTTP requests by route/method/status with latency histograms, a
 * `cache_build_info{version,deno}` gauge, and every counter and gauge the node already keeps
 * (store, membership, replication), read fresh from `stats()` at each scrape so nothing is
 * counted twice.
 *
 * Stats become metrics by a fixed naming rule: `cache_<section>_<field in snake_case>`, nested
 * objects joined with `_`; a per-peer map (`peers`) becomes a `peer` label, a per-reason map
 * (`dropped`, `streamErrors`) a `reason` label, and membership's `members` a `state` label.
 * Fields named (or ending) as in {@link GAUGE_FIELDS} are gauges; every other number only grows and is a
 * counter (`_total`).
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

import { DENO_VERSION, VERSION } from "../util/version.ts";
import {
  CONTENT_TYPE,
  expositionText,
  familyText,
  formatLabels,
  formatValue,
  Histogram,
  type HistogramSeries,
  type Labels,
} from "./exposition.ts";

/** Stats fields that go up and down (gauges); everything else is a monotonic counter. */
export const GAUGE_FIELDS: ReadonlySet<string> = new Set([
  "entries",
  "bytes",
  "max_bytes",
  "tombstones",
  "health_score",
  "members",
  "queue_depth",
  "queued_records",
  "backlog_bytes",
  "in_flight",
  "streams_open",
  "lag_ms_p50",
  "lag_ms_p99",
  "lag_ms_max",
  "lag_ms_samples",
  "ready",
  "replicas",
  "owned_buckets",
]);

/** Where the node's counters come from: its `stats()` snapshot, one object per section. */
export type StatsSource = () => Record<string, unknown>;

const LABELLED_MAPS: Record<string, string> = {
  peers: "peer",
  dropped: "reason",
  streamErrors: "reason",
  members: "state",
};

function snake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, "$1_$2").replace(/[^a-zA-Z0-9_]/g, "_").toLowerCase();
}

/** One number of the stats, named and labelled as a metric sample. */
export interface Sample {
  /** Metric name (before a counter's `_total`). */
  name: string;
  /** The field path in snake_case (decides gauge or counter). */
  field: string;
  /** Labels from the maps on the way (`peer`, `reason`, `state`). */
  labels: Labels;
  /** The value. */
  value: number;
}

/** Flattens a stats section into samples (see the module doc for the naming rule). */
export function flattenStats(
  section: string,
  value: unknown,
  path: string[] = [],
  labels: Labels = {},
): Sample[] {
  if (typeof value === "number" && Number.isFinite(value)) {
    const field = snake(path.join("_"));
    return [{ name: `cache_${snake(section)}_${field}`, field, labels, value }];
  }
  if (typeof value === "boolean") return flattenStats(section, value ? 1 : 0, path, labels);
  if (value === null || typeof value !== "object" || Array.isArray(value)) return [];
  const out: Sample[] = [];
  for (const [key, inner] of Object.entries(value)) {
    const label = LABELLED_MAPS[key];
    if (label && inner !== null && typeof inner === "object") {
      for (const [labelValue, leaf] of Object.entries(inner)) {
        out.push(
          ...flattenStats(section, leaf, [...path, key], { ...labels, [label]: labelValue }),
        );
      }
    } else {
      out.push(...flattenStats(section, inner, [...path, key], labels));
    }
  }
  return out;
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

/** The node's metrics: request counters kept as plain numbers, everything else read at scrape. */
export class NodeMetrics {
  /** Request counters in order of first use (the exposition's order). */
  readonly #requests: { labels: string; count: number }[] = [];
  readonly #routes = new Map<string, Map<string, RequestSeries>>();
  readonly #latency = new Histogram(LATENCY_BUCKETS);
  readonly #stats: StatsSource;
  readonly #buildInfo: string;
  #requestCount = 0;

  /**
   * @param stats the node's stats snapshot, read at each scrape
   * @param build the versions exported by `cache_build_info` (default: this build's)
   */
  constructor(stats: StatsSource, build: BuildInfo = { version: VERSION, deno: DENO_VERSION }) {
    this.#stats = stats;
    this.#buildInfo = familyText(
      "cache_build_info",
      "gauge",
      "Version of cachenode and of the Deno runtime it runs on (always 1).",
      [`cache_build_info${formatLabels({ version: build.version, deno: build.deno })} 1`],
    );
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

  /** The Prometheus text exposition, with stats read now. */
  text(): string {
    const requests = this.#requests
      .map(({ labels, count }) => `cache_http_requests_total${labels} ${count}`);
    const families = [
      familyText(
        "cache_http_requests_total",
        "counter",
        "HTTP requests by route, method and status.",
        requests,
      ),
      familyText(
        "cache_http_request_duration_seconds",
        "histogram",
        "HTTP request latency (handler time) by route and method.",
        this.#latency.samples("cache_http_request_duration_seconds"),
      ),
      this.#buildInfo,
    ];
    // Samples of one name must be adjacent: group them (a peer's fields come peer by peer).
    const derived = new Map<string, { gauge: boolean; field: string; lines: string[] }>();
    for (const [section, value] of Object.entries(this.#stats())) {
      // `http.requests` mirrors the request counter above.
      const own = section === "http" && value !== null && typeof value === "object"
        ? { ...value, requests: undefined }
        : value;
      for (const s of flattenStats(section, own)) {
        const gauge = [...GAUGE_FIELDS].some((g) => s.field === g || s.field.endsWith(`_${g}`));
        const name = gauge ? s.name : `${s.name.replace(/_total$/, "")}_total`;
        let family = derived.get(name);
        if (!family) derived.set(name, family = { gauge, field: s.field, lines: [] });
        family.lines.push(`${name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
      }
    }
    for (const [name, { gauge, field, lines }] of derived) {
      const type = gauge ? "gauge" : "counter";
      families.push(familyText(name, type, `Node stats field ${field} (${type}).`, lines));
    }
    return expositionText(families);
  }

  /** The content type of {@link NodeMetrics.text}. */
  get contentType(): string {
    return CONTENT_TYPE;
  }
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
