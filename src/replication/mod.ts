/**
 * Replication: a write on any node reaches the key's other owners (every live member, or N of
 * them in partitioned mode) within milliseconds, and replicas converge after loss, partitions
 * and restarts. The design rules, each in its own file:
 *
 * - **Versions** (`store/`, `util/hlc.ts`): a write carries `(hlc, node)` and an absolute expiry;
 *   every replica keeps the higher version, so arrival order does not matter. Deletes are
 *   versioned tombstones. A version whose clock runs too far ahead is refused and counted.
 * - **Fast path** ({@link Replicator.publish}, `peer_sender.ts`): a write is encoded once and
 *   queued per peer; a bounded queue and one batch in flight per peer make batches form by
 *   themselves under load; a lost batch or dropped backlog is counted and asks for a repair
 *   round. No client write waits on a peer unless it asks to (`X-Write-Acks`, `write_acks.ts`).
 * - **Channel** (`stream_transport.ts`, `ws_client.ts`): one WebSocket per peer on its API port,
 *   our own client (one write per frame on a `TCP_NODELAY` socket); digest exchanges and
 *   repairs are plain HTTP POSTs. `REPLICATION_CHANNEL=http` keeps POSTs for everything.
 * - **Anti-entropy and join** (`digest_sync.ts`, `repair_scheduler.ts`): periodic exchanges of
 *   bucket digests repair both sides, only differing buckets travel; a joining node copies the
 *   data set by the same exchange in ranges and is not ready until done.
 * - **Wire format** (`codec.ts`, `record_extras.ts`): msgpack tuples; format 2 adds a record's
 *   metadata and tags and is sent only when a record has them, so older nodes keep
 *   understanding the rest during a rolling upgrade.
 * - **Cluster-wide operations** (`cluster_ops.ts`): a node asks each peer for a page of its keys
 *   ({@link Replicator.listFrom}) or to purge entries ({@link Replicator.purgeOn}).
 * - **Node-local writes** (`X-Is-Sync: true`): applied, never queued, kept out of digests.
 * - **Where keys live** (`partitioning.ts`): full replication, or partitioned mode's placement,
 *   former owners, hand-off, hand-over before leaving and read repair, in one module.
 *
 * Why each choice, with the measurements behind it: docs/benchmarks.md ("Replication",
 * "Partitioned mode"); the operator's view: README.md ("Replication", "Partitioned mode").
 *
 * @module
 */

export { Replicator, SyncNotReadyError } from "./replicator.ts";
export {
  type ClusterPurgeRequest,
  type ListAnswer,
  type ListRequest,
  MAX_LIST_LIMIT,
  NotServedError,
} from "./cluster_ops.ts";
export { MAX_METADATA_BYTES, MAX_TAG_BYTES, MAX_TAGS } from "./record_extras.ts";
export {
  DEFAULT_REPLICATION_SETTINGS,
  type ReplicationSettings,
  type ReplicationStats,
  type ReplicatorOptions,
} from "./replicator_options.ts";
export {
  HttpReplicationTransport,
  type HttpReplicationTransportOptions,
  type PeerAddress,
  PeerRequestError,
  type ReplicationRoute,
  type ReplicationTransport,
} from "./transport.ts";
export {
  type AckRequirement,
  AckWaiter,
  parseAckRequirement,
  type PeerOutcome,
  WriteAcksError,
} from "./write_acks.ts";
export {
  type BatchKind,
  type CodecLimits,
  MSGPACK_CONTENT_TYPE,
  ReplicationCodec,
  WIRE_FORMAT,
} from "./codec.ts";
export { type SyncOutcome } from "./digest_sync.ts";
export { PeerSender, type PeerSenderOptions, type PeerSenderStats } from "./peer_sender.ts";
export { type RepairStats } from "./repair_scheduler.ts";
export { Placement, rendezvousScore } from "./placement.ts";
export {
  type Distribution,
  FullReplication,
  HAND_OVER_TIMEOUT_MS,
  type KeyOwners,
  type OwnerTable,
  PARTITIONED_BUCKETS,
  type PartitionedStats,
  Partitioning,
  storeBucketsFor,
} from "./partitioning.ts";
export { type HandOffStats } from "./hand_off.ts";
export {
  StreamReplicationTransport,
  type StreamReplicationTransportOptions,
} from "./stream_transport.ts";
export {
  FRAME_TAG_BYTES,
  type FrameSealer,
  MAX_CLOCK_SKEW_MS,
  PeerAuth,
  type PeerAuthGrant,
  type PeerAuthOptions,
  SIGNATURE_HEADER,
} from "./peer_auth.ts";
