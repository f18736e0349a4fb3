/**
 * Anti-entropy digests, maintained incrementally. Keys fall into `count` buckets by a hash of the
 * key; each bucket keeps the XOR of a 64-bit fingerprint (two 32-bit lanes) of `key + version`
 * of every record it holds, and a linked list of its slots so one bucket can be listed without a
 * scan. XOR makes the digest independent of insertion order; an add or remove is O(1).
 * A version names one write, so neither the value nor the tombstone state is fingerprinted.
 *
 * An expired record stays in its bucket's digest until reclaimed (by a read of the key, by the
 * sweep within one lap, or by `recordsInBucket`, which reclaims first), so two replicas' digests
 * may differ for that long after an expiry; listing the bucket on both sides removes the
 * difference without transferring anything. Node-local records (`local: true`, from `X-Is-Sync`
 * writes) win or lose by version like any other but are kept out of the digests and bucket
 * lists, so anti-entropy neither sends nor counts them; a local record that shadows a replicated
 * key leaves that key's bucket differing from its peers' until a newer replicated write
 * replaces it.
 *
 * @module
 */

import { hashLane1, hashLane2, recordLane1, recordLane2 } from "../util/hash.ts";
import { NIL, type SlotTable } from "./_slot_table.ts";

/** Per-bucket XOR digests plus bucket membership lists. */
export class BucketDigests {
  /** Number of buckets (a power of two). */
  readonly count: number;
  readonly #mask: number;
  readonly #table: SlotTable;
  // Two lanes per bucket: [lane1 of bucket 0, lane2 of bucket 0, lane1 of bucket 1, ...].
  readonly #lanes: Uint32Array;
  readonly #heads: Int32Array;
  #total1 = 0;
  #total2 = 0;

  /** Creates `count` empty buckets over `table`. */
  constructor(table: SlotTable, count: number) {
    this.#table = table;
    this.count = count;
    this.#mask = count - 1;
    this.#lanes = new Uint32Array(count * 2);
    this.#heads = new Int32Array(count).fill(NIL);
  }

  /** The bucket of `key`. */
  bucketOf(key: string): number {
    return hashLane1(key) & this.#mask;
  }

  /** Adds slot `s` (its key set) at version `hlc`/node lanes to its bucket. */
  add(s: number, hlc: number, node1: number, node2: number): void {
    const t = this.#table;
    const key = t.keys[s]!;
    const k1 = hashLane1(key);
    const b = k1 & this.#mask;
    const head = this.#heads[b];
    t.bucketPrev[s] = NIL;
    t.bucketNext[s] = head;
    if (head !== NIL) t.bucketPrev[head] = s;
    this.#heads[b] = s;
    this.#xor(b, recordLane1(k1, hlc, node1), recordLane2(hashLane2(key), hlc, node2));
  }

  /** Removes slot `s` (at the given version) from its bucket. */
  remove(s: number, hlc: number, node1: number, node2: number): void {
    const t = this.#table;
    const key = t.keys[s]!;
    const k1 = hashLane1(key);
    const b = k1 & this.#mask;
    const p = t.bucketPrev[s], n = t.bucketNext[s];
    if (p !== NIL) t.bucketNext[p] = n;
    else this.#heads[b] = n;
    if (n !== NIL) t.bucketPrev[n] = p;
    this.#xor(b, recordLane1(k1, hlc, node1), recordLane2(hashLane2(key), hlc, node2));
  }

  /** Replaces the version of slot `s`'s record in its bucket's digest. */
  replace(
    s: number,
    oldHlc: number,
    old1: number,
    old2: number,
    hlc: number,
    n1: number,
    n2: number,
  ): void {
    const key = this.#table.keys[s]!;
    const k1 = hashLane1(key), k2 = hashLane2(key);
    const b = k1 & this.#mask;
    this.#xor(b, recordLane1(k1, oldHlc, old1), recordLane2(k2, oldHlc, old2));
    this.#xor(b, recordLane1(k1, hlc, n1), recordLane2(k2, hlc, n2));
  }

  #xor(b: number, r1: number, r2: number): void {
    this.#lanes[2 * b] ^= r1;
    this.#lanes[2 * b + 1] ^= r2;
    this.#total1 = (this.#total1 ^ r1) >>> 0;
    this.#total2 = (this.#total2 ^ r2) >>> 0;
  }

  /** A copy of all bucket digests, two 32-bit lanes per bucket. */
  snapshot(): Uint32Array {
    return this.#lanes.slice();
  }

  /** The whole-store digest as 16 hex digits. */
  total(): string {
    return hex8(this.#total1) + hex8(this.#total2);
  }

  /** Slots currently in bucket `b`. */
  slots(b: number): number[] {
    const out: number[] = [];
    const next = this.#table.bucketNext;
    for (let s = this.#heads[b]; s !== NIL; s = next[s]) out.push(s);
    return out;
  }

  /** Empties every bucket. */
  clear(): void {
    this.#lanes.fill(0);
    this.#heads.fill(NIL);
    this.#total1 = this.#total2 = 0;
  }
}

function hex8(n: number): string {
  return n.toString(16).padStart(8, "0");
}
