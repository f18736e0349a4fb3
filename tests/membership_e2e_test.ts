/**
 * Real-process membership tests: nodes started with the README's command (`deno task run`) on
 * loopback, joined through `PEER`, killed with SIGKILL, stopped with SIGSTOP, restarted.
 * Timing bounds come from the gossip config the nodes run with, not from guesses.
 */

import assert from "node:assert/strict";
import { localConfig } from "../src/membership/mod.ts";
import {
  clusterView,
  deadBound,
  FAST_GOSSIP,
  freePort,
  NodeProcess,
  startCluster,
  stateOf,
  waitAllAlive,
  waitFor,
  waitForState,
} from "../testing/mod.ts";

// memberlist's local profile with faster probes, so a test takes seconds, not minutes.
const GOSSIP = FAST_GOSSIP;
const config = localConfig({ probeInterval: 400, probeTimeout: 150 });

function deadBoundMs(n: number): number {
  return deadBound(config, n);
}

Deno.test("5 nodes join through PEER, detect a SIGKILL, and take the node back after restart", async (t) => {
  const nodes = await startCluster("five", 5, GOSSIP);
  try {
    await t.step(
      "every node sees all 5 alive with the right addresses and HTTP ports",
      async () => {
        const started = Date.now();
        await waitFor("5 alive everywhere", async () => {
          const views = await Promise.all(nodes.map(clusterView));
          return views.every((v) => v.filter((m) => m.state === "alive").length === 5) || undefined;
        }, 15_000);
        console.log(`join visible on all 5 nodes after ${Date.now() - started} ms`);
        for (const view of await Promise.all(nodes.map(clusterView))) {
          for (const node of nodes) {
            const m = view.find((x) => x.name === node.env.NODE_NAME)!;
            assert.deepEqual([m.addr, m.port, m.http_port, m.meta.http_port], [
              "127.0.0.1",
              node.gossipPort,
              node.httpPort,
              node.httpPort,
            ]);
          }
        }
        // Ready also waits for the initial data copy from a peer: poll with a deadline.
        for (const node of nodes) {
          await waitFor(`${node.env.NODE_NAME} ready`, async () => {
            const res = await fetch(node.url("/readyz"));
            await res.body?.cancel();
            return res.status === 200 || undefined;
          }, 15_000);
        }
        const compat = await (await fetch(nodes[1].url("/cache/members"))).json();
        assert.equal(compat.length, 5);
      },
    );

    const victim = nodes[4];
    const name = victim.env.NODE_NAME;
    let incarnationBefore = 0;
    await t.step(
      "SIGKILL: the others mark it dead within the bound the config predicts",
      async () => {
        incarnationBefore = (await clusterView(nodes[0])).find((m) => m.name === name)!.incarnation;
        const bound = deadBoundMs(5);
        const killedAt = Date.now();
        await victim.stop("SIGKILL");
        const elapsed = await waitForState(nodes.slice(0, 4), name, "dead", bound);
        console.log(
          `SIGKILL → dead on all 4 survivors: ${Date.now() - killedAt} ms (bound ${bound} ms)`,
        );
        assert.ok(elapsed <= bound);
      },
    );

    await t.step("restarted with the same name it rejoins with a higher incarnation", async () => {
      nodes[4] = await NodeProcess.start(victim.env);
      await waitForState(nodes, name, "alive", 15_000);
      const m = (await clusterView(nodes[0])).find((x) => x.name === name)!;
      assert.ok(m.incarnation > incarnationBefore, `incarnation ${m.incarnation}`);
    });
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

Deno.test("SIGSTOP past the suspicion timeout, then SIGCONT: the node refutes and is alive again", async () => {
  const nodes = await startCluster("stop", 3, GOSSIP);
  try {
    await waitAllAlive(nodes);
    const sleeper = nodes[2];
    const name = sleeper.env.NODE_NAME;
    sleeper.signal("SIGSTOP");
    await waitForState(nodes.slice(0, 2), name, "dead", deadBoundMs(3));
    sleeper.signal("SIGCONT");
    const elapsed = await waitForState(nodes, name, "alive", 20_000);
    console.log(`SIGCONT → alive again on all nodes: ${elapsed} ms`);
    // The resumed node's own probes were due while it was stopped and may time out at once on
    // SIGCONT, so for a moment it can suspect the others until they refute: every view must
    // come back to 3 alive within a suspicion timeout, not necessarily at this instant.
    const views = await waitFor("3 alive in every view", async () => {
      const all = await Promise.all(nodes.map(clusterView));
      return all.every((v) => v.filter((m) => m.state === "alive").length === 3) ? all : undefined;
    }, deadBoundMs(3));
    for (const v of views) assert.equal(v.filter((m) => m.state === "alive").length, 3);
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

Deno.test("SIGTERM leaves gracefully: the others see 'left', not 'dead'", async () => {
  const nodes = await startCluster("leave", 3, GOSSIP);
  try {
    await waitAllAlive(nodes);
    const status = await nodes[2].stop("SIGTERM");
    assert.equal(status.code, 0);
    await waitForState(nodes.slice(0, 2), nodes[2].env.NODE_NAME, "left", 5_000);
    assert.equal(await stateOf(nodes[0], nodes[2].env.NODE_NAME), "left");
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

Deno.test("a node whose seed is down runs alone, not ready, and joins once the seed starts", async () => {
  const seedEnv = { NODE_NAME: "late-seed", ...GOSSIP };
  const seedPort = freePort();
  const joiner = await NodeProcess.start({
    ...GOSSIP,
    NODE_NAME: "early",
    PEER: `127.0.0.1:${seedPort}`,
  });
  let seed: NodeProcess | undefined;
  try {
    const r = await fetch(joiner.url("/readyz"));
    assert.equal(r.status, 503);
    assert.match((await r.json()).reason, /not joined/);
    const put = await fetch(joiner.url("/cache/k"), {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: '{"value":"alone"}',
    });
    assert.equal(put.status, 200, "a node without its seed still serves");
    seed = await NodeProcess.start({ ...seedEnv, PORT: String(seedPort) });
    await waitFor(
      "joined after the seed came up",
      async () => (await fetch(joiner.url("/readyz"))).status === 200 || undefined,
      40_000,
    );
    await waitForState([seed, joiner], "early", "alive", 10_000);
  } finally {
    await Promise.all([joiner.stop(), seed?.stop()]);
  }
});
