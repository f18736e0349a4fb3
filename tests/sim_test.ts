// The CI-sized simulation (issue 8): 50 members of the real protocol engine on virtual time,
// with bounds taken from the configuration and the published models, not from past runs.
import assert from "node:assert/strict";
import { lanConfig } from "../src/membership/config.ts";
import { suspicionBounds } from "../src/membership/formulas.ts";
import { SimCluster } from "../src/membership/testing/sim_cluster.ts";
import { serfConvergenceMs } from "../scripts/sim/anchors.ts";
import { runFalsePositives } from "../scripts/sim/false_positives.ts";
import { runPartition } from "../scripts/sim/partition.ts";
import { runScale } from "../scripts/sim/scale.ts";

const N = 50;
const config = lanConfig();

Deno.test("Simulation: 50 members joining through one seed converge within the gossip bound", async () => {
  const c = new SimCluster({ seed: 11, config, jitterMs: 3 });
  const nodes = c.addMany(N);
  c.startAll();
  const known = new Set<string>();
  c.onEffect((_, observer, e) => {
    if (e.type === "join") known.add(`${observer.name}>${e.member.name}`);
  });
  for (const node of nodes.slice(1)) void node.member.join(nodes[0].member.address);
  // Each member learns the seed's table as it was when it joined; the rest is gossip. The seed
  // queues N alive messages (~90 B each, udpBufferSize / 90 per packet), each infection wave
  // takes ceil(log_(1 + fanout) N) gossip rounds, and probes catch stragglers.
  const rounds = Math.ceil(Math.log(N) / Math.log(1 + config.gossipNodes));
  const waves = Math.ceil((N * 90) / config.udpBufferSize);
  const bound = rounds * waves * config.gossipInterval + config.probeInterval;
  const took = await c.until(() => known.size === N * (N - 1), 60_000, 20);
  assert.notEqual(took, undefined, `only ${known.size} of ${N * (N - 1)} views after 60 s`);
  assert.ok(took! <= bound, `converged in ${took} ms, bound ${bound} ms`);
  await c.run(10_000);
  assert.equal(c.totals().suspicions, 0);
  await c.close();
});

Deno.test("Simulation: in a warm 50-member cluster joins beat Serf's model and crashes are declared within the suspicion bounds", async () => {
  const r = await runScale({
    kind: "scale",
    n: N,
    seed: 4,
    loss: 0,
    variant: "lifeguard",
    tcpPings: true,
    bandwidthMs: 10_000,
    joins: 3,
    crashes: 5,
  });
  const serf = serfConvergenceMs(N, 0.9999);
  for (const j of r.joins) {
    assert.equal(j.known, j.of, `${j.joiner} reached ${j.known} of ${j.of}`);
    assert.ok(j.t50! <= j.t99! && j.t99! <= j.t100!);
    assert.ok(j.t100! <= serf, `${j.joiner}: 100 % after ${j.t100} ms, Serf 99.99 % ${serf} ms`);
  }
  const { min, max } = suspicionBounds(config, N);
  assert.deepEqual(r.suspicion, suspicionBounds(config, N));
  for (const c of r.crashes) {
    assert.ok(c.firstSuspicion !== undefined && c.firstDead !== undefined, c.victim);
    // Round-robin probing: someone probes the victim within a few periods.
    assert.ok(c.firstSuspicion <= 8 * config.probeInterval, `${c.victim}: ${c.firstSuspicion}`);
    // Lifeguard's timer never fires before min nor after max; k = 2 confirmations come quickly.
    const span = c.firstDead - c.firstSuspicion;
    assert.ok(span >= min && span <= max, `${c.victim}: suspicion lasted ${span} ms`);
    assert.ok(span <= min + 2 * config.probeInterval, `${c.victim}: no quick confirmations`);
    // Then the dead message reaches everyone within a few gossip rounds.
    assert.equal(c.dead100 !== undefined, true, `${c.victim} not dead everywhere`);
    assert.ok(c.dead100! - c.firstDead <= 10 * config.gossipInterval, `${c.victim}: slow spread`);
  }
  assert.equal(r.falsePositives.falseSuspicions, 0);
  assert.equal(r.falsePositives.fpHealthy, 0);
  // Steady state: one probe per member per period, a ping and an ack.
  assert.equal(r.bandwidth!.packetsPerNodeSec, 2);
});

Deno.test("Simulation: slow members make the SWIM config declare healthy members dead, Lifeguard at least 10× less", async () => {
  const run = (variant: "swim" | "lifeguard") =>
    runFalsePositives({
      kind: "fp",
      n: 30,
      seed: 2,
      loss: 0,
      variant,
      tcpPings: true,
      slowFraction: 0.1,
      slowDelayMs: 10_000, // longer than the 7.4 s suspicion minimum at N = 30
      durationMs: 60_000,
    });
  const swim = await run("swim");
  const lifeguard = await run("lifeguard");
  const a = swim.falsePositives.fpHealthy, b = lifeguard.falsePositives.fpHealthy;
  console.log(`healthy members marked dead in 60 s: SWIM config ${a}, Lifeguard ${b}`);
  assert.ok(a >= 20, `SWIM: ${a}`);
  // Not always 0: when k + 1 slow members happen to accuse the same member, they confirm each
  // other and Lifeguard's timer shrinks back to its minimum.
  assert.ok(b * 10 <= a, `Lifeguard: ${b}, SWIM: ${a}`);
});

Deno.test("Simulation: a 50-member cluster cut in half declares only the other side dead and merges again after the heal", async () => {
  const reconnectMs = 30_000; // SimMember's (and Memberlist's) default reconnect interval
  const r = await runPartition({
    kind: "partition",
    n: N,
    seed: 1,
    loss: 0,
    variant: "lifeguard",
    tcpPings: true,
    minority: 0.5,
    durationMs: 60_000,
    healMaxMs: 300_000,
  });
  const p = r.partition!;
  assert.deepEqual(p.sides, [25, 25]);
  // During the cut: the whole other side dead everywhere, nobody on one's own side.
  assert.equal(p.sameSideDeaths, 0);
  assert.ok(p.split100 !== undefined && p.split100 < 60_000, `split seen after ${p.split100} ms`);
  // After the heal the reconnect loop finds the other side within one period (every member
  // retries, as half the cluster failed), refutations and push/pull do the rest.
  assert.ok(p.merged !== undefined, "the cluster never merged within 300 s");
  assert.ok(p.merged <= 2 * reconnectMs, `merged ${p.merged} ms after the heal`);
  assert.equal(p.mergedAtEnd, true);
  assert.ok(p.refutationsAfterHeal > 0, "the merge goes through refutations");
});
