/**
 * The cache's storage engine: {@link TtlStore}, a single-threaded in-memory map of versioned
 * records with absolute expiry, last-writer-wins merging, tombstones, a byte budget with
 * eviction, a background expiry sweep and incremental anti-entropy digests. Figures below come
 * from `scripts/bench/store_bench.ts` (Deno 2.9.6, 2-core AMD EPYC VM shared with other jobs).
 *
 * **Layout.** No object per entry: a slot number indexes parallel typed arrays (expiry, HLC,
 * interned node-name id, accounted size, key hash, flags, eviction and digest-bucket links) plus
 * two plain arrays for the key and value references; freed slots are reused, arrays double when
 * full. Keys map to slots through an open-addressing table of `Int32` cells (linear probing,
 * backward-shift deletion) instead of a `Map`, which cost ~17 B/entry more and topped the insert
 * profile. Text values stay JS strings; raw bytes are `Uint8Array`s (a view into a larger buffer
 * is copied so it cannot pin that buffer).
 *
 * **Memory (measured, 16 B keys, 100 B string values, heap + external after GC).** 1,000,000
 * entries: 226.5 B/entry, i.e. 1.2–1.5 × Redis's ~150–190 B. Between capacity doublings it
 * ranges up to ~261 B (600 k: 258, 1.1 M: 261). The budget counts UTF-8 key and value bytes plus
 * {@link ENTRY_OVERHEAD_BYTES} = 112 (the 1 M figure minus 116 payload bytes); a `Uint8Array`
 * value costs {@link BYTES_VALUE_OVERHEAD_BYTES} = 180 more (measured 406.5 B/entry). Capacity
 * (≈ 57 B per slot of arrays and index) is never given back; the strings of dead entries are.
 *
 * **Versions.** A record wins only with a higher `(hlc, node)` (see `util/hlc.ts`). A delete,
 * or a write that arrives already expired, becomes a tombstone kept until
 * `max(expiresAt, hlcPhysicalMs(version.hlc) + tombstoneTtlMs)`. The deadline depends on the
 * record alone, not on when it arrived: replicas collect a tombstone together, and anti-entropy
 * cannot renew it forever by passing it back and forth (with "arrival + TTL" a replica that had
 * collected it would take it back for another full period, and so on). The price: a tombstone
 * arriving after its deadline is only applied as a removal of what it beats (`discarded`), and
 * the deadline moves with the writer's clock skew. After the deadline an older write (from a
 * replica partitioned longer than `tombstoneTtlMs`) can come back, as with Cassandra's
 * gc_grace. An expired live entry that replaced an older version on this node becomes a
 * tombstone until that same deadline: otherwise, once v2 had expired everywhere, a replica that
 * missed v2 (stopped, partitioned) would bring the v1 it still holds back to every node through
 * anti-entropy (found while writing the chaos run's model of what must survive). An expired
 * entry that replaced nothing here is dropped outright (memory first: a key written once with a
 * TTL costs nothing after expiry), and so is any expired entry reclaimed by eviction under
 * memory pressure.
 *
 * **Expiry.** Lazy on every read and write of the key, plus a sweep every 100 ms over a rotating
 * slot cursor: 20,000 slots per tick always, more in batches of 1024 while over 25 % of a batch
 * was reclaimable (Redis's rule), at most 20,000 reclaims per tick. Measured on 1 M entries: a
 * quiet tick costs 0.09 ms (4.4 ns/slot; a full lap takes 50 ticks = 5 s), a reclaim ~0.2 µs,
 * the worst tick with everything expired 6–12 ms; 1 M expired entries are gone in 50 ticks.
 * A cursor scan needs no extra memory per entry (an expiry heap or wheel would cost 8+ B and
 * O(log n) or lazy garbage), and reclaims every dead record within one lap.
 *
 * **Digests.** 1024 buckets by key hash; each holds the XOR of a 64-bit fingerprint of
 * `key + version` (not value, not tombstone state: a version names one write), updated on every
 * change. An expired record stays in its bucket's digest until reclaimed — by a read of the
 * key, by the sweep (at most one lap, 5 s at 1 M slots) or by `recordsInBucket`, which reclaims
 * first — so two replicas' digests may differ for that long after an expiry; listing the
 * bucket on both sides removes the difference without transferring anything.
 * Node-local records (`local: true`, from `X-Is-Sync` writes) win or lose by version like any
 * other but are kept out of the digests and bucket lists, so anti-entropy neither sends nor
 * counts them; a local record that shadows a replicated key leaves that key's bucket differing
 * from its peers' until a newer replicated write replaces it.
 *
 * **Eviction: SIEVE, chosen by measurement.** 200 k keys, 2 M cache-aside requests, hit ratio
 * (non-scan requests), cache = 1 % / 10 % of keys:
 *
 * | workload             | LRU 1 %  | SIEVE 1 % | LRU 10 % | SIEVE 10 % |
 * | -------------------- | -------- | --------- | -------- | ---------- |
 * | Zipf 0.9             | 36.1 %   | 45.9 %    | 61.4 %   | 67.1 %     |
 * | Zipf 1.1             | 69.7 %   | 75.8 %    | 85.7 %   | 87.7 %     |
 * | Zipf 0.9 + 30 % scan | 32.0 %   | 45.5 %    | 54.1 %   | 64.8 %     |
 * | Zipf 1.1 + 30 % scan | 64.3 %   | 75.1 %    | 79.4 %   | 85.0 %     |
 *
 * SIEVE wins every case (most under scans: one-time keys are never marked and go first) and a
 * hit is one byte write instead of a relink: get-hit 1.9 vs 1.1 M ops/s on 1 M random keys,
 * 15.2 vs 9.4 M ops/s on 10 k hot keys (best of 3, one thread). LRU stays available
 * (`evictionPolicy: "lru"`).
 * Tombstones count toward the budget but sit in their own FIFO, evicted only when no live
 * entry is left to evict: evicting one can let a replica that missed the delete bring the old
 * value back (it heals if another replica still holds the tombstone), while evicting a live
 * entry only costs a miss. An evicted live entry also makes this replica's digest differ from
 * its peers', so anti-entropy will offer it again.
 *
 * @module
 */

export { TtlStore } from "./ttl_store.ts";
export { BYTES_VALUE_OVERHEAD_BYTES, ENTRY_OVERHEAD_BYTES, entrySize } from "./entry_size.ts";
export { differingBuckets } from "./differing_buckets.ts";
export type * from "./types.ts";
