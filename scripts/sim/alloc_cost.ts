/**
 * `deno run scripts/sim/alloc_cost.ts`: what a small byte array costs in this runtime, and the
 * codec's LZW on a ping-sized and a packet-sized input — the measurements behind the byte slab
 * and the reused LZW tables (docs/benchmarks.md, "Engine changes for scale"). Prints one line
 * per case, ns or µs per operation.
 *
 * @module
 */

import { ByteSlab } from "../../src/util/byte_slab.ts";
import { lzwCompress, lzwDecompress } from "../../src/membership/codec/lzw.ts";

const ROUNDS = 500_000;
let sink: unknown;

function perOp(label: string, fn: () => unknown, rounds = ROUNDS): void {
  for (let i = 0; i < rounds / 10; i++) sink = fn();
  const t0 = performance.now();
  for (let i = 0; i < rounds; i++) sink = fn();
  const ns = (performance.now() - t0) / rounds * 1e6;
  console.log(
    `${label.padEnd(44)} ${ns >= 1000 ? `${(ns / 1000).toFixed(2)} µs` : `${ns.toFixed(0)} ns`}`,
  );
}

console.log(`Deno ${Deno.version.deno}, V8 ${Deno.version.v8}`);
const source = new Uint8Array(1500);
const slab = new ByteSlab();
perOp("new Uint8Array(4)", () => new Uint8Array(4));
perOp("new Uint8Array(64)", () => new Uint8Array(64));
perOp("bytes.slice(0, 4)", () => source.slice(0, 4));
perOp("bytes.subarray(0, 4)", () => source.subarray(0, 4));
perOp("ByteSlab.copy(bytes, 0, 4)", () => slab.copy(source, 0, 4));
perOp("new Uint8Array(1400)", () => new Uint8Array(1400));
perOp("ByteSlab.alloc(1400)", () => slab.alloc(1400));

// Gossip-like input: msgpack-ish records with repeating keys and similar names.
const text = Array.from(
  { length: 40 },
  (_, i) =>
    `\x84\xa4Node\xabsim-${String(1000 + (i * 7919) % 9000).padStart(6, "0")}\xa4Port\xcd\x1f\x0a`,
).join("");
const packet = Uint8Array.from(text.slice(0, 1400), (c) => c.charCodeAt(0) & 0xff);
for (const size of [40, 1400]) {
  const input = packet.subarray(0, size);
  const compressed = lzwCompress(input);
  perOp(`lzwCompress(${size} B)`, () => lzwCompress(input), 100_000);
  perOp(
    `lzwDecompress(${compressed.length} B -> ${size} B)`,
    () => lzwDecompress(compressed),
    100_000,
  );
}
if (sink === null) console.log("unreachable");
