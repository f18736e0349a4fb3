/**
 * Partitioned mode end to end (`REPLICAS=2`): 5 nodes started with the README's command on
 * loopback. Every key is stored on exactly 2 nodes (counted with node-local `X-Is-Sync` GETs),
 * readable from every node; after a SIGKILL every key is back at 2 copies; a joining node takes
 * its share and no key is lost; a rolling restart of every node under reads and acknowledged
 * writes loses no acknowledged write.
 */

import assert from "node:assert/strict";
import {
  clusterEnv,
  FAST_GOSSIP,
  freePort,
  NodeProcess,
  put,
  startCluster,
  statsOf,
  waitFor,
  waitReady,
} from "../testing/mod.ts";

const ENV = {
  ...FAST_GOSSIP,
  ANTI_ENTROPY_INTERVAL: "500ms",
  LOG_LEVEL: "warn",
  REPLICAS: "2",
};
const ALL_ACKS = { "x-write-acks": "all" };

/** The value of `key` on `node` alone (`X-Is-Sync: true`), or undefined. */
async function localValue(node: NodeProcess, key: string): Promise<string | undefined> {
  const res = await fetch(node.url(`/cache/${key}`), { headers: { "x-is-sync": "true" } });
  const text = await res.text();
  return res.status === 200 ? text : undefined;
}

/** Keys (of `expected`) whose local copies on `nodes` are not exactly `copies` right ones. */
async function wrongCopies(
  nodes: NodeProcess[],
  expected: Map<string, string>,
  copies = 2,
): Promise<string[]> {
  const held = new Map<string, number>();
  const wrong: string[] = [];
  await Promise.all(nodes.map(async (n) => {
    for (const [key, value] of expected) {
      const v = await localValue(n, key);
      if (v === undefined) continue;
      if (v !== value) wrong.push(`${key}=${v} on port ${n.httpPort}`);
      held.set(key, (held.get(key) ?? 0) + 1);
    }
  }));
  for (const key of expected.keys()) {
    if ((held.get(key) ?? 0) !== copies) wrong.push(`${key} x${held.get(key) ?? 0}`);
  }
  return wrong;
}

/** Keys of `expected` that some node does not read back right (through forwarding). */
async function unreadable(nodes: NodeProcess[], expected: Map<string, string>) {
  const bad: string[] = [];
  await Promise.all(nodes.map(async (n) => {
    for (const [key, value] of expected) {
      const res = await fetch(n.url(`/cache/${key}`));
      const text = await res.text();
      if (res.status !== 200 || text !== value) bad.push(`${key} on ${n.httpPort}: ${res.status}`);
    }
  }));
  return bad;
}

/**
 * What each node sees, for a failure's message: the members it places keys on, the owners of
 * `key` and whether it holds `key` itself.
 */
async function views(nodes: NodeProcess[], key: string): Promise<string> {
  const seen = await Promise.all(nodes.map(async (n) => {
    try {
      const ring = await (await fetch(n.url(`/cluster/ring?key=${key}`))).json();
      const members = ring.members.map((m: { name: string }) => m.name).join(",");
      const held = (await localValue(n, key)) !== undefined ? " holds it" : "";
      return `${n.env.NODE_NAME} sees ${members}, owners ${ring.key.owners.join(",")}${held}`;
    } catch (err) {
      return `${n.env.NODE_NAME}: ${(err as Error).message}`;
    }
  }));
  return seen.join("; ");
}

async function waitCopies(nodes: NodeProcess[], expected: Map<string, string>, what: string) {
  let last: string[] = [];
  await waitFor(
    what,
    async () => {
      last = await wrongCopies(nodes, expected);
      return last.length === 0 ? true : undefined;
    },
    30_000,
    200,
  ).catch((err) => {
    throw new Error(`${err.message}: ${last.length} wrong, e.g. ${last.slice(0, 5).join("; ")}`);
  });
}

Deno.test("REPLICAS=2 on 5 nodes: 2 copies per key, reads anywhere, death and join rebalance", async (t) => {
  const nodes = await startCluster("part", 5, ENV);
  const extra: NodeProcess[] = [];
  try {
    await waitReady(nodes);
    const expected = new Map<string, string>();
    await t.step("every acknowledged key is on exactly 2 nodes and readable from all", async () => {
      const writes = Array.from({ length: 300 }, (_, i) => [`k${i}`, `v${i}`]);
      await Promise.all(nodes.map(async (n, j) => {
        for (const [key, value] of writes.filter((_, i) => i % nodes.length === j)) {
          const res = await put(n, key, value, ALL_ACKS);
          assert.equal(res.status, 200, res.body);
          expected.set(key, value);
        }
      }));
      assert.deepEqual(await wrongCopies(nodes, expected), []);
      assert.deepEqual(await unreadable(nodes, expected), []);
      const forwarded = await Promise.all(nodes.map(async (n) => (await statsOf(n)).forwarding));
      assert.ok(
        forwarded.every((f) => f && f.reads > 0 && f.writes > 0),
        JSON.stringify(forwarded),
      );
      const ring = await (await fetch(nodes[0].url("/cluster/ring?key=k1"))).json();
      assert.equal(ring.replicas, 2);
      assert.equal(ring.members.length, 5);
      assert.equal(ring.key.owners.length, 2);
      assert.ok(ring.balance.maxOverMean <= 1.1, JSON.stringify(ring.balance));
    });

    await t.step("after a SIGKILL every key is back at 2 copies and readable", async () => {
      const started = performance.now();
      await nodes[2].stop("SIGKILL");
      const survivors = nodes.filter((_, i) => i !== 2);
      await waitCopies(survivors, expected, "2 copies on the 4 survivors");
      console.log(`back at 2 copies ${Math.round(performance.now() - started)} ms after SIGKILL`);
      assert.deepEqual(await unreadable(survivors, expected), []);
    });

    await t.step("a joining node takes its share and no key is lost", async () => {
      const survivors = nodes.filter((_, i) => i !== 2);
      const joiner = await NodeProcess.start({
        ...clusterEnv("part", 5, undefined, ENV),
        PEER: `127.0.0.1:${nodes[0].gossipPort}`,
      });
      extra.push(joiner);
      const all = [...survivors, joiner];
      await waitReady(all);
      await waitCopies(all, expected, "2 copies on 5 nodes after the join");
      const held = (await statsOf(joiner)).store.entries;
      assert.ok(held > 300 * 2 / 5 * 0.5, `joiner holds ${held} keys`);
      assert.deepEqual(await unreadable(all, expected), []);
    });
  } finally {
    await Promise.all([...nodes, ...extra].map((n) => n.stop()));
  }
});

Deno.test("REPLICAS=2: a rolling restart under reads and writes loses no acknowledged write", async () => {
  const gossipPorts = Array.from({ length: 5 }, () => freePort());
  const envOf = (i: number) => ({
    ...ENV,
    LOG_LEVEL: "info", // membership changes, for a failure's message
    NODE_NAME: `roll-${i}`,
    HTTP_PORT: String(freePort()),
    PORT: String(gossipPorts[i]),
    PEERS: gossipPorts.filter((_, j) => j !== i).map((p) => `127.0.0.1:${p}`).join(","),
  });
  const nodes = await Promise.all(gossipPorts.map((_, i) => NodeProcess.start(envOf(i))));
  const acked = new Map<string, string>();
  const counts = { writes: 0, acked: 0, reads: 0, readErrors: 0, readMisses: 0 };
  // What each wrong read found, for the assertion's message (CI shows failures, not logs).
  const missed: string[] = [];
  let running = true;
  try {
    await waitReady(nodes);
    const live = new Set(nodes);
    const pick = () => [...live][Math.floor(Math.random() * live.size)];
    const writer = async (w: number) => {
      for (let i = 0; running; i++) {
        const key = `w${w}-${i}`, value = `v${i}`;
        counts.writes++;
        const res = await put(pick(), key, value, ALL_ACKS).catch(() => undefined);
        if (res?.status === 200) {
          acked.set(key, value);
          counts.acked++;
        }
        // A steady ~100 writes/s per writer keeps the final check of every key short.
        await new Promise((r) => setTimeout(r, 10));
      }
    };
    const reader = async () => {
      while (running) {
        const keys = [...acked.keys()];
        if (keys.length === 0) {
          await new Promise((r) => setTimeout(r, 5));
          continue;
        }
        const key = keys[Math.floor(Math.random() * keys.length)];
        counts.reads++;
        const reading = pick();
        const res = await fetch(reading.url(`/cache/${key}`)).catch(() => undefined);
        if (!res) {
          counts.readErrors++; // the node went down under the request
          continue;
        }
        const text = await res.text();
        if (res.status !== 200 || text !== acked.get(key)) {
          counts.readMisses++;
          const at = (performance.now() - started) / 1000;
          missed.push(
            `at ${
              at.toFixed(1)
            } s, ${key} read at ${reading.env.NODE_NAME}: ${res.status} ${text}` +
              ` (served by ${res.headers.get("x-served-by")}); ${await views(nodes, key)}`,
          );
        }
      }
    };
    const started = performance.now();
    const restarts: string[] = [];
    const load = [writer(0), writer(1), reader()];
    for (let i = 0; i < nodes.length; i++) {
      live.delete(nodes[i]);
      const stopAt = (performance.now() - started) / 1000;
      await nodes[i].stop("SIGTERM");
      const downAt = (performance.now() - started) / 1000;
      nodes[i] = await NodeProcess.start(nodes[i].env);
      restarts.push(
        `${nodes[i].env.NODE_NAME} stopped ${stopAt.toFixed(1)}-${downAt.toFixed(1)} s, ` +
          `up ${((performance.now() - started) / 1000).toFixed(1)} s`,
      );
      await waitReady(nodes).catch(async (err) => {
        // In the message: CI shows a failure's message, not the test's output.
        const membership = nodes.map((n) =>
          `${n.env.NODE_NAME}: ${
            n.logs.filter((l) => /member|suspect|refut/.test(l)).slice(-8).join(" / ")
          }`
        );
        throw new Error(
          `${err.message} after restarting ${nodes[i].env.NODE_NAME}: ${await views(nodes, "-")}` +
            ` — membership logs: ${membership.join(" | ")}`,
        );
      });
      live.add(nodes[i]);
      restarts[i] += `, ready ${((performance.now() - started) / 1000).toFixed(1)} s`;
    }
    running = false;
    await Promise.all(load);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`rolling restart of 5 nodes in ${seconds} s: ${JSON.stringify(counts)}`);
    console.log(`restarts: ${restarts.join("; ")}`);
    assert.ok(counts.acked > 50, `only ${counts.acked} acknowledged writes`);
    assert.equal(
      counts.readMisses,
      0,
      `a read of an acknowledged write failed or was wrong: ${missed.slice(0, 3).join(" | ")}` +
        ` — restarts: ${restarts.join("; ")}`,
    );
    await waitCopies(nodes, acked, "every acknowledged write on 2 nodes after the restarts");
    assert.deepEqual(await unreadable(nodes, acked), []);
  } finally {
    running = false;
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
