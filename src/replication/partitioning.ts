/**
 * Where keys live: the one home of partitioned mode (`REPLICAS=N`), with full replication as its
 * degenerate case. A {@link Distribution} answers, for the replicator and the API edge alike:
 * who owns a key (computed once per request and passed down), which buckets two nodes compare in
 * anti-entropy, whether whole-store digests must match, and what happens when membership changes
 * or the node leaves.
 *
 * - {@link FullReplication}: every live member owns every key; nothing moves on a change.
 * - {@link Partitioning}: the store's digest buckets ({@link PARTITIONED_BUCKETS} of them) each
 *   get N owners among the live members (`placement.ts`, rendezvous hashing). After a change it
 *   remembers the placements of the last minute (reads fall back to those former owners), hands
 *   off the buckets this node holds but no longer owns (`hand_off.ts`), hands its own buckets
 *   over before a graceful stop, and repairs owners that missed a key a read found elsewhere.
 *
 * Over 400 lines: both distributions and every policy of partitioned mode in one module, by
 * design (one home for the mode); the mechanisms are in `placement.ts` and `hand_off.ts`.
 *
 * @module
 */

import type { KeyedRecord } from "../store/mod.ts";
import type { Clock, TimerId } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { applyRecords, pushRecords, type SyncContext } from "./digest_sync.ts";
import { handOffBuckets, type HandOffStats, handOverBeforeLeaving } from "./hand_off.ts";
import { Placement } from "./placement.ts";
import type { PeerAddress } from "./transport.ts";

/** Digest buckets of a partitioned store: the unit of placement, hand-off and comparison. */
export const PARTITIONED_BUCKETS = 4096;

/** Longest wait for the hand-over of a stopping node's buckets, ms. */
export const HAND_OVER_TIMEOUT_MS = 20_000;

// How long an earlier placement stays a place to look for keys (hand-offs end within it).
const FORMER_PLACEMENT_MS = 60_000;

// Delay of the rebalancing work after a membership change (changes come in bursts).
const REBALANCE_DELAY_MS = 500;

/** Digest buckets a node's store needs for `replicas` copies per key (`undefined`: default). */
export function storeBucketsFor(replicas: number): number | undefined {
  return replicas > 0 ? PARTITIONED_BUCKETS : undefined;
}

/** Where a key's owners are. */
export interface KeyOwners {
  /** Whether this node is one of them. */
  self: boolean;
  /** The other live owners, best first. */
  peers: PeerAddress[];
  /**
   * Live members that owned the key's bucket under a recent earlier membership and may still
   * hold it until their hand-off ends (reads fall back to them on a miss).
   */
  former: PeerAddress[];
  /**
   * Whether the key's bucket had other owners under a recent earlier membership (in this node's
   * view). A read that every owner it can name missed then asks a peer to route it with that
   * peer's own view (see `http/forward.ts`): this node's view may lack the members holding it.
   */
  moved?: boolean;
  /**
   * When `moved`: the other live members (neither owners nor former owners), which a read that
   * every owner missed asks too (one may hold the key from a hand-over this node has not seen).
   */
  others?: PeerAddress[];
}

/** Partitioned mode's counters, as `/stats` shows them under `replication.partitioned`. */
export interface PartitionedStats {
  /** Copies per key. */
  replicas: number;
  /** Buckets this node owns. */
  ownedBuckets: number;
  /** Hand-offs to new owners. */
  handOff: HandOffStats;
}

/** What a distribution needs from the replicator it serves. */
export interface DistributionHost {
  /** Store, codec and transport (hand-offs and repairs travel as sync pushes). */
  readonly ctx: SyncContext;
  /** Time source. */
  readonly clock: Clock;
  /** Where hand-off problems are logged. */
  readonly log: Logger;
  /** Period of hand-off passes (the anti-entropy period), ms. */
  readonly intervalMs: number;
  /** Live peers by name. */
  readonly peers: ReadonlyMap<string, { readonly peer: PeerAddress }>;
  /** Whether this node holds its data set (no hand-off before). */
  synced(): boolean;
  /** Asks for an anti-entropy round with `peer` after `delayMs`. */
  requestRound(peer: string, delayMs: number): void;
  /** Membership changed while the initial copy is pending: look for a peer to copy from. */
  retryInitialCopy(): void;
}

/** Who owns which keys, and what follows from it; see the module doc. */
export interface Distribution {
  /** Copies of each key; 0 = every node holds every key. */
  readonly replicas: number;
  /** Whether two replicas' whole-store digests must match (a difference asks for a round). */
  readonly wholeStore: boolean;
  /** The owners of `key` (with its recent former owners unless `withFormer` is false). */
  ownersOf(key: string, withFormer?: boolean): KeyOwners;
  /**
   * The key's primary owner: the first rendezvous owner of its bucket over the live members (in
   * both modes), where conditional writes and counters are decided; `undefined` for this node.
   */
  primaryOf(key: string): PeerAddress | undefined;
  /** The buckets this node and `peer` both own (a bitmap), when they do not share all. */
  bucketsWith?(peer: string): Uint8Array;
  /** Membership changed (peers were added or removed). */
  viewChanged(): void;
  /** Starts periodic work. */
  start(): void;
  /** Stops timers. */
  close(): void;
  /** Before a graceful stop: gives away what only this node holds; resolves with records sent. */
  handOverBeforeLeaving(): Promise<number>;
  /**
   * {@link Distribution.handOverBeforeLeaving} for at most {@link HAND_OVER_TIMEOUT_MS};
   * resolves with the outcome to log, or `undefined` when there is nothing to hand over.
   */
  leave(): Promise<string | undefined>;
  /** Counters, in partitioned mode. */
  stats(): PartitionedStats | undefined;
  /** Placement as `GET /cluster/ring` shows it, in partitioned mode. */
  ring(key?: string): Record<string, unknown> | undefined;
  /**
   * The owners of every bucket as clients route by them (`GET /cluster/topology`): the N owners
   * in partitioned mode, the primary (where conditional writes and counters go) otherwise.
   */
  ownerTable(): OwnerTable;
}

/** Every bucket's owners over the live members, as {@link Distribution.ownerTable} gives them. */
export interface OwnerTable {
  /** Copies per key; 0 = every node holds every key. */
  replicas: number;
  /** Buckets (a power of two): a key's bucket is `hashLane1(key) & (buckets - 1)`. */
  buckets: number;
  /** The live members the owners were computed from, sorted by name. */
  members: readonly string[];
  /** Owners listed per bucket: the copies (capped at the members) or 1 (the primary). */
  perBucket: number;
  /** Entry `b * perBucket + i`: index in `members` of bucket `b`'s `i`-th owner, best first. */
  owners: Uint16Array;
}

/** The distribution for `replicas` copies per key (0: {@link FullReplication}). */
export function distributionFor(replicas: number, host: DistributionHost): Distribution {
  return replicas > 0 ? new Partitioning(replicas, host) : new FullReplication(host);
}

/** Every live member owns every key. */
export class FullReplication implements Distribution {
  /** Every node holds every key. */
  readonly replicas = 0;
  /** Replicas hold the same records. */
  readonly wholeStore = true;
  readonly #host: DistributionHost;
  // Rebuilt after a membership change only: a write looks it up.
  #owners: KeyOwners | undefined;
  // One rendezvous owner per bucket: the primaries (rebuilt lazily after a change).
  #primaries: Placement | undefined;

  /** A full-replication view of `host`'s peers. */
  constructor(host: DistributionHost) {
    this.#host = host;
  }

  /** This node and every live peer. */
  ownersOf(): KeyOwners {
    return this.#owners ??= {
      self: true,
      peers: [...this.#host.peers.values()].map((p) => p.peer),
      former: [],
    };
  }

  /** The first rendezvous owner of the key's bucket among this node and its live peers. */
  primaryOf(key: string): PeerAddress | undefined {
    const host = this.#host;
    const name = this.#primaryPlacement().owners(host.ctx.store.bucketOf(key))[0];
    return name === host.ctx.name ? undefined : host.peers.get(name)?.peer;
  }

  /** The primary of every bucket (every node holds every key). */
  ownerTable(): OwnerTable {
    const placement = this.#primaryPlacement();
    return {
      replicas: 0,
      buckets: placement.buckets,
      members: placement.members,
      perBucket: 1,
      owners: placement.ownerTable(),
    };
  }

  #primaryPlacement(): Placement {
    const host = this.#host;
    return this.#primaries ??= new Placement(
      [host.ctx.name, ...host.peers.keys()],
      1,
      host.ctx.store.bucketCount,
    );
  }

  /** Forgets the cached owners and primaries. */
  viewChanged(): void {
    this.#owners = undefined;
    this.#primaries = undefined;
  }

  /** Nothing to run. */
  start(): void {}

  /** Nothing to stop. */
  close(): void {}

  /** Nothing to hand over: every peer holds everything. */
  handOverBeforeLeaving(): Promise<number> {
    return Promise.resolve(0);
  }

  /** Nothing to hand over. */
  leave(): Promise<undefined> {
    return Promise.resolve(undefined);
  }

  /** No partition counters. */
  stats(): undefined {
    return undefined;
  }

  /** No placement to show. */
  ring(): undefined {
    return undefined;
  }
}

/** N owners per bucket among the live members; see the module doc. */
export class Partitioning implements Distribution {
  /** Copies of each key. */
  readonly replicas: number;
  /** Stores differ by design; rounds compare shared buckets. */
  readonly wholeStore = false;
  readonly #host: DistributionHost;
  readonly #name: string;
  // Owners for the current live members (rebuilt lazily after a change).
  #placement: Placement | undefined;
  // Earlier placements of the last FORMER_PLACEMENT_MS, newest first, with when they ended.
  #former: { placement: Placement; until: number }[] = [];
  readonly #handOff: HandOffStats = { passes: 0, buckets: 0, records: 0, retained: 0 };
  #handOffTimer: TimerId | undefined;
  #handingOff = false;
  #closed = false;

  // When this node started: before it has seen placements for FORMER_PLACEMENT_MS, it cannot
  // name a key's former owners, so every key counts as moved (see ownersOf).
  readonly #startedAt: number;

  /** `replicas` (≥ 1) copies per key among `host`'s live members. */
  constructor(replicas: number, host: DistributionHost) {
    this.replicas = replicas;
    this.#host = host;
    this.#name = host.ctx.name;
    this.#startedAt = host.clock.now();
  }

  /** Owners of every bucket among the live members. */
  get placement(): Placement {
    return this.#placement ??= new Placement(
      [this.#name, ...this.#host.peers.keys()],
      this.replicas,
      this.#host.ctx.store.bucketCount,
    );
  }

  /** The owners of `key` and, unless `withFormer` is false, its recent former owners. */
  ownersOf(key: string, withFormer = true): KeyOwners {
    const peers = this.#host.peers;
    const bucket = this.#host.ctx.store.bucketOf(key);
    const out: KeyOwners = { self: false, peers: [], former: [] };
    const owners = this.placement.owners(bucket);
    for (const name of owners) {
      if (name === this.#name) out.self = true;
      else {
        const known = peers.get(name);
        if (known) out.peers.push(known.peer);
      }
    }
    if (!withFormer) return out;
    // A node that started lately does not know where keys lived before it came (members that
    // held a bucket before it joined may still hold keys not yet handed to their owners): a read
    // that its owners miss asks the other members too, as for a key whose bucket moved.
    if (this.#host.clock.now() - this.#startedAt < FORMER_PLACEMENT_MS) out.moved = true;
    for (const { placement: earlier } of this.#former) {
      for (const name of earlier.owners(bucket)) {
        if (!owners.includes(name)) out.moved = true;
        const known = peers.get(name);
        if (!known || owners.includes(name) || out.former.includes(known.peer)) continue;
        out.former.push(known.peer);
      }
    }
    if (out.moved) {
      out.others = [];
      for (const [name, { peer }] of peers) {
        if (!owners.includes(name) && !out.former.includes(peer)) out.others.push(peer);
      }
    }
    return out;
  }

  /** The first owner of the key's bucket; `undefined` for this node. */
  primaryOf(key: string): PeerAddress | undefined {
    const name = this.placement.owners(this.#host.ctx.store.bucketOf(key))[0];
    return name === this.#name ? undefined : this.#host.peers.get(name)?.peer;
  }

  /** The buckets both this node and `peer` own (what their anti-entropy rounds compare). */
  bucketsWith(peer: string): Uint8Array {
    return this.placement.sharedBuckets(this.#name, peer);
  }

  /** Owners move: compare shared buckets with everyone soon, hand off the rest. */
  viewChanged(): void {
    if (this.#closed) return;
    const host = this.#host;
    const now = host.clock.now();
    // Built if nobody asked since the last change: every membership a key may have moved under.
    this.#former.unshift({ placement: this.placement, until: now });
    this.#former = this.#former.filter((f) => now - f.until < FORMER_PLACEMENT_MS).slice(0, 8);
    this.#placement = undefined;
    if (host.synced()) {
      for (const name of host.peers.keys()) host.requestRound(name, REBALANCE_DELAY_MS);
    } else {
      host.retryInitialCopy();
    }
    this.#handOffSoon(REBALANCE_DELAY_MS);
  }

  /** Starts the periodic hand-off passes. */
  start(): void {
    this.#handOffSoon(this.#host.intervalMs);
  }

  /** Stops the hand-off timer. Idempotent. */
  close(): void {
    this.#closed = true;
    if (this.#handOffTimer !== undefined) this.#host.clock.clearTimeout(this.#handOffTimer);
    this.#handOffTimer = undefined;
  }

  #handOffSoon(delayMs: number): void {
    if (this.#closed || this.#handOffTimer !== undefined) return;
    this.#handOffTimer = this.#host.clock.setTimeout(() => {
      this.#handOffTimer = undefined;
      void this.handOff();
    }, delayMs);
  }

  /**
   * Sends the buckets this node holds but does not own to their owners and drops them once every
   * owner confirmed (see `hand_off.ts`). Runs after membership changes and every anti-entropy
   * period; one pass at a time.
   */
  async handOff(): Promise<void> {
    const host = this.#host;
    if (this.#handingOff || this.#closed || !host.synced()) return;
    const placement = this.placement;
    this.#handingOff = true;
    try {
      await handOffBuckets(
        host.ctx,
        placement,
        (name) => host.peers.get(name)?.peer,
        () => this.#placement === placement && !this.#closed,
        this.#handOff,
      );
    } catch (err) {
      host.log.warn("hand-off failed", { err });
    } finally {
      this.#handingOff = false;
      if (!this.#closed) this.#handOffSoon(host.intervalMs);
    }
  }

  /**
   * Sends each bucket this node owns to the members that will own it once this node is gone
   * (see `hand_off.ts`); resolves with the records sent (0 alone).
   */
  async handOverBeforeLeaving(): Promise<number> {
    const host = this.#host;
    if (this.#closed || host.peers.size === 0) return 0;
    const placement = this.placement;
    const without = new Placement(host.peers.keys(), this.replicas, placement.buckets);
    return await handOverBeforeLeaving(
      host.ctx,
      placement,
      without,
      (name) => host.peers.get(name)?.peer,
    );
  }

  /** The hand-over, for at most {@link HAND_OVER_TIMEOUT_MS}: "N records sent", "timed out". */
  async leave(): Promise<string> {
    const clock = this.#host.clock;
    let timer: TimerId | undefined;
    const deadline = new Promise<string>((resolve) => {
      timer = clock.setTimeout(() => resolve("timed out"), HAND_OVER_TIMEOUT_MS);
    });
    const outcome = await Promise.race([
      this.handOverBeforeLeaving().then((n) => `${n} records sent`, (err) => String(err)),
      deadline,
    ]);
    if (timer !== undefined) clock.clearTimeout(timer);
    return outcome;
  }

  /** Copies per key, buckets owned here, hand-offs. */
  stats(): PartitionedStats {
    return {
      replicas: this.replicas,
      ownedBuckets: this.placement.load().get(this.#name)?.owned ?? 0,
      handOff: { ...this.#handOff },
    };
  }

  /** The N owners of every bucket. */
  ownerTable(): OwnerTable {
    const placement = this.placement;
    return {
      replicas: this.replicas,
      buckets: placement.buckets,
      members: placement.members,
      perBucket: placement.replicas,
      owners: placement.ownerTable(),
    };
  }

  /**
   * Key placement as `GET /cluster/ring` shows it: copies per key, buckets per member (as any
   * copy and as first owner) with the balance (max/mean), and the owners of `key` if given.
   */
  ring(key?: string): Record<string, unknown> {
    const placement = this.placement;
    const load = placement.load();
    const owned = [...load.values()].map((l) => l.owned);
    const mean = owned.reduce((a, b) => a + b, 0) / Math.max(1, owned.length);
    const out: Record<string, unknown> = {
      replicas: placement.replicas,
      buckets: placement.buckets,
      members: [...load].map(([name, l]) => ({ name, buckets: l.owned, primary: l.primary })),
      balance: { maxOverMean: mean > 0 ? Math.round(1000 * Math.max(...owned) / mean) / 1000 : 1 },
    };
    if (key !== undefined) {
      const bucket = this.#host.ctx.store.bucketOf(key);
      out.key = { key, bucket, owners: placement.owners(bucket) };
    }
    return out;
  }
}

/**
 * Read repair (partitioned mode): gives `record`, found at another node, to owners of its key
 * that missed it: this node (`self`) and `peers`, in the background, last writer wins.
 */
export function readRepair(
  ctx: SyncContext,
  log: Logger,
  record: KeyedRecord,
  peers: PeerAddress[],
  self: boolean,
): void {
  if (self) applyRecords(ctx, [record]);
  for (const peer of peers) {
    pushRecords(ctx, peer, [record]).catch((err) =>
      log.debug("read repair failed", { member: peer.name, err })
    );
  }
}
