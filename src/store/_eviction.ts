/**
 * Eviction order over the slot table's `prev`/`next` links: one list of live entries ordered by
 * the policy, and one FIFO of tombstones that is drained only once no live entry can go.
 * Both lists run from head (newest) to tail (oldest).
 *
 * - `lru`: a hit moves the entry to the head; the victim is the tail.
 * - `sieve` (Zhang et al., NSDI '24): a hit only sets a visited bit; a "hand" walks from the tail
 *   toward the head, clearing visited bits and evicting the first unvisited entry, and resumes
 *   there next time. Hits never relink, so a hit is one byte write.
 *
 * SIEVE is the default because it had the better hit ratio in every measured workload (most
 * under scans: one-time keys are never marked and go first) and faster hits; the figures are in
 * `docs/benchmarks.md`, "Store micro-benchmarks and the eviction choice". Tombstones count toward
 * the budget but are evicted last: evicting one can let a replica that missed the delete bring
 * the old value back (it heals if another replica still holds the tombstone), while evicting a
 * live entry only costs a miss. An evicted live entry makes this replica's digest differ from its
 * peers', so anti-entropy will offer it again.
 *
 * @module
 */

import { FLAG_VISITED, NIL, type SlotTable } from "./_slot_table.ts";

/** Eviction policies the store implements. */
export type EvictionPolicy = "sieve" | "lru";

/** Live list (policy-ordered) plus tombstone FIFO. */
export class EvictionQueue {
  readonly policy: EvictionPolicy;
  readonly #table: SlotTable;
  #head = NIL;
  #tail = NIL;
  #hand = NIL;
  #liveCount = 0;
  #tombHead = NIL;
  #tombTail = NIL;
  #tombCount = 0;

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

  /** Adds a tombstone at the head of the tombstone FIFO. */
  insertTombstone(s: number): void {
    const t = this.#table;
    t.prev[s] = NIL;
    t.next[s] = this.#tombHead;
    if (this.#tombHead !== NIL) t.prev[this.#tombHead] = s;
    else this.#tombTail = s;
    this.#tombHead = s;
    this.#tombCount++;
  }

  /** Removes a tombstone from the FIFO. */
  unlinkTombstone(s: number): void {
    const t = this.#table;
    const p = t.prev[s], n = t.next[s];
    if (p !== NIL) t.next[p] = n;
    else this.#tombHead = n;
    if (n !== NIL) t.prev[n] = p;
    else this.#tombTail = p;
    this.#tombCount--;
  }

  /**
   * The next slot to evict, never `protect`: a live entry chosen by the policy, or the oldest
   * tombstone when no other live entry is left; `NIL` when nothing can go. The caller must
   * remove the returned slot before asking again.
   */
  victim(protect: number): number {
    const t = this.#table;
    const protectIsLive = protect !== NIL && (t.flags[protect] & 3) === 1;
    if (this.#liveCount > (protectIsLive ? 1 : 0)) {
      return this.policy === "sieve" ? this.#sieveVictim(protect) : this.#lruVictim(protect);
    }
    let v = this.#tombTail;
    if (v === protect) v = t.prev[v];
    return v;
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

  /** Number of tombstones in the FIFO. */
  get tombstoneCount(): number {
    return this.#tombCount;
  }

  /** Empties both lists (the table is reset by its owner). */
  clear(): void {
    this.#head = this.#tail = this.#hand = NIL;
    this.#tombHead = this.#tombTail = NIL;
    this.#liveCount = this.#tombCount = 0;
  }
}
