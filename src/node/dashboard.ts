/**
 * The dashboard side of a running node: its {@link NodeHistory} sampling on the node's clock,
 * the count of the dashboard's own requests (left out of the request series), and the two
 * answers of `GET /dashboard/state` (this node's, and the cluster's merged from every member's).
 * Kept out of `cache_node.ts`, which only starts and stops it.
 *
 * @module
 */

import {
  type DashboardState,
  dashboardState,
  type NodeDashboardState,
  NodeHistory,
  type NodeSummary,
} from "../dashboard/mod.ts";
import type { MemberView } from "../service/mod.ts";
import type { Clock } from "../util/clock.ts";
import { VERSION } from "../util/version.ts";
import type { NodeStats } from "./stats.ts";

/** How long one gathering of the cluster's state answers further polls, ms. */
export const CLUSTER_STATE_REUSE_MS = 500;

/** What {@link NodeDashboard} reads from its node. */
export interface NodeDashboardSources {
  /** Node name. */
  self: string;
  /** The node's clock. */
  clock: Clock;
  /** `REPLICAS` (0 = full replication). */
  replicas: number;
  /** The node's stats. */
  stats(): NodeStats;
  /** The node's members. */
  members(): MemberView[];
  /** `/readyz`. */
  readiness(): { ready: boolean; reason?: string };
  /** A request to a peer with the node-to-node credentials. */
  fetchPeer(url: string, init?: RequestInit): Promise<Response>;
}

/** History, request accounting and state of the dashboard of one node, across its starts. */
export class NodeDashboard {
  readonly #src: NodeDashboardSources;
  #startedAt = 0;
  /** The node's events and per-second samples. */
  readonly history: NodeHistory;
  #dashboardRequests = 0;
  #lastCluster: { at: number; state: Promise<DashboardState> } | undefined;
  readonly #lastSeen = new Map<string, { summary: NodeSummary; at: number }>();

  /** A dashboard that samples once started; its history outlives a stop and a new start. */
  constructor(sources: NodeDashboardSources) {
    this.#src = sources;
    this.history = new NodeHistory({
      self: sources.self,
      clock: sources.clock,
      stats: () => sources.stats(),
      members: () => sources.members(),
      dashboardRequests: () => this.#dashboardRequests,
    });
  }

  /** Starts sampling now (each start of the node is an event of its history). */
  start(): void {
    this.#startedAt = this.#src.clock.now();
    this.history.start();
  }

  /** Stops sampling. */
  stop(): void {
    this.history.stop();
  }

  /** Counts one request of the dashboard (left out of the request series). */
  countRequest(): void {
    this.#dashboardRequests++;
  }

  /** This node's summary and history (`?scope=local`). */
  local(): NodeDashboardState {
    const stats = this.#src.stats();
    return {
      summary: {
        node: this.#src.self,
        version: VERSION,
        startedAt: this.#startedAt,
        readiness: this.#src.readiness(),
        keys: stats.store.entries,
        bytes: stats.store.bytes,
        maxBytes: stats.store.maxBytes,
        replicas: this.#src.replicas,
      },
      history: this.history.snapshot(),
    };
  }

  /**
   * The cluster's state, merged from every live member's. Pages open together share one
   * gathering per half second, so each open page does not ask every member again.
   */
  cluster(): Promise<DashboardState> {
    const now = this.#src.clock.now();
    const last = this.#lastCluster;
    if (last && now - last.at < CLUSTER_STATE_REUSE_MS && now >= last.at) return last.state;
    const state = this.#gather();
    this.#lastCluster = { at: now, state };
    return state;
  }

  #gather(): Promise<DashboardState> {
    return dashboardState({
      self: this.#src.self,
      members: () => this.#src.members(),
      local: () => this.local(),
      fetch: (url, init) => this.#src.fetchPeer(url, init),
      now: () => this.#src.clock.now(),
      lastSeen: this.#lastSeen,
    });
  }
}
