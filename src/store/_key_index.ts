/**
 * Key → slot index: an open-addressing hash table (linear probing, backward-shift deletion) of
 * slot numbers in one `Int32Array`, keyed by the hash kept in the slot table. It replaces a
 * `Map<string, number>`, which cost more memory per entry and was the top item of the insert
 * profile at a million keys; this costs 4 B per table cell at a load of at most `MAX_LOAD`
 * (about half that right after growing), plus the hash per slot that the digests reuse. Figures:
 * `docs/benchmarks.md`, "Store micro-benchmarks and the eviction choice".
 *
 * @module
 */

import { NIL, type SlotTable } from "./_slot_table.ts";

const MAX_LOAD = 0.7;

/** Open-addressing map from key (with its precomputed hash) to slot. */
export class KeyIndex {
  readonly #slots: SlotTable;
  #cells: Int32Array;
  #mask: number;
  #count = 0;

  /** Creates an index sized for `capacity` keys before the first growth. */
  constructor(slots: SlotTable, capacity: number) {
    this.#slots = slots;
    let cells = 16;
    while (cells * MAX_LOAD < capacity) cells *= 2;
    this.#cells = new Int32Array(cells).fill(NIL);
    this.#mask = cells - 1;
  }

  /** Number of keys indexed. */
  get count(): number {
    return this.#count;
  }

  /** The slot holding `key` (whose hash is `hash`), or `NIL`. */
  find(key: string, hash: number): number {
    const cells = this.#cells, mask = this.#mask;
    const hashes = this.#slots.hash, keys = this.#slots.keys;
    for (let i = hash & mask;; i = (i + 1) & mask) {
      const s = cells[i];
      if (s === NIL) return NIL;
      if (hashes[s] === hash && keys[s] === key) return s;
    }
  }

  /** Indexes `slot`, whose key is absent and whose hash is already in the slot table. */
  insert(slot: number): void {
    if (this.#count + 1 > this.#cells.length * MAX_LOAD) this.#grow();
    this.#place(slot);
    this.#count++;
  }

  /** Removes `slot` from the index, shifting later cells of its probe run back. */
  remove(slot: number): void {
    const cells = this.#cells, mask = this.#mask, hashes = this.#slots.hash;
    let i = hashes[slot] & mask;
    while (cells[i] !== slot) i = (i + 1) & mask;
    for (let j = (i + 1) & mask;; j = (j + 1) & mask) {
      const s = cells[j];
      if (s === NIL) break;
      const home = hashes[s] & mask;
      // `s` may move back to `i` unless its home lies cyclically in (i, j].
      const stays = i <= j ? i < home && home <= j : i < home || home <= j;
      if (stays) continue;
      cells[i] = s;
      i = j;
    }
    cells[i] = NIL;
    this.#count--;
  }

  #place(slot: number): void {
    const cells = this.#cells, mask = this.#mask;
    let i = this.#slots.hash[slot] & mask;
    while (cells[i] !== NIL) i = (i + 1) & mask;
    cells[i] = slot;
  }

  #grow(): void {
    const old = this.#cells;
    this.#cells = new Int32Array(old.length * 2).fill(NIL);
    this.#mask = this.#cells.length - 1;
    for (let i = 0; i < old.length; i++) if (old[i] !== NIL) this.#place(old[i]);
  }
}
