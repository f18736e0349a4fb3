/**
 * Prometheus metrics of a node: {@link NodeMetrics} (the exporter), {@link METRIC_CATALOGUE}
 * (every series it writes: name, type, unit, help, labels, source), the process and runtime
 * figures, and {@link routeOf}.
 *
 * @module
 */

export * from "./catalogue.ts";
export * from "./metrics.ts";
export * from "./runtime.ts";
