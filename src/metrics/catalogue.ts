/**
 * The metric catalogue: every series `/metrics` exports, in one table (name, type, unit, help,
 * labels, and where its value comes from). The exporter (`metrics.ts`) writes exactly these
 * families in this order, and the README's metrics table is checked against it
 * (`catalogue_test.ts`), so a series cannot exist without being documented, or be documented
 * without existing.
 *
 * Kinds follow Prometheus' rules: a counter only for a monotonic total (name ends `_total`), a
 * gauge for anything that is a snapshot (sizes, depths, percentiles of a recent window, the
 * duration of the last round); base units (seconds, bytes) with the unit as the name's suffix.
 *
 * A series read from the node's `/stats` names its `stat`: a dotted path into the stats, where a
 * `{label}` segment walks every key of a map and puts the key in that label
 * (`replication.peers.{peer}.queued`). Adding a stats section's series is one entry each here.
 * A series without `stat` is computed by the exporter (HTTP requests, process and runtime).
 *
 * @module
 */

import type { MetricType } from "./exposition.ts";

/** The unit of a series: the last word of its name (before `_total`), or none. */
export type MetricUnit = "" | "seconds" | "bytes";

/** One family of the catalogue. */
export interface MetricSpec {
  /** The family name (a counter's ends with `_total`). */
  name: string;
  /** Counter (monotonic total), gauge (snapshot) or histogram. */
  type: MetricType;
  /** Base unit, also the name's suffix. */
  unit: MetricUnit;
  /** The HELP text. */
  help: string;
  /** Label names of its samples (a histogram's `le` not included). */
  labels: readonly string[];
  /** The stats path its value is read from; absent when the exporter computes it. */
  stat?: string;
  /** Factor from the stat's unit to the series' (0.001 for a stat in ms). @default 1 */
  scale?: number;
}

type Extra = Partial<Pick<MetricSpec, "labels" | "scale">>;

const unitOf = (name: string): MetricUnit => {
  const base = name.replace(/_total$/, "");
  return base.endsWith("_seconds") ? "seconds" : base.endsWith("_bytes") ? "bytes" : "";
};

/** A counter entry (the unit read from the name). */
function counter(name: string, stat: string | undefined, help: string, extra: Extra = {}) {
  return spec("counter", name, stat, help, extra);
}

/** A gauge entry (the unit read from the name). */
function gauge(name: string, stat: string | undefined, help: string, extra: Extra = {}) {
  return spec("gauge", name, stat, help, extra);
}

function spec(
  type: MetricType,
  name: string,
  stat: string | undefined,
  help: string,
  extra: Extra,
): MetricSpec {
  const labels = extra.labels ?? [...(stat ?? "").matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
  const entry: MetricSpec = { name, type, unit: unitOf(name), help, labels };
  if (stat !== undefined) entry.stat = stat;
  if (extra.scale !== undefined) entry.scale = extra.scale;
  return entry;
}

const MS = { scale: 0.001 };

/** Every series of `/metrics`, in exposition order. */
// deno-fmt-ignore: a table reads best one row per line.
export const METRIC_CATALOGUE: readonly MetricSpec[] = [
  // HTTP (computed by the exporter from the request path's plain counters)
  counter("cache_http_requests_total", undefined, "HTTP requests answered, by route template, method and status.", { labels: ["route", "method", "status"] }),
  spec("histogram", "cache_http_request_duration_seconds", undefined, "HTTP handler time by route template and method.", { labels: ["route", "method"] }),
  gauge("cache_http_in_flight", "http.inFlight", "HTTP requests being handled now."),
  gauge("cache_http_max_in_flight", "http.maxInFlight", "Cap on requests handled at once (MAX_IN_FLIGHT); more are refused with 503."),
  counter("cache_http_rejected_busy_total", "http.rejectedBusy", "Requests refused with 503 because MAX_IN_FLIGHT were being handled."),
  counter("cache_http_body_timeouts_total", "http.bodyTimeouts", "Requests answered 408: body not received within BODY_TIMEOUT."),
  gauge("cache_http_streams_open", "http.streamsOpen", "Replication sockets peers hold open to this node."),
  counter("cache_http_streams_refused_total", "http.streamsRefused", "Replication socket upgrades refused with 503 (too many open)."),
  counter("cache_http_streams_closed_unread_total", "http.streamsClosedUnread", "Replication sockets closed because the peer left answers unread."),
  // Build, process and runtime (computed by the exporter)
  gauge("cache_build_info", undefined, "Always 1; labels name cachenode's version and the Deno runtime's.", { labels: ["version", "deno"] }),
  gauge("process_start_time_seconds", undefined, "Start time of the process since the Unix epoch."),
  counter("process_cpu_seconds_total", undefined, "User and system CPU time the process used."),
  gauge("process_resident_memory_bytes", undefined, "Resident set size of the process."),
  gauge("cache_runtime_heap_used_bytes", undefined, "V8 heap in use."),
  gauge("cache_runtime_heap_total_bytes", undefined, "V8 heap reserved."),
  gauge("cache_runtime_external_memory_bytes", undefined, "Memory held outside the V8 heap by JavaScript objects (buffers)."),
  gauge("cache_runtime_event_loop_lag_seconds", undefined, "Event-loop lag: how late the last sampler timer fired."),
  gauge("cache_runtime_event_loop_lag_max_seconds", undefined, "Largest event-loop lag sampled in the last 30 to 60 seconds."),
  // Store
  counter("cache_store_hits_total", "store.hits", "Reads that found a live entry."),
  counter("cache_store_misses_total", "store.misses", "Reads that found no live entry."),
  counter("cache_store_evictions_total", "store.evictions", "Entries evicted to stay within MAX_MEMORY."),
  counter("cache_store_expirations_total", "store.expirations", "Entries removed because their TTL passed."),
  counter("cache_store_tombstones_collected_total", "store.tombstonesCollected", "Delete and expiry markers dropped after TOMBSTONE_TTL."),
  counter("cache_store_handed_off_total", "store.handedOff", "Partitioned mode: entries dropped here after their new owners took them."),
  gauge("cache_store_entries", "store.entries", "Live entries stored on this node (copies included)."),
  gauge("cache_store_bytes", "store.bytes", "Bytes the stored entries take, as counted against MAX_MEMORY."),
  gauge("cache_store_max_bytes", "store.maxBytes", "The store's budget (MAX_MEMORY)."),
  gauge("cache_store_tombstones", "store.tombstones", "Delete and expiry markers kept so replicas cannot revive deleted or overwritten values."),
  // Membership
  gauge("cache_membership_members", "membership.members.{state}", "Members known, by state (alive, suspect, dead, left)."),
  gauge("cache_membership_health_score", "membership.healthScore", "Lifeguard local health score (0 = healthy; higher slows probes)."),
  counter("cache_membership_probes_total", "membership.probes", "Failure-detector probes started."),
  counter("cache_membership_indirect_probes_total", "membership.indirectProbes", "Probes that went to the indirect phase (no direct ack in time)."),
  counter("cache_membership_probe_failures_total", "membership.probeFailures", "Probes that failed and made this node suspect the target."),
  counter("cache_membership_tcp_pings_total", "membership.tcpPings", "TCP fallback pings attempted."),
  counter("cache_membership_tcp_ping_successes_total", "membership.tcpPingSuccesses", "TCP fallback pings answered while UDP failed."),
  counter("cache_membership_indirect_pings_served_total", "membership.indirectPingsServed", "Indirect ping requests served for other members."),
  counter("cache_membership_acks_in_total", "membership.acksIn", "Acks received that matched a waiting probe."),
  counter("cache_membership_acks_unmatched_total", "membership.acksUnmatched", "Acks received for no waiting probe (late or unknown)."),
  counter("cache_membership_nacks_in_total", "membership.nacksIn", "Nacks received."),
  counter("cache_membership_nacks_out_total", "membership.nacksOut", "Nacks sent as an intermediary."),
  counter("cache_membership_suspicions_total", "membership.suspicions", "Suspicion timers started here."),
  counter("cache_membership_deaths_total", "membership.deaths", "Members this node marked dead."),
  counter("cache_membership_refutations_total", "membership.refutations", "Accusations about this node that it refuted."),
  counter("cache_membership_packets_in_total", "membership.packetsIn", "Gossip datagrams received."),
  counter("cache_membership_bytes_in_total", "membership.bytesIn", "Bytes of gossip datagrams received."),
  counter("cache_membership_packets_out_total", "membership.packetsOut", "Gossip datagrams sent."),
  counter("cache_membership_bytes_out_total", "membership.bytesOut", "Bytes of gossip datagrams sent."),
  counter("cache_membership_send_failures_total", "membership.sendFailures", "Gossip datagrams the transport refused to send."),
  counter("cache_membership_packets_dropped_total", "membership.packetsDropped", "Gossip datagrams dropped whole."),
  counter("cache_membership_dropped_total", "membership.dropped.{reason}", "Dropped datagrams or parts, by reason (crc, malformed, decrypt, label, wrong-node...)."),
  counter("cache_membership_streams_in_total", "membership.streamsIn", "Gossip TCP streams accepted."),
  counter("cache_membership_streams_out_total", "membership.streamsOut", "Gossip TCP streams dialed."),
  counter("cache_membership_stream_errors_total", "membership.streamErrors.{reason}", "Inbound gossip streams that failed, by reason."),
  counter("cache_membership_push_pulls_out_total", "membership.pushPullsOut", "State syncs this node started that completed."),
  counter("cache_membership_push_pulls_in_total", "membership.pushPullsIn", "State syncs other members started that this node answered."),
  counter("cache_membership_push_pull_failures_total", "membership.pushPullFailures", "State syncs that failed (either side)."),
  counter("cache_membership_gossip_packets_total", "membership.gossipPackets", "Packets sent by the gossip loop."),
  counter("cache_membership_user_messages_in_total", "membership.userMessagesIn", "User messages received."),
  counter("cache_membership_user_messages_out_total", "membership.userMessagesOut", "User messages sent."),
  counter("cache_membership_conflicts_total", "membership.conflicts", "Alive messages with a conflicting address for a known name."),
  counter("cache_membership_members_refused_total", "membership.membersRefused", "New members not added because the table held MAX_MEMBERS."),
  counter("cache_membership_delegate_errors_total", "membership.delegateErrors", "Membership callbacks that threw."),
  // Replication, per peer
  gauge("cache_replication_peers_queue_depth", "replication.peers.{peer}.queued", "Records waiting to be sent to the peer (not in flight)."),
  gauge("cache_replication_peers_backlog_bytes", "replication.peers.{peer}.backlogBytes", "Bytes queued for the peer, in flight included (dropped past REPLICATION_BACKLOG)."),
  gauge("cache_replication_peers_in_flight", "replication.peers.{peer}.inFlight", "Batches on their way to the peer, not answered yet."),
  counter("cache_replication_peers_batches_total", "replication.peers.{peer}.batches", "Batches the peer accepted."),
  counter("cache_replication_peers_records_total", "replication.peers.{peer}.records", "Records in the batches the peer accepted."),
  counter("cache_replication_peers_failures_total", "replication.peers.{peer}.failures", "Failed send attempts to the peer."),
  counter("cache_replication_peers_dropped_records_total", "replication.peers.{peer}.dropped", "Records for the peer dropped (left to anti-entropy)."),
  gauge("cache_replication_peers_rtt_p50_seconds", "replication.peers.{peer}.rttMs.p50", "Median round trip of recent batches to the peer.", MS),
  gauge("cache_replication_peers_rtt_p99_seconds", "replication.peers.{peer}.rttMs.p99", "99th percentile round trip of recent batches to the peer.", MS),
  gauge("cache_replication_peers_rtt_max_seconds", "replication.peers.{peer}.rttMs.max", "Longest round trip of recent batches to the peer.", MS),
  gauge("cache_replication_peers_wait_p50_seconds", "replication.peers.{peer}.waitMs.p50", "Median time recent records waited in the peer's queue.", MS),
  gauge("cache_replication_peers_wait_p99_seconds", "replication.peers.{peer}.waitMs.p99", "99th percentile time recent records waited in the peer's queue.", MS),
  gauge("cache_replication_peers_wait_max_seconds", "replication.peers.{peer}.waitMs.max", "Longest time a recent record waited in the peer's queue.", MS),
  // Replication, this node
  counter("cache_replication_batches_sent_total", "replication.batchesSent", "Replication batches peers accepted."),
  counter("cache_replication_records_sent_total", "replication.recordsSent", "Records in those batches."),
  counter("cache_replication_bytes_sent_total", "replication.bytesSent", "Bytes of those batches."),
  counter("cache_replication_send_failures_total", "replication.sendFailures", "Failed replication send attempts."),
  counter("cache_replication_dropped_records_total", "replication.droppedRecords", "Records not delivered (backlog over the limit, attempts exhausted, refused)."),
  counter("cache_replication_backlog_drops_total", "replication.backlogDrops", "Times a peer's backlog was dropped for exceeding REPLICATION_BACKLOG."),
  counter("cache_replication_batches_received_total", "replication.batchesReceived", "Replication batches received from peers."),
  counter("cache_replication_records_received_total", "replication.recordsReceived", "Records in those batches."),
  counter("cache_replication_records_applied_total", "replication.recordsApplied", "Received records that won here (newer version)."),
  counter("cache_replication_records_rejected_total", "replication.recordsRejected", "Received records refused for a clock too far ahead."),
  counter("cache_replication_malformed_total", "replication.malformed", "Malformed replication messages refused."),
  counter("cache_replication_acks_waited_total", "replication.acks.waited", "Writes that waited for acknowledgements from replicas."),
  counter("cache_replication_acks_confirmed_total", "replication.acks.confirmed", "Writes acknowledged by enough replicas in time."),
  counter("cache_replication_acks_failed_total", "replication.acks.failed", "Writes not acknowledged by enough replicas in time."),
  gauge("cache_replication_lag_p50_seconds", "replication.lagMs.p50", "Median delay from a peer's write to its application here (recent window).", MS),
  gauge("cache_replication_lag_p99_seconds", "replication.lagMs.p99", "99th percentile of that delay (recent window).", MS),
  gauge("cache_replication_lag_max_seconds", "replication.lagMs.max", "Longest such delay (recent window).", MS),
  gauge("cache_replication_lag_samples", "replication.lagMs.samples", "Writes in the recent window the lag figures are computed from."),
  counter("cache_replication_anti_entropy_rounds_total", "replication.antiEntropy.rounds", "Anti-entropy rounds completed."),
  counter("cache_replication_anti_entropy_failures_total", "replication.antiEntropy.failures", "Anti-entropy rounds that failed."),
  counter("cache_replication_anti_entropy_not_ready_total", "replication.antiEntropy.notReady", "Rounds skipped because the peer was still copying its data set."),
  counter("cache_replication_anti_entropy_buckets_total", "replication.antiEntropy.buckets", "Buckets found differing from a peer's."),
  counter("cache_replication_anti_entropy_repaired_in_total", "replication.antiEntropy.repairedIn", "Records received by anti-entropy that won here."),
  counter("cache_replication_anti_entropy_repaired_out_total", "replication.antiEntropy.repairedOut", "Records pushed by anti-entropy to peers that lacked them."),
  gauge("cache_replication_anti_entropy_last_round_seconds", "replication.antiEntropy.lastRoundMs", "Duration of the last anti-entropy round.", MS),
  gauge("cache_replication_initial_sync_records", "replication.antiEntropy.initialSync.records", "Records copied by the initial copy of the data set."),
  gauge("cache_replication_initial_sync_seconds", "replication.antiEntropy.initialSync.ms", "Duration of the initial copy of the data set.", MS),
  // Partitioned mode (REPLICAS=N)
  gauge("cache_replication_partitioned_replicas", "replication.partitioned.replicas", "Copies kept of each key (REPLICAS)."),
  gauge("cache_replication_partitioned_owned_buckets", "replication.partitioned.ownedBuckets", "Key buckets this node owns."),
  counter("cache_replication_partitioned_hand_off_passes_total", "replication.partitioned.handOff.passes", "Hand-off passes run."),
  counter("cache_replication_partitioned_hand_off_buckets_total", "replication.partitioned.handOff.buckets", "Buckets handed to their new owners and dropped here."),
  counter("cache_replication_partitioned_hand_off_records_total", "replication.partitioned.handOff.records", "Records sent to new owners."),
  counter("cache_replication_partitioned_hand_off_retained_total", "replication.partitioned.handOff.retained", "Buckets kept because an owner was unreachable or the bucket changed."),
  counter("cache_forwarding_reads_total", "forwarding.reads", "Reads answered by another owner of the key."),
  counter("cache_forwarding_read_repairs_total", "forwarding.readRepairs", "Reads that found a key owners had missed, and gave it to them."),
  counter("cache_forwarding_writes_total", "forwarding.writes", "Writes passed to an owner of the key."),
  counter("cache_forwarding_failures_total", "forwarding.failures", "Forwarded requests that failed (owner unreachable or too slow)."),
  // Edge cache (ORIGIN + EDGE_PORT)
  counter("cache_edge_hits_total", "edge.hits", "Edge requests answered fresh from the cache."),
  counter("cache_edge_misses_total", "edge.misses", "Edge requests not in the cache here (or stale past their windows), asked of the key's primary owner."),
  counter("cache_edge_stale_total", "edge.stale", "Edge requests answered stale (stale-while-revalidate, or stale-if-error when the origin failed)."),
  counter("cache_edge_revalidated_total", "edge.revalidated", "Stored responses refreshed by a 304 from the origin."),
  counter("cache_edge_bypass_total", "edge.bypass", "Edge requests passed through uncached (methods, Authorization, cookies)."),
  counter("cache_edge_origin_requests_total", "edge.originRequests", "Requests sent to the origin."),
  counter("cache_edge_origin_errors_total", "edge.originErrors", "Origin requests that failed (unreachable, too slow, 5xx)."),
  counter("cache_edge_coalesced_waiters_total", "edge.coalescedWaiters", "Edge requests that waited on an origin fetch already under way instead of making their own."),
  counter("cache_edge_primary_fallbacks_total", "edge.primaryFallbacks", "Misses the key's primary owner could not answer, fetched by this node instead."),
  counter("cache_edge_origin_latency_seconds_total", "edge.originLatencyMsSum", "Sum of origin latencies to the response headers (divide by cache_edge_origin_latency_count_total).", MS),
  counter("cache_edge_origin_latency_count_total", "edge.originLatencyCount", "Origin responses whose latency is in cache_edge_origin_latency_seconds_total."),
  // Edge workers (WORKER)
  counter("cache_workers_requests_total", "workers.requests", "Requests the worker runtime answered (by the handler, or 500/503 on its behalf)."),
  counter("cache_workers_errors_total", "workers.errors", "Worker requests whose handler threw or whose worker crashed."),
  counter("cache_workers_timeouts_total", "workers.timeouts", "Worker requests past WORKER_TIMEOUT, answered 503."),
  counter("cache_workers_restarts_total", "workers.restarts", "Workers terminated and replaced (timeouts, crashes, memory)."),
  counter("cache_workers_memory_kills_total", "workers.memoryKills", "Workers terminated because the process grew past WORKER_MEMORY."),
  counter("cache_workers_reloads_total", "workers.reloads", "Reloads of the worker module (file change or SIGHUP)."),
  gauge("cache_workers_in_flight", "workers.inFlight", "Worker requests being handled now."),
  gauge("cache_workers_pool", "workers.pool", "Deno workers in the pool."),
  spec("histogram", "cache_workers_request_duration_seconds", undefined, "Worker request time, from arrival to the answer.", { labels: [] }),
];

/**
 * Stats fields deliberately not exported, with the reason: `catalogue_test.ts` fails on any
 * other numeric stats field missing from the catalogue.
 */
export const NOT_EXPORTED: Readonly<Record<string, string>> = {
  "http.requests": "the sum of cache_http_requests_total",
  "workers.durationMsSum": "the _sum of cache_workers_request_duration_seconds",
  "workers.durationBuckets": "the buckets of cache_workers_request_duration_seconds",
};

/** The README's metrics table rows: metric, type, unit, labels, help (cells in backticks). */
export function catalogueRows(): string[][] {
  return METRIC_CATALOGUE.map((s) => [
    `\`${s.name}\``,
    s.type,
    s.unit,
    s.labels.map((l) => `\`${l}\``).join(", "),
    s.help,
  ]);
}

/** The README's metrics table as Markdown (`deno fmt` aligns it). */
export function catalogueMarkdown(): string {
  const row = (cells: readonly string[]) =>
    `| ${cells.map((c) => c.replaceAll("|", "\\|")).join(" | ")} |`;
  return [
    row(["metric", "type", "unit", "labels", "help"]),
    row(["---", "---", "---", "---", "---"]),
    ...catalogueRows().map(row),
  ].join("\n");
}
