import assert from "node:assert/strict";
import { MemoryNetwork, runFor } from "../../transport/mod.ts";
import { VirtualClock } from "../../util/clock.ts";
import { SimCluster } from "./sim_cluster.ts";
import { SimTransport } from "./sim_transport.ts";

Deno.test("SimCluster warm start fills every table, queues nothing and stays quiet", async () => {
  const c = new SimCluster({ seed: 5 });
  c.addMany(20);
  c.warmStart();
  for (const n of c.nodes) {
    assert.equal(n.member.numNodes, 20);
    assert.equal(n.member.queued, 0);
    assert.equal(n.member.stateOf("n19"), "alive");
  }
  c.startAll();
  await c.run(2_000);
  const before = c.totals();
  await c.run(10_000);
  const after = c.totals();
  assert.equal(after.suspicions, 0);
  // One probe per member per second: a ping and an ack each.
  assert.equal((after.packetsOut - before.packetsOut) / 20 / 10, 2);
  await c.close();
});

Deno.test("SimCluster reports state changes and is deterministic for a seed", async () => {
  const trace = async (seed: number) => {
    const c = new SimCluster({ seed, loss: 0.05 });
    c.addMany(15);
    c.warmStart();
    c.startAll();
    const log: string[] = [];
    c.onEffect((at, observer, e) => {
      const subject = "node" in e ? e.node : "member" in e ? e.member.name : "";
      if (e.type !== "broadcast") {
        log.push(`${at.toFixed(3)} ${observer.name} ${e.type} ${subject}`);
      }
    });
    await c.run(3_000);
    c.kill("n3");
    await c.run(20_000);
    await c.close();
    return log;
  };
  const a = await trace(9), b = await trace(9);
  assert.deepEqual(a, b);
  assert.ok(a.some((line) => line.endsWith("suspicion-started n3")));
  assert.equal(a.filter((line) => line.endsWith("leave n3")).length, 14);
});

Deno.test("SimCluster steady push/pull phases spread over the scaled period", async () => {
  const firstHalfMinute = async (pushPullPhase: "engine" | "steady") => {
    const c = new SimCluster({ seed: 3, pushPullPhase });
    c.addMany(40); // scaled push/pull period: 60 s
    c.warmStart();
    c.startAll();
    await c.run(30_000);
    const pushed = c.nodes.filter((n) => n.member.stats.pushPullsOut > 0).length;
    await c.close();
    return pushed;
  };
  // The engine staggers the first push/pull over the unscaled 30 s: everybody syncs at once.
  assert.equal(await firstHalfMinute("engine"), 40);
  const steady = await firstHalfMinute("steady");
  assert.ok(steady > 10 && steady < 30, `${steady} of 40 pushed in 30 s`);
});

Deno.test("SimTransport hands inbound packets over late, in arrival order", async () => {
  const clock = new VirtualClock(0);
  const net = new MemoryNetwork({ clock, latencyMs: 1 });
  const sender = net.attach("10.0.0.1:7946");
  const slow = new SimTransport(net.attach("10.0.0.2:7946"));
  const got: [number, number][] = [];
  slow.onPacket((p) => got.push([p.data[0], p.receivedAt]));
  slow.inboundDelayMs = 500;
  await sender.sendPacket(slow.localAddress, Uint8Array.of(1));
  await runFor(clock, 100);
  slow.inboundDelayMs = 0; // the backlog still drains first
  await sender.sendPacket(slow.localAddress, Uint8Array.of(2));
  await runFor(clock, 1_000);
  assert.deepEqual(got, [[1, 501], [2, 501]]);
  assert.throws(() => (slow.inboundDelayMs = -1), RangeError);
  await net.close();
});
