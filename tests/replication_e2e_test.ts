/**
 * Replication end to end: nodes started with the README's command (`deno task run`) on loopback,
 * joined through `PEER`; writes on one node read on the others, deletes that stay deleted
 * through anti-entropy, node-local writes, acknowledged writes, concurrent writers, a SIGKILLed
 * node restarted empty, a late joiner receiving 100,000 keys; and a partition healed between
 * in-process nodes whose replication traffic is cut by a fault-injection hook.
 */

import assert from "node:assert/strict";
import { CacheNode } from "../mod.ts";
import { Partition, PartitionTransport } from "../src/replication/testing.ts";
import { hlcFromParts } from "../src/util/hlc.ts";
import {
  bulkLoad,
  del,
  FAST_GOSSIP,
  freePort,
  get,
  NodeProcess,
  put,
  startCluster,
  statsOf,
  waitFor,
  waitForState,
  waitReady,
  waitReadyz,
  waitRounds,
  waitSameDigest,
} from "../testing/mod.ts";

const ENV = {
  ...FAST_GOSSIP,
  ANTI_ENTROPY_INTERVAL: "300ms",
  LOG_LEVEL: "warn",
};

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

Deno.test("3 nodes replicate writes, deletes, local writes and acknowledged writes", async (t) => {
  const nodes = await startCluster("repl", 3, ENV);
  try {
    await waitReady(nodes);

    await t.step("a PUT on one node is readable on the others", async () => {
      const latencies: number[] = [];
      for (let i = 0; i < 30; i++) {
        const from = nodes[i % 3], to = nodes[(i + 1) % 3];
        const started = performance.now();
        assert.equal((await put(from, `visible-${i}`, `v${i}`)).status, 200);
        await waitFor(
          `visible-${i}`,
          async () => (await get(to, `visible-${i}`)) ?? undefined,
          5000,
          1,
        );
        latencies.push(performance.now() - started);
      }
      latencies.sort((a, b) => a - b);
      const lags = await Promise.all(nodes.map(async (n) => (await statsOf(n)).replication.lagMs));
      console.log(
        `PUT → visible on another node (client-observed with 1 ms polling, 30 writes): p50 ${
          percentile(latencies, 0.5).toFixed(1)
        } ms, max ${latencies[latencies.length - 1].toFixed(1)} ms; node-side write → applied: ${
          lags.map((l) => `p50 ${l.p50} / max ${l.max} ms`).join(", ")
        }`,
      );
    });

    await t.step("a DELETE is gone everywhere and stays gone through anti-entropy", async () => {
      await put(nodes[0], "doomed", "x");
      await waitFor("doomed everywhere", async () => {
        const values = await Promise.all(nodes.map((n) => get(n, "doomed")));
        return values.every((v) => v === "x") || undefined;
      });
      assert.equal(await del(nodes[1], "doomed"), 200);
      await waitFor("doomed gone", async () => {
        const values = await Promise.all(nodes.map((n) => get(n, "doomed")));
        return values.every((v) => v === undefined) || undefined;
      });
      await waitRounds(nodes, 3);
      for (const n of nodes) assert.equal(await get(n, "doomed"), undefined);
      await waitSameDigest(nodes);
    });

    await t.step("X-Is-Sync writes stay on their node through anti-entropy", async () => {
      const local = { "x-is-sync": "true" };
      await put(nodes[0], "shared", "replicated");
      await waitFor("shared everywhere", async () => (await get(nodes[2], "shared")) ?? undefined);
      assert.equal((await put(nodes[2], "shared", "mine", local)).status, 200);
      assert.equal((await put(nodes[2], "only-here", "mine", local)).status, 200);
      assert.equal(await del(nodes[1], "visible-0", local), 200);
      await waitRounds(nodes, 3);
      assert.equal(await get(nodes[2], "shared"), "mine");
      assert.equal(await get(nodes[2], "only-here"), "mine");
      assert.equal(await get(nodes[1], "visible-0"), undefined);
      for (const n of [nodes[0], nodes[1]]) {
        assert.equal(await get(n, "shared"), "replicated");
        assert.equal(await get(n, "only-here"), undefined);
      }
      assert.equal(await get(nodes[0], "visible-0"), "v0");
      // A later replicated write of the key replaces the local value everywhere.
      // A later replicated write of a key replaces the local value or delete; until then the
      // shadowed key keeps that node's digest different from its peers'.
      await put(nodes[0], "shared", "replicated again");
      await put(nodes[0], "visible-0", "v0 again");
      await waitFor(
        "local values replaced",
        async () =>
          ((await get(nodes[2], "shared")) === "replicated again" &&
            (await get(nodes[1], "visible-0")) === "v0 again") || undefined,
      );
      await waitSameDigest(nodes);
      assert.equal(await get(nodes[2], "only-here"), "mine");
    });

    await t.step(
      "X-Write-Acks: all returns only once every live replica holds the write",
      async () => {
        for (let i = 0; i < 20; i++) {
          const r = await put(nodes[i % 3], `acked-${i}`, `a${i}`, { "x-write-acks": "all" });
          assert.equal(r.status, 200, r.body);
          const values = await Promise.all(nodes.map((n) => get(n, `acked-${i}`)));
          assert.deepEqual(values, [`a${i}`, `a${i}`, `a${i}`]);
        }
        assert.equal((await put(nodes[0], "acked-2", "x", { "x-write-acks": "2" })).status, 200);
        // More acks than live members can never succeed: 503 at once, nothing written.
        const tooMany = await put(nodes[0], "acked-too-many", "x", { "x-write-acks": "5" });
        assert.equal(tooMany.status, 503);
        assert.deepEqual(
          [JSON.parse(tooMany.body).live, JSON.parse(tooMany.body).required],
          [3, 5],
        );
        assert.equal(await get(nodes[0], "acked-too-many"), undefined);
        const bad = await put(nodes[0], "never", "x", { "x-write-acks": "zero" });
        assert.equal(bad.status, 400);
        assert.equal(await get(nodes[0], "never"), undefined, "validated before the write");
        const s = await statsOf(nodes[0]);
        assert.ok(s.replication.acks.confirmed >= 7, JSON.stringify(s.replication.acks));
      },
    );

    await t.step(
      "internal routes refuse hostile input with 400/413/415 and change nothing",
      async () => {
        const before = (await statsOf(nodes[0])).store.digest;
        const post = (body: BodyInit, type = "application/msgpack") =>
          fetch(nodes[0].url("/internal/replicate"), {
            method: "POST",
            headers: { "content-type": type },
            body,
          }).then(async (r) => [r.status, await r.text()] as const);
        assert.equal((await post(new Uint8Array([0x95, 1, 0xc1])))[0], 400);
        assert.equal((await post("{}", "application/json"))[0], 415);
        assert.equal((await post(new Uint8Array(16 * 1024 * 1024)))[0], 413);
        const sync = await fetch(nodes[0].url("/internal/sync"), {
          method: "POST",
          headers: { "content-type": "application/msgpack" },
          body: new Uint8Array([0x97, 1, 0xa1, 0x78, 0xcd, 4, 0, 0, 1]),
        });
        assert.equal(sync.status, 400, await sync.text());
        assert.equal((await statsOf(nodes[0])).store.digest, before);
      },
    );

    await t.step(
      "two nodes writing the same keys concurrently end identical everywhere",
      async () => {
        const keys = Array.from({ length: 200 }, (_, i) => `contested-${i}`);
        await Promise.all([
          Promise.all(keys.map((k) => put(nodes[0], k, `from-0-${k}`))),
          Promise.all(keys.map((k) => put(nodes[1], k, `from-1-${k}`))),
        ]);
        await waitSameDigest(nodes);
        const views = await Promise.all(nodes.map((n) => Promise.all(keys.map((k) => get(n, k)))));
        assert.deepEqual(views[1], views[0]);
        assert.deepEqual(views[2], views[0]);
        const winners = new Set(views[0].map((v) => v?.slice(0, 6)));
        console.log(`contested keys: winners by node ${[...winners].join(", ")}`);
      },
    );

    await t.step("a SIGKILLed node restarted empty converges with the others", async () => {
      const victim = nodes[2];
      await victim.stop("SIGKILL");
      for (let i = 0; i < 100; i++) await put(nodes[i % 2], `during-${i}`, `d${i}`);
      for (let i = 0; i < 10; i++) await del(nodes[1], `acked-${i}`);
      nodes[2] = await NodeProcess.start(victim.env);
      await waitReady(nodes, 30_000);
      const digest = await waitSameDigest(nodes);
      const s = await statsOf(nodes[2]);
      console.log(
        `restarted node: copied ${s.replication.antiEntropy.initialSync.records} records in ${s.replication.antiEntropy.initialSync.ms} ms; digests equal (${digest})`,
      );
      assert.equal(await get(nodes[2], "during-99"), "d99");
      assert.equal(await get(nodes[2], "acked-3"), undefined);
    });
  } finally {
    await Promise.all(nodes.map((n) => n.stop()));
  }
});

Deno.test("a 4th node joining a cluster of 100,000 keys serves all of them once ready", async () => {
  const nodes = await startCluster("join", 3, ENV);
  let joiner: NodeProcess | undefined;
  try {
    await waitReady(nodes);
    const now = Date.now();
    const records = Array.from({ length: 100_000 }, (_, i) => ({
      key: `key-${i}`,
      value: `value-${i}-${"x".repeat(i % 50)}`,
      expiresAt: i % 2 === 0 ? 0 : now + 600_000 + i,
    }));
    const hlc = hlcFromParts(now);
    await Promise.all(nodes.map((n) => bulkLoad(n, records, "loader", hlc)));
    const digest = await waitSameDigest(nodes);

    const started = Date.now();
    const j = joiner = await NodeProcess.start({
      ...ENV,
      NODE_NAME: "join-3",
      PEER: `127.0.0.1:${nodes[0].gossipPort}`,
    });
    await waitReadyz(j);
    const s = await statsOf(j);
    console.log(
      `joiner ready ${
        Date.now() - started
      } ms after start (copy of ${s.replication.antiEntropy.initialSync.records} records: ${s.replication.antiEntropy.initialSync.ms} ms)`,
    );
    assert.equal(s.store.entries, 100_000);
    assert.equal(s.store.digest, digest);
    for (let i = 0; i < 100_000; i += 97) {
      const res = await fetch(j.url(`/cache/key-${i}`), { method: "HEAD" });
      assert.equal(res.status, 200, `key-${i}`);
      const ttl = res.headers.get("x-ttl-ms");
      if (i % 2 === 0) {
        assert.equal(ttl, null);
      } else {
        const expected = records[i].expiresAt - Date.now();
        assert.ok(Math.abs(Number(ttl) - expected) < 2000, `key-${i}: ttl ${ttl} vs ${expected}`);
      }
    }
    assert.equal(await get(j, "key-99999"), records[99_999].value);
  } finally {
    await Promise.all([...nodes, ...(joiner ? [joiner] : [])].map((n) => n.stop()));
  }
});

Deno.test({
  name: "a partition heals: replicas converge, last writer wins, deletes stay deleted",
  // Deno's HTTP client pool closes its sockets asynchronously after the nodes close.
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const partition = new Partition();
    const seedPort = freePort();
    const names = ["p-a", "p-b", "p-c"];
    const nodes = names.map((name, i) =>
      new CacheNode({
        nodeName: name,
        httpPort: 0,
        gossipPort: i === 0 ? seedPort : freePort(),
        peers: i === 0 ? [] : [`127.0.0.1:${seedPort}`],
        gossipProfile: "local",
        antiEntropyIntervalMs: 200,
        replicationTimeoutMs: 500,
      }, { wrapReplicationTransport: (t) => new PartitionTransport(t, name, partition) })
    );
    try {
      for (const n of nodes) await n.start();
      await waitFor(
        "peered",
        () =>
          nodes.every((n) => n.replicator!.livePeers().length === 2 && n.readiness().ready) ||
          undefined,
        15_000,
      );
      const [a, b, c] = nodes;
      for (let i = 0; i < 20; i++) await a.set(`k${i}`, "before");
      await waitFor(
        "replicated",
        () => nodes.every((n) => n.get("k19")?.value === "before") || undefined,
      );

      partition.split(["p-a"], ["p-b", "p-c"]);
      await b.set("k1", "b-first");
      await c.delete("k3");
      await new Promise((r) => setTimeout(r, 5));
      await a.set("k1", "a-later");
      await a.delete("k2");
      await a.set("k3", "a-after-delete");
      await c.set("new-c", "c-only");
      await a.set("k5", "a-then-deleted");
      await new Promise((r) => setTimeout(r, 5));
      await b.delete("k5");
      await new Promise((r) => setTimeout(r, 1000));
      assert.equal(b.get("k1")?.value, "b-first", "the partition held");
      assert.equal(a.get("new-c"), undefined, "the partition held");

      partition.heal();
      await waitFor("converged", () => {
        const d = nodes.map((n) => n.stats().store.digest);
        return d.every((x) => x === d[0]) || undefined;
      }, 15_000);
      for (const n of nodes) {
        assert.equal(n.get("k1")?.value, "a-later");
        assert.equal(n.get("k2"), undefined);
        assert.equal(n.get("k3")?.value, "a-after-delete");
        assert.equal(n.get("new-c")?.value, "c-only");
        assert.equal(n.get("k5"), undefined);
        assert.equal(n.get("k6")?.value, "before");
      }
      const repaired = nodes.reduce((s, n) => s + n.stats().replication!.antiEntropy.repairedIn, 0);
      console.log(`partition healed: ${repaired} records repaired by anti-entropy`);
    } finally {
      await Promise.all(nodes.map((n) => n.close()));
    }
  },
});

Deno.test("an overwrite that expires while a stopped replica missed it does not bring the old value back", async () => {
  // Found with the chaos run's model: node 2, SIGSTOPped until declared dead, keeps v1; v2
  // (acked by the live nodes, 1 s TTL) expires; when node 2 comes back, anti-entropy used to
  // copy v1 back onto every node, since the expired v2 had been dropped everywhere.
  const nodes = await startCluster("expire", 3, ENV);
  try {
    await waitReady(nodes);
    assert.equal((await put(nodes[0], "k", "v1", { "x-write-acks": "all" })).status, 200);
    nodes[2].signal("SIGSTOP");
    await waitForState(nodes.slice(0, 2), "expire-2", "dead", 30_000);
    assert.equal((await put(nodes[0], "k", "v2", { "x-write-acks": "all" }, 1)).status, 200);
    await waitFor("v2 expired", async () => (await get(nodes[1], "k")) === undefined || undefined);
    await new Promise((r) => setTimeout(r, 300)); // a sweep tick turns it into a tombstone
    nodes[2].signal("SIGCONT");
    await waitForState(nodes.slice(0, 2), "expire-2", "alive", 30_000);
    await waitReady(nodes);
    await waitSameDigest(nodes);
    assert.deepEqual(await Promise.all(nodes.map((n) => get(n, "k"))), [
      undefined,
      undefined,
      undefined,
    ]);
  } finally {
    nodes[2].signal("SIGCONT");
    await Promise.all(nodes.map((n) => n.stop()));
  }
});
