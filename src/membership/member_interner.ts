/**
 * Sharing of the immutable parts of member records (names, address, metadata and version
 * bytes) between member tables. A table copies every byte array it keeps (decoder buffers are
 * reused), so N tables that all know the same N members would hold N² copies of each name and
 * address; a simulation of thousands of members in one process passes one
 * {@link SharedMemberInterner} to every table, so each distinct value is held once. A single
 * real node has one table and does not need one: without it the table copies each value once
 * and shares only equal version and metadata bytes (see `MemberTable`).
 *
 * @module
 */

/** A member table's map from member name to the slot holding its record. */
export interface SlotIndex {
  /** The slot of `name`, if it has one. */
  get(name: string): number | undefined;
  /** Records that `name` is in `slot`. */
  set(name: string, slot: number): void;
  /** Forgets `name`. */
  delete(name: string): void;
}

/** Returns a kept (immutable by convention) copy of a member record's value. */
export interface MemberInterner {
  /** A string equal to `name`, shared where possible. */
  name(name: string): string;
  /**
   * A copy of `bytes` that the caller may keep: never `bytes` itself (it may be a reused
   * buffer) and never modified afterwards, so it may be shared with other holders.
   */
  bytes(bytes: Uint8Array): Uint8Array;
  /** A new, empty slot index for one table (a `Map` when absent). */
  slotIndex?(): SlotIndex;
}

/**
 * A {@link MemberInterner} that keeps one instance of every distinct value it has seen, for
 * as long as it lives (meant for one simulation: memory grows with the number of distinct
 * names and addresses, never freed).
 *
 * @example
 * ```ts
 * const intern = new SharedMemberInterner();
 * const a = intern.bytes(Uint8Array.of(10, 0, 0, 1));
 * a === intern.bytes(Uint8Array.of(10, 0, 0, 1)); // true
 * ```
 */
export class SharedMemberInterner implements MemberInterner {
  readonly #ids = new Map<string, number>();
  readonly #names: string[] = [];
  readonly #bytes = new Map<string, Uint8Array>();

  /** Number of distinct byte values held. */
  get size(): number {
    return this.#bytes.size;
  }

  /** The first string equal to `name` seen. */
  name(name: string): string {
    return this.#names[this.id(name)];
  }

  /** The number of `name` (0, 1, 2… in order of first sight), assigned if new. */
  id(name: string): number {
    let id = this.#ids.get(name);
    if (id === undefined) {
      id = this.#names.length;
      this.#ids.set(name, id);
      this.#names.push(name);
    }
    return id;
  }

  /** The number of `name` if it has one. */
  idOf(name: string): number | undefined {
    return this.#ids.get(name);
  }

  /**
   * A slot index keyed by name numbers: an array of slots indexed by {@link id} (4 bytes a
   * name) instead of a `Map` per table (what that saves: see docs/benchmarks.md, "Scale reached
   * and what limits it").
   */
  slotIndex(): SlotIndex {
    return new NumberedSlotIndex(this);
  }

  /** The first copy of bytes equal to `bytes` made. */
  bytes(bytes: Uint8Array): Uint8Array {
    const key = bytesKey(bytes);
    let kept = this.#bytes.get(key);
    if (kept === undefined) {
      kept = bytes.slice();
      this.#bytes.set(key, kept);
    }
    return kept;
  }
}

/** A string with one char code per byte (a map key equal exactly when the bytes are). */
function bytesKey(bytes: Uint8Array): string {
  let key = "";
  for (let i = 0; i < bytes.length; i++) key += String.fromCharCode(bytes[i]);
  return key;
}

/** A {@link SlotIndex} over the name numbers of a {@link SharedMemberInterner}. */
class NumberedSlotIndex implements SlotIndex {
  readonly #intern: SharedMemberInterner;
  /** Slot + 1 by name number (0: none). */
  #slots = new Int32Array(16);

  constructor(intern: SharedMemberInterner) {
    this.#intern = intern;
  }

  get(name: string): number | undefined {
    const id = this.#intern.idOf(name);
    if (id === undefined || id >= this.#slots.length) return undefined;
    const slot = this.#slots[id];
    return slot === 0 ? undefined : slot - 1;
  }

  set(name: string, slot: number): void {
    const id = this.#intern.id(name);
    if (id >= this.#slots.length) {
      let size = this.#slots.length * 2;
      while (size <= id) size *= 2;
      const grown = new Int32Array(size);
      grown.set(this.#slots);
      this.#slots = grown;
    }
    this.#slots[id] = slot + 1;
  }

  delete(name: string): void {
    const id = this.#intern.idOf(name);
    if (id !== undefined && id < this.#slots.length) this.#slots[id] = 0;
  }
}
