/**
 * The data behind the dashboard. Each node answers `GET /dashboard/state?scope=local` with its
 * own summary and history ({@link NodeDashboardState}); `GET /dashboard/state` (what the page
 * polls) asks every live member for that over the node-to-node HTTP and merges the answers
 * ({@link dashboardState}), so one page on any node shows the whole cluster, with its past,
 * without the browser talking to other origins.
 *
 * @module
 */

import type { MemberView } from "../service/mod.ts";
import type { HistorySnapshot } from "./history.ts";
import { type ClusterEvent, type ClusterSeries, mergeEvents, mergeSeries } from "./merge.ts";

/** The header the dashboard (page and peers) sends, so its requests are not counted. */
export const DASHBOARD_HEADER = "x-cachenode-dashboard";

/** What one node says about itself. */
export interface NodeSummary {
  /** Node name. */
  node: string;
  /** cachenode's version. */
  version: string;
  /** When this process started serving, epoch ms. */
  startedAt: number;
  /** Whether `/readyz` says ready, and why not. */
  readiness: { ready: boolean; reason?: string };
  /** Live entries held here (copies included). */
  keys: number;
  /** Bytes held here. */
  bytes: number;
  /** `MAX_MEMORY` in bytes; 0 = unlimited. */
  maxBytes: number;
  /** Copies per key: `REPLICAS`, or 0 in full replication (every member holds every key). */
  replicas: number;
}

/** `GET /dashboard/state?scope=local`. */
export interface NodeDashboardState {
  /** The node's summary. */
  summary: NodeSummary;
  /** Its last hour of events and 15 minutes of samples. */
  history: HistorySnapshot;
}

/** One row of the dashboard. */
export interface DashboardMember extends MemberView {
  /** `http://addr:httpPort` when the member publishes an HTTP port. */
  url?: string;
  /** The member's summary, when it answered in time. */
  summary?: NodeSummary;
  /** When it did not: the last summary this node got from it, and when (epoch ms). */
  lastSeen?: { summary: NodeSummary; at: number };
}

/** `GET /dashboard/state`: what the page polls. */
export interface DashboardState {
  /** The node serving the page. */
  self: string;
  /** Server time, epoch ms. */
  time: number;
  /** Every member this node knows, by name. */
  members: DashboardMember[];
  /** Keys over the members that answered: copies summed, and distinct keys estimated. */
  keys: { copies: number; unique: number };
  /** The timeline of every member that answered, oldest first. */
  events: ClusterEvent[];
  /** Per-second series summed over the members that answered. */
  series: ClusterSeries;
}

/** Dependencies of {@link dashboardState}. */
export interface DashboardSources {
  /** This node's name. */
  self: string;
  /** This node's member list. */
  members(): MemberView[];
  /** This node's own state (answered locally, not over HTTP). */
  local(): NodeDashboardState;
  /** Fetches a peer's URL with the node-to-node credentials. @default fetch */
  fetch?: (url: string, init?: RequestInit) => Promise<Response>;
  /** Per-member timeout, ms. @default 800 */
  timeoutMs?: number;
  /** Clock. @default Date.now */
  now?: () => number;
  /**
   * Each member's last summary, kept between calls (pass the same map each time) so a member
   * that stopped answering still shows what it was; entries of forgotten members are removed.
   * @default none kept
   */
  lastSeen?: Map<string, { summary: NodeSummary; at: number }>;
}

/**
 * Distinct keys from the copies each member holds: in full replication every member holds them
 * all (the largest count is the best estimate while one catches up); with `REPLICAS=n` each key
 * is on `min(n, members)` of them.
 */
export function uniqueKeys(summaries: readonly NodeSummary[]): number {
  if (summaries.length === 0) return 0;
  const replicas = Math.max(...summaries.map((s) => s.replicas));
  if (replicas === 0) return Math.max(...summaries.map((s) => s.keys));
  const copies = summaries.reduce((sum, s) => sum + s.keys, 0);
  return Math.round(copies / Math.min(replicas, summaries.length));
}

/** Most timeline entries `GET /dashboard/state` returns (the newest). */
export const MAX_CLUSTER_EVENTS = 1_000;

/** Builds the cluster state; members that do not answer in time simply have no `summary`. */
export async function dashboardState(src: DashboardSources): Promise<DashboardState> {
  const doFetch = src.fetch ?? fetch;
  const timeoutMs = src.timeoutMs ?? 800;
  const now = src.now ?? Date.now;
  const lastSeen = src.lastSeen;
  const histories: { member: string; history: HistorySnapshot }[] = [];
  const members = await Promise.all(
    src.members().map(async (m): Promise<DashboardMember> => {
      const url = m.httpPort > 0 ? `http://${m.addr}:${m.httpPort}` : undefined;
      let state: NodeDashboardState | undefined;
      if (m.name === src.self) state = src.local();
      else if (url && m.state === "alive") {
        state = await peerState(doFetch, `${url}/dashboard/state?scope=local`, timeoutMs);
      }
      if (!state) {
        const last = lastSeen?.get(m.name);
        return last ? { ...m, url, lastSeen: last } : { ...m, url };
      }
      histories.push({ member: m.name, history: state.history });
      lastSeen?.set(m.name, { summary: state.summary, at: now() });
      return { ...m, url, summary: state.summary };
    }),
  );
  if (lastSeen) {
    const known = new Set(members.map((m) => m.name));
    for (const name of lastSeen.keys()) if (!known.has(name)) lastSeen.delete(name);
  }
  members.sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0);
  histories.sort((a, b) => a.member < b.member ? -1 : a.member > b.member ? 1 : 0);
  const summaries = members.flatMap((m) => m.summary ? [m.summary] : []);
  return {
    self: src.self,
    time: now(),
    members,
    keys: { copies: summaries.reduce((n, s) => n + s.keys, 0), unique: uniqueKeys(summaries) },
    events: mergeEvents(histories).slice(-MAX_CLUSTER_EVENTS),
    series: mergeSeries(histories),
  };
}

async function peerState(
  doFetch: NonNullable<DashboardSources["fetch"]>,
  url: string,
  timeoutMs: number,
): Promise<NodeDashboardState | undefined> {
  try {
    const res = await doFetch(url, {
      headers: { [DASHBOARD_HEADER]: "1" },
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return undefined;
    }
    const body = await res.json() as Partial<NodeDashboardState>;
    // A member running an older version answers without a history: show it without one.
    if (typeof body.summary !== "object" || typeof body.history?.series?.t !== "object") {
      return undefined;
    }
    return body as NodeDashboardState;
  } catch {
    return undefined;
  }
}

/** The state of a node that knows no member and has no history yet (tests, embedders). */
export function emptyDashboardState(self: string, time = 0): DashboardState {
  return {
    self,
    time,
    members: [],
    keys: { copies: 0, unique: 0 },
    events: [],
    series: mergeSeries([]),
  };
}
