/**
 * The shape of a node's `/stats` answer: one place that lists what each area contributes.
 *
 * @module
 */

import type { ReplicationStats } from "../replication/mod.ts";
import type { ForwardStats } from "../service/mod.ts";
import type { EdgeStats } from "../edge/mod.ts";
import type { StoreStats } from "../store/mod.ts";
import type { WorkerStatsView } from "../workers/mod.ts";

/** What `/stats` shows (a type alias, so it fits `Record<string, unknown>`). */
export type NodeStats = {
  /** Node name. */
  node: string;
  /** cachenode's version (`deno.json` `version`). */
  version: string;
  /** Store counters, and the whole-store digest (equal on replicas holding the same records). */
  store: StoreStats & { digest: string };
  /** Replication counters, while the node is in a cluster. */
  replication?: ReplicationStats;
  /** Membership counters, while the node is in a cluster. */
  membership?: Record<string, unknown>;
  /** HTTP requests served (all routes), in flight, refused, and replication streams. */
  http: {
    /** Requests answered. */
    requests: number;
    /** Requests being handled now. */
    inFlight: number;
    /** `MAX_IN_FLIGHT`. */
    maxInFlight: number;
    /** Requests refused with 503 over `MAX_IN_FLIGHT`. */
    rejectedBusy: number;
    /** Requests answered 408: body not received within `BODY_TIMEOUT`. */
    bodyTimeouts: number;
    /** Replication sockets peers hold open to this node. */
    streamsOpen: number;
    /** Replication socket upgrades refused with 503 (too many open). */
    streamsRefused: number;
    /** Replication sockets closed because their peer left answers unread. */
    streamsClosedUnread: number;
  };
  /** Partitioned mode: requests passed to the keys' owners. */
  forwarding?: ForwardStats;
  /** The edge cache, while it runs (`ORIGIN` and `EDGE_PORT`). */
  edge?: EdgeStats;
  /** With `WORKER`: the worker runtime's requests, errors, timeouts, restarts, durations. */
  workers?: WorkerStatsView;
};
