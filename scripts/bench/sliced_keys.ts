/**
 * Why the store copies the keys it inserts (issue 15): heap bytes per stored 16-character key cut
 * from a URL by `slice` (a view that keeps the URL alive), against the same key copied
 * (`ownString`) and decoded by `decodeURIComponent`, 300,000 keys each, after a full GC; and
 * what one copy costs.
 * `deno run --v8-flags=--expose-gc scripts/bench/sliced_keys.ts`. Figures: docs/benchmarks.md.
 *
 * @module
 */

import { ownString } from "../../src/util/own_string.ts";

const N = 300_000;

function bytesPerKey(make: (raw: string) => string): number {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error("run with --v8-flags=--expose-gc");
  const keep: string[] = [];
  gc();
  const before = Deno.memoryUsage().heapUsed;
  for (let i = 0; i < N; i++) {
    const url = `http://127.0.0.1:8000/cache/bench-key-${String(i).padStart(6, "0")}`;
    keep.push(make(url.slice(28)));
  }
  gc();
  const bytes = (Deno.memoryUsage().heapUsed - before) / N;
  if (keep.length !== N) throw new Error("unreachable");
  return bytes;
}

/** Nanoseconds per `ownString` of a 16-character slice (median of 5 rounds of 300,000). */
function nsPerCopy(): number {
  const raws = Array.from(
    { length: N },
    (_, i) => `http://127.0.0.1:8000/cache/bench-key-${String(i).padStart(6, "0")}`.slice(28),
  );
  const rounds: number[] = [];
  let sink = 0;
  for (let r = 0; r < 5; r++) {
    const t0 = performance.now();
    for (const raw of raws) sink += ownString(raw).length;
    rounds.push((performance.now() - t0) * 1e6 / N);
  }
  if (sink === 0) throw new Error("unreachable");
  return rounds.sort((a, b) => a - b)[2];
}

if (import.meta.main) {
  console.log("| key stored as | heap B per key (with its array slot) |\n| --- | --- |");
  console.log(`| slice of the URL | ${bytesPerKey((k) => k).toFixed(1)} |`);
  console.log(`| ownString copy | ${bytesPerKey(ownString).toFixed(1)} |`);
  console.log(`| decodeURIComponent | ${bytesPerKey(decodeURIComponent).toFixed(1)} |`);
  console.log(`\nownString of a 16-character slice: ${nsPerCopy().toFixed(0)} ns`);
}
