/**
 * Counters of one membership engine, for metrics and tests. The engine updates the fields in
 * place; `Memberlist.stats` hands out the live object typed read-only.
 *
 * @module
 */

/** Protocol counters since the engine was created. */
export interface MembershipStats {
  /** Datagrams received. */
  packetsIn: number;
  /** Bytes of datagrams received. */
  bytesIn: number;
  /** Datagrams sent (handed to the transport). */
  packetsOut: number;
  /** Bytes of datagrams sent. */
  bytesOut: number;
  /** Datagrams the transport refused to send. */
  sendFailures: number;
  /** Datagrams dropped whole (nothing in them could be used). */
  packetsDropped: number;
  /**
   * Dropped datagrams or parts by reason: the codec's (`label`, `crc`, `malformed`,
   * `unsupported-type`, `truncated`, `too-deep`, `too-many-parts`, `decompressed-too-large`,
   * `empty`, `decrypt`) and the engine's (`wrong-node`: a ping for another name; `bad-address`;
   * `handler-error`).
   */
  dropped: Record<string, number>;
  /** Streams accepted. */
  streamsIn: number;
  /** Streams dialed successfully. */
  streamsOut: number;
  /** Inbound streams that failed, by reason (`timeout`, `malformed`, `label`, ...). */
  streamErrors: Record<string, number>;
  /** Probes started. */
  probes: number;
  /** Probes that went to the indirect phase (no direct ack within probeTimeout). */
  indirectProbes: number;
  /** Probes that failed and made us suspect the target. */
  probeFailures: number;
  /** TCP fallback pings attempted. */
  tcpPings: number;
  /** TCP fallback pings answered while UDP failed. */
  tcpPingSuccesses: number;
  /** Indirect ping requests we served for others. */
  indirectPingsServed: number;
  /** Acks received that matched a waiting probe. */
  acksIn: number;
  /** Acks received for nothing waiting (late or unknown). */
  acksUnmatched: number;
  /** Nacks received. */
  nacksIn: number;
  /** Nacks sent as an intermediary. */
  nacksOut: number;
  /** Suspicion timers started here. */
  suspicions: number;
  /** Members we marked dead (suspicion expiry or dead gossip). */
  deaths: number;
  /** Accusations about ourselves we refuted. */
  refutations: number;
  /** Push/pulls we started that completed. */
  pushPullsOut: number;
  /** Push/pulls others started that we answered. */
  pushPullsIn: number;
  /** Push/pulls that failed (either side). */
  pushPullFailures: number;
  /** Gossip packets sent by the gossip loop. */
  gossipPackets: number;
  /** User messages received (UDP and TCP). */
  userMessagesIn: number;
  /** User messages sent (UDP and TCP). */
  userMessagesOut: number;
  /** Alive messages with a conflicting address for a known name. */
  conflicts: number;
  /** New members not added because the table was full (`maxMembers`). */
  membersRefused: number;
  /** Delegate or event callbacks that threw. */
  delegateErrors: number;
}

/** Fresh counters, all zero. */
export function createMembershipStats(): MembershipStats {
  return {
    packetsIn: 0,
    bytesIn: 0,
    packetsOut: 0,
    bytesOut: 0,
    sendFailures: 0,
    packetsDropped: 0,
    dropped: {},
    streamsIn: 0,
    streamsOut: 0,
    streamErrors: {},
    probes: 0,
    indirectProbes: 0,
    probeFailures: 0,
    tcpPings: 0,
    tcpPingSuccesses: 0,
    indirectPingsServed: 0,
    acksIn: 0,
    acksUnmatched: 0,
    nacksIn: 0,
    nacksOut: 0,
    suspicions: 0,
    deaths: 0,
    refutations: 0,
    pushPullsOut: 0,
    pushPullsIn: 0,
    pushPullFailures: 0,
    gossipPackets: 0,
    userMessagesIn: 0,
    userMessagesOut: 0,
    conflicts: 0,
    membersRefused: 0,
    delegateErrors: 0,
  };
}

/** Adds one to `counts[reason]`. */
export function countReason(counts: Record<string, number>, reason: string): void {
  counts[reason] = (counts[reason] ?? 0) + 1;
}
