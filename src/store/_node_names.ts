/**
 * Interned node names: a record stores a 16-bit id instead of a string reference, and the name's
 * hash lanes are computed once. Names are reference-counted so that a cluster whose members come
 * and go under new names does not leak ids.
 *
 * @module
 */

import { hashLane1, hashLane2 } from "../util/hash.ts";

/** The largest number of distinct node names in use at once (ids are 16-bit). */
export const MAX_NODE_NAMES = 65536;

/** Interned table of node names with reference counts. */
export class NodeNames {
  /** Name by id. */
  readonly names: string[] = [];
  /** Hash lane 1 of each name. */
  readonly lane1: number[] = [];
  /** Hash lane 2 of each name. */
  readonly lane2: number[] = [];
  readonly #refs: number[] = [];
  readonly #ids = new Map<string, number>();
  readonly #free: number[] = [];

  /** The id of `name`, interning it if new, and takes one reference. */
  acquire(name: string): number {
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = this.#free.pop() ?? this.names.length;
      if (id >= MAX_NODE_NAMES) {
        throw new RangeError(
          `Cannot intern node name: more than ${MAX_NODE_NAMES} names in use: received "${name}"`,
        );
      }
      this.#ids.set(name, id);
      this.names[id] = name;
      this.lane1[id] = hashLane1(name);
      this.lane2[id] = hashLane2(name);
      this.#refs[id] = 0;
    }
    this.#refs[id]++;
    return id;
  }

  /** Drops one reference to `id`, freeing the id when none are left. */
  release(id: number): void {
    if (--this.#refs[id] > 0) return;
    this.#ids.delete(this.names[id]);
    this.names[id] = "";
    this.#free.push(id);
  }

  /** Number of names in use. */
  get count(): number {
    return this.#ids.size;
  }

  /** Forgets every name. */
  clear(): void {
    this.names.length = 0;
    this.lane1.length = 0;
    this.lane2.length = 0;
    this.#refs.length = 0;
    this.#free.length = 0;
    this.#ids.clear();
  }
}
