/**
 * Public record, result and statistics types of the TTL store.
 *
 * @module
 */

import type { Version } from "../util/hlc.ts";
import type { Clock } from "../util/clock.ts";
import type { EvictionPolicy } from "./_eviction.ts";

export type { EvictionPolicy, Version };

/** A value as stored: text, or raw bytes. */
export type StoreValue = string | Uint8Array;

/** What {@link TtlStore.apply} takes: a write (`value` set) or a delete (`value: null`). */
export interface StoreRecord {
  /** The value, or `null` for a delete (tombstone). */
  value: StoreValue | null;
  /** Absolute expiry in epoch ms; 0 = never. On a tombstone: keep it at least until then. */
  expiresAt: number;
  /** Version of the write; the higher version wins. */
  version: Version;
  /**
   * Node-local (`X-Is-Sync`): the record wins or loses by version like any other, but is left
   * out of the digests and `recordsInBucket`, so anti-entropy neither counts nor sends it.
   * Read back as `true` only when set. @default false
   */
  local?: boolean;
  /** JSON metadata of a live entry (≤ 1 KiB serialized). Read back only when set. */
  metadata?: Record<string, unknown>;
  /** Tags of a live entry (what a purge by tag matches). Read back only when set. */
  tags?: readonly string[];
}

/** A record as read back, with its key: a live entry or (value `null`) a tombstone. */
export interface KeyedRecord extends StoreRecord {
  /** The record's key. */
  key: string;
}

/** A key of a listing (see {@link TtlStore.list}). */
export interface ListedRecord {
  /** The key. */
  key: string;
  /** Absolute expiry in epoch ms; 0 = never. */
  expiresAt: number;
  /** The entry's metadata, when it has some. */
  metadata?: Record<string, unknown>;
}

/** What {@link TtlStore.list} returns. */
export interface ListOptions {
  /** Only keys starting with this. @default "" */
  prefix?: string;
  /** Only keys after this one (exclusive), in code-unit order. @default from the first */
  after?: string;
  /** Most keys returned. */
  limit: number;
}

/** A change the store applied, as {@link TtlStore.onChange} reports it. */
export interface StoreChange {
  /** A live entry was written, a delete applied, or a live entry found expired. */
  kind: "put" | "delete" | "expire";
  /** The key. */
  key: string;
  /** The version of the write or delete (of the expired entry for `expire`). */
  version: Version;
  /** Whether the record is node-local. */
  local: boolean;
}

/** A live entry, as {@link TtlStore.get} returns it. */
export interface StoredEntry extends KeyedRecord {
  /** The value (never `null` for a live entry). */
  value: StoreValue;
}

/**
 * What {@link TtlStore.apply} did:
 * - `stored`: the record won and is now the live entry;
 * - `tombstoned`: it won and is kept as a tombstone (a delete, or a write that had already
 *   expired) until its retention deadline;
 * - `discarded`: it won, but its retention deadline had passed, so the older record (if any) was
 *   removed and nothing was kept;
 * - `stale`: its version is not higher than the stored one; nothing changed;
 * - `too-large`: the entry alone exceeds `maxBytes`; nothing changed.
 */
export type ApplyReason = "stored" | "tombstoned" | "discarded" | "stale" | "too-large";

/** Result of {@link TtlStore.apply}. */
export interface ApplyResult {
  /** True when the record won last-writer-wins (`stored`, `tombstoned`, `discarded`). */
  applied: boolean;
  /** What happened, see {@link ApplyReason}. */
  reason: ApplyReason;
  /** Set with reason `too-large`: a `RangeError` naming the size and the budget. */
  error?: RangeError;
}

/** Counters and gauges of a store. */
export interface StoreStats {
  /** `get` calls that returned an entry. */
  hits: number;
  /** `get` calls that returned nothing. */
  misses: number;
  /** Records removed to respect `maxBytes`. */
  evictions: number;
  /** Live entries removed because they expired (on read, write or sweep). */
  expirations: number;
  /** Tombstones removed after their retention deadline. */
  tombstonesCollected: number;
  /** Records removed by `dropBucket` (partitioned mode: handed off to the bucket's owners). */
  handedOff: number;
  /** Tombstones currently held. */
  tombstones: number;
  /** Live entries currently held (expired ones not yet reclaimed included). */
  entries: number;
  /** Accounted bytes of all records (entries and tombstones). */
  bytes: number;
  /** The byte budget; 0 = unlimited. */
  maxBytes: number;
}

/** Options of {@link TtlStore}. */
export interface TtlStoreOptions {
  /** Time source for expiry and the sweep timer. @default systemClock */
  clock?: Clock;
  /** Byte budget (keys + values + per-entry overhead, tombstones included); 0 = unlimited. @default 0 */
  maxBytes?: number;
  /** Eviction policy under the byte budget. @default "sieve" */
  evictionPolicy?: EvictionPolicy;
  /**
   * Minimum tombstone retention after the write's HLC time (ms); must outlive anti-entropy
   * cycles, or a replica that missed a delete can bring the value back.
   * @default 600_000
   */
  tombstoneTtlMs?: number;
  /** Number of digest buckets, a power of two in 1..65536; equal on all replicas. @default 1024 */
  digestBuckets?: number;
  /** Period of the background expiry sweep (ms). @default 100 */
  sweepIntervalMs?: number;
  /**
   * Slots a sweep tick always examines (from a rotating cursor); it goes on past this, in
   * batches of 1024, only while more than 25 % of a batch's records were reclaimable.
   * @default 20_000
   */
  sweepSlotsPerTick?: number;
  /**
   * Most records one sweep tick reclaims (bounds its pause; the cost of a reclaim is in
   * `docs/benchmarks.md`). @default 20_000
   */
  sweepMaxReclaimsPerTick?: number;
  /** Seed of the key index hash (not of digests). @default a random 32-bit value */
  hashSeed?: number;
  /** Slots allocated up front (the table doubles as needed). @default 1024 */
  initialCapacity?: number;
}
