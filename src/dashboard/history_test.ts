import assert from "node:assert/strict";
import { NodeHistory } from "./history.ts";
import type { MemberView } from "../service/mod.ts";
import { VirtualClock } from "../util/clock.ts";

const member = (name: string, state: MemberView["state"], incarnation = 1): MemberView => ({
  name,
  addr: "127.0.0.1",
  port: 7946,
  httpPort: 8000,
  state,
  incarnation,
  meta: {},
});

/** A node whose counters and member list the test sets between seconds. */
function fakeNode(options: ConstructorParameters<typeof NodeHistory>[1] = {}) {
  const clock = new VirtualClock(1_000_000);
  const node = {
    requests: 0,
    dashboard: 0,
    hits: 0,
    misses: 0,
    evictions: 0,
    bytes: 0,
    lag: { p99: 0, samples: 0 },
    refutations: 0,
    backlogDrops: 0,
    droppedRecords: 0,
    edge: undefined as { hits: number; misses: number } | undefined,
    members: [member("a", "alive")],
  };
  const history = new NodeHistory({
    self: "a",
    clock,
    stats: () => ({
      version: "1.2.3",
      store: {
        hits: node.hits,
        misses: node.misses,
        evictions: node.evictions,
        bytes: node.bytes,
        maxBytes: 4096,
      },
      http: { requests: node.requests },
      replication: {
        lagMs: node.lag,
        backlogDrops: node.backlogDrops,
        droppedRecords: node.droppedRecords,
      },
      membership: { refutations: node.refutations },
      ...(node.edge ? { edge: node.edge } : {}),
    }),
    members: () => node.members,
    dashboardRequests: () => node.dashboard,
  }, options);
  return { clock, node, history };
}

Deno.test("NodeHistory samples once a second on the node's clock, its own requests left out", () => {
  const { clock, node, history } = fakeNode();
  history.start();
  node.requests = 10;
  node.dashboard = 4; // the page polled 4 times: not traffic
  node.hits = 3;
  node.misses = 1;
  node.bytes = 100;
  clock.advance(999);
  assert.deepEqual(history.snapshot().series.t, []);
  clock.advance(1);
  node.requests = 12;
  node.dashboard = 6;
  node.lag = { p99: 7, samples: 5 };
  node.bytes = 300;
  clock.advance(1000);
  clock.advance(1000); // nothing new in the third second
  const { series } = history.snapshot();
  assert.deepEqual(series.t, [1_001_000, 1_002_000, 1_003_000]);
  assert.deepEqual(series.requests, [6, 0, 0]);
  assert.deepEqual(series.hits, [3, 0, 0]);
  assert.deepEqual(series.misses, [1, 0, 0]);
  assert.deepEqual(series.bytes, [100, 300, 300]);
  assert.deepEqual(series.maxBytes, [4096, 4096, 4096]);
  // Lag only in a second where fresh writes arrived.
  assert.deepEqual(series.lagMs, [0, 7, 0]);
  assert.equal(series.edgeHits, undefined, "no edge section, no edge series");
  history.stop();
  assert.equal(clock.pending, 0, "stop leaves no timer");
});

Deno.test("NodeHistory keeps edge hits once the node has an edge section", () => {
  const { clock, node, history } = fakeNode();
  node.edge = { hits: 0, misses: 0 };
  history.start();
  node.edge = { hits: 9, misses: 1 };
  clock.advance(1000);
  assert.deepEqual(history.snapshot().series.edgeHits, [9]);
  assert.deepEqual(history.snapshot().series.edgeMisses, [1]);
  history.stop();
});

Deno.test("NodeHistory keeps only the last seriesSeconds samples, oldest first", () => {
  const { clock, node, history } = fakeNode({ seriesSeconds: 3 });
  history.start();
  for (let s = 1; s <= 7; s++) {
    node.requests += s;
    clock.advance(1000);
  }
  const { series } = history.snapshot();
  assert.deepEqual(series.requests, [5, 6, 7]);
  assert.deepEqual(series.t, [1_005_000, 1_006_000, 1_007_000]);
  history.stop();
});

Deno.test("NodeHistory records membership changes, refutations, backlog drops and eviction spikes", () => {
  const { clock, node, history } = fakeNode({ evictionSpike: 50 });
  history.start();
  const second = () => clock.advance(1000);
  node.members = [member("a", "alive"), member("b", "alive")];
  second();
  node.members = [member("a", "alive"), member("b", "suspect")];
  second();
  node.members = [member("a", "alive"), member("b", "alive", 2)]; // b refuted
  second();
  node.members = [member("a", "alive"), member("b", "alive", 3)]; // suspected and refuted unseen
  node.refutations = 1; // and this node refuted a suspicion about itself
  second();
  node.members = [member("a", "alive"), member("b", "dead", 3), member("c", "left")];
  node.backlogDrops = 1;
  node.droppedRecords = 120;
  second();
  node.evictions = 60;
  second();
  node.evictions = 200; // still spiking: no second event
  second();
  node.evictions = 210;
  second();
  node.evictions = 400; // a new spike
  second();
  node.members = [member("a", "alive"), member("b", "alive", 4)]; // b back
  second();
  const events = history.snapshot().events.map((
    e,
  ) => [e.t - 1_000_000, e.kind, e.member, e.detail]);
  assert.deepEqual(events, [
    [0, "start", "a", "version 1.2.3"],
    [1000, "join", "b", undefined],
    [2000, "suspect", "b", "incarnation 1"],
    [3000, "refute", "b", "incarnation 2"],
    [4000, "refute", "a", "this node refuted a suspicion about itself"],
    [4000, "refute", "b", "incarnation 3"],
    [5000, "backlog-drop", "a", "1 replication backlog(s), 120 records"],
    [5000, "dead", "b", "incarnation 3"],
    [5000, "leave", "c", undefined],
    [6000, "eviction-spike", "a", "60 evictions/s"],
    [9000, "eviction-spike", "a", "190 evictions/s"],
    [10_000, "join", "b", "rejoined, incarnation 4"],
  ]);
  history.stop();
});

Deno.test("NodeHistory started again keeps what it had and records the new start", () => {
  const { clock, node, history } = fakeNode();
  history.start();
  node.requests = 5;
  clock.advance(1000);
  history.stop();
  clock.advance(5000);
  node.members = [member("a", "alive"), member("b", "alive")]; // known before the new start
  history.start();
  clock.advance(1000);
  const { events, series } = history.snapshot();
  assert.deepEqual(events.map((e) => [e.t - 1_000_000, e.kind, e.detail]), [
    [0, "start", "version 1.2.3"],
    [6000, "start", "version 1.2.3, started again"],
  ]);
  assert.deepEqual(series.requests, [5, 0]);
  history.stop();
});

Deno.test("NodeHistory forgets events older than an hour and keeps at most maxEvents", () => {
  const { clock, history } = fakeNode({ maxEvents: 3, eventWindowMs: 10_000 });
  for (let i = 0; i < 5; i++) {
    history.record("backlog-drop", "a", `drop ${i}`);
    clock.advance(4000);
  }
  // Recorded at 0, 4, 8, 12, 16 s; now 20 s: the last 3 are kept, of which 12 and 16 are recent.
  assert.deepEqual(history.snapshot().events.map((e) => e.detail), ["drop 3", "drop 4"]);
});

Deno.test("NodeHistory refuses a window it cannot keep", () => {
  assert.throws(() => fakeNode({ seriesSeconds: 0 }), RangeError);
});
