import assert from "node:assert/strict";
import { mergeEvents, mergeSeries, type NamedHistory } from "./merge.ts";
import type { HistoryEvent, HistorySeries } from "./history.ts";

const series = (t: number[], fill: Partial<HistorySeries> = {}): HistorySeries => ({
  t,
  requests: t.map(() => 1),
  hits: t.map(() => 2),
  misses: t.map(() => 1),
  bytes: t.map(() => 100),
  maxBytes: t.map(() => 1000),
  lagMs: t.map(() => 0),
  ...fill,
});

const named = (member: string, events: HistoryEvent[], s = series([])): NamedHistory => ({
  member,
  history: { events, series: s },
});

Deno.test("mergeEvents orders every member's events by time and shows a death once, with who saw it", () => {
  const merged = mergeEvents([
    named("b", [
      { t: 100, kind: "start", member: "b" },
      { t: 5_000, kind: "suspect", member: "c" },
      { t: 9_100, kind: "dead", member: "c" },
    ]),
    named("a", [
      { t: 50, kind: "start", member: "a" },
      { t: 4_000, kind: "suspect", member: "c" },
      { t: 9_000, kind: "dead", member: "c" },
      // c rejoins, dies again much later: a new event, not a repeat.
      { t: 30_000, kind: "dead", member: "c" },
    ]),
  ]);
  assert.deepEqual(merged.map((e) => [e.t, e.kind, e.member, e.seenBy]), [
    [50, "start", "a", ["a"]],
    [100, "start", "b", ["b"]],
    [4_000, "suspect", "c", ["a", "b"]],
    [9_000, "dead", "c", ["a", "b"]],
    [30_000, "dead", "c", ["a"]],
  ]);
});

Deno.test("mergeEvents never folds a node's news about itself into another's", () => {
  const merged = mergeEvents([
    named("a", [{ t: 0, kind: "backlog-drop", member: "a", detail: "1" }]),
    named("b", [{ t: 10, kind: "backlog-drop", member: "b", detail: "2" }]),
    named("c", [{ t: 20, kind: "refute", member: "c" }, { t: 30, kind: "refute", member: "c" }]),
  ]);
  assert.equal(merged.length, 4);
});

Deno.test("mergeSeries sums counts per second, takes the worst lag and stops at the last common second", () => {
  const merged = mergeSeries([
    named("a", [], series([10_100, 11_100, 12_100], { lagMs: [5, 0, 1], requests: [1, 2, 3] })),
    // b samples late in each second, and once twice in one second (a late timer).
    named("b", [], series([10_900, 11_900, 11_950], { lagMs: [2, 9, 9], requests: [10, 20, 99] })),
    named("idle", [], series([])), // a member without samples yet changes nothing
  ]);
  assert.deepEqual(merged.t, [10_000, 11_000]);
  assert.deepEqual(merged.requests, [11, 22]);
  assert.deepEqual(merged.hits, [4, 4]);
  assert.deepEqual(merged.bytes, [200, 200]);
  assert.deepEqual(merged.maxBytes, [2000, 2000]);
  assert.deepEqual(merged.lagMs, [5, 9]);
  assert.deepEqual(merged.members, [2, 2]);
  assert.equal(merged.edgeHits, undefined);
});

Deno.test("mergeSeries keeps seconds only some members sampled, and edge hits when any has them", () => {
  const merged = mergeSeries([
    named("a", [], series([1_000, 2_000, 3_000], { edgeHits: [1, 2, 3], edgeMisses: [0, 1, 0] })),
    named("late", [], series([3_000])), // joined at second 3
  ]);
  assert.deepEqual(merged.t, [1_000, 2_000, 3_000]);
  assert.deepEqual(merged.members, [1, 1, 2]);
  assert.deepEqual(merged.edgeHits, [1, 2, 3]);
  assert.deepEqual(merged.edgeMisses, [0, 1, 0]);
  assert.deepEqual(mergeSeries([]).t, []);
});
