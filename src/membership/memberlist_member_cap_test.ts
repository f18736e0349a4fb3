// The member table's cap (`maxMembers`) under a flood of made-up members, on virtual time: a
// raw peer on the in-memory network announces thousands of fake members by gossip (alive
// messages) and by a push/pull; the node keeps its real members, drops and counts the rest, stays
// healthy, and takes real newcomers again once the fakes are reaped.
import assert from "node:assert/strict";
import { encodeMessage, encodePacket, encodePushPull, MessageType } from "./codec/mod.ts";
import { lanConfig } from "./config.ts";
import { TestCluster } from "./testing/cluster.ts";

const CAP = 50;
const RAW = { host: "10.0.9.1", port: 7946 };
const VSN = Uint8Array.of(1, 5, 2, 0, 0, 0);

/** A fake member at an address nobody listens on. */
function fake(i: number) {
  return {
    incarnation: 1,
    node: `fake-${i}`,
    addr: Uint8Array.of(10, 66, i >> 8 & 255, i & 255),
    port: 7946,
    meta: null,
    vsn: VSN,
  };
}

Deno.test("Memberlist caps its member table under a flood of fake members and keeps the real ones", async () => {
  const c = new TestCluster({ config: lanConfig({ maxMembers: CAP }) });
  const [a] = await c.start(["a"]);
  await c.start(["b", "c"], { seeds: ["a"] });
  assert.ok(await c.until(() => c.allSee("alive"), 10_000), "the real cluster must form");
  const raw = c.net.attach(RAW);

  // 2,000 alive messages, 20 per datagram, all to node a.
  for (let batch = 0; batch < 100; batch++) {
    const messages = Array.from(
      { length: 20 },
      (_, j) => encodeMessage(MessageType.alive, fake(batch * 20 + j)),
    );
    await raw.sendPacket(a.address, await encodePacket(messages, { compress: true, crc: false }));
  }
  // And 3,000 more in one push/pull stream.
  const records = Array.from({ length: 3_000 }, (_, i) => {
    const f = fake(2_000 + i);
    return {
      name: f.node,
      addr: f.addr,
      port: f.port,
      meta: null,
      incarnation: 1,
      state: 0,
      vsn: VSN,
    };
  });
  const stream = await encodePushPull({ join: false }, records, new Uint8Array(0), {
    compress: true,
  });
  const [conn] = await Promise.all([raw.dialStream(a.address, 1_000), c.run(50)]);
  await Promise.all([conn.write(stream), c.run(200)]);
  conn.close();
  await c.run(2_000);

  const stats = a.ml.stats;
  const table = a.ml.allMembers();
  assert.equal(table.length, CAP, "the table stops at the cap");
  assert.ok(
    stats.membersRefused >= 5_000 - CAP,
    `every fake beyond the cap is counted: ${stats.membersRefused}`,
  );
  for (const name of ["a", "b", "c"]) assert.equal(c.view("a", name)?.state, "alive", name);
  // Gossip spread the accepted fakes; the other nodes are capped the same way.
  for (const node of ["b", "c"]) {
    assert.ok(c.node(node).ml.allMembers().length <= CAP, node);
  }

  // The node goes on probing: the fakes (unreachable) are declared dead and reaped, while the
  // real members stay alive throughout. Failed probes of the fakes raise Lifeguard's health
  // score and so stretch the probe interval: reaping 47 fakes takes minutes.
  let reapedAt: number | undefined;
  for (let t = 0; t < 60 && reapedAt === undefined; t++) {
    await c.run(10_000, 5);
    for (const name of ["a", "b", "c"]) {
      for (const observer of ["a", "b", "c"]) {
        assert.equal(c.view(observer, name)?.state, "alive", `${observer} sees ${name}`);
      }
    }
    if (a.ml.allMembers().length === 3) reapedAt = c.now;
  }
  assert.ok(reapedAt !== undefined, "the fakes must be reaped");
  await c.run(30_000, 5);
  assert.equal(a.ml.healthScore(), 0, "health recovers once the fakes are gone");
  // Room again: a real newcomer joins every node.
  await c.start(["d"], { seeds: ["a"] });
  assert.ok(await c.until(() => c.allSee("alive", ["d"]), 30_000), "a newcomer must get in");
  await c.close();
});

Deno.test("Memberlist refuses a maxMembers below 2", () => {
  const c = new TestCluster({ config: lanConfig({ maxMembers: 1 }) });
  assert.throws(() => c.add("a"), /maxMembers must be an integer in \[2, 1000000\]: received 1/);
});
