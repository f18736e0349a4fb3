// A 50-node cluster on virtual time: convergence within a bound derived from the config, then a
// quiet steady state (no suspicion, bounded traffic per node).
import assert from "node:assert/strict";
import { lanConfig } from "./config.ts";
import { retransmitLimit } from "./formulas.ts";
import { TestCluster } from "./testing/cluster.ts";

Deno.test("Memberlist converges a 50-node cluster within the gossip bound and stays quiet", async () => {
  const n = 50;
  const config = lanConfig();
  const c = new TestCluster({ seed: 31, config, jitterMs: 3 });
  await c.start(["n0"]);
  await c.start(Array.from({ length: n - 1 }, (_, i) => `n${i + 1}`), { seeds: ["n0"] });
  // Everyone push/pulls with n0 at once; n0 then gossips n alive messages (~90 B each). Each
  // infection wave takes ceil(log_{1+fanout} n) gossip rounds and one packet carries
  // udpBufferSize / 90 of them, so all n need that many waves; retransmits cover loss.
  const rounds = Math.ceil(Math.log(n) / Math.log(1 + config.gossipNodes));
  const waves = Math.ceil((n * 90) / config.udpBufferSize);
  const bound = rounds * waves * config.gossipInterval + config.probeInterval;
  const took = await c.until(() => c.allSee("alive"), 60_000, 20);
  assert.notEqual(took, undefined, "50 nodes did not converge in 60 s");
  assert.ok(took! <= bound, `converged in ${took} ms, bound ${bound} ms`);
  const before = [...c.nodes.values()].map((x) => x.ml.stats.packetsOut);
  const steady = 30_000;
  await c.run(steady, 2);
  const stats = [...c.nodes.values()].map((x) => x.ml.stats);
  assert.ok(c.allSee("alive"));
  assert.equal(stats.reduce((a, s) => a + s.suspicions + s.probeFailures, 0), 0);
  const rate = stats.map((s, i) => (s.packetsOut - before[i]) / (steady / 1000));
  const maxRate = Math.max(...rate);
  // A probe (ping + ack) per second each way plus gossip while the queue drains.
  assert.ok(maxRate < 20, `packets/s per node: ${maxRate}`);
  console.log(
    `50 nodes: ${
      JSON.stringify({
        convergedMs: took,
        boundMs: bound,
        retransmitLimit: retransmitLimit(config.retransmitMult, n),
        maxPacketsPerSecondPerNode: Math.round(maxRate * 10) / 10,
        meanPacketsPerSecondPerNode: Math.round(rate.reduce((a, b) => a + b) / n * 10) / 10,
      })
    }`,
  );
  await c.close();
});
