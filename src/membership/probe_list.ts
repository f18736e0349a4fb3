/**
 * The probe order of the member table, after memberlist's `nodes` slice: a shuffled list
 * walked round-robin, so every member is probed once per round (bounding worst-case detection
 * time) in an order no peer can predict. Newcomers go to a random position — appending would
 * make them wait a whole round for their first probe — and each wrap-around reaps and
 * reshuffles. Also memberlist's `kRandomNodes` selection of gossip, indirect-probe and
 * push/pull peers.
 *
 * @module
 */

import { type Random, randomInt, shuffle } from "../util/random.ts";

/** A shuffled round-robin list with random insertion and k-random selection. */
export class ProbeList<T> {
  readonly #random: Random;
  #items: T[] = [];
  #index = 0;

  /** @param random randomness for positions, shuffles and picks */
  constructor(random: Random) {
    this.#random = random;
  }

  /** Number of items. */
  get length(): number {
    return this.#items.length;
  }

  /** The items in probe order (do not modify). */
  items(): readonly T[] {
    return this.#items;
  }

  /** Inserts `item` at a uniformly random position (swapping the occupant to the end). */
  insert(item: T): void {
    const n = this.#items.length;
    const offset = randomInt(this.#random, n);
    this.#items.push(item);
    [this.#items[offset], this.#items[n]] = [this.#items[n], this.#items[offset]];
  }

  /**
   * Advances the round-robin pointer to the next item not `skip`ped and returns it. Reaching
   * the end calls `onWrap` (which normally calls {@link ProbeList.reset}) and restarts from the
   * top. Gives up with `undefined` after considering as many positions (wraps included) as
   * there are items, as memberlist's probe loop does.
   */
  next(skip: (item: T) => boolean, onWrap: () => void): T | undefined {
    for (let checked = 0; checked < this.#items.length;) {
      if (this.#index >= this.#items.length) {
        onWrap();
        this.#index = 0;
        checked++;
        continue;
      }
      const item = this.#items[this.#index++];
      if (!skip(item)) return item;
      checked++;
    }
    return undefined;
  }

  /** Removes the items matching `reap`, shuffles the rest, and returns the removed ones. */
  reset(reap: (item: T) => boolean): T[] {
    const removed = this.#items.filter(reap);
    this.#items = shuffle(this.#random, this.#items.filter((item) => !reap(item)));
    return removed;
  }

  /**
   * Up to `k` distinct items not `exclude`d, at random. Small lists (fewer than 3k items) are
   * searched exhaustively in shuffled order; larger ones by up to 3n random draws, which may
   * return fewer than k even when more exist (as memberlist).
   */
  pick(k: number, exclude: (item: T) => boolean): T[] {
    const n = this.#items.length;
    const picked: T[] = [];
    if (n < k * 3) {
      for (const item of shuffle(this.#random, [...this.#items])) {
        if (picked.length >= k) break;
        if (!exclude(item)) picked.push(item);
      }
      return picked;
    }
    for (let i = 0; i < 3 * n && picked.length < k; i++) {
      const item = this.#items[randomInt(this.#random, n)];
      if (!exclude(item) && !picked.includes(item)) picked.push(item);
    }
    return picked;
  }
}
