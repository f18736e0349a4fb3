import assert from "node:assert/strict";
import { lanConfig } from "./config.ts";
import { Memberlist } from "./memberlist.ts";
import type { TestCluster as Cluster } from "./testing/cluster.ts";
import { TestCluster } from "./testing/cluster.ts";

const utf8 = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array | undefined) => b && new TextDecoder().decode(b);

/** Starts `promise` and runs the cluster clock until it settles (or `maxMs`). */
async function drive<T>(cluster: Cluster, promise: Promise<T>, maxMs = 30_000): Promise<T> {
  let result: { ok: true; value: T } | { ok: false; error: unknown } | undefined;
  promise.then(
    (value) => (result = { ok: true, value }),
    (error) => (result = { ok: false, error }),
  );
  await cluster.until(() => result !== undefined, maxMs, 5);
  if (!result) throw new Error("operation did not finish in time");
  if (!result.ok) throw result.error;
  return result.value;
}

Deno.test("Memberlist joins two nodes that see each other alive with addresses and meta", async () => {
  const c = new TestCluster();
  const a = c.add("a", { meta: utf8("role=a") });
  const b = c.add("b", { meta: utf8("role=b") });
  await a.ml.start();
  await b.ml.start();
  assert.equal(await drive(c, b.ml.join([a.address])), 1);
  const took = await c.until(() => c.allSee("alive"), 5_000);
  assert.notEqual(took, undefined);
  for (const [observer, subject] of [["a", "b"], ["b", "a"]]) {
    const v = c.view(observer, subject)!;
    assert.deepEqual(v.address, c.node(subject).address);
    assert.deepEqual([...v.addr], v.address.host.split(".").map(Number));
    assert.equal(text(v.meta), `role=${subject}`);
    assert.deepEqual([...v.vsn], [1, 5, 2, 0, 0, 0]);
  }
  assert.equal(a.ml.numMembers(), 2);
  assert.deepEqual(a.ml.members().map((m) => m.name).sort(), ["a", "b"]);
  assert.equal(a.ml.localMember().name, "a");
  // Each saw itself and the other join.
  assert.deepEqual(a.events.filter((e) => e.type === "join").map((e) => e.member.name).sort(), [
    "a",
    "b",
  ]);
  await c.run(10_000);
  assert.ok(a.ml.stats.probes >= 4 && a.ml.stats.acksIn >= 4, JSON.stringify(a.ml.stats));
  assert.equal(a.ml.stats.probeFailures, 0);
  assert.equal(a.ml.healthScore(), 0);
  await c.close();
});

Deno.test("Memberlist joins five nodes through one seed in the background", async () => {
  const c = new TestCluster({ seed: 2 });
  await c.start(["n0"]);
  await c.start(["n1", "n2", "n3", "n4"], { seeds: ["n0"] });
  const took = await c.until(() => c.allSee("alive"), 10_000);
  assert.notEqual(took, undefined, "five nodes did not converge");
  for (const node of c.nodes.values()) assert.equal(node.ml.numMembers(), 5);
  await c.close();
});

Deno.test("Memberlist retries seeds with backoff until the seed comes up", async () => {
  const c = new TestCluster({ seed: 3 });
  const seed = c.add("seed");
  const [joiner] = await c.start(["joiner"], { seeds: ["seed"] });
  await c.run(7_000);
  // Failed push/pulls at ~0, ~1, ~3, ~7 s (jittered ±20 %): a few attempts, still alone.
  assert.equal(joiner.ml.numMembers(), 1);
  const attempts = joiner.ml.stats.pushPullFailures;
  assert.ok(attempts >= 3 && attempts <= 5, `attempts: ${attempts}`);
  await seed.ml.start();
  const took = await c.until(() => c.allSee("alive"), 20_000, 50);
  assert.notEqual(took, undefined, "joiner never joined the late seed");
  await c.close();
});

Deno.test("Memberlist delivers user messages over UDP and TCP byte-exact", async () => {
  const c = new TestCluster({ seed: 4 });
  const [a, b] = await c.start(["a", "b"]);
  await drive(c, b.ml.join([a.address]));
  const small = Uint8Array.from({ length: 1000 }, (_, i) => (i * 7) & 255);
  const large = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 13 + (i >> 8)) & 255);
  assert.equal(await drive(c, a.ml.sendBestEffort("b", small)), true);
  await drive(c, a.ml.sendReliable(b.address, large));
  await c.run(100);
  assert.equal(b.messages.length, 2);
  assert.deepEqual(b.messages[0], small);
  assert.deepEqual(b.messages[1], large);
  assert.equal(await drive(c, a.ml.sendBestEffort("nobody", small)), false);
  await assert.rejects(drive(c, a.ml.sendReliable("nobody", small)), RangeError);
  assert.equal(a.ml.stats.userMessagesOut, 2);
  assert.equal(b.ml.stats.userMessagesIn, 2);
  await c.close();
});

Deno.test("Memberlist piggybacks delegate broadcasts on gossip", async () => {
  const c = new TestCluster({ seed: 5 });
  const pending = [utf8("hello"), utf8("world")];
  const a = c.add("a", {
    delegate: {
      getBroadcasts: (overhead, limit) => {
        const out: Uint8Array[] = [];
        let used = 0;
        while (pending.length > 0 && used + overhead + pending[0].length <= limit) {
          used += overhead + pending[0].length;
          out.push(pending.shift()!);
        }
        return out;
      },
    },
  });
  const b = c.add("b");
  await a.ml.start();
  await b.ml.start();
  await drive(c, b.ml.join([a.address]));
  await c.run(2_000);
  assert.deepEqual(b.messages.map(text), ["hello", "world"]);
  await c.close();
});

Deno.test("Memberlist exchanges delegate state on join and on periodic push/pull", async () => {
  const c = new TestCluster({ seed: 6, config: lanConfig({ pushPullInterval: 5_000 }) });
  const merged: { node: string; state: string; join: boolean }[] = [];
  const delegateFor = (node: string) => ({
    localState: (join: boolean) => utf8(`${node}:${join ? "join" : "sync"}`),
    mergeRemoteState: (state: Uint8Array, join: boolean) =>
      void merged.push({ node, state: text(state)!, join }),
  });
  const a = c.add("a", { delegate: delegateFor("a") });
  const b = c.add("b", { delegate: delegateFor("b") });
  await a.ml.start();
  await b.ml.start();
  await drive(c, b.ml.join([a.address]));
  assert.deepEqual(merged, [
    { node: "a", state: "b:join", join: true },
    { node: "b", state: "a:join", join: true },
  ]);
  merged.length = 0;
  await c.run(12_000);
  // Each node starts a push/pull every 5 s: at least two anti-entropy rounds in 12 s.
  assert.ok(merged.length >= 4, JSON.stringify(merged));
  assert.ok(merged.every((m) => !m.join && m.state.endsWith(":sync")));
  assert.ok(a.ml.stats.pushPullsOut + a.ml.stats.pushPullsIn >= 3);
  await c.close();
});

Deno.test("Memberlist leave is seen as left (not dead) everywhere", async () => {
  const c = new TestCluster({ seed: 7 });
  await c.start(["n0"]);
  await c.start(["n1", "n2", "n3"], { seeds: ["n0"] });
  assert.notEqual(await c.until(() => c.allSee("alive"), 10_000), undefined);
  const leaving = c.node("n2");
  assert.equal(await drive(c, leaving.ml.leave(5_000)), true);
  const others = ["n0", "n1", "n3"];
  const took = await c.until(() => c.allSee("left", ["n2"], others), 5_000);
  assert.notEqual(took, undefined);
  await leaving.ml.shutdown();
  await c.run(10_000);
  for (const o of others) {
    const v = c.view(o, "n2");
    assert.ok(v === undefined || v.state === "left", `${o} sees n2 ${v?.state}`);
    const leave = c.node(o).events.find((e) => e.type === "leave" && e.member.name === "n2");
    assert.equal(leave?.member.state, "left");
    assert.equal(c.node(o).ml.numMembers(), 3);
    assert.equal(c.node(o).ml.stats.deaths, 0);
  }
  await c.close();
});

Deno.test("Memberlist updateNode spreads new meta and fires onUpdate", async () => {
  const c = new TestCluster({ seed: 8 });
  let meta = utf8("v1");
  await c.start(["n0"]);
  const n1 = c.add("n1", { seeds: ["n0"], delegate: { nodeMeta: () => meta } });
  await n1.ml.start();
  await c.start(["n2"], { seeds: ["n0"] });
  assert.notEqual(await c.until(() => c.allSee("alive"), 10_000), undefined);
  meta = utf8("v2");
  const before = n1.ml.localMember().incarnation;
  assert.equal(await drive(c, n1.ml.updateNode(5_000)), true);
  assert.ok(n1.ml.localMember().incarnation > before);
  const took = await c.until(
    () => ["n0", "n2"].every((o) => text(c.view(o, "n1")?.meta) === "v2"),
    5_000,
  );
  assert.notEqual(took, undefined);
  const update = c.node("n0").events.find((e) => e.type === "update");
  assert.equal(text(update?.member.meta), "v2");
  meta = new Uint8Array(513);
  await assert.rejects(() => n1.ml.updateNode(1_000), RangeError);
  await c.close();
});

Deno.test("Memberlist with a label ignores peers of another label", async () => {
  const c = new TestCluster({ seed: 9, config: lanConfig({ label: "blue" }) });
  const [a, b] = await c.start(["a", "b"]);
  const red = c.add("red", { config: { label: "red" } });
  await red.ml.start();
  assert.equal(await drive(c, b.ml.join([a.address])), 1);
  assert.equal(await drive(c, red.ml.join([a.address])), 0);
  await c.run(5_000);
  assert.equal(a.ml.numMembers(), 2);
  assert.equal(red.ml.numMembers(), 1);
  assert.ok((a.ml.stats.streamErrors.label ?? 0) >= 1);
  await c.close();
});

Deno.test("Memberlist validates its options", async () => {
  const c = new TestCluster();
  const transport = c.net.attach("10.9.9.9:7946");
  assert.throws(() => new Memberlist({ name: "", transport }), TypeError);
  assert.throws(
    () => new Memberlist({ name: "x", transport, advertise: { host: "0.0.0.0", port: 7946 } }),
    TypeError,
  );
  assert.throws(
    () => new Memberlist({ name: "x", transport, config: lanConfig({ probeTimeout: 5_000 }) }),
    RangeError,
  );
  const ml = new Memberlist({ name: "x", transport });
  await assert.rejects(() => ml.join([]), Error);
  assert.throws(() => ml.localMember(), Error);
  const fat = new Memberlist({
    name: "fat",
    transport: c.net.attach("10.9.9.8:7946"),
    delegate: { nodeMeta: () => new Uint8Array(513) },
  });
  await assert.rejects(() => fat.start(), RangeError);
  await ml.start();
  await assert.rejects(() => ml.start(), Error);
  await ml.shutdown();
  await ml.shutdown();
  await assert.rejects(() => ml.start(), Error);
  await assert.rejects(() => ml.leave(1), Error);
});

Deno.test("Memberlist ends a pending leave wait when shut down", async () => {
  const c = new TestCluster({ seed: 10 });
  const [a, b] = await c.start(["a", "b"]);
  await drive(c, b.ml.join([a.address]));
  c.net.isolate(a.address);
  const leaving = a.ml.leave(0); // 0: wait without limit for the broadcast to go out
  await c.run(100);
  await a.ml.shutdown();
  assert.equal(await leaving, false);
  await c.close();
});

Deno.test("Memberlist: a node restarted under its name is seen alive by every seed at once", async () => {
  // The seeds remember it as left; the join's exchanges carry its first incarnation (ignored),
  // it refutes with a higher one, and each seed must get that without waiting for gossip.
  const c = new TestCluster({ seed: 11 });
  await c.start(["n0", "n1", "n2", "n3"]);
  await drive(c, c.node("n3").ml.join(["n0", "n1", "n2"].map((n) => c.node(n).address)));
  assert.notEqual(await c.until(() => c.allSee("alive"), 10_000), undefined);
  const old = c.node("n3");
  assert.equal(await drive(c, old.ml.leave(5_000)), true);
  assert.notEqual(
    await c.until(() => c.allSee("left", ["n3"], ["n0", "n1", "n2"]), 5_000),
    undefined,
  );
  await old.ml.shutdown();
  const fresh = c.add("n3", { address: old.address });
  await fresh.ml.start();
  const seeds = ["n0", "n1", "n2"];
  // Only the exchanges count here: gossip, probes and periodic push/pull all wait for the clock.
  const joined = fresh.ml.join(seeds.map((n) => c.node(n).address));
  assert.equal(await drive(c, joined, 50), 3);
  for (const seed of seeds) assert.equal(c.view(seed, "n3")?.state, "alive", `${seed} sees n3`);
  await c.close();
});
