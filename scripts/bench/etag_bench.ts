/**
 * Writing an HLC in base 36 (every entity tag): `toString(36)` of the whole number against
 * `base36` (two halves). Usage: `taskset -c 0 deno bench scripts/bench/etag_bench.ts`.
 *
 * @module
 */

import { base36 } from "../../src/service/etag.ts";

const hlcs = Array.from({ length: 1024 }, (_, i) => 1_740_800_000_000_000 + i * 65_536 + (i % 7));
let i = 0;
Deno.bench("toString(36) of the whole HLC", () => {
  hlcs[i++ & 1023].toString(36);
});
Deno.bench("base36 (two halves)", () => {
  base36(hlcs[i++ & 1023]);
});
