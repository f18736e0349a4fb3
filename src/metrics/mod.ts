/**
 * Prometheus metrics of a node: {@link NodeMetrics} (HTTP request counters and latency
 * histograms plus every store, membership and replication stat) and {@link routeOf}.
 *
 * @module
 */

export * from "./metrics.ts";
