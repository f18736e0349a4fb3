/**
 * Replication: every node holds the whole data set; a write on any node reaches every live
 * member, and replicas converge after loss, partitions and restarts.
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
export {
  StreamReplicationTransport,
  type StreamReplicationTransportOptions,
} from "./stream_transport.ts";
