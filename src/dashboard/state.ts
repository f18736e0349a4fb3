/**
 * The data behind the dashboard: this node's view of the cluster, plus each live member's own
 * counters (keys, bytes, requests) fetched from its `/stats` with a short timeout, so one page on
 * any node shows the whole cluster without the browser talking to other origins.
 *
 * @module
 */

import type { MemberView } from "../service/mod.ts";

/** One row of the dashboard. */
export interface DashboardMember extends MemberView {
  /** `http://addr:httpPort` when the member publishes an HTTP port. */
  url?: string;
  /** The member's own counters, when it answered in time. */
  stats?: {
    keys: number;
    bytes: number;
    maxBytes: number;
    requests: number;
    /** Edge cache, when it runs there: requests answered from the cache (fresh or stale). */
    edgeHits?: number;
    /** Edge cache: cacheable requests (hits, stale and misses; bypasses not counted). */
    edgeLookups?: number;
  };
}

/** What `GET /dashboard/state` returns. */
export interface DashboardState {
  /** The node serving the page. */
  self: string;
  /** Server time, epoch ms (the page computes rates from successive polls). */
  time: number;
  /** Every member this node knows. */
  members: DashboardMember[];
}

/** Dependencies of {@link dashboardState}. */
export interface DashboardSources {
  /** This node's name. */
  self: string;
  /** This node's member list. */
  members(): MemberView[];
  /** This node's stats snapshot (answered locally, not over HTTP). */
  localStats(): Record<string, unknown>;
  /** Fetches a URL (injectable for tests). @default fetch */
  fetch?: typeof fetch;
  /** Per-member timeout, ms. @default 500 */
  timeoutMs?: number;
  /** Clock. @default Date.now */
  now?: () => number;
}

function countersOf(stats: Record<string, unknown>): DashboardMember["stats"] {
  const store = (stats.store ?? {}) as Record<string, number>;
  const http = (stats.http ?? {}) as Record<string, number>;
  const counters: NonNullable<DashboardMember["stats"]> = {
    keys: store.entries ?? 0,
    bytes: store.bytes ?? 0,
    maxBytes: store.maxBytes ?? 0,
    requests: http.requests ?? 0,
  };
  const edge = stats.edge as Record<string, number> | undefined;
  if (edge !== undefined) {
    counters.edgeHits = (edge.hits ?? 0) + (edge.stale ?? 0);
    counters.edgeLookups = counters.edgeHits + (edge.misses ?? 0);
  }
  return counters;
}

/** Builds the dashboard state; members that do not answer in time simply have no `stats`. */
export async function dashboardState(src: DashboardSources): Promise<DashboardState> {
  const doFetch = src.fetch ?? fetch;
  const timeoutMs = src.timeoutMs ?? 500;
  const members = await Promise.all(
    src.members().map(async (m): Promise<DashboardMember> => {
      const url = m.httpPort > 0 ? `http://${m.addr}:${m.httpPort}` : undefined;
      if (m.name === src.self) return { ...m, url, stats: countersOf(src.localStats()) };
      if (!url || m.state !== "alive") return { ...m, url };
      try {
        const res = await doFetch(`${url}/stats`, { signal: AbortSignal.timeout(timeoutMs) });
        if (!res.ok) {
          await res.body?.cancel();
          return { ...m, url };
        }
        return { ...m, url, stats: countersOf(await res.json()) };
      } catch {
        return { ...m, url };
      }
    }),
  );
  return { self: src.self, time: (src.now ?? Date.now)(), members };
}
