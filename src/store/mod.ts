/**
 * The cache's storage engine: {@link TtlStore}, a single-threaded in-memory map of versioned
 * records with absolute expiry, last-writer-wins merging, tombstones, a byte budget with
 * eviction, a background expiry sweep and incremental anti-entropy digests.
 *
 * Design rules (each file's module doc says why):
 * - No object per entry: a slot number indexes parallel typed arrays (`_slot_table.ts`), and
 *   keys find slots through an open-addressing index, not a `Map` (`_key_index.ts`). Text
 *   values stay JS strings; a `Uint8Array` view is copied so it cannot pin a larger buffer.
 * - The budget counts UTF-8 key and value bytes plus a measured per-record overhead
 *   (`entry_size.ts`); capacity grows by doubling and is never given back.
 * - A record wins only with a higher `(hlc, node)` version; deletes and writes that arrive
 *   expired become tombstones whose deadline depends on the record alone (`ttl_store.ts`).
 * - Expiry is lazy on every access plus a sweep over a rotating slot cursor, with no memory per
 *   entry (`ttl_store.ts`).
 * - Digests: the XOR of `key + version` fingerprints per bucket, updated on every change;
 *   node-local records stay out of them (`_digest.ts`).
 * - Eviction: SIEVE by default (LRU available), chosen by measured hit ratios; tombstones go
 *   only when no live entry is left (`_eviction.ts`).
 *
 * Figures (memory per entry, operation rates, sweep cost, the hit ratios behind SIEVE) are in
 * `docs/benchmarks.md`, "Memory per entry vs Redis" and "Store micro-benchmarks and the eviction
 * choice", measured with `scripts/bench/store_bench.ts`.
 *
 * @module
 */

export { TtlStore } from "./ttl_store.ts";
export { BYTES_VALUE_OVERHEAD_BYTES, ENTRY_OVERHEAD_BYTES, entrySize } from "./entry_size.ts";
export { differingBuckets } from "./differing_buckets.ts";
export type * from "./types.ts";
