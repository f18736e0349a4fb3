/**
 * The member table's storage: one record per slot, kept column by column (struct of arrays)
 * instead of one object per member. A simulation of N members in one process holds N tables
 * of N records; as objects each record cost an object, a boxed time and three typed arrays, as
 * columns it costs a few numbers in typed arrays plus four shared references (the bytes per
 * record before and after: see docs/benchmarks.md, "Scale reached and what limits it"). Slots
 * freed by reaping are reused. Internal to `MemberTable`.
 *
 * @module
 */

import type { Member, NodeState } from "./node_types.ts";

const EMPTY = new Uint8Array(0);

/** Columns of member records, addressed by slot number. */
export class MemberColumns {
  /** Names by slot ("" for a free slot). Re-read after {@link MemberColumns.allocate}. */
  names: string[] = filled(8, "");
  /** Address bytes by slot (shared, never modified). Re-read after `allocate`. */
  addrs: Uint8Array[] = filled(8, EMPTY);
  /** Metadata by slot (shared, never modified). Re-read after `allocate`. */
  metas: Uint8Array[] = filled(8, EMPTY);
  /** Version bytes by slot (shared, never modified). Re-read after `allocate`. */
  vsns: Uint8Array[] = filled(8, EMPTY);
  /**
   * IPv4 addresses by slot as u32 (0 for any other address): compared instead of the bytes
   * when merging push/pull records, one typed-array read instead of three dependent loads.
   * Kept in step with {@link MemberColumns.addrs} by `allocate` and {@link MemberColumns.setAddr}.
   */
  addrKeys: Uint32Array = new Uint32Array(8);
  /** Ports by slot (re-read after {@link MemberColumns.allocate}: it may grow the array). */
  ports: Uint16Array = new Uint16Array(8);
  /** States by slot. */
  states: Uint8Array = new Uint8Array(8);
  /** Incarnations by slot. */
  incarnations: Uint32Array = new Uint32Array(8);
  /** Times of the last state change by slot, epoch ms. */
  stateChanges: Float64Array = new Float64Array(8);
  readonly #free: number[] = [];
  /** Slots ever used (the next fresh slot). */
  #used = 0;

  /** Takes a free slot (growing the columns if none) and fills it. */
  allocate(
    name: string,
    addr: Uint8Array,
    port: number,
    meta: Uint8Array,
    vsn: Uint8Array,
    state: NodeState,
  ): number {
    let slot = this.#free.pop();
    if (slot === undefined) {
      slot = this.#used++;
      if (slot >= this.states.length) this.#grow(slot + 1);
    }
    this.names[slot] = name;
    this.addrs[slot] = addr;
    this.addrKeys[slot] = addressKey(addr);
    this.metas[slot] = meta;
    this.vsns[slot] = vsn;
    this.ports[slot] = port;
    this.states[slot] = state;
    this.incarnations[slot] = 0;
    this.stateChanges[slot] = 0;
    return slot;
  }

  /** Makes room for `count` records in all, so filling a table does not grow it step by step. */
  reserve(count: number): void {
    if (count > this.states.length) this.#grow(count);
  }

  /** Sets the address of `slot` (and its key). */
  setAddr(slot: number, addr: Uint8Array): void {
    this.addrs[slot] = addr;
    this.addrKeys[slot] = addressKey(addr);
  }

  /** Frees `slot` for reuse (dropping its references). */
  release(slot: number): void {
    this.names[slot] = "";
    this.addrs[slot] = EMPTY;
    this.metas[slot] = EMPTY;
    this.vsns[slot] = EMPTY;
    this.#free.push(slot);
  }

  /** A snapshot of the record in `slot`. */
  member(slot: number): Member {
    return {
      name: this.names[slot],
      addr: this.addrs[slot],
      port: this.ports[slot],
      meta: this.metas[slot],
      state: this.states[slot] as NodeState,
      incarnation: this.incarnations[slot],
      stateChange: this.stateChanges[slot],
      vsn: this.vsns[slot],
    };
  }

  #grow(min: number): void {
    // ×1.25: a table of 10,000 members that gains a few would otherwise double all columns.
    const size = Math.max(min, Math.ceil(this.states.length * 1.25) + 8);
    this.ports = grown(this.ports, new Uint16Array(size));
    this.addrKeys = grown(this.addrKeys, new Uint32Array(size));
    this.states = grown(this.states, new Uint8Array(size));
    this.incarnations = grown(this.incarnations, new Uint32Array(size));
    this.stateChanges = grown(this.stateChanges, new Float64Array(size));
    // Arrays of references are allocated at their size at once too: pushing one by one
    // reallocates them step by step, and with N tables of N records that garbage dominated.
    this.names = grownArray(this.names, size, "");
    this.addrs = grownArray(this.addrs, size, EMPTY);
    this.metas = grownArray(this.metas, size, EMPTY);
    this.vsns = grownArray(this.vsns, size, EMPTY);
  }
}

/** An IPv4 address as a u32, 0 for any other address (then compare the bytes). */
export function addressKey(addr: Uint8Array): number {
  return addr.length === 4
    ? ((addr[0] << 24) | (addr[1] << 16) | (addr[2] << 8) | addr[3]) >>> 0
    : 0;
}

function filled<T>(size: number, value: T): T[] {
  return new Array<T>(size).fill(value);
}

function grownArray<T>(old: T[], size: number, value: T): T[] {
  const next = filled(size, value);
  for (let i = 0; i < old.length; i++) next[i] = old[i];
  return next;
}

function grown<T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(old: T, to: T): T {
  to.set(old as never);
  return to;
}
