/**
 * Struct-of-arrays storage for store entries. A slot index names one record; its fields live in
 * parallel typed arrays (plus two plain arrays for the key and value references), so an entry
 * costs no object of its own. Freed slots are chained through `next` and reused first; the arrays
 * double when full (existing slot numbers stay valid).
 *
 * @module
 */

/** `flags` bit: the slot holds a record. */
export const FLAG_USED = 1;
/** `flags` bit: the record is a tombstone (deleted; `values[slot]` is `null`). */
export const FLAG_TOMBSTONE = 2;
/** `flags` bit: SIEVE's "visited" mark. */
export const FLAG_VISITED = 4;
/** `flags` bit: a node-local record (`X-Is-Sync`), kept out of digests and bucket lists. */
export const FLAG_LOCAL = 8;
/**
 * `flags` bit of a tombstone: left by an expiry, not a delete (such tombstones are evicted before
 * live entries under memory pressure, see `_eviction.ts`).
 */
export const FLAG_EXPIRED = 16;

/** No slot (list terminator). */
export const NIL = -1;

/** Parallel arrays indexed by slot; replaced on growth, so never cache an array across calls. */
export class SlotTable {
  /** Seeded hash of each slot's key (key index probes and growth). */
  hash: Uint32Array;
  /** Key of each slot. */
  keys: (string | undefined)[] = [];
  /** Value of each slot; `null` for a tombstone. */
  values: (string | Uint8Array | null | undefined)[] = [];
  /** Absolute expiry (epoch ms, 0 = never) of the record as written. */
  expiresAt: Float64Array;
  /** Version HLC of the record. */
  hlc: Float64Array;
  /** Version node name, as an index into the store's interned name table. */
  node: Uint16Array;
  /** Accounted bytes of the record (key + value + overhead). */
  size: Uint32Array;
  /** `FLAG_*` bits. */
  flags: Uint8Array;
  /** Eviction-list link toward the newest end. */
  prev: Int32Array;
  /** Eviction-list link toward the oldest end; also chains free slots. */
  next: Int32Array;
  /** Digest-bucket list links. */
  bucketPrev: Int32Array;
  /** Digest-bucket list links. */
  bucketNext: Int32Array;
  #capacity: number;
  #highWater = 0;
  #freeHead = NIL;

  /** Creates a table with room for `capacity` slots before the first growth. */
  constructor(capacity: number) {
    this.#capacity = Math.max(16, capacity);
    const c = this.#capacity;
    this.hash = new Uint32Array(c);
    this.expiresAt = new Float64Array(c);
    this.hlc = new Float64Array(c);
    this.node = new Uint16Array(c);
    this.size = new Uint32Array(c);
    this.flags = new Uint8Array(c);
    this.prev = new Int32Array(c);
    this.next = new Int32Array(c);
    this.bucketPrev = new Int32Array(c);
    this.bucketNext = new Int32Array(c);
  }

  /** Slots ever handed out: every used slot is below this. */
  get highWater(): number {
    return this.#highWater;
  }

  /** Allocated slot capacity. */
  get capacity(): number {
    return this.#capacity;
  }

  /** A free slot (flags cleared), reusing freed slots first. */
  alloc(): number {
    const s = this.#freeHead;
    if (s !== NIL) {
      this.#freeHead = this.next[s];
      return s;
    }
    if (this.#highWater === this.#capacity) this.#grow();
    return this.#highWater++;
  }

  /** Returns `slot` to the free list and drops its references. */
  release(slot: number): void {
    this.keys[slot] = undefined;
    this.values[slot] = undefined;
    this.flags[slot] = 0;
    this.next[slot] = this.#freeHead;
    this.#freeHead = slot;
  }

  #grow(): void {
    const c = this.#capacity * 2;
    this.hash = grown(this.hash, new Uint32Array(c));
    this.expiresAt = grown(this.expiresAt, new Float64Array(c));
    this.hlc = grown(this.hlc, new Float64Array(c));
    this.node = grown(this.node, new Uint16Array(c));
    this.size = grown(this.size, new Uint32Array(c));
    this.flags = grown(this.flags, new Uint8Array(c));
    this.prev = grown(this.prev, new Int32Array(c));
    this.next = grown(this.next, new Int32Array(c));
    this.bucketPrev = grown(this.bucketPrev, new Int32Array(c));
    this.bucketNext = grown(this.bucketNext, new Int32Array(c));
    this.#capacity = c;
  }
}

function grown<T extends { set(a: ArrayLike<number>): void }>(old: ArrayLike<number>, to: T): T {
  to.set(old);
  return to;
}
