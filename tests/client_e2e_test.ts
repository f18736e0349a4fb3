/**
 * The client against 5 real partitioned nodes (`REPLICAS=2`, started with the README's command):
 * its owners of a key are the nodes' own (`/cluster/ring?key=`) on many keys; 10,000 GETs through
 * it cause no forwarded read (the nodes' `forwarding` counters), against a fixed-node client
 * whose reads are mostly forwarded (the throughput ratio is printed; the speed claim is measured
 * by `deno task bench client`); a watch sees each change once though both owners send it; and a
 * SIGKILL of the node a client is using, mid-run, fails no call that could be retried while the
 * client reports the calls it retried.
 */

import assert from "node:assert/strict";
import { CacheClient, type RetryEvent, UnavailableError } from "../client.ts";
import {
  FAST_GOSSIP,
  type NodeProcess,
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
const KEYS = 1_000;
const GETS = 10_000;
const CONCURRENCY = 16;

async function forwarded(nodes: NodeProcess[]): Promise<{ reads: number; writes: number }> {
  const all = await Promise.all(nodes.map((n) => statsOf(n)));
  return {
    reads: all.reduce((sum, s) => sum + (s.forwarding?.reads ?? 0), 0),
    writes: all.reduce((sum, s) => sum + (s.forwarding?.writes ?? 0), 0),
  };
}

/** `count` GETs of the loaded keys through `client`, `CONCURRENCY` at a time; ms taken. */
async function readAll(client: CacheClient, count: number): Promise<number> {
  const started = performance.now();
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < count) {
      const i = next++ % KEYS;
      const value = await client.get(`key-${i}`);
      assert.equal(value, `value-${i}`);
    }
  }));
  return performance.now() - started;
}

Deno.test({
  name:
    "client routes by the nodes' owners: 10,000 GETs, 0 forwarded; SIGKILL fails no retryable call",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const nodes = await startCluster("client", 5, ENV);
    try {
      await waitFor("5 members on every node", async () => {
        const views = await Promise.all(nodes.map(async (n) => {
          const t = await (await fetch(n.url("/cluster/topology"))).json();
          return t.members.length;
        }));
        return views.every((m) => m === 5) || undefined;
      }, 20_000);
      await waitReady(nodes);
      const client = new CacheClient({ nodes: [nodes[0].url("")] });
      await client.refresh();

      // The client's owners of a key are the nodes' own, on many keys.
      const topology = client.topology!;
      assert.equal(topology.replicas, 2);
      assert.equal(topology.members.length, 5);
      for (let i = 0; i < 300; i++) {
        const key = i % 3 === 0 ? `key-${i}` : i % 3 === 1 ? `ünï/${i} ✓` : `user:${i * 7919}`;
        const node = nodes[i % nodes.length];
        const ring = await (await fetch(node.url(`/cluster/ring?key=${encodeURIComponent(key)}`)))
          .json();
        assert.deepEqual(topology.ownersOf(key).map((m) => m.name), ring.key.owners, key);
        assert.equal(topology.bucketOf(key), ring.key.bucket, key);
      }

      // Writes and reads go straight to owners: nothing is forwarded.
      const before = await forwarded(nodes);
      let next = 0;
      await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
        while (next < KEYS) {
          const i = next++;
          await client.set(`key-${i}`, `value-${i}`, { acks: "all" });
        }
      }));
      const routedMs = await readAll(client, GETS);
      const after = await forwarded(nodes);
      assert.equal(after.reads - before.reads, 0, "forwarded reads");
      assert.equal(after.writes - before.writes, 0, "forwarded writes");

      // The same GETs through one fixed node: most are forwarded to an owner.
      const fixed = new CacheClient({ nodes: [nodes[0].url("")], routing: "fixed" });
      const fixedMs = await readAll(fixed, GETS);
      const fixedForwarded = (await forwarded(nodes)).reads - after.reads;
      assert.ok(fixedForwarded > GETS / 2, `fixed node forwarded ${fixedForwarded}`);
      console.log(
        `${GETS} GETs, ${CONCURRENCY} at a time: routed ${Math.round(routedMs)} ms ` +
          `(0 forwarded), fixed node ${Math.round(fixedMs)} ms (${fixedForwarded} forwarded): ` +
          `routed/fixed throughput ${(fixedMs / routedMs).toFixed(2)}x (loaded machine; ` +
          `figures: deno task bench client)`,
      );

      // Watch in partitioned mode: a stream per member, each change once (its 2 owners both
      // send it).
      const watcher = new AbortController();
      const events = new Map<string, number>();
      const streams = new Set<string>();
      const watching = (async () => {
        for await (const e of client.watch({ prefix: "w-", signal: watcher.signal })) {
          streams.add(e.node);
          if (e.kind === "put") events.set(e.key!, (events.get(e.key!) ?? 0) + 1);
        }
      })().catch((err) => {
        if (err?.name !== "AbortError") throw err;
      });
      // Streams are open on every member once events arrive from each (an event comes from
      // whichever of its key's owners sends it first).
      await waitFor(
        "watch streams open on every member",
        async () => {
          await Promise.all(Array.from({ length: 20 }, (_, i) => client.set(`w-probe-${i}`, "p")));
          await new Promise((r) => setTimeout(r, 100));
          return streams.size === nodes.length || undefined;
        },
        10_000,
        0,
      );
      await Promise.all(Array.from({ length: 200 }, (_, i) => client.set(`w-key-${i}`, "v")));
      await waitFor("200 watched puts", () => {
        const seen = [...events.keys()].filter((k) => k.startsWith("w-key-")).length;
        return seen === 200 || undefined;
      }, 10_000);
      await new Promise((r) => setTimeout(r, 300)); // any duplicate would have arrived by now
      const twice = [...events].filter(([k, n]) => k.startsWith("w-key-") && n !== 1);
      assert.deepEqual(twice, [], "each change is seen once");
      watcher.abort();
      await watching;

      // SIGKILL mid-run: the node a fixed client is using, which also owns keys the routed
      // client reads. Reads and idempotent deletes must all succeed; plain writes may fail only
      // when they may have been applied (the request reached the dying node).
      const victim = nodes[1];
      const retried: RetryEvent[] = [];
      const sticky = new CacheClient({
        nodes: [victim.url(""), nodes[2].url("")],
        routing: "fixed",
        random: () => 0,
        onRetry: (e) => retried.push(e),
      });
      assert.equal(await sticky.get("key-1"), "value-1");
      const failures: string[] = [];
      const ambiguous: string[] = [];
      let stop = false;
      let calls = 0;
      const worker = async (c: CacheClient, w: number) => {
        for (let n = 0; !stop; n++) {
          const i = (n * 7 + w) % KEYS;
          try {
            calls++;
            if (n % 10 === 9) {
              try {
                await c.set(`scratch-${w}`, `v${n}`);
              } catch (err) {
                if (err instanceof UnavailableError && /may have been applied/.test(err.message)) {
                  ambiguous.push(err.message);
                } else throw err;
              }
            } else if (n % 10 === 8) await c.delete(`absent-${w}-${n}`);
            else assert.equal(await c.get(`key-${i}`), `value-${i}`);
          } catch (err) {
            failures.push(`${(err as Error).name}: ${(err as Error).message}`);
          }
        }
      };
      const running = [
        ...Array.from({ length: 4 }, (_, w) => worker(client, w)),
        ...Array.from({ length: 4 }, (_, w) => worker(sticky, 10 + w)),
      ];
      await new Promise((r) => setTimeout(r, 700));
      await victim.stop("SIGKILL");
      await new Promise((r) => setTimeout(r, 2_500));
      stop = true;
      await Promise.all(running);
      assert.deepEqual(failures, [], `${failures.length} of ${calls} calls failed`);
      const stats = [client.stats(), sticky.stats()];
      const retriedCalls = stats.flatMap((s) => s.retried);
      assert.ok(retriedCalls.length > 0, "some calls were retried");
      // A retried call ends well, or is a plain write refused as possibly applied (counted
      // above): its retry found the request may have reached the dying node.
      const unsettled = retriedCalls.filter((c) => !c.ok);
      assert.ok(
        unsettled.every((c) => c.op === "set") && unsettled.length <= ambiguous.length,
        `retried calls that failed: ${JSON.stringify(unsettled)}`,
      );
      assert.ok(retried.length > 0 && retried.every((e) => e.node === victim.url("")));
      console.log(
        `SIGKILL mid-run: ${calls} calls, 0 failed, ${retriedCalls.length} retried ` +
          `(e.g. ${JSON.stringify(retriedCalls[0])}), ${ambiguous.length} plain writes refused ` +
          `as possibly applied`,
      );
      await Promise.all([client.close(), fixed.close(), sticky.close()]);
    } finally {
      await Promise.all(nodes.map((n) => n.stop().catch(() => {})));
    }
  },
});
