/**
 * The gossip broadcast queue, with the semantics of memberlist's `TransmitLimitedQueue`
 * (queue.go). Every state change is queued once and then piggybacked on outgoing packets until
 * it has been transmitted `retransmitMult × ceil(log10(n + 1))` times, where n is the current
 * cluster-size estimate (read at every selection, so the limit follows the cluster).
 *
 * Selection order: fewest transmissions first (new news spreads first); within the same count,
 * the **largest** message that still fits (packs packets well); among equal sizes, the newest.
 * A broadcast with a `name` replaces any queued broadcast of the same name (memberlist names
 * its alive/suspect/dead messages by node, so only the latest news about a node is gossiped).
 *
 * Structure: one ordered set keyed (transmits ↑, length ↓, id ↓) — a treap standing in for
 * memberlist's btree — plus a name index. Queue, selection of each message and prune are
 * O(log n); only unnamed, non-unique broadcasts that carry an `invalidates` predicate pay an
 * O(plain broadcasts) scan, as in memberlist.
 *
 * One deliberate difference: memberlist restarts its id counter whenever the queue momentarily
 * drains (even mid-selection or mid-replacement), which can make a newer broadcast sort as
 * older; here ids only restart on {@link BroadcastQueue.reset}, so "newest first" always holds.
 *
 * @module
 */

import { OrderedSet } from "./_ordered_set.ts";
import { retransmitLimit } from "./formulas.ts";

/** Something to gossip. */
export interface Broadcast {
  /** The encoded message, sent as is (one part of a compound message, or bare). */
  readonly message: Uint8Array;
  /**
   * Identity for replacement: queuing a broadcast with a name drops (and finishes) any queued
   * broadcast of the same name. `undefined` or `""` means unnamed.
   */
  readonly name?: string;
  /** For unnamed broadcasts: never invalidates others and is never invalidated. */
  readonly unique?: boolean;
  /**
   * For unnamed, non-unique broadcasts: whether this one makes a queued unnamed, non-unique
   * broadcast obsolete (it is then dropped and finished).
   */
  invalidates?(other: Broadcast): boolean;
  /**
   * Called once when the broadcast leaves the queue: transmitted its full count, replaced,
   * invalidated, pruned or reset. Leave/update wait on this. Called after the queue operation
   * completes, so it may use the queue.
   */
  finished?(): void;
}

/** Options of a {@link BroadcastQueue}. */
export interface BroadcastQueueOptions {
  /** Current cluster-size estimate (memberlist's `estNumNodes`). */
  numNodes: () => number;
  /** `MembershipConfig.retransmitMult`. */
  retransmitMult: number;
}

interface Entry {
  transmits: number;
  msgLen: number;
  id: number;
  broadcast: Broadcast;
  name: string;
  plain: boolean;
}

function compareEntries(a: Entry, b: Entry): number {
  if (a.transmits !== b.transmits) return a.transmits - b.transmits;
  if (a.msgLen !== b.msgLen) return b.msgLen - a.msgLen;
  return b.id - a.id;
}

/** A transmit-limited, priority-ordered queue of broadcasts. */
export class BroadcastQueue {
  readonly #numNodes: () => number;
  readonly #retransmitMult: number;
  readonly #tree = new OrderedSet<Entry>(compareEntries);
  readonly #byName = new Map<string, Entry>();
  readonly #plain = new Set<Entry>();
  #idGen = 0;

  /** Creates an empty queue. */
  constructor(options: BroadcastQueueOptions) {
    if (!Number.isInteger(options.retransmitMult) || options.retransmitMult < 1) {
      throw new RangeError(
        `Cannot create broadcast queue: retransmitMult must be an integer >= 1: received ${options.retransmitMult}`,
      );
    }
    this.#numNodes = options.numNodes;
    this.#retransmitMult = options.retransmitMult;
  }

  /** Number of queued broadcasts. */
  get size(): number {
    return this.#tree.size;
  }

  /** Transmissions each broadcast gets at the current cluster size. */
  get retransmitLimit(): number {
    return retransmitLimit(this.#retransmitMult, this.#numNodes());
  }

  /** Queues `broadcast` with zero transmissions, replacing or invalidating older ones. */
  queue(broadcast: Broadcast): void {
    const done: Broadcast[] = [];
    const entry: Entry = {
      transmits: 0,
      msgLen: broadcast.message.length,
      id: ++this.#idGen,
      broadcast,
      name: broadcast.name ?? "",
      plain: !broadcast.name && !broadcast.unique,
    };
    if (entry.name !== "") {
      const old = this.#byName.get(entry.name);
      if (old) {
        this.#delete(old);
        done.push(old.broadcast);
      }
    } else if (entry.plain && broadcast.invalidates) {
      for (const other of [...this.#plain]) {
        if (broadcast.invalidates(other.broadcast)) {
          this.#delete(other);
          done.push(other.broadcast);
        }
      }
    }
    this.#add(entry);
    notifyFinished(done);
  }

  /**
   * Takes broadcasts to fill one packet: the result's `overhead × count + total length` stays
   * within `limit`. Each returned broadcast's transmit count goes up by one; those reaching the
   * retransmit limit leave the queue (and are finished).
   *
   * @param overhead framing bytes added per message (2 in a compound message)
   * @param limit bytes available in the packet
   */
  getBroadcasts(overhead: number, limit: number): Uint8Array[] {
    if (this.#tree.size === 0) return [];
    const transmitLimit = this.retransmitLimit;
    const toSend: Uint8Array[] = [];
    const reinsert: Entry[] = [];
    const done: Broadcast[] = [];
    let bytesUsed = 0;
    const maxTransmits = this.#tree.max()!.transmits;
    for (let transmits = this.#tree.min()!.transmits; transmits <= maxTransmits;) {
      const free = limit - bytesUsed - overhead;
      if (free <= 0) break;
      // The first entry of this tier no longer than `free`: the largest that fits, newest first.
      const probe = { transmits, msgLen: free, id: Infinity } as Entry;
      const keep = this.#tree.ceiling(probe);
      if (!keep || keep.transmits !== transmits) {
        transmits++;
        continue;
      }
      bytesUsed += overhead + keep.msgLen;
      toSend.push(keep.broadcast.message);
      this.#delete(keep);
      if (keep.transmits + 1 >= transmitLimit) {
        done.push(keep.broadcast);
      } else {
        keep.transmits++;
        reinsert.push(keep);
      }
    }
    // Re-added only now so that one packet never carries the same broadcast twice.
    for (const entry of reinsert) this.#add(entry);
    notifyFinished(done);
    return toSend;
  }

  /**
   * Drops the most-transmitted (then smallest, then oldest) broadcasts until at most
   * `maxRetain` remain; dropped ones are finished.
   */
  prune(maxRetain: number): void {
    const done: Broadcast[] = [];
    while (this.#tree.size > Math.max(0, maxRetain)) {
      const last = this.#tree.max()!;
      this.#delete(last);
      done.push(last.broadcast);
    }
    notifyFinished(done);
  }

  /** Empties the queue, finishing every broadcast. */
  reset(): void {
    const done = [...this.#tree].map((e) => e.broadcast);
    this.#tree.clear();
    this.#byName.clear();
    this.#plain.clear();
    this.#idGen = 0;
    notifyFinished(done);
  }

  /** Queued broadcasts in selection order with their transmit counts (for tests and metrics). */
  entries(): { broadcast: Broadcast; transmits: number }[] {
    return [...this.#tree].map((e) => ({ broadcast: e.broadcast, transmits: e.transmits }));
  }

  #add(entry: Entry): void {
    this.#tree.insert(entry);
    if (entry.name !== "") this.#byName.set(entry.name, entry);
    if (entry.plain) this.#plain.add(entry);
  }

  #delete(entry: Entry): void {
    this.#tree.delete(entry);
    if (entry.name !== "") this.#byName.delete(entry.name);
    this.#plain.delete(entry);
  }
}

function notifyFinished(done: Broadcast[]): void {
  for (const b of done) b.finished?.();
}
