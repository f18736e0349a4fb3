/**
 * The shapes around a {@link Replicator}: its options, its tunables with their defaults (those a
 * node's config also sets are stated once, in `config/`), and the counters `/stats` shows.
 *
 * @module
 */

import { DEFAULT_CONFIG } from "../config/mod.ts";
import type { ListedRecord, TtlStore } from "../store/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { HybridLogicalClock } from "../util/hlc.ts";
import type { Logger } from "../util/log.ts";
import type { Random } from "../util/random.ts";
import type { ClusterPurgeRequest } from "./cluster_ops.ts";
import type { PartitionedStats } from "./partitioning.ts";
import type { PeerSenderStats, SenderCounters } from "./peer_sender.ts";
import type { RepairStats } from "./repair_scheduler.ts";
import type { ReplicationTransport } from "./transport.ts";

/** Tunables of replication; every field has a default. */
export interface ReplicationSettings {
  /** Wait for `X-Write-Acks` before failing, ms. @default DEFAULT_CONFIG.writeAckTimeoutMs */
  writeAckTimeoutMs: number;
  /** Period of anti-entropy rounds, ms. @default DEFAULT_CONFIG.antiEntropyIntervalMs */
  antiEntropyIntervalMs: number;
  /** Deadline of one request to a peer, ms. @default DEFAULT_CONFIG.replicationTimeoutMs */
  requestTimeoutMs: number;
  /**
   * Bytes queued per peer before its backlog is dropped.
   * @default DEFAULT_CONFIG.replicationBacklogBytes
   */
  backlogBytes: number;
  /** Wait before a batch leaves, ms. @default DEFAULT_CONFIG.replicationFlushDelayMs */
  flushDelayMs: number;
  /** Most record bytes per batch. @default 1 MiB */
  maxBatchBytes: number;
  /** Most records per batch. @default 4096 */
  maxBatchRecords: number;
  /**
   * Batches in flight at once per peer. One: a write that arrives while a batch is in flight
   * waits for its answer (about one round trip on a LAN) and leaves with everything queued
   * meanwhile, so batches are larger and a replicated write costs less CPU on every node than with
   * two in flight, whose second slot mostly carried small batches (`replicated_put_bench.ts`;
   * figures in docs/benchmarks.md). @default 1
   */
  maxInFlight: number;
  /** Soft limit on one sync answer's record bytes. @default 1 MiB */
  syncChunkBytes: number;
  /** Bucket ranges of the initial copy. @default 16 */
  joinRanges: number;
  /** Ranges fetched at once during the initial copy. @default 2 */
  joinConcurrency: number;
}

/** Defaults of {@link ReplicationSettings}; those a node's config sets are its defaults. */
export const DEFAULT_REPLICATION_SETTINGS: Readonly<ReplicationSettings> = Object.freeze({
  writeAckTimeoutMs: DEFAULT_CONFIG.writeAckTimeoutMs,
  antiEntropyIntervalMs: DEFAULT_CONFIG.antiEntropyIntervalMs,
  requestTimeoutMs: DEFAULT_CONFIG.replicationTimeoutMs,
  backlogBytes: DEFAULT_CONFIG.replicationBacklogBytes,
  flushDelayMs: DEFAULT_CONFIG.replicationFlushDelayMs,
  maxBatchBytes: 1024 * 1024,
  maxBatchRecords: 4096,
  maxInFlight: 1,
  syncChunkBytes: 1024 * 1024,
  joinRanges: 16,
  joinConcurrency: 2,
});

/** Options of `Replicator`. */
export interface ReplicatorOptions {
  /** This node's member name (the writer name of its versions). */
  name: string;
  /** The node's store. */
  store: TtlStore;
  /** The node's hybrid logical clock. */
  hlc: HybridLogicalClock;
  /** How requests reach peers. */
  transport: ReplicationTransport;
  /** Key and value limits; received records beyond them are refused. */
  limits: { maxKeyBytes: number; maxValueBytes: number };
  /** Copy the data set from a peer before reporting ready (the node was given seeds). */
  initialSync: boolean;
  /**
   * Copies of each key: 0 = every node holds everything; N = partitioned mode, each bucket of
   * keys owned by N live members (see `partitioning.ts`). @default 0
   */
  replicas?: number;
  /** Tunables. @default DEFAULT_REPLICATION_SETTINGS */
  settings?: Partial<ReplicationSettings>;
  /** @default systemClock */
  clock?: Clock;
  /** @default systemRandom */
  random?: Random;
  /** @default silentLogger */
  logger?: Logger;
  /**
   * Answers a peer's `list` (`POST /internal/list`): at most `limit` of this node's live keys
   * starting with `prefix`, after `after` (exclusive), ascending, and whether more follow.
   * @default none (the route answers 501)
   */
  onList?(
    prefix: string,
    after: string | undefined,
    limit: number,
  ): { keys: ListedRecord[]; more: boolean };
  /**
   * Carries out a peer's `purge` (`POST /internal/purge`) on this node; resolves with how many
   * live entries it deleted. @default none (the route answers 501)
   */
  onPurge?(request: ClusterPurgeRequest): Promise<number> | number;
}

/** Counters and gauges of replication, as `/stats` shows them under `replication`. */
export interface ReplicationStats extends SenderCounters {
  /** Per-peer queue depth, backlog bytes and counters. */
  peers: Record<string, PeerSenderStats>;
  /** Batches received from peers. */
  batchesReceived: number;
  /** Records in them. */
  recordsReceived: number;
  /** Received records that won locally. */
  recordsApplied: number;
  /** Received records refused for a clock too far ahead. */
  recordsRejected: number;
  /** Malformed messages refused. */
  malformed: number;
  /** Writes that waited for acknowledgements: confirmed in time, or not. */
  acks: { waited: number; confirmed: number; failed: number };
  /** Anti-entropy and the initial copy. */
  antiEntropy: RepairStats;
  /** Fresh writes from peers: origin write time → applied here, ms (recent window). */
  lagMs: { p50: number; p99: number; max: number; samples: number };
  /** Partitioned mode: copies per key, buckets owned here, and hand-offs to new owners. */
  partitioned?: PartitionedStats;
}
