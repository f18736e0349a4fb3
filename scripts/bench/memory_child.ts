/**
 * Child process of the memory benchmark: fills a fresh TtlStore with N entries and prints the
 * heap + external growth per entry after a full GC (run with `--v8-flags=--expose-gc`).
 *
 * @module
 */

import { TtlStore } from "../../src/store/mod.ts";
import { HybridLogicalClock } from "../../src/util/hlc.ts";
import { systemClock } from "../../src/util/clock.ts";
import { benchKey, benchValue } from "./memory_bench.ts";

const gc = (globalThis as unknown as { gc: () => void }).gc;
const count = Number(Deno.args[0] ?? 1_000_000);
const used = () => {
  gc();
  gc();
  const m = Deno.memoryUsage();
  return m.heapUsed + m.external;
};
const hlc = new HybridLogicalClock(systemClock);
const store = new TtlStore({ clock: systemClock, maxBytes: 0 });
const before = used();
for (let i = 0; i < count; i++) {
  store.apply(benchKey(i), { value: benchValue(i), expiresAt: 0, version: hlc.version("bench") });
}
const after = used();
if (store.stats().entries !== count) throw new Error("store lost entries");
console.log(((after - before) / count).toFixed(1));
