import assert from "node:assert/strict";
import { dashboardState, type NodeDashboardState, type NodeSummary, uniqueKeys } from "./state.ts";
import type { HistorySeries } from "./history.ts";
import type { MemberView } from "../service/mod.ts";

const member = (name: string, state: MemberView["state"], httpPort: number): MemberView => ({
  name,
  addr: "127.0.0.1",
  port: 7946,
  httpPort,
  state,
  incarnation: 1,
  meta: { http_port: httpPort },
});

const summary = (node: string, keys: number, replicas = 0): NodeSummary => ({
  node,
  version: "1.0.0",
  startedAt: 0,
  readiness: { ready: true },
  keys,
  bytes: keys * 10,
  maxBytes: 1000,
  replicas,
});

const series = (t: number[], requests: number[]): HistorySeries => ({
  t,
  requests,
  hits: t.map(() => 0),
  misses: t.map(() => 0),
  bytes: t.map(() => 0),
  maxBytes: t.map(() => 0),
  lagMs: t.map(() => 0),
});

const nodeState = (node: string, keys: number, t0: number): NodeDashboardState => ({
  summary: summary(node, keys),
  history: {
    events: [{ t: t0, kind: "start", member: node }],
    series: series([t0 + 1000, t0 + 2000], [1, 2]),
  },
});

Deno.test("dashboardState merges members (by name), summaries and histories of live members", async () => {
  const asked: { url: string; header: string | null }[] = [];
  const state = await dashboardState({
    self: "b",
    members: () => [member("b", "alive", 2), member("c", "dead", 3), member("a", "alive", 1)],
    local: () => nodeState("b", 5, 10_000),
    fetch: (url, init) => {
      asked.push({ url, header: new Headers(init?.headers).get("x-cachenode-dashboard") });
      return Promise.resolve(Response.json(nodeState("a", 7, 11_000)));
    },
    now: () => 123,
  });
  // Never the dead one, never itself; marked as the dashboard's own request.
  assert.deepEqual(asked, [{ url: "http://127.0.0.1:1/dashboard/state?scope=local", header: "1" }]);
  assert.equal(state.time, 123);
  assert.deepEqual(state.members.map((m) => [m.name, m.url, m.summary?.keys]), [
    ["a", "http://127.0.0.1:1", 7],
    ["b", "http://127.0.0.1:2", 5],
    ["c", "http://127.0.0.1:3", undefined],
  ]);
  assert.deepEqual(state.keys, { copies: 12, unique: 7 });
  assert.deepEqual(state.events.map((e) => [e.t, e.kind, e.member, e.seenBy]), [
    [10_000, "start", "b", ["b"]],
    [11_000, "start", "a", ["a"]],
  ]);
  // Seconds 11 and 12 from b, 12 and 13 from a; 13 is left out (b has not sampled it yet).
  assert.deepEqual(state.series.t, [11_000, 12_000]);
  assert.deepEqual(state.series.requests, [1, 3]);
  assert.deepEqual(state.series.members, [1, 2]);
});

Deno.test("dashboardState leaves out a member that fails, hangs or answers without a history", async () => {
  for (
    const fetch of [
      (_url: string, init?: RequestInit) =>
        new Promise<Response>((_, reject) =>
          init?.signal?.addEventListener("abort", () => reject(new Error("timeout")))
        ),
      () => Promise.resolve(new Response("no", { status: 401 })),
      () => Promise.resolve(Response.json({ store: { entries: 3 } })),
    ]
  ) {
    const state = await dashboardState({
      self: "a",
      members: () => [member("a", "alive", 1), member("b", "alive", 2)],
      local: () => nodeState("a", 4, 0),
      fetch,
      timeoutMs: 20,
    });
    assert.equal(state.members[1].summary, undefined);
    assert.deepEqual(state.keys, { copies: 4, unique: 4 });
  }
});

Deno.test("uniqueKeys: the largest holding in full replication, copies / replicas when partitioned", () => {
  assert.equal(uniqueKeys([]), 0);
  // 50 keys on each of 3 full replicas: 150 copies, 50 keys; one still catching up.
  assert.equal(uniqueKeys([summary("a", 50), summary("b", 50), summary("c", 31)]), 50);
  // REPLICAS=2 over 3 members: 100 copies of 50 keys.
  assert.equal(uniqueKeys([summary("a", 34, 2), summary("b", 33, 2), summary("c", 33, 2)]), 50);
  // REPLICAS=3 but only 2 members answered: each key has 2 copies there.
  assert.equal(uniqueKeys([summary("a", 50, 3), summary("b", 50, 3)]), 50);
});

Deno.test("dashboardState remembers a member's last summary while it is listed", async () => {
  const lastSeen = new Map();
  let answer = true;
  let listed = [member("a", "alive", 1), member("b", "alive", 2)];
  let now = 1_000;
  const gather = () =>
    dashboardState({
      self: "a",
      members: () => listed,
      local: () => nodeState("a", 1, 0),
      fetch: () =>
        Promise.resolve(
          answer ? Response.json(nodeState("b", 9, 0)) : new Response("", { status: 503 }),
        ),
      now: () => now,
      lastSeen,
    });
  assert.equal((await gather()).members[1].lastSeen, undefined);
  answer = false;
  now = 5_000;
  const after = await gather();
  assert.equal(after.members[1].summary, undefined);
  assert.equal(after.members[1].lastSeen?.summary.keys, 9);
  assert.equal(after.members[1].lastSeen?.at, 1_000);
  assert.deepEqual(after.keys, { copies: 1, unique: 1 }, "totals count only who answered");
  listed = [member("a", "alive", 1)];
  await gather();
  assert.deepEqual([...lastSeen.keys()], ["a"]);
});
