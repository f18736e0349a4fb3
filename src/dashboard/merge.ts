/**
 * The cluster's history from each member's own: one timeline (every member's events by time,
 * the same event seen by several members shown once with who saw it) and one set of per-second
 * series (counts and bytes summed over members, replication lag the worst of them).
 *
 * Seconds are aligned on the epoch second of each sample, so members sampling at different
 * moments of a second still add up; the newest seconds that not every member has sampled yet are
 * left out, so a sum never dips only because a member had not sampled.
 *
 * @module
 */

import type { HistoryEvent, HistorySeries, HistorySnapshot } from "./history.ts";

/** An event in the cluster timeline. */
export interface ClusterEvent extends HistoryEvent {
  /** The members that recorded it (sorted); one for most, several for a death. */
  seenBy: string[];
}

/** The cluster's per-second series (`t` is the epoch second × 1000). */
export interface ClusterSeries extends HistorySeries {
  /** Members whose samples make up each second. */
  members: number[];
}

/** One member's history, named. */
export interface NamedHistory {
  /** The member that recorded it. */
  member: string;
  /** Its history. */
  history: HistorySnapshot;
}

/** Events of the same kind about the same member this close together (ms) are one event. */
export const SAME_EVENT_WINDOW_MS = 5_000;

/** All members' events by time (ties by member name); repeats within 5 s merged. */
export function mergeEvents(histories: readonly NamedHistory[]): ClusterEvent[] {
  const all = histories.flatMap(({ member, history }) =>
    history.events.map((e) => ({ e, by: member }))
  );
  all.sort((a, b) => a.e.t - b.e.t || a.e.member.localeCompare(b.e.member));
  const merged: ClusterEvent[] = [];
  // Events of the same kind about the same member, by the key's latest merged event.
  const open = new Map<string, ClusterEvent>();
  for (const { e, by } of all) {
    const key = `${e.kind}\u0000${e.member}`;
    const same = open.get(key);
    // "start" and the node's own refutations and drops are the recorder's own news: never merged.
    if (
      same && e.t - same.t <= SAME_EVENT_WINDOW_MS && e.member !== by && !same.seenBy.includes(by)
    ) {
      same.seenBy.push(by);
      same.seenBy.sort();
      continue;
    }
    const event: ClusterEvent = { ...e, seenBy: [by] };
    merged.push(event);
    open.set(key, event);
  }
  return merged;
}

/** The series of all members, second by second: sums, and the worst lag. */
export function mergeSeries(histories: readonly NamedHistory[]): ClusterSeries {
  const out: ClusterSeries = {
    t: [],
    requests: [],
    hits: [],
    misses: [],
    bytes: [],
    maxBytes: [],
    lagMs: [],
    members: [],
  };
  const withSamples = histories.filter((h) => h.history.series.t.length > 0);
  if (withSamples.length === 0) return out;
  const lastCommon = Math.min(
    ...withSamples.map((h) => secondOf(h.history.series.t[h.history.series.t.length - 1])),
  );
  const edge = withSamples.some((h) => h.history.series.edgeHits !== undefined);
  if (edge) {
    out.edgeHits = [];
    out.edgeMisses = [];
  }
  const at = new Map<number, number>();
  const rowOf = (second: number): number => {
    let row = at.get(second);
    if (row === undefined) {
      row = out.t.length;
      at.set(second, row);
      out.t.push(second * 1000);
      for (const col of SUMMED) out[col].push(0);
      out.lagMs.push(0);
      out.members.push(0);
      out.edgeHits?.push(0);
      out.edgeMisses?.push(0);
    }
    return row;
  };
  const seconds = new Set<number>();
  for (const { history: { series } } of withSamples) {
    for (const t of series.t) if (secondOf(t) <= lastCommon) seconds.add(secondOf(t));
  }
  for (const second of [...seconds].sort((a, b) => a - b)) rowOf(second);
  for (const { history: { series } } of withSamples) {
    const used = new Set<number>();
    series.t.forEach((t, i) => {
      const second = secondOf(t);
      // Two samples of one member in one second (a late timer): the first counts.
      if (second > lastCommon || used.has(second)) return;
      used.add(second);
      const row = rowOf(second);
      for (const col of SUMMED) out[col][row] += series[col][i];
      out.lagMs[row] = Math.max(out.lagMs[row], series.lagMs[i]);
      out.members[row]++;
      if (out.edgeHits && series.edgeHits) out.edgeHits[row] += series.edgeHits[i];
      if (out.edgeMisses && series.edgeMisses) out.edgeMisses[row] += series.edgeMisses[i];
    });
  }
  return out;
}

const SUMMED = ["requests", "hits", "misses", "bytes", "maxBytes"] as const;

function secondOf(t: number): number {
  return Math.floor(t / 1000);
}
