/**
 * Memory and time of the member tables alone: `deno run --allow-all
 * --v8-flags=--expose-gc,--max-old-space-size=20000 scripts/sim/table_memory.ts <N>` creates N
 * simulated members, warm-starts them (N² member records) and prints one JSON line: the time to
 * create and to warm-start them, and the heap, off-heap and RSS growth after full collections,
 * per record. No protocol runs; this is the per-record cost that bounds the simulation's size.
 *
 * @module
 */

import { SimCluster } from "../../src/membership/testing/sim_cluster.ts";

/** Heap, off-heap and RSS growth of warm-starting `n` members, with timings. */
export interface TableMemory {
  /** Members. */
  n: number;
  /** Member records (n²). */
  records: number;
  /** Wall time to create the members, ms. */
  createMs: number;
  /** Wall time of the warm start, ms. */
  warmMs: number;
  /** Heap growth, MiB. */
  heapMiB: number;
  /** Off-heap (typed array) growth, MiB. */
  externalMiB: number;
  /** RSS growth, MiB. */
  rssMiB: number;
  /** Heap growth per record, bytes. */
  heapPerRecordB: number;
  /** RSS growth per record, bytes. */
  rssPerRecordB: number;
}

/** Measures the tables of `n` warm-started members; `gc` runs a full collection. */
export function measureTables(n: number, gc: () => void): TableMemory {
  gc();
  const m0 = Deno.memoryUsage();
  const t0 = performance.now();
  const cluster = new SimCluster({ seed: 1, pushPullPhase: "steady" });
  const nodes = cluster.addMany(n);
  const t1 = performance.now();
  cluster.warmStart(nodes);
  const t2 = performance.now();
  gc();
  const m1 = Deno.memoryUsage();
  const records = n * n;
  const mib = (bytes: number) => Math.round(bytes / 2 ** 20);
  return {
    n,
    records,
    createMs: Math.round(t1 - t0),
    warmMs: Math.round(t2 - t1),
    heapMiB: mib(m1.heapUsed - m0.heapUsed),
    externalMiB: mib(m1.external - m0.external),
    rssMiB: mib(m1.rss - m0.rss),
    heapPerRecordB: Math.round((m1.heapUsed - m0.heapUsed) / records),
    rssPerRecordB: Math.round((m1.rss - m0.rss) / records),
  };
}

if (import.meta.main) {
  const n = Number(Deno.args[0]);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!Number.isInteger(n) || n < 1 || !gc) {
    console.error(
      "usage: deno run --allow-all --v8-flags=--expose-gc scripts/sim/table_memory.ts <N>",
    );
    Deno.exit(2);
  }
  console.log(JSON.stringify(measureTables(n, () => (gc(), gc()))));
  Deno.exit(0);
}
