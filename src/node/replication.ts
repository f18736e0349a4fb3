/**
 * How a node wires its replication: the transport its config asks for (a WebSocket per peer, or
 * HTTP POSTs; with TLS and the gossip key's signatures), the {@link Replicator} with the config's
 * tunables, and, in partitioned mode, the {@link KeyRouting} the API edge uses to reach owners.
 *
 * @module
 */

import type { NodeConfig } from "../config/mod.ts";
import {
  HttpReplicationTransport,
  type PeerAuth,
  type ReplicationTransport,
  Replicator,
  type ReplicatorOptions,
  StreamReplicationTransport,
} from "../replication/mod.ts";
import type { ForwardStats, KeyRouting } from "../service/mod.ts";
import type { TtlStore } from "../store/mod.ts";
import type { Clock } from "../util/clock.ts";
import type { HybridLogicalClock } from "../util/hlc.ts";
import type { Logger } from "../util/log.ts";
import type { Random } from "../util/random.ts";
import type { TlsMaterial } from "./resolve.ts";

/** What a replicator is built from besides the config. */
export interface ReplicatorParts {
  /** The node's store. */
  store: TtlStore;
  /** The node's version clock. */
  hlc: HybridLogicalClock;
  /** Time source. */
  clock: Clock;
  /** Randomness for peer choice and jitter. */
  random: Random;
  /** Where log lines go. */
  logger: Logger;
  /** TLS files read at start (peers are verified against their CA). */
  tls: TlsMaterial | undefined;
  /** Signer of replication traffic (gossip key). */
  peerAuth: PeerAuth | undefined;
  /** The fault-injection hook of tests (see `CacheNodeDeps`). */
  wrapTransport?(transport: ReplicationTransport): ReplicationTransport;
  /** Answers a peer's listing of this node's keys. */
  onList: ReplicatorOptions["onList"];
  /** Carries out a peer's purge here. */
  onPurge: ReplicatorOptions["onPurge"];
}

/** The replicator of a node with `config`. */
export function createReplicator(config: NodeConfig, parts: ReplicatorParts): Replicator {
  const c = config;
  const tls = parts.tls && { caCerts: [parts.tls.ca] };
  const peering = { clock: parts.clock, authToken: c.authToken, tls, peerAuth: parts.peerAuth };
  const http = new HttpReplicationTransport(peering);
  const transport = c.replicationChannel === "websocket"
    ? new StreamReplicationTransport({ ...peering, inner: http })
    : http;
  return new Replicator({
    name: c.nodeName,
    store: parts.store,
    hlc: parts.hlc,
    transport: parts.wrapTransport?.(transport) ?? transport,
    limits: { maxKeyBytes: c.maxKeyBytes, maxValueBytes: c.maxValueBytes },
    initialSync: c.peers.length > 0,
    replicas: c.replicas,
    settings: {
      writeAckTimeoutMs: c.writeAckTimeoutMs,
      antiEntropyIntervalMs: c.antiEntropyIntervalMs,
      requestTimeoutMs: c.replicationTimeoutMs,
      backlogBytes: c.replicationBacklogBytes,
      flushDelayMs: c.replicationFlushDelayMs,
    },
    clock: parts.clock,
    random: parts.random,
    logger: parts.logger,
    onList: parts.onList,
    onPurge: parts.onPurge,
  });
}

/**
 * Partitioned mode: where keys live, for the API edge; `undefined` in full replication (every
 * key is served where it is asked for). `stats` are the counters it updates.
 */
export function keyRouting(
  config: NodeConfig,
  replicator: Replicator,
  stats: ForwardStats,
  fetchPeer: (url: string, init: RequestInit) => Promise<Response>,
): KeyRouting | undefined {
  if (config.replicas === 0) return undefined;
  return {
    self: config.nodeName,
    stats,
    ownersOf: (key) => replicator.ownersOf(key),
    fetchPeer,
    readFrom: (peer, key) => replicator.readFrom(peer, key),
    repair: (key, entry, peers, self) => replicator.readRepair(key, entry, peers, self),
    timeoutMs: Math.max(config.replicationTimeoutMs, config.writeAckTimeoutMs + 1000),
  };
}
