/**
 * Replication: every node holds the whole data set; a write on any node reaches every live
 * member within milliseconds, and replicas converge after loss, partitions and restarts. In
 * partitioned mode (`REPLICAS=N`, see **Partitioned mode** below) each key lives on N owners.
 *
 * **Versions.** A write carries `(hlc, node)` and an absolute expiry; every replica keeps the
 * higher version (`TtlStore`, last writer wins, ties by node name), so the order in which
 * copies arrive does not matter. Deletes are versioned tombstones kept for `TOMBSTONE_TTL`
 * (≥ 10 anti-entropy periods) after the delete. A received version whose clock runs more than
 * 60 s ahead of ours is refused (counted as `recordsRejected`), so one bad clock cannot drag
 * the cluster's clocks forward.
 *
 * **Fast path** ({@link Replicator.publish}, `PeerSender`). A local write is encoded once
 * (msgpack tuple) and queued for every live peer. Each peer has one bounded queue and a sender
 * that keeps up to 2 batches in flight; a batch takes everything queued (≤ 4096 records,
 * ≤ 1 MiB), so batches form by themselves when writes outpace round trips and a lone write
 * leaves at once. `REPLICATION_FLUSH_DELAY` can add a wait (measured: it raises latency and
 * saves little CPU at 1,000 writes/s, so the default is 0). A failed batch is retried with
 * backoff 3 times, then dropped; past `REPLICATION_BACKLOG` bytes the peer's whole backlog is
 * dropped. Either way the loss is counted and the peer gets an anti-entropy round soon. No
 * client write ever waits on a peer unless it asked to (`X-Write-Acks`).
 *
 * **Channel, chosen by measurement** (`scripts/bench/replication_channel_bench.ts`, both ends in
 * one process on loopback, 2-core VM shared with other jobs, load average ~7): one WebSocket per
 * peer on its API port (`GET /internal/stream`, batches as `[seq][batch]` frames, answers
 * matched by sequence number) against one HTTP/1.1 POST per batch over kept-alive connections,
 * and against memberlist's reliable user messages (a TCP stream per message, no answer channel):
 *
 * | channel                 | 1 record at 1,000/s, p50 / p99 | 4 KB batches, p50 | CPU per batch | 1,000-record batches/s |
 * | ----------------------- | ------------------------------ | ----------------- | ------------- | ---------------------- |
 * | WebSocket, own client   | 0.065 / 0.541 ms               | 0.30 ms           | 47 µs         | 1869                   |
 * | WebSocket, runtime's    | 0.037 / 0.371 ms               | **41.77 ms**      | 38 µs         | 1073                   |
 * | HTTP POST               | 0.147 / 3.855 ms               | 0.73 ms           | 203 µs        | 2190                   |
 * | memberlist TCP messages | 0.596 / 7.371 ms               | 0.86 ms           | 303 µs        | 773                    |
 *
 * A WebSocket costs a quarter of the CPU of a POST per batch (at 1,000 writes/s on 3 nodes that
 * CPU is what the nodes compete for on 2 cores) and needs no second port; but the runtime's
 * `WebSocket` client stalls every frame over 1 KiB for a delayed ACK (Nagle is on and it writes
 * header and payload separately), so the client side is our own (`ws_client.ts`, one write per
 * frame on a `TCP_NODELAY` socket); the server side is `Deno.upgradeWebSocket`.
 * `REPLICATION_CHANNEL=http` keeps the POST path for networks whose proxies drop upgrades.
 * Digest exchanges and repairs always use HTTP POST (`/internal/sync`, `/internal/replicate`):
 * they are rare, large, and simpler as plain request/response.
 *
 * **Anti-entropy** (`digest_sync.ts`, `RepairScheduler`). Every `ANTI_ENTROPY_INTERVAL` (±10 %)
 * a node sends a random live peer its 1024 bucket digests (XOR of `key + version`
 * fingerprints, maintained incrementally by the store: 8 KiB); the peer answers with its
 * records of the buckets that differ, the initiator applies them and pushes back its own
 * records those buckets lack or hold older. So one exchange repairs both sides and only
 * differing buckets travel; expired entries are never sent. Extra rounds run soon after a
 * memberlist push/pull shows a different whole-store digest (our state blob is name + digest
 * + readiness), after a member joins, and after a peer's backlog was dropped.
 *
 * **Join and restart.** A node started with seeds copies the data set with the same exchange
 * (every bucket differs): one request first (enough when the data set is small), then the
 * rest in 16 bucket ranges, 2 in flight, answers of ~1 MiB; `/readyz` stays 503 until the copy
 * is done. Writes arriving meanwhile by the fast path are applied as usual (LWW makes the order
 * irrelevant). A node still copying answers digest exchanges with 503, so peers do not push
 * their whole data set at it; if every live peer is still copying (a cluster starting cold),
 * the node stops waiting after three passes.
 *
 * **Node-local writes** (`X-Is-Sync: true`) are applied with `local: true`: not queued for
 * peers, kept out of the digests and bucket listings, so neither the fast path nor
 * anti-entropy spreads them. They still compete by version: a later replicated write of the
 * same key replaces a local value, an older one does not (while a local value shadows a
 * replicated key, that key's bucket keeps differing from the peers' and is re-listed by each
 * anti-entropy round with this node; the repair finds nothing to apply).
 *
 * **Acknowledged writes** (`X-Write-Acks: all` or a count, the local copy included): the write
 * resolves once that many replicas answered the batch holding it, or fails after
 * `WRITE_ACK_TIMEOUT` with a {@link WriteAcksError} (HTTP 504 with the counts). A member that
 * leaves or dies meanwhile stops counting for `all`. The write is not undone on failure.
 *
 * **Partitioned mode** (`replicas` > 0): {@link Placement} gives each of the store's digest
 * buckets N owners among the live members (rendezvous hashing); the fast path sends a write to
 * the key's other owners only; anti-entropy rounds and the initial copy carry a bucket mask and
 * compare only the buckets both sides own; buckets a node holds but no longer owns are handed
 * off (`hand_off.ts`) and dropped once every owner confirmed; a non-owner reads a key from an
 * owner with {@link Replicator.readFrom} (`remote_read.ts`). The HTTP layer routes requests to
 * owners (`src/http/forward.ts`).
 *
 * @module
 */

export {
  DEFAULT_REPLICATION_SETTINGS,
  type ReplicationSettings,
  type ReplicationStats,
  Replicator,
  type ReplicatorOptions,
  SyncNotReadyError,
} from "./replicator.ts";
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
