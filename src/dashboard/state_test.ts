import assert from "node:assert/strict";
import { dashboardState } from "./state.ts";
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

Deno.test("dashboardState merges the member list with each live member's counters", async () => {
  const asked: string[] = [];
  const state = await dashboardState({
    self: "a",
    members: () => [member("a", "alive", 1), member("b", "alive", 2), member("c", "dead", 3)],
    localStats: () => ({ store: { entries: 5, bytes: 50, maxBytes: 100 }, http: { requests: 9 } }),
    fetch: (url) => {
      asked.push(String(url));
      return Promise.resolve(Response.json({ store: { entries: 7, bytes: 70, maxBytes: 100 } }));
    },
    now: () => 123,
  });
  assert.deepEqual(asked, ["http://127.0.0.1:2/stats"]); // never the dead one, never itself
  assert.equal(state.time, 123);
  assert.deepEqual(state.members.map((m) => [m.name, m.url, m.stats?.keys]), [
    ["a", "http://127.0.0.1:1", 5],
    ["b", "http://127.0.0.1:2", 7],
    ["c", "http://127.0.0.1:3", undefined],
  ]);
  assert.equal(state.members[0].stats?.requests, 9);
});

Deno.test("dashboardState leaves out counters of a member that fails or hangs", async () => {
  const state = await dashboardState({
    self: "a",
    members: () => [member("a", "alive", 1), member("b", "alive", 2)],
    localStats: () => ({}),
    fetch: (_url, init) =>
      new Promise((_, reject) =>
        init?.signal?.addEventListener("abort", () => reject(new Error("timeout")))
      ),
    timeoutMs: 20,
  });
  assert.equal(state.members[1].stats, undefined);
});

Deno.test("dashboardState carries each member's edge hits and lookups when its edge runs", async () => {
  const state = await dashboardState({
    self: "a",
    members: () => [member("a", "alive", 1), member("b", "alive", 2)],
    localStats: () => ({ edge: { hits: 6, stale: 2, misses: 2, bypass: 9 } }),
    fetch: () => Promise.resolve(Response.json({ store: { entries: 1 } })),
  });
  assert.deepEqual(state.members.map((m) => [m.stats?.edgeHits, m.stats?.edgeLookups]), [
    [8, 10],
    [undefined, undefined],
  ]);
});
