/**
 * The replication run: N replicators (the real `Replicator`, `TtlStore`, HLC) with every peer
 * up, connected by an in-memory transport that adds a one-way latency on the virtual clock to
 * each request and each answer. Writes are made one after the other at random members, and
 * for each the time until every replica holds it is measured, either through the fast path
 * (`publish`: one batch to every live peer) or through anti-entropy alone (the write is only
 * applied locally; digest exchanges every `ANTI_ENTROPY_INTERVAL` with a random peer spread it,
 * an epidemic push-pull).
 *
 * @module
 */

import { Replicator } from "../../src/replication/replicator.ts";
import { MemoryReplicationNetwork } from "../../src/replication/testing.ts";
import type { ReplicationTransport } from "../../src/replication/transport.ts";
import { TtlStore } from "../../src/store/mod.ts";
import { runFor } from "../../src/transport/mod.ts";
import { VirtualClock } from "../../src/util/clock.ts";
import { HybridLogicalClock } from "../../src/util/hlc.ts";
import { type Random, SeededRandom } from "../../src/util/random.ts";
import { round, runCost, SpreadTracker } from "./metrics.ts";
import type { ReplicationSpec, RunResult } from "./spec.ts";

/** The anti-entropy period of the simulated replicators (the node's default), ms. */
export const ANTI_ENTROPY_INTERVAL_MS = 5_000;

interface Replica {
  name: string;
  store: TtlStore;
  hlc: HybridLogicalClock;
  replicator: Replicator;
}

/** Runs a replication spec to the end and reports. */
export async function runReplication(spec: ReplicationSpec): Promise<RunResult> {
  const t0 = performance.now();
  const clock = new VirtualClock(1_700_000_000_000);
  const net = new MemoryReplicationNetwork();
  const random = new SeededRandom(spec.seed * 97 + 5);
  const replicas: Replica[] = [];
  for (let i = 0; i < spec.n; i++) {
    const name = `n${i}`;
    const store = new TtlStore({ clock });
    const hlc = new HybridLogicalClock(clock);
    const replicator = new Replicator({
      name,
      store,
      hlc,
      transport: delayed(net.transport(name), clock, random, spec.latencyMs),
      limits: { maxKeyBytes: 256, maxValueBytes: 4096 },
      initialSync: false,
      settings: { antiEntropyIntervalMs: ANTI_ENTROPY_INTERVAL_MS },
      clock,
      random: new SeededRandom(spec.seed * 1_000_003 + i),
    });
    net.register(name, replicator);
    replicas.push({ name, store, hlc, replicator });
  }
  const warmWallMs = performance.now() - t0;
  for (const r of replicas) {
    for (const p of replicas) r.replicator.peerUp({ name: p.name, host: "10.0.0.1", httpPort: 1 });
    r.replicator.start();
  }
  const start = clock.now();
  const times: (number | undefined)[] = [];
  for (let w = 0; w < spec.writes; w++) {
    times.push(
      await oneWrite(spec, clock, replicas, replicas[Math.floor(random.next() * spec.n)], w),
    );
  }
  for (const r of replicas) r.replicator.close();
  return {
    spec,
    ...(await runCost(t0, warmWallMs)),
    records: 0,
    virtualMs: clock.now() - start,
    joins: [],
    crashes: [],
    falsePositives: {
      nodeHours: 0,
      falseSuspicions: 0,
      fpHealthy: 0,
      fpSlow: 0,
      declaredHealthy: 0,
      declaredSlow: 0,
      refutations: 0,
    },
    suspicion: { min: 0, max: 0, k: 0 },
    writes: times.map((t) => (t === undefined ? undefined : round(t, 1))),
  };
}

/** One write at `writer`; resolves with the time until every replica holds it, ms. */
async function oneWrite(
  spec: ReplicationSpec,
  clock: VirtualClock,
  replicas: Replica[],
  writer: Replica,
  w: number,
): Promise<number | undefined> {
  const key = `key-${w}`;
  const record = { value: `value-${w}`, expiresAt: 0, version: writer.hlc.version(writer.name) };
  const tracker = new SpreadTracker(clock.now(), replicas.length, () => true);
  writer.store.apply(key, record);
  if (spec.mode === "fast") writer.replicator.publish(key, record);
  const limit = spec.mode === "fast" ? 10_000 : 40 * ANTI_ENTROPY_INTERVAL_MS;
  // Polling every replica each step is O(N) per ms of virtual time: fine at these sizes.
  const step = spec.mode === "fast" ? 1 : 50;
  while (!tracker.complete && clock.now() - tracker.start < limit) {
    for (const r of replicas) if (r.store.peek(key)) tracker.see(r.name, clock.now());
    if (!tracker.complete) await runFor(clock, step);
  }
  const took = tracker.timeTo(1);
  // Let the cluster go quiet before the next write.
  await runFor(clock, spec.mode === "fast" ? 100 : ANTI_ENTROPY_INTERVAL_MS);
  return took;
}

/** `inner` with a one-way latency (plus up to 1 ms jitter) each way, on the virtual clock. */
function delayed(
  inner: ReplicationTransport,
  clock: VirtualClock,
  random: Random,
  latencyMs: number,
): ReplicationTransport {
  const wait = () =>
    new Promise<void>((resolve) => clock.setTimeout(resolve, latencyMs + random.next()));
  return {
    request: async (peer, route, body, timeoutMs) => {
      await wait();
      try {
        return await inner.request(peer, route, body, timeoutMs);
      } finally {
        await wait();
      }
    },
    close: () => inner.close(),
  };
}
