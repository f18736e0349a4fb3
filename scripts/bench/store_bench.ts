/**
 * Store benchmarks: per-entry memory, operation throughput, eviction policy comparison (hit
 * ratio on Zipf workloads and under scans) and expiry sweep cost.
 *
 * ```sh
 * deno run --v8-flags=--expose-gc scripts/bench/store_bench.ts [memory|throughput|eviction|sweep]...
 * ```
 * With no argument all but `memory-bytes` run (memory first, in a fresh heap; measure
 * `memory-bytes` in its own process). `ENTRIES=n` changes the entry count of the memory parts.
 *
 * @module
 */

import { VirtualClock } from "../../src/util/clock.ts";
import { hlcFromParts } from "../../src/util/hlc.ts";
import { SeededRandom } from "../../src/util/random.ts";
import { entrySize, type EvictionPolicy, TtlStore } from "../../src/store/mod.ts";

const T0 = 1_700_000_000_000;
const decoder = new TextDecoder();

/** A flat, freshly allocated ASCII string of `length` characters derived from `n`. */
function makeString(n: number, length: number, scratch: Uint8Array): string {
  for (let i = length - 1; i >= 0; i--) {
    scratch[i] = 48 + (n % 10) + (i % 3) * 17;
    n = Math.floor(n / 10);
  }
  return decoder.decode(scratch.subarray(0, length));
}

function gc(): boolean {
  const g = (globalThis as { gc?: () => void }).gc;
  if (!g) return false;
  for (let i = 0; i < 3; i++) g();
  return true;
}

function used(): number {
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
}

/** Real heap + external bytes per entry for `n` entries (run each kind in a fresh process). */
function memoryOf(
  kind: "string" | "bytes",
  n = Number(Deno.env.get("ENTRIES") ?? 1_000_000),
): void {
  if (!gc()) {
    console.log("memory: skipped (run with --v8-flags=--expose-gc)");
    return;
  }
  {
    gc();
    const before = used();
    const clock = new VirtualClock(T0);
    const store = new TtlStore({ clock });
    const scratch = new Uint8Array(128);
    const version = { hlc: hlcFromParts(T0), node: "node-1" };
    for (let i = 0; i < n; i++) {
      const key = makeString(i, 16, scratch);
      const value = kind === "string"
        ? makeString(i * 7, 100, scratch)
        : new TextEncoder().encode(makeString(i * 7, 100, scratch));
      store.apply(key, { value, expiresAt: T0 + 3_600_000, version });
    }
    gc();
    const after = used();
    const perEntry = (after - before) / n;
    console.log(
      `memory (${kind} values): ${n} entries, 16 B keys, 100 B values: ` +
        `${perEntry.toFixed(1)} B/entry real, overhead beyond key+value ${
          (perEntry - 116).toFixed(1)
        } B; accounted ${(store.bytes / n).toFixed(1)} B/entry`,
    );
    if (store.size !== n) throw new Error("lost entries");
  }
}

function time(label: string, ops: number, fn: () => void): number {
  const start = performance.now();
  fn();
  const ms = performance.now() - start;
  const rate = ops / (ms / 1000);
  console.log(`${label}: ${(rate / 1e6).toFixed(2)} M ops/s (${ms.toFixed(0)} ms for ${ops})`);
  return rate;
}

function throughput(): void {
  const n = 1_000_000;
  const scratch = new Uint8Array(128);
  const keys = Array.from({ length: n }, (_, i) => makeString(i, 16, scratch));
  const values = Array.from({ length: 1024 }, (_, i) => makeString(i, 100, scratch));
  const random = new SeededRandom(1);
  const order = Uint32Array.from({ length: n }, () => Math.floor(random.next() * n));
  for (const policy of ["sieve", "lru"] as const) {
    const clock = new VirtualClock(T0);
    const store = new TtlStore({ clock, evictionPolicy: policy });
    let hlc = hlcFromParts(T0);
    const node = "node-1";
    const put = (k: string, i: number) =>
      store.apply(k, {
        value: values[i & 1023],
        expiresAt: T0 + 3_600_000,
        version: { hlc: hlc++, node },
      });
    time(`${policy} set (insert, 1M new keys)`, n, () => {
      for (let i = 0; i < n; i++) put(keys[i], i);
    });
    time(`${policy} set (overwrite, random)`, n, () => {
      for (let i = 0; i < n; i++) put(keys[order[i]], i);
    });
    time(`${policy} get (hit, random)`, n, () => {
      for (let i = 0; i < n; i++) if (store.get(keys[order[i]]) === undefined) throw new Error();
    });
    time(`${policy} get (miss)`, n, () => {
      for (let i = 0; i < n; i++) store.get(values[i & 1023]);
    });
    time(`${policy} delete (tombstone)`, n, () => {
      for (let i = 0; i < n; i++) store.delete(keys[i], { hlc: hlc++, node });
    });
    const budget = new TtlStore({
      clock,
      evictionPolicy: policy,
      maxBytes: (n / 10) * entrySize(keys[0], values[0]),
    });
    time(`${policy} set (insert, evicting at 10 % budget)`, n, () => {
      for (let i = 0; i < n; i++) {
        budget.apply(keys[i], {
          value: values[i & 1023],
          expiresAt: 0,
          version: { hlc: hlc++, node },
        });
      }
    });
  }
}

/** Zipf(alpha) sampler over ranks 0..n-1 by inverse CDF (binary search). */
function zipf(n: number, alpha: number, random: SeededRandom): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) cdf[i] = sum += 1 / Math.pow(i + 1, alpha);
  for (let i = 0; i < n; i++) cdf[i] /= sum;
  return () => {
    const u = random.next();
    let lo = 0, hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

interface Workload {
  name: string;
  alpha: number;
  /** Fraction of requests that are one-time keys of a sequential scan. */
  scan: number;
}

function hitRatio(policy: EvictionPolicy, w: Workload, cacheFraction: number): [number, number] {
  const universe = 200_000, requests = 2_000_000;
  const scratch = new Uint8Array(32);
  const keys = Array.from({ length: universe }, (_, i) => makeString(i, 16, scratch));
  const value = "v".repeat(100);
  const clock = new VirtualClock(T0);
  const maxBytes = Math.floor(universe * cacheFraction) * entrySize(keys[0], value);
  const store = new TtlStore({ clock, evictionPolicy: policy, maxBytes });
  const random = new SeededRandom(42);
  const next = zipf(universe, w.alpha, random);
  let hits = 0, lookups = 0, hlc = hlcFromParts(T0), scanKey = 0;
  const start = performance.now();
  for (let i = 0; i < requests; i++) {
    const isScan = random.next() < w.scan;
    const key = isScan ? `scan-${scanKey++}`.padEnd(16, ".") : keys[next()];
    if (store.get(key) !== undefined) {
      if (!isScan) hits++;
    } else {
      store.apply(key, { value, expiresAt: 0, version: { hlc: hlc++, node: "n" } });
    }
    if (!isScan) lookups++;
  }
  const opsPerSec = requests / ((performance.now() - start) / 1000);
  return [hits / lookups, opsPerSec];
}

function eviction(): void {
  const workloads: Workload[] = [
    { name: "zipf 0.9", alpha: 0.9, scan: 0 },
    { name: "zipf 1.1", alpha: 1.1, scan: 0 },
    { name: "zipf 0.9 + 30 % scan", alpha: 0.9, scan: 0.3 },
    { name: "zipf 1.1 + 30 % scan", alpha: 1.1, scan: 0.3 },
  ];
  console.log("eviction: 200k keys, 2M requests, cache-aside; hit ratio of non-scan requests");
  for (const w of workloads) {
    for (const fraction of [0.01, 0.1]) {
      const cells = (["lru", "sieve"] as const).map((p) => {
        const [ratio, rate] = hitRatio(p, w, fraction);
        return `${p} ${(ratio * 100).toFixed(2)} % (${(rate / 1e6).toFixed(2)} M req/s)`;
      });
      console.log(`  ${w.name}, cache ${fraction * 100} %: ${cells.join(" | ")}`);
    }
  }
}

function sweep(): void {
  const n = 1_000_000;
  const scratch = new Uint8Array(32);
  const clock = new VirtualClock(T0);
  const store = new TtlStore({ clock });
  const version = { hlc: hlcFromParts(T0), node: "n" };
  for (let i = 0; i < n; i++) {
    store.apply(makeString(i, 16, scratch), { value: "x", expiresAt: T0 + 1_000, version });
  }
  let ticks = 0;
  time("sweep tick, 1M entries, none expired (one 16k-slot batch)", 16_384, () => {
    store.sweep();
    ticks++;
  });
  clock.advance(1_000);
  let reclaimed = 0, maxTickMs = 0;
  ticks = 0;
  const start = performance.now();
  while (store.size > 0) {
    const t = performance.now();
    reclaimed += store.sweep();
    maxTickMs = Math.max(maxTickMs, performance.now() - t);
    ticks++;
  }
  const ms = performance.now() - start;
  console.log(
    `sweep, 1M entries all expired: ${reclaimed} reclaimed in ${ticks} ticks, ` +
      `${ms.toFixed(0)} ms CPU, worst tick ${maxTickMs.toFixed(1)} ms`,
  );
}

const parts: Record<string, () => void> = {
  memory: () => memoryOf("string"),
  "memory-bytes": () => memoryOf("bytes"),
  throughput,
  eviction,
  sweep,
};
const chosen = Deno.args.length > 0 ? Deno.args : ["memory", "throughput", "eviction", "sweep"];
for (const name of chosen) {
  const part = parts[name];
  if (!part) throw new TypeError(`Cannot run benchmark: unknown part: received "${name}"`);
  part();
}
