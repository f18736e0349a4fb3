/**
 * `TtlStore`: versioned, expiring, byte-budgeted key/value records with anti-entropy digests.
 * Over 400 lines: one class whose apply, expiry and eviction paths share the slot table's
 * invariants, kept together so that each path can be read against the others.
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
 * gc_grace. An expired replicated entry becomes a tombstone until that same deadline: otherwise,
 * once v2 had expired everywhere, a replica that missed v2 (stopped, partitioned), or the
 * coordinator of an older v1 whose write answered 504 before it replicated, would bring v1 back
 * to every node through anti-entropy (found with the chaos run's model of what must survive).
 * Whether this node held v1 says nothing about the others, so every expiry counts; the cost is a
 * tombstone per expired key for `tombstoneTtlMs` minus its TTL (none for TTLs at least that
 * long, none for node-local entries). Under memory pressure expiries' tombstones are evicted
 * before live entries (`_eviction.ts`), and any expired entry reclaimed by eviction goes
 * outright.
 *
 * **Expiry.** Lazy on every read and write of the key, plus a sweep tick over a rotating slot
 * cursor: `sweepSlotsPerTick` slots always, more in batches while over a quarter of a batch was
 * reclaimable (Redis's rule), at most `sweepMaxReclaimsPerTick` reclaims per tick. A cursor scan
 * needs no extra memory per entry (an expiry heap or wheel would) and reclaims every dead record
 * within one lap. Its cost: `docs/benchmarks.md`, "Store micro-benchmarks and the eviction
 * choice".
 *
 * @module
 */

import { ownString } from "../util/own_string.ts";
import type { Clock, TimerId } from "../util/clock.ts";
import { compareNodeNames, hlcPhysicalMs, type Version } from "../util/hlc.ts";
import { BucketDigests } from "./_digest.ts";
import { EvictionQueue } from "./_eviction.ts";
import { seededHash } from "../util/hash.ts";
import { KeyIndex } from "./_key_index.ts";
import { NodeNames } from "./_node_names.ts";
import { FLAG_LOCAL, FLAG_TOMBSTONE, FLAG_USED, NIL, SlotTable } from "./_slot_table.ts";
import { checkRecord, resolveSettings, type StoreSettings } from "./_validate.ts";
import { entrySize } from "./entry_size.ts";
import { EntryExtras, type Extras, extrasOf, extrasSize } from "./_extras.ts";
import type {
  ApplyResult,
  KeyedRecord,
  ListedRecord,
  ListOptions,
  StoreChange,
  StoredEntry,
  StoreRecord,
  StoreStats,
  StoreValue,
  TtlStoreOptions,
} from "./types.ts";

// Slots per sweep batch past `sweepSlotsPerTick` (the unit of the 25 % rule).
const SWEEP_BATCH = 1024;

/**
 * An in-memory key/value store of versioned records with absolute expiry, last-writer-wins
 * merging, tombstones, a byte budget with eviction, a background expiry sweep and incremental
 * per-bucket digests. All operations are O(1) amortised except the listing ones.
 */
export class TtlStore {
  readonly #settings: StoreSettings;
  readonly #clock: Clock;
  readonly #maxBytes: number;
  readonly #tombstoneTtlMs: number;
  readonly #seed: number;
  readonly #names = new NodeNames();
  readonly #extras = new EntryExtras();
  readonly #listeners = new Set<(change: StoreChange) => void>();
  // Set by clear(), which the constructor calls.
  #table!: SlotTable;
  #index!: KeyIndex;
  #queue!: EvictionQueue;
  #digests!: BucketDigests;
  #bytes = 0;
  #hits = 0;
  #misses = 0;
  #evictions = 0;
  #expirations = 0;
  #tombstonesCollected = 0;
  #handedOff = 0;
  #cursor = 0;
  #timer: TimerId | undefined;

  /** Creates an empty store; throws a `RangeError` naming a bad option. */
  constructor(options: TtlStoreOptions = {}) {
    this.#settings = resolveSettings(options);
    this.#clock = this.#settings.clock;
    this.#maxBytes = this.#settings.maxBytes;
    this.#tombstoneTtlMs = this.#settings.tombstoneTtlMs;
    this.#seed = this.#settings.hashSeed;
    this.clear();
  }

  /**
   * The live entry of `key`, or `undefined` if absent, deleted or expired (an expired entry is
   * removed on the spot). Counts a hit or a miss and marks the access for eviction. A
   * `Uint8Array` value is the stored array itself: do not mutate it.
   */
  get(key: string): StoredEntry | undefined {
    const s = this.#resolve(key, seededHash(key, this.#seed), this.#clock.now());
    const t = this.#table;
    if (s === NIL || (t.flags[s] & FLAG_TOMBSTONE) !== 0) {
      this.#misses++;
      return undefined;
    }
    this.#hits++;
    this.#queue.access(s);
    return this.#recordAt(s) as StoredEntry;
  }

  /** The live entry or tombstone of `key` (for replication): no hit, miss or access mark. */
  peek(key: string): KeyedRecord | undefined {
    const s = this.#resolve(key, seededHash(key, this.#seed), this.#clock.now());
    return s === NIL ? undefined : this.#recordAt(s);
  }

  /**
   * Merges a record, last writer wins: it takes effect only if its version is higher than the
   * stored live entry's or tombstone's. A delete (`value: null`), or a write that has already
   * expired, is kept as a tombstone until `max(expiresAt, hlcPhysicalMs(version.hlc) +
   * tombstoneTtlMs)` so that older versions arriving later still lose; past that deadline it
   * only removes the older record. A `Uint8Array` value is kept as given (the caller must not
   * mutate it) unless it is a view into a larger buffer, which is copied. A `local` record
   * competes by version like any other but stays out of the digests and bucket listings.
   * Throws a `TypeError` for a malformed record.
   */
  apply(key: string, record: StoreRecord): ApplyResult {
    checkRecord(key, record);
    const { value, expiresAt, version } = record;
    const local = record.local === true;
    const now = this.#clock.now();
    const hash = seededHash(key, this.#seed);
    const s = this.#resolve(key, hash, now);
    if (s !== NIL && this.#compareStored(s, version) >= 0) {
      return { applied: false, reason: "stale" };
    }
    const live = value !== null && (expiresAt === 0 || expiresAt > now);
    const extras = live ? extrasOf(record) : undefined;
    const size = entrySize(key, live ? value : null) + extrasSize(extras);
    if (live && this.#maxBytes > 0 && size > this.#maxBytes) {
      const error = new RangeError(
        `Cannot store entry: size must be at most maxBytes (${this.#maxBytes}): received ${size}`,
      );
      return { applied: false, reason: "too-large", error };
    }
    if (this.#listeners.size > 0) {
      this.#emit({
        kind: live ? "put" : value === null ? "delete" : "expire",
        key,
        version,
        local,
      });
    }
    if (live) {
      this.#write(s, key, hash, owned(value), expiresAt, version, size, local, extras);
      return { applied: true, reason: "stored" };
    }
    const deadline = Math.max(expiresAt, hlcPhysicalMs(version.hlc) + this.#tombstoneTtlMs);
    if (deadline <= now || (this.#maxBytes > 0 && size > this.#maxBytes)) {
      if (s !== NIL) this.#remove(s);
      return { applied: true, reason: "discarded" };
    }
    // A write that arrived expired leaves an expiry's tombstone, and so does a tombstone that
    // carries an expiry (a peer's expiry tombstone keeps the entry's time; deletes have none).
    const expired = value !== null || expiresAt > 0;
    this.#write(s, key, hash, null, expiresAt, version, size, local, undefined, expired);
    return { applied: true, reason: "tombstoned" };
  }

  /** Deletes `key` as of `version`: `apply(key, { value: null, expiresAt, version })`. */
  delete(key: string, version: Version, expiresAt = 0): ApplyResult {
    return this.apply(key, { value: null, expiresAt, version });
  }

  /** Removes every record (counters are kept). */
  clear(): void {
    const { initialCapacity, evictionPolicy, digestBuckets } = this.#settings;
    this.#names.clear();
    this.#extras.reset();
    this.#table = new SlotTable(initialCapacity);
    this.#index = new KeyIndex(this.#table, initialCapacity);
    this.#queue = new EvictionQueue(this.#table, evictionPolicy);
    this.#digests = new BucketDigests(this.#table, digestBuckets);
    this.#bytes = 0;
    this.#cursor = 0;
  }

  /**
   * Live, non-local entries in key order (UTF-16 code units): those starting with `prefix` and
   * after `after`, at most `limit`. Scans the whole table (cost in docs/benchmarks.md).
   */
  list(options: ListOptions): ListedRecord[] {
    const { prefix = "", after, limit } = options;
    const t = this.#table;
    const now = this.#clock.now();
    const found: number[] = [];
    for (let s = 0; s < t.highWater; s++) {
      const flags = t.flags[s];
      if ((flags & FLAG_USED) === 0 || (flags & (FLAG_TOMBSTONE | FLAG_LOCAL)) !== 0) continue;
      const e = t.expiresAt[s];
      if (e !== 0 && e <= now) continue;
      const key = t.keys[s]!;
      if (!key.startsWith(prefix) || (after !== undefined && key <= after)) continue;
      found.push(s);
    }
    const keyOf = (s: number) => t.keys[s]!;
    found.sort((a, b) => keyOf(a) < keyOf(b) ? -1 : 1);
    return found.slice(0, limit).map((s) => {
      const out: ListedRecord = { key: keyOf(s), expiresAt: t.expiresAt[s] };
      const metadata = this.#extras.get(s)?.metadata;
      if (metadata !== undefined) out.metadata = metadata;
      return out;
    });
  }

  /** Keys of the entries carrying any of `tags` (each once). */
  keysWithTags(tags: Iterable<string>): string[] {
    return this.#extras.keysWithTags(tags);
  }

  /**
   * Calls `listener` for every write and delete applied from now on and every live entry found
   * expired (not for evictions or hand-offs); returns the function that stops it.
   */
  onChange(listener: (change: StoreChange) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  #emit(change: StoreChange): void {
    for (const listener of this.#listeners) listener(change);
  }

  /** Number of live entries (expired ones not yet reclaimed included). */
  get size(): number {
    return this.#queue.liveCount;
  }

  /** Accounted bytes of all records, tombstones included; never above a non-zero `maxBytes`. */
  get bytes(): number {
    return this.#bytes;
  }

  /** The byte budget; 0 = unlimited. */
  get maxBytes(): number {
    return this.#maxBytes;
  }

  /** Whether a live entry of `key` and `value` fits the budget at all (see `entrySize`). */
  fits(key: string, value: StoreValue): boolean {
    return this.#maxBytes === 0 || entrySize(key, value) <= this.#maxBytes;
  }

  /** Counters and gauges. */
  stats(): StoreStats {
    return {
      hits: this.#hits,
      misses: this.#misses,
      evictions: this.#evictions,
      expirations: this.#expirations,
      tombstonesCollected: this.#tombstonesCollected,
      handedOff: this.#handedOff,
      tombstones: this.#queue.tombstoneCount,
      entries: this.#queue.liveCount,
      bytes: this.#bytes,
      maxBytes: this.#maxBytes,
    };
  }

  /**
   * Live entries and tombstones as records (for state transfer); an entry found expired is
   * yielded as the tombstone it becomes, or skipped once past its retention deadline. Weakly
   * consistent: a key present for the whole iteration is yielded exactly once, with its value at
   * the moment it is reached; keys written or removed meanwhile may or may not appear.
   */
  *entries(): Generator<KeyedRecord, void, undefined> {
    for (let s = 0; s < this.#table.highWater; s++) {
      if ((this.#table.flags[s] & FLAG_USED) === 0) continue;
      const now = this.#clock.now();
      if (this.#reclaimable(s, now) && !this.#reclaim(s, now)) continue;
      yield this.#recordAt(s);
    }
  }

  /** Number of digest buckets. */
  get bucketCount(): number {
    return this.#settings.digestBuckets;
  }

  /** The digest bucket of `key` (same on every replica with the same bucket count). */
  bucketOf(key: string): number {
    return this.#digests.bucketOf(key);
  }

  /**
   * A copy of the per-bucket digests: two 32-bit lanes per bucket (`[2 * i]`, `[2 * i + 1]`),
   * each the XOR of a fingerprint of `key + version` over the bucket's records. Equal record
   * sets give equal digests whatever the order of writes. Compare with `differingBuckets`.
   */
  bucketDigests(): Uint32Array {
    return this.#digests.snapshot();
  }

  /** The whole-store digest (XOR of all bucket digests) as 16 hex digits. */
  digest(): string {
    return this.#digests.total();
  }

  /**
   * Live entries and tombstones of one digest bucket; expired records found there are reclaimed
   * first (an expired entry listed as the tombstone it becomes), so the bucket's digest is exact
   * afterwards. Local records are not listed.
   */
  recordsInBucket(bucket: number): KeyedRecord[] {
    const last = this.#settings.digestBuckets - 1;
    if (!Number.isInteger(bucket) || bucket < 0 || bucket > last) {
      throw new RangeError(`Cannot list bucket: index must be in 0..${last}: received ${bucket}`);
    }
    const now = this.#clock.now();
    const out: KeyedRecord[] = [];
    for (const s of this.#digests.slots(bucket)) {
      if (!this.#reclaimable(s, now) || this.#reclaim(s, now)) out.push(this.#recordAt(s));
    }
    return out;
  }

  /**
   * Removes every record of one digest bucket (live entries and tombstones; node-local records
   * stay) without leaving tombstones: the partitioned mode's hand-off, once the bucket's owners
   * hold its records. Returns the number of records removed.
   */
  dropBucket(bucket: number): number {
    this.recordsInBucket(bucket); // validates the index, reclaims what expired
    const slots = this.#digests.slots(bucket);
    for (const s of slots) this.#remove(s);
    this.#handedOff += slots.length;
    return slots.length;
  }

  /**
   * One sweep tick: examines `sweepSlotsPerTick` slots from a rotating cursor, reclaiming expired
   * entries and collectable tombstones, then goes on in batches of 1024 slots while more than
   * 25 % of a batch was reclaimable (Redis's rule), stopping at `sweepMaxReclaimsPerTick`
   * reclaims or after one lap of the table. Returns the number of records reclaimed.
   */
  sweep(): number {
    const t = this.#table;
    const highWater = t.highWater;
    const now = this.#clock.now();
    const { sweepSlotsPerTick, sweepMaxReclaimsPerTick } = this.#settings;
    let reclaimed = 0;
    for (let scanned = 0; scanned < highWater;) {
      const n = Math.min(SWEEP_BATCH, highWater - scanned);
      let used = 0;
      let found = 0;
      for (let i = 0; i < n && reclaimed < sweepMaxReclaimsPerTick; i++) {
        let s = this.#cursor++;
        if (s >= highWater) {
          s = 0;
          this.#cursor = 1;
        }
        if ((t.flags[s] & FLAG_USED) === 0) continue;
        used++;
        if (this.#reclaimable(s, now)) {
          this.#reclaim(s, now);
          found++;
          reclaimed++;
        }
      }
      scanned += n;
      if (reclaimed >= sweepMaxReclaimsPerTick) break;
      if (scanned >= sweepSlotsPerTick && found * 4 <= used) break;
    }
    return reclaimed;
  }

  /** Starts the periodic sweep on the store's clock (idempotent). */
  start(): void {
    if (this.#timer !== undefined) return;
    const tick = () => {
      this.sweep();
      this.#timer = this.#clock.setTimeout(tick, this.#settings.sweepIntervalMs);
    };
    this.#timer = this.#clock.setTimeout(tick, this.#settings.sweepIntervalMs);
  }

  /** Stops the periodic sweep (idempotent). */
  stop(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Stops the sweep. */
  [Symbol.dispose](): void {
    this.stop();
  }

  // The slot of `key`, or NIL when absent or past its time (then reclaimed on the spot; an
  // expired entry may stay as a tombstone, whose slot is returned).
  #resolve(key: string, hash: number, now: number): number {
    const s = this.#index.find(key, hash);
    if (s === NIL) return NIL;
    if (!this.#reclaimable(s, now)) return s;
    return this.#reclaim(s, now) ? s : NIL;
  }

  #reclaimable(s: number, now: number): boolean {
    const t = this.#table;
    const e = t.expiresAt[s];
    if ((t.flags[s] & FLAG_TOMBSTONE) === 0) return e !== 0 && e <= now;
    return Math.max(e, hlcPhysicalMs(t.hlc[s]) + this.#tombstoneTtlMs) <= now;
  }

  // Collects a tombstone past its deadline, or expires a live entry. An expired replicated entry
  // becomes a tombstone until its version's retention deadline (`tombstoneTtlMs` after its
  // write): a replica may still hold an older version of the key — one that missed this write
  // (stopped, partitioned), or the coordinator of an older write answered 504 that replicates it
  // late — and only the remembered version keeps that value from coming back through
  // anti-entropy once this one has expired everywhere (Cassandra's expired cells work alike).
  // Whether this node held an older version says nothing about the others, so every expiry
  // counts. Node-local entries never travel and go outright; so does an entry whose retention
  // already ended (a TTL at least `tombstoneTtlMs`). Returns whether the slot is still in use.
  // Under memory pressure (`keepTombstone` false) the entry goes outright, like any eviction.
  #reclaim(s: number, now: number, keepTombstone = true): boolean {
    const t = this.#table;
    if ((t.flags[s] & FLAG_TOMBSTONE) !== 0) {
      this.#tombstonesCollected++;
      this.#remove(s);
      return false;
    }
    this.#expirations++;
    if (this.#listeners.size > 0) {
      const version = { hlc: t.hlc[s], node: this.#names.names[t.node[s]] };
      this.#emit({
        kind: "expire",
        key: t.keys[s]!,
        version,
        local: (t.flags[s] & FLAG_LOCAL) !== 0,
      });
    }
    const local = (t.flags[s] & FLAG_LOCAL) !== 0;
    if (!keepTombstone || local || hlcPhysicalMs(t.hlc[s]) + this.#tombstoneTtlMs <= now) {
      this.#remove(s);
      return false;
    }
    const key = t.keys[s]!;
    const version = { hlc: t.hlc[s], node: this.#names.names[t.node[s]] };
    const size = entrySize(key, null);
    this.#write(s, key, t.hash[s], null, t.expiresAt[s], version, size, false, undefined, true);
    return true;
  }

  #compareStored(s: number, version: Version): number {
    const hlc = this.#table.hlc[s];
    if (hlc !== version.hlc) return hlc < version.hlc ? -1 : 1;
    return compareNodeNames(this.#names.names[this.#table.node[s]], version.node);
  }

  #recordAt(s: number): KeyedRecord {
    const t = this.#table;
    const record: KeyedRecord = {
      key: t.keys[s]!,
      value: t.values[s]!,
      expiresAt: t.expiresAt[s],
      version: { hlc: t.hlc[s], node: this.#names.names[t.node[s]] },
    };
    if ((t.flags[s] & FLAG_LOCAL) !== 0) record.local = true;
    const extras = this.#extras.get(s);
    if (extras?.metadata !== undefined) record.metadata = extras.metadata;
    if (extras?.tags !== undefined) record.tags = extras.tags;
    return record;
  }

  // Writes a live entry (value set) or tombstone (null) into slot `s`, or a new slot if NIL;
  // `expired`: the tombstone is an expiry's (evicted before live entries), not a delete's.
  #write(
    s: number,
    key: string,
    hash: number,
    value: StoreValue | null,
    expiresAt: number,
    version: Version,
    size: number,
    local: boolean,
    extras: Extras | undefined,
    expired = false,
  ): void {
    const t = this.#table, names = this.#names, queue = this.#queue;
    const id = names.acquire(version.node);
    const tombstone = value === null;
    let relink = true;
    if (s === NIL) {
      s = t.alloc();
      t.keys[s] = ownString(key);
      t.hash[s] = hash;
      this.#index.insert(s);
      if (!local) this.#digests.add(s, version.hlc, names.lane1[id], names.lane2[id]);
    } else {
      const old = t.node[s];
      this.#rekeyDigest(s, old, (t.flags[s] & FLAG_LOCAL) !== 0, version.hlc, id, local);
      names.release(old);
      this.#bytes -= t.size[s];
      if ((t.flags[s] & FLAG_TOMBSTONE) !== 0) queue.unlinkTombstone(s);
      else if (tombstone) queue.unlinkLive(s);
      else relink = false; // a live entry overwritten by a live one keeps its place
    }
    if (relink) {
      t.flags[s] = tombstone ? FLAG_USED | FLAG_TOMBSTONE : FLAG_USED;
      if (tombstone) queue.insertTombstone(s, expired);
      else queue.insertLive(s);
    } else {
      queue.access(s); // an overwrite counts as a use
    }
    t.flags[s] = local ? t.flags[s] | FLAG_LOCAL : t.flags[s] & ~FLAG_LOCAL;
    t.values[s] = value;
    t.expiresAt[s] = expiresAt;
    t.hlc[s] = version.hlc;
    t.node[s] = id;
    t.size[s] = size;
    this.#extras.set(s, key, extras);
    this.#bytes += size;
    this.#enforceBudget(s);
  }

  // Moves slot `s` from its old version to `hlc`/`id` in the digests; local records stay out.
  #rekeyDigest(
    s: number,
    old: number,
    wasLocal: boolean,
    hlc: number,
    id: number,
    local: boolean,
  ): void {
    const t = this.#table, n = this.#names, d = this.#digests;
    if (!wasLocal && !local) {
      d.replace(s, t.hlc[s], n.lane1[old], n.lane2[old], hlc, n.lane1[id], n.lane2[id]);
    } else if (!wasLocal) {
      d.remove(s, t.hlc[s], n.lane1[old], n.lane2[old]);
    } else if (!local) {
      d.add(s, hlc, n.lane1[id], n.lane2[id]);
    }
  }

  #remove(s: number): void {
    const t = this.#table, names = this.#names;
    this.#extras.clear(s, t.keys[s]!);
    const id = t.node[s];
    if ((t.flags[s] & FLAG_LOCAL) === 0) {
      this.#digests.remove(s, t.hlc[s], names.lane1[id], names.lane2[id]);
    }
    if ((t.flags[s] & FLAG_TOMBSTONE) !== 0) this.#queue.unlinkTombstone(s);
    else this.#queue.unlinkLive(s);
    names.release(id);
    this.#bytes -= t.size[s];
    this.#index.remove(s);
    t.release(s);
  }

  // Evicts by policy until the budget holds, never the record just written.
  #enforceBudget(protect: number): void {
    if (this.#maxBytes === 0 || this.#bytes <= this.#maxBytes) return;
    const now = this.#clock.now();
    while (this.#bytes > this.#maxBytes) {
      const victim = this.#queue.victim(protect);
      if (victim === NIL) break;
      if (this.#reclaimable(victim, now)) {
        this.#reclaim(victim, now, false);
      } else {
        this.#evictions++;
        this.#remove(victim);
      }
    }
  }
}

// A byte value the store may keep: a view into a larger buffer would pin that buffer.
function owned(value: StoreValue): StoreValue {
  if (typeof value === "string") return value;
  return value.byteOffset === 0 && value.byteLength === value.buffer.byteLength
    ? value
    : value.slice();
}
