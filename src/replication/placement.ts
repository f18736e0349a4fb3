/**
 * `Placement`: which nodes own which buckets in partitioned mode (`REPLICAS=N`), a pure
 * mechanism that `partitioning.ts` uses. Keys fall into the store's digest buckets
 * (`PARTITIONED_BUCKETS` of them in partitioned mode); each bucket is owned by the `N` members
 * with the highest rendezvous score `hash(member, bucket)` (highest-random-weight hashing).
 * Every node computes the same owners from the same member list, so no coordinator is needed.
 *
 * Why buckets and rendezvous: placing whole digest buckets makes a bucket the unit of everything
 * else (anti-entropy between its owners compares that bucket's digest, a rebalance streams whole
 * buckets, a former owner drops a bucket once its new owners hold it); rendezvous moves only the
 * buckets a joining or departing member gains or loses (about `N / members` of them) and needs
 * no virtual-node tuning. Balance and movement against a ring and per-key placement:
 * docs/benchmarks.md, "Placement: why rendezvous hashing of 4096 buckets".
 *
 * @module
 */

import { fmix32, hashLane1 } from "../util/hash.ts";

/** A member's rendezvous weight for `bucket` (a 32-bit score; ties broken by name). */
export function rendezvousScore(memberHash: number, bucket: number): number {
  return fmix32(memberHash ^ fmix32(Math.imul(bucket + 1, 0x9e3779b1)));
}

/** Owners of every bucket for one member list; immutable once built. */
export class Placement {
  /** Replicas per key (copies), capped at the member count. */
  readonly replicas: number;
  /** Number of buckets. */
  readonly buckets: number;
  /** The members the placement was computed from, sorted by name. */
  readonly members: readonly string[];
  // owners[b * replicas + i] = index into members of bucket b's i-th owner (best score first).
  readonly #owners: Uint16Array;

  /**
   * Computes the owners of `buckets` buckets among `members` (names; order does not matter,
   * duplicates are ignored) with `replicas` copies each. Throws a `RangeError` for a bad count.
   */
  constructor(members: Iterable<string>, replicas: number, buckets: number) {
    if (!Number.isInteger(replicas) || replicas < 1) {
      throw new RangeError(`Cannot place keys: replicas must be an integer >= 1: got ${replicas}`);
    }
    if (!Number.isInteger(buckets) || buckets < 1) {
      throw new RangeError(`Cannot place keys: buckets must be an integer >= 1: got ${buckets}`);
    }
    const names = [...new Set(members)].sort();
    if (names.length > 0xffff) {
      throw new RangeError(`Cannot place keys: too many members: ${names.length}`);
    }
    this.members = names;
    this.buckets = buckets;
    this.replicas = Math.min(replicas, names.length);
    this.#owners = new Uint16Array(buckets * this.replicas);
    const hashes = names.map((n) => hashLane1(n));
    const r = this.replicas;
    const best = new Array<number>(r);
    const bestScore = new Array<number>(r);
    for (let b = 0; b < buckets; b++) {
      let filled = 0;
      for (let m = 0; m < names.length; m++) {
        const score = rendezvousScore(hashes[m], b);
        // Insertion into the top-r list; equal scores keep the earlier (smaller) name first.
        let i = filled < r ? filled++ : r;
        while (i > 0 && bestScore[i - 1] < score) {
          if (i < r) [best[i], bestScore[i]] = [best[i - 1], bestScore[i - 1]];
          i--;
        }
        if (i < r) [best[i], bestScore[i]] = [m, score];
      }
      for (let i = 0; i < r; i++) this.#owners[b * r + i] = best[i];
    }
  }

  /** The owners of `bucket`, best first (empty when there are no members). */
  owners(bucket: number): string[] {
    const r = this.replicas;
    const out = new Array<string>(r);
    for (let i = 0; i < r; i++) out[i] = this.members[this.#owners[bucket * r + i]];
    return out;
  }

  /**
   * A copy of the whole owner table: entry `b * replicas + i` is the index in {@link members} of
   * bucket `b`'s `i`-th owner, best first (what `GET /cluster/topology` gives clients).
   */
  ownerTable(): Uint16Array {
    return this.#owners.slice();
  }

  /** Whether `member` owns `bucket`. */
  owns(member: string, bucket: number): boolean {
    const r = this.replicas;
    for (let i = 0; i < r; i++) {
      if (this.members[this.#owners[bucket * r + i]] === member) return true;
    }
    return false;
  }

  /** A bitmap (one bit per bucket, LSB first) of the buckets every one of `names` owns. */
  sharedBuckets(...names: string[]): Uint8Array {
    const mask = new Uint8Array(Math.ceil(this.buckets / 8));
    for (let b = 0; b < this.buckets; b++) {
      if (names.every((n) => this.owns(n, b))) mask[b >> 3] |= 1 << (b & 7);
    }
    return mask;
  }

  /** Buckets owned by each member (as any of the copies) and as first owner. */
  load(): Map<string, { owned: number; primary: number }> {
    const out = new Map(this.members.map((m) => [m, { owned: 0, primary: 0 }]));
    const r = this.replicas;
    for (let b = 0; b < this.buckets; b++) {
      for (let i = 0; i < r; i++) {
        const entry = out.get(this.members[this.#owners[b * r + i]])!;
        entry.owned++;
        if (i === 0) entry.primary++;
      }
    }
    return out;
  }
}

/** Whether bit `bucket` is set in a bucket bitmap (see {@link Placement.sharedBuckets}). */
export function inBucketMask(mask: Uint8Array, bucket: number): boolean {
  return (mask[bucket >> 3] & (1 << (bucket & 7))) !== 0;
}

/** Number of set bits of a bucket bitmap. */
export function bucketMaskSize(mask: Uint8Array): number {
  let n = 0;
  for (const byte of mask) {
    let v = byte;
    while (v) {
      v &= v - 1;
      n++;
    }
  }
  return n;
}
