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

const RUNS = Number(Deno.env.get("RUNS") ?? 3);

/** Best of `RUNS` runs of `prepare()`'s returned loop (fresh state per run), in ops/s. */
function best(label: string, ops: number, prepare: () => () => void): void {
  let top = 0;
  for (let r = 0; r < RUNS; r++) {
    const run = prepare();
    const start = performance.now();
    run();
    top = Math.max(top, ops / ((performance.now() - start) / 1000));
  }
  console.log(`${label}: ${(top / 1e6).toFixed(2)} M ops/s (best of ${RUNS})`);
}

function throughput(): void {
  const n = 1_000_000;
  const scratch = new Uint8Array(128);
  const keys = Array.from({ length: n }, (_, i) => makeString(i, 16, scratch));
  const values = Array.from({ length: 1024 }, (_, i) => makeString(i, 100, scratch));
  const absent = Array.from({ length: 1024 }, (_, i) => makeString(n + i, 16, scratch));
  const random = new SeededRandom(1);
  const order = Uint32Array.from({ length: n }, () => Math.floor(random.next() * n));
  const node = "node-1";
  let hlc = hlcFromParts(T0);
  const write = (store: TtlStore, key: string, i: number) =>
    store.apply(key, {
      value: values[i & 1023],
      expiresAt: T0 + 3_600_000,
      version: { hlc: hlc++, node },
    });
  const filled = (policy: EvictionPolicy, maxBytes = 0) => {
    const store = new TtlStore({ clock: new VirtualClock(T0), evictionPolicy: policy, maxBytes });
    if (maxBytes === 0) { for (let i = 0; i < n; i++) write(store, keys[i], i); }
    return store;
  };
  console.log("throughput: 16 B keys, 100 B string values, 1M keys, one thread");
  for (const policy of ["sieve", "lru"] as const) {
    best(`  ${policy} set, insert 1M new keys into an empty store`, n, () => {
      const empty = new TtlStore({ clock: new VirtualClock(T0), evictionPolicy: policy });
      return () => {
        for (let i = 0; i < n; i++) write(empty, keys[i], i);
      };
    });
    const store = filled(policy);
    best(`  ${policy} set, overwrite random existing keys`, n, () => () => {
      for (let i = 0; i < n; i++) write(store, keys[order[i]], i);
    });
    best(`  ${policy} get, hit, random over 1M keys`, n, () => () => {
      for (let i = 0; i < n; i++) if (store.get(keys[order[i]]) === undefined) throw new Error();
    });
    best(`  ${policy} get, hit, random over 10k hot keys`, n, () => () => {
      for (let i = 0; i < n; i++) {
        if (store.get(keys[order[i] % 10_000]) === undefined) throw new Error();
      }
    });
    best(`  ${policy} get, miss`, n, () => () => {
      for (let i = 0; i < n; i++) store.get(absent[i & 1023]);
    });
    best(`  ${policy} delete (tombstone), random existing keys`, n, () => () => {
      for (let i = 0; i < n; i++) store.delete(keys[order[i]], { hlc: hlc++, node });
    });
    best(`  ${policy} set, insert new keys, evicting at a 10 % budget`, n, () => {
      const budget = filled(policy, (n / 10) * entrySize(keys[0], values[0]));
      return () => {
        for (let i = 0; i < n; i++) write(budget, keys[i], i);
      };
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
  const keys = Array.from({ length: n }, (_, i) => makeString(i, 16, scratch));
  const version = { hlc: hlcFromParts(T0), node: "n" };
  console.log("sweep: 1M entries, default settings (20k slots / 20k reclaims per tick)");
  for (let run = 0; run < RUNS; run++) {
    const clock = new VirtualClock(T0);
    const store = new TtlStore({ clock });
    for (let i = 0; i < n; i++) {
      store.apply(keys[i], { value: "x", expiresAt: T0 + 1_000, version });
    }
    const quietTicks = 100;
    let start = performance.now();
    for (let i = 0; i < quietTicks; i++) store.sweep();
    const quietMs = (performance.now() - start) / quietTicks;
    clock.advance(1_000);
    let ticks = 0, worst = 0;
    start = performance.now();
    while (store.size > 0) {
      const t = performance.now();
      store.sweep();
      worst = Math.max(worst, performance.now() - t);
      ticks++;
    }
    const ms = performance.now() - start;
    console.log(
      `  run ${run + 1}: tick with nothing expired ${quietMs.toFixed(3)} ms ` +
        `(${(quietMs * 1e6 / 20_000).toFixed(1)} ns/slot, full lap ${
          Math.ceil(n / 20_000)
        } ticks); ` +
        `all expired: ${ticks} ticks, ${(ms * 1e6 / n).toFixed(0)} ns/reclaim, ` +
        `worst tick ${worst.toFixed(1)} ms`,
    );
  }
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
