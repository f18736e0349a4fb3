/**
 * Why the store copies the keys it inserts (issue 15): heap bytes per stored 16-character key cut
 * from a URL by `slice` (a view that keeps the URL alive), against the same key copied
 * (`ownString`) and decoded by `decodeURIComponent`, 300,000 keys each, after a full GC.
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

if (import.meta.main) {
  console.log("| key stored as | heap B per key (with its array slot) |\n| --- | --- |");
  console.log(`| slice of the URL | ${bytesPerKey((k) => k).toFixed(1)} |`);
  console.log(`| ownString copy | ${bytesPerKey(ownString).toFixed(1)} |`);
  console.log(`| decodeURIComponent | ${bytesPerKey(decodeURIComponent).toFixed(1)} |`);
}
