// Failure detection on virtual time: crashes, stalls, loss and partitions, with the bounds the
// config predicts. Each test prints its observed figures.
import assert from "node:assert/strict";
import { lanConfig } from "./config.ts";
import { pushPullScale, suspicionBounds } from "./formulas.ts";
import { TestCluster } from "./testing/cluster.ts";

const config = lanConfig();
const names = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `n${i + from}`);

/** A cluster of `n` nodes joined through n0 and converged. */
async function converged(n: number, seed: number, extra: Partial<typeof config> = {}) {
  const c = new TestCluster({ seed, config: lanConfig(extra) });
  await c.start(["n0"]);
  await c.start(names(n - 1, 1), { seeds: ["n0"] });
  assert.notEqual(await c.until(() => c.allSee("alive"), 10_000, 20), undefined, "no convergence");
  await c.run(2_000);
  return c;
}

const report = (what: string, figures: Record<string, unknown>) =>
  console.log(`${what}: ${JSON.stringify(figures)}`);

Deno.test("Memberlist marks a killed node suspect then dead everywhere within the config bound", async () => {
  const n = 5;
  const c = await converged(n, 21);
  const observers = names(n).filter((x) => x !== "n3");
  const { max } = suspicionBounds(config, n);
  // First probe of the victim by someone (round-robin: within a round of n probes), the probe
  // itself (one interval), the longest suspicion, plus a second of gossip slack.
  const bound = n * config.probeInterval + config.probeInterval + max + 1_000;
  c.net.kill(c.node("n3").address);
  const suspectAll = await c.until(
    () => observers.every((o) => c.view(o, "n3")?.state !== "alive"),
    bound,
  );
  const deadAll = await c.until(() => c.allSeeGone("n3", observers), bound);
  assert.notEqual(suspectAll, undefined, "not suspected everywhere");
  assert.notEqual(deadAll, undefined, "not declared dead everywhere");
  const total = suspectAll! + deadAll!;
  assert.ok(total <= bound, `${total} > ${bound}`);
  for (const o of observers) {
    const leave = c.node(o).events.find((e) => e.type === "leave" && e.member.name === "n3");
    assert.equal(leave?.member.state, "dead");
    assert.equal(c.node(o).ml.numMembers(), n - 1);
  }
  report("killed node (5 nodes, LAN)", {
    suspectEverywhereMs: suspectAll,
    deadEverywhereMs: total,
    boundMs: bound,
  });
  await c.close();
});

Deno.test("Memberlist: a node paused past probeTimeout but within the suspicion timeout refutes and stays alive", async () => {
  const n = 5;
  const c = await converged(n, 22);
  const victim = c.node("n2");
  const observers = names(n).filter((x) => x !== "n2");
  const { min } = suspicionBounds(config, n);
  const incarnation = victim.ml.localMember().incarnation;
  let suspected = false;
  c.net.pause(victim.address);
  // Paused for 3 s: several probes of it fail, but no suspicion can reach its 4 s minimum.
  await c.until(() => {
    suspected ||= observers.some((o) => c.view(o, "n2")?.state === "suspect");
    return false;
  }, min - 1_000);
  c.net.resume(victim.address);
  const back = await c.until(() => c.allSee("alive", ["n2"], observers), 10_000);
  await c.run(30_000);
  assert.ok(suspected, "the pause was not long enough to be suspected");
  assert.notEqual(back, undefined);
  assert.ok(c.allSee("alive"), "someone is not alive");
  for (const o of observers) {
    assert.equal(c.node(o).events.filter((e) => e.type === "leave").length, 0, `${o} saw a leave`);
  }
  assert.ok(victim.ml.localMember().incarnation > incarnation);
  assert.ok(victim.ml.stats.refutations >= 1);
  report("short pause (3 s)", {
    refutations: victim.ml.stats.refutations,
    incarnation: victim.ml.localMember().incarnation,
    aliveEverywhereAfterResumeMs: back,
    healthScoreAfter30s: victim.ml.healthScore(),
  });
  await c.close();
});

Deno.test("Memberlist: a node paused past the suspicion timeout is declared dead, then refutes and rejoins", async () => {
  const n = 5;
  const c = await converged(n, 23);
  const victim = c.node("n2");
  const observers = names(n).filter((x) => x !== "n2");
  const { max } = suspicionBounds(config, n);
  const incarnation = victim.ml.localMember().incarnation;
  c.net.pause(victim.address);
  const bound = n * config.probeInterval + config.probeInterval + max + 1_000;
  const dead = await c.until(() => c.allSeeGone("n2", observers), bound);
  assert.notEqual(dead, undefined, "the paused node was not declared dead");
  await c.run(2_000);
  c.net.resume(victim.address);
  const back = await c.until(() => c.allSee("alive"), 30_000);
  assert.notEqual(back, undefined, "the node did not come back");
  assert.ok(victim.ml.localMember().incarnation > incarnation);
  for (const o of observers) {
    const seen = c.node(o).events.filter((e) => e.member.name === "n2").map((e) => e.type);
    assert.deepEqual(seen.slice(-2), ["leave", "join"], `${o}: ${seen}`);
    assert.ok(c.view(o, "n2")!.incarnation > incarnation);
  }
  report("long pause", {
    deadEverywhereMs: dead,
    aliveEverywhereAfterResumeMs: back,
    incarnation: victim.ml.localMember().incarnation,
  });
  await c.close();
});

for (const disableTcpPings of [false, true]) {
  Deno.test(`Memberlist declares nobody dead under 10% packet loss (TCP fallback ${disableTcpPings ? "off" : "on"})`, async () => {
    const n = 10;
    const c = await converged(n, 24 + Number(disableTcpPings), { disableTcpPings });
    c.net.setDefaults({ loss: 0.1 });
    const minutes = 4;
    let everSuspect = 0;
    await c.until(
      () => {
        for (const o of c.nodes.keys()) {
          for (const s of c.nodes.keys()) if (c.view(o, s)?.state === "suspect") everSuspect++;
        }
        return false;
      },
      minutes * 60_000,
      100,
    );
    const sum = (f: (s: typeof c.nodes extends Map<string, infer N> ? N : never) => number) =>
      [...c.nodes.values()].reduce((a, node) => a + f(node), 0);
    const deaths = sum((node) => node.ml.stats.deaths);
    const leaves = sum((node) => node.events.filter((e) => e.type === "leave").length);
    assert.equal(deaths, 0, "false positive: a node was declared dead");
    assert.equal(leaves, 0);
    assert.ok(c.allSee("alive"));
    report(`10% loss, ${minutes} min, 10 nodes, TCP fallback ${disableTcpPings ? "off" : "on"}`, {
      falsePositives: deaths,
      probes: sum((node) => node.ml.stats.probes),
      indirectProbes: sum((node) => node.ml.stats.indirectProbes),
      probeFailures: sum((node) => node.ml.stats.probeFailures),
      tcpRescues: sum((node) => node.ml.stats.tcpPingSuccesses),
      suspicionsStarted: sum((node) => node.ml.stats.suspicions),
      refutations: sum((node) => node.ml.stats.refutations),
      suspectSamples: everSuspect,
    });
    await c.close();
  });
}

Deno.test("Memberlist heals a partition: both halves declare each other dead, then re-merge", async () => {
  const n = 10;
  const c = await converged(n, 26);
  const left = names(5), right = names(5, 5);
  const addr = (x: string) => c.node(x).address;
  c.net.partition(left.map(addr), right.map(addr));
  const split = await c.until(
    () => left.every((s) => c.allSeeGone(s, right)) && right.every((s) => c.allSeeGone(s, left)),
    120_000,
    100,
  );
  assert.notEqual(split, undefined, "the halves never declared each other dead");
  assert.ok(c.allSee("alive", left, left) && c.allSee("alive", right, right));
  await c.run(20_000);
  c.net.heal();
  // The right half misses its seed n0: it re-joins within one seed check (≤ 30 s + 20 %
  // jitter); a stale dead entry may need a second round; then gossip spreads it.
  const bound = 2 * 36_000 + pushPullScale(config.pushPullInterval, n);
  const healed = await c.until(() => c.allSee("alive"), bound, 100);
  assert.notEqual(healed, undefined, "the halves never re-merged");
  await c.run(30_000);
  assert.ok(c.allSee("alive"), "the merged cluster did not stay merged");
  report("partition 5|5", { splitDeclaredMs: split, healedAfterMs: healed, boundMs: bound });
  await c.close();
});
