/**
 * Prometheus metrics for a node, on prom-client (the standard Node.js Prometheus client, which
 * runs unchanged on Deno): HTTP requests by route/method/status with latency histograms, and
 * every counter and gauge the node already keeps (store, membership, replication), read fresh
 * from `stats()` at each scrape so nothing is counted twice.
 *
 * Stats become metrics by a fixed naming rule: `cache_<section>_<field in snake_case>`, nested
 * objects joined with `_`; a per-peer map (`peers`) becomes a `peer` label, a per-reason map
 * (`dropped`, `streamErrors`) a `reason` label, and membership's `members` a `state` label.
 * Fields named (or ending) as in {@link GAUGE_FIELDS} are gauges; every other number only grows and is a
 * counter (`_total`).
 *
 * @module
 */

import client from "npm:prom-client@15.1.3";

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

interface Sample {
  name: string;
  field: string;
  labels: Record<string, string>;
  value: number;
}

/** Flattens a stats section into samples (see the module doc for the naming rule). */
export function flattenStats(
  section: string,
  value: unknown,
  path: string[] = [],
  labels: Record<string, string> = {},
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

/** The node's metrics registry. */
export class NodeMetrics {
  /** The prom-client registry (exposed for tests and extra metrics). */
  readonly registry: client.Registry = new client.Registry();
  readonly #requests: client.Counter<"route" | "method" | "status">;
  readonly #latency: client.Histogram<"route" | "method">;
  readonly #stats: StatsSource;
  readonly #derived = new Map<string, client.Gauge<string> | client.Counter<string>>();
  #requestCount = 0;

  /** @param stats the node's stats snapshot, read at each scrape */
  constructor(stats: StatsSource) {
    this.#stats = stats;
    this.#requests = new client.Counter({
      name: "cache_http_requests_total",
      help: "HTTP requests by route, method and status.",
      labelNames: ["route", "method", "status"],
      registers: [this.registry],
    });
    this.#latency = new client.Histogram({
      name: "cache_http_request_duration_seconds",
      help: "HTTP request latency (handler time) by route and method.",
      labelNames: ["route", "method"],
      buckets: [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.05, 0.25, 1, 5],
      registers: [this.registry],
    });
  }

  /** Records one request: its route template, method, status and handler time in seconds. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.#requestCount++;
    this.#requests.inc({ route, method, status: String(status) });
    this.#latency.observe({ route, method }, seconds);
  }

  /** HTTP requests observed so far (all routes). */
  get requestCount(): number {
    return this.#requestCount;
  }

  /** The Prometheus text exposition, with stats read now. */
  async text(): Promise<string> {
    const snapshot = this.#stats();
    for (const [section, value] of Object.entries(snapshot)) {
      // `http.requests` mirrors this registry's own request counter.
      const own = section === "http" && value !== null && typeof value === "object"
        ? { ...value, requests: undefined }
        : value;
      for (const s of flattenStats(section, own)) this.#set(s);
    }
    return await this.registry.metrics();
  }

  /** The content type of {@link NodeMetrics.text}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  #set(s: Sample): void {
    const gauge = [...GAUGE_FIELDS].some((g) => s.field === g || s.field.endsWith(`_${g}`));
    const name = gauge ? s.name : `${s.name.replace(/_total$/, "")}_total`;
    let metric = this.#derived.get(name);
    if (!metric) {
      const options = {
        name,
        help: `Node stats field ${s.field} (${gauge ? "gauge" : "counter"}).`,
        labelNames: Object.keys(s.labels),
        registers: [this.registry],
      };
      metric = gauge ? new client.Gauge(options) : new client.Counter(options);
      this.#derived.set(name, metric);
    }
    if (metric instanceof client.Gauge) {
      metric.set(s.labels, s.value);
    } else {
      // Counters mirror a value the node already counts: reset to it at each scrape.
      metric.remove(s.labels);
      metric.inc(s.labels, s.value);
    }
  }
}

/** Route template of a request path, for a bounded `route` label. */
export function routeOf(path: string): string {
  if (path === "/cache/members") return "/cache/members";
  if (path.startsWith("/cache/")) return "/cache/{key}";
  if (path.startsWith("/internal/")) return "/internal";
  const known = [
    "/",
    "/healthz",
    "/readyz",
    "/stats",
    "/metrics",
    "/cluster/members",
    "/openapi.json",
    "/dashboard/state",
  ];
  return known.includes(path) ? path : "other";
}
