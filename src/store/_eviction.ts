/**
 * Eviction order over the slot table's `prev`/`next` links: one list of live entries ordered by
 * the policy, and two FIFOs of tombstones: those left by expiries, drained first, and those left
 * by deletes, drained only once no live entry can go. Every list runs from head (newest) to tail
 * (oldest).
 *
 * - `lru`: a hit moves the entry to the head; the victim is the tail.
 * - `sieve` (Zhang et al., NSDI '24): a hit only sets a visited bit; a "hand" walks from the tail
 *   toward the head, clearing visited bits and evicting the first unvisited entry, and resumes
 *   there next time. Hits never relink, so a hit is one byte write.
 *
 * SIEVE is the default because it had the better hit ratio in every measured workload (most
 * under scans: one-time keys are never marked and go first) and faster hits; the figures are in
 * `docs/benchmarks.md`, "Store micro-benchmarks and the eviction choice". Tombstones count toward
 * the budget. A delete's tombstone is evicted last: evicting one can let a replica that missed
 * the delete bring the old value back (it heals if another replica still holds the tombstone),
 * while evicting a live entry only costs a miss. An expiry's tombstone goes first: it guards
 * against the rarer return of a value an expired write had overwritten, and every short-lived
 * key leaves one, so keeping them over live entries would let expired keys push out live ones.
 * An evicted live entry makes this replica's digest differ from its peers', so anti-entropy will
 * offer it again.
 *
 * @module
 */

import { FLAG_EXPIRED, FLAG_VISITED, NIL, type SlotTable } from "./_slot_table.ts";

/** Eviction policies the store implements. */
export type EvictionPolicy = "sieve" | "lru";

/** A FIFO of tombstones over the table's links, newest at the head. */
class TombstoneFifo {
  head = NIL;
  tail = NIL;
  count = 0;

  insert(t: SlotTable, s: number): void {
    t.prev[s] = NIL;
    t.next[s] = this.head;
    if (this.head !== NIL) t.prev[this.head] = s;
    else this.tail = s;
    this.head = s;
    this.count++;
  }

  unlink(t: SlotTable, s: number): void {
    const p = t.prev[s], n = t.next[s];
    if (p !== NIL) t.next[p] = n;
    else this.head = n;
    if (n !== NIL) t.prev[n] = p;
    else this.tail = p;
    this.count--;
  }

  // The oldest tombstone other than `protect`, or NIL.
  oldest(t: SlotTable, protect: number): number {
    return this.tail === protect ? t.prev[this.tail] : this.tail;
  }
}

/** Live list (policy-ordered) plus the two tombstone FIFOs. */
export class EvictionQueue {
  readonly policy: EvictionPolicy;
  readonly #table: SlotTable;
  #head = NIL;
  #tail = NIL;
  #hand = NIL;
  #liveCount = 0;
  readonly #deleted = new TombstoneFifo();
  readonly #expired = new TombstoneFifo();

  /** Creates empty lists over `table`. */
  constructor(table: SlotTable, policy: EvictionPolicy) {
    this.#table = table;
    this.policy = policy;
  }

  /** Adds a live entry at the head, unvisited. */
  insertLive(s: number): void {
    const t = this.#table;
    t.flags[s] &= ~FLAG_VISITED;
    t.prev[s] = NIL;
    t.next[s] = this.#head;
    if (this.#head !== NIL) t.prev[this.#head] = s;
    else this.#tail = s;
    this.#head = s;
    this.#liveCount++;
  }

  /** Removes a live entry (moving SIEVE's hand off it first). */
  unlinkLive(s: number): void {
    const t = this.#table;
    const p = t.prev[s], n = t.next[s];
    if (this.#hand === s) this.#hand = p;
    if (p !== NIL) t.next[p] = n;
    else this.#head = n;
    if (n !== NIL) t.prev[n] = p;
    else this.#tail = p;
    this.#liveCount--;
  }

  /** Records a hit on a live entry. */
  access(s: number): void {
    if (this.policy === "sieve") {
      this.#table.flags[s] |= FLAG_VISITED;
    } else if (this.#head !== s) {
      this.unlinkLive(s);
      this.insertLive(s);
    }
  }

  /**
   * Adds a tombstone at the head of its FIFO: `expired` for one an expiry left (marked with
   * `FLAG_EXPIRED`), else a delete's.
   */
  insertTombstone(s: number, expired = false): void {
    const t = this.#table;
    if (expired) t.flags[s] |= FLAG_EXPIRED;
    else t.flags[s] &= ~FLAG_EXPIRED;
    (expired ? this.#expired : this.#deleted).insert(t, s);
  }

  /** Removes a tombstone from its FIFO. */
  unlinkTombstone(s: number): void {
    const t = this.#table;
    ((t.flags[s] & FLAG_EXPIRED) !== 0 ? this.#expired : this.#deleted).unlink(t, s);
  }

  /**
   * The next slot to evict, never `protect`: the oldest tombstone an expiry left, else a live
   * entry chosen by the policy, else (no other live entry left) the oldest delete's tombstone;
   * `NIL` when nothing can go. The caller must remove the returned slot before asking again.
   */
  victim(protect: number): number {
    const t = this.#table;
    const expired = this.#expired.oldest(t, protect);
    if (expired !== NIL) return expired;
    const protectIsLive = protect !== NIL && (t.flags[protect] & 3) === 1;
    if (this.#liveCount > (protectIsLive ? 1 : 0)) {
      return this.policy === "sieve" ? this.#sieveVictim(protect) : this.#lruVictim(protect);
    }
    return this.#deleted.oldest(t, protect);
  }

  #lruVictim(protect: number): number {
    const v = this.#tail;
    return v === protect ? this.#table.prev[v] : v;
  }

  #sieveVictim(protect: number): number {
    const t = this.#table;
    let h = this.#hand === NIL ? this.#tail : this.#hand;
    // Terminates: every step toward the head clears a visited bit or skips `protect`, so within
    // two laps an unvisited, unprotected entry is reached (one exists: liveCount checked above).
    for (;;) {
      if (h === NIL) h = this.#tail;
      if (h !== protect) {
        if ((t.flags[h] & FLAG_VISITED) === 0) break;
        t.flags[h] &= ~FLAG_VISITED;
      }
      h = t.prev[h];
    }
    this.#hand = t.prev[h];
    return h;
  }

  /** Number of live entries in the queue. */
  get liveCount(): number {
    return this.#liveCount;
  }

  /** Number of tombstones (deletes' and expiries'). */
  get tombstoneCount(): number {
    return this.#deleted.count + this.#expired.count;
  }

  /** Empties every list (the table is reset by its owner). */
  clear(): void {
    this.#head = this.#tail = this.#hand = NIL;
    this.#liveCount = 0;
    for (const fifo of [this.#deleted, this.#expired]) {
      fifo.head = fifo.tail = NIL;
      fifo.count = 0;
    }
  }
}
