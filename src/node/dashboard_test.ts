import assert from "node:assert/strict";
import { CacheNode } from "./cache_node.ts";
import type { DashboardState, NodeDashboardState } from "../dashboard/mod.ts";
import { VirtualClock } from "../util/clock.ts";
import { VERSION } from "../util/version.ts";

Deno.test("a node's dashboard state: its history on the node's clock, without the dashboard's own requests", async () => {
  const clock = new VirtualClock();
  await using node = new CacheNode({
    nodeName: "dash-node",
    bindAddr: "127.0.0.1",
    httpPort: 0,
    maxMemoryBytes: 1 << 20,
  }, { clock });
  await node.start({ cluster: false });
  const url = (path: string) => `http://127.0.0.1:${node.httpAddress!.port}${path}`;
  const call = async (path: string, init?: RequestInit) => {
    const res = await fetch(url(path), init);
    return { status: res.status, body: await res.json().catch(() => undefined) };
  };
  await call("/cache/k", { method: "PUT", body: '{"value":"v"}' });
  await call("/cache/k");
  await call("/cache/missing");
  const mark = { headers: { "x-cachenode-dashboard": "1" } };
  await call("/dashboard/state", mark);
  await call("/cache?prefix=k", mark); // the key browser's listing, and its read of a key
  await call("/cache/k", { headers: { ...mark.headers, "x-cache-meta": "true" } });
  clock.advance(1000);
  const local = (await call("/dashboard/state?scope=local", mark)).body as NodeDashboardState;
  assert.deepEqual(local.history.series.requests, [3]);
  assert.deepEqual(local.history.series.hits, [2]);
  assert.deepEqual(local.history.series.misses, [1]);
  assert.deepEqual(local.history.series.maxBytes, [1 << 20]);
  assert.deepEqual(local.history.events.map((e) => [e.kind, e.member]), [["start", "dash-node"]]);
  assert.equal(local.summary.keys, 1);
  assert.equal(local.summary.startedAt, clock.now() - 1000);
  assert.deepEqual(local.summary.readiness, { ready: true });
  const cluster = (await call("/dashboard/state")).body as DashboardState;
  assert.deepEqual(cluster.members.map((m) => [m.name, m.summary?.keys]), [["dash-node", 1]]);
  assert.deepEqual(cluster.keys, { copies: 1, unique: 1 });
  assert.deepEqual(cluster.series.requests, [3]);
  assert.equal(cluster.time, clock.now());
  const bad = await call("/dashboard/state?scope=everything");
  assert.equal(bad.status, 400);
  assert.match(bad.body.error, /Invalid scope: everything/);

  // Closed and started again in the same process: the history goes on, with the new start.
  await node.close();
  clock.advance(5000);
  await node.start({ cluster: false });
  const again = (await call("/dashboard/state?scope=local")).body as NodeDashboardState;
  assert.deepEqual(again.history.events.map((e) => [e.kind, e.detail]), [
    ["start", `version ${VERSION}`],
    ["start", `version ${VERSION}, started again`],
  ]);
  assert.equal(again.summary.startedAt, clock.now());
  assert.deepEqual(again.history.series.requests, [3]);
});
