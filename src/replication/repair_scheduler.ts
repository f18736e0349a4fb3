/**
 * `RepairScheduler`: when and with whom digest exchanges run. It copies the data set from a
 * peer once when the node starts with seeds (the node is not ready until then), runs a periodic
 * anti-entropy round with a random live peer every `intervalMs` (±10 % jitter), and runs extra
 * rounds soon after a reason appears: a peer whose push/pull digest differs from ours, a member
 * that joined, a peer whose fast-path backlog was dropped. Exchanges never overlap.
 *
 * A peer that is still copying its own data set answers 503; it is asked again later. When
 * every live peer answers 503 three passes in a row the whole cluster is starting cold, and the
 * node stops waiting (nobody holds a data set to copy; anti-entropy merges whatever appears).
 *
 * @module
 */

import type { Clock, TimerId } from "../util/clock.ts";
import type { Logger } from "../util/log.ts";
import { type Random, shuffle } from "../util/random.ts";
import { emptyOutcome, type SyncContext, type SyncOutcome, syncWithPeer } from "./digest_sync.ts";
import { type PeerAddress, PeerRequestError } from "./transport.ts";
import { bucketMaskSize } from "./placement.ts";

/** Settings of a {@link RepairScheduler}. */
export interface RepairSchedulerOptions {
  /** The exchange's context. */
  ctx: SyncContext;
  /** Timers. */
  clock: Clock;
  /** Peer choice and jitter. */
  random: Random;
  /** Logger. */
  log: Logger;
  /** Live peers (never this node). */
  livePeers(): PeerAddress[];
  /** Period of anti-entropy rounds, ms. */
  intervalMs: number;
  /** Copy the data set from a peer before reporting ready. */
  initialSync: boolean;
  /** Bucket ranges of the initial copy. @default 16 */
  joinRanges?: number;
  /** Ranges fetched at once during the initial copy. @default 2 */
  joinConcurrency?: number;
  /**
   * Partitioned mode: the buckets to compare with `peer` (a bitmap; see
   * `Placement.sharedBuckets`), or `undefined` for every bucket. A peer sharing no bucket is
   * skipped, and the initial copy runs with every peer instead of the first that answers.
   * @default every bucket with every peer
   */
  bucketsWith?(peer: string): Uint8Array | undefined;
}

/** State of the initial copy. */
export type InitialSyncState = "not-needed" | "waiting" | "running" | "done";

/** Counters of the scheduler. */
export interface RepairStats {
  /** Anti-entropy rounds completed. */
  rounds: number;
  /** Rounds that failed (peer unreachable, bad answer). */
  failures: number;
  /** Rounds skipped because the peer was still copying its data set. */
  notReady: number;
  /** Buckets found differing. */
  buckets: number;
  /** Records received that won here. */
  repairedIn: number;
  /** Records pushed to peers that lacked them. */
  repairedOut: number;
  /** Duration of the last round, ms. */
  lastRoundMs: number;
  /** The initial copy. */
  initialSync: { state: InitialSyncState; peer?: string; records: number; ms: number };
}

const SOON_MS = 200;
const RETRY_MS = 1000;
const COLD_START_PASSES = 3;

/** Schedules initial copy and anti-entropy rounds; see the module doc. */
export class RepairScheduler {
  readonly #o: RepairSchedulerOptions;
  readonly #due = new Map<string, number>();
  readonly #stats: RepairStats;
  #periodic: TimerId | undefined;
  #soon: TimerId | undefined;
  #soonAt = Infinity;
  // Set while an exchange runs; resolves when it ends (exchanges never overlap).
  #idle: Promise<void> | undefined;
  #stopped = true;
  #coldPasses = 0;
  #initialStarted = 0;

  /** Creates a stopped scheduler. */
  constructor(options: RepairSchedulerOptions) {
    this.#o = options;
    this.#stats = {
      rounds: 0,
      failures: 0,
      notReady: 0,
      buckets: 0,
      repairedIn: 0,
      repairedOut: 0,
      lastRoundMs: 0,
      initialSync: { state: options.initialSync ? "waiting" : "not-needed", records: 0, ms: 0 },
    };
  }

  /** Whether this node holds the data set (no copy needed, or the copy is done). */
  get synced(): boolean {
    const s = this.#stats.initialSync.state;
    return s === "done" || s === "not-needed";
  }

  /** Counters (a copy). */
  stats(): RepairStats {
    return { ...this.#stats, initialSync: { ...this.#stats.initialSync } };
  }

  /** Starts the periodic rounds and, if needed, the initial copy. */
  start(): void {
    if (!this.#stopped) return;
    this.#stopped = false;
    this.#armPeriodic();
    this.#wake(0);
  }

  /** Stops timers; a running exchange finishes its current request. */
  stop(): void {
    this.#stopped = true;
    if (this.#periodic !== undefined) this.#o.clock.clearTimeout(this.#periodic);
    if (this.#soon !== undefined) this.#o.clock.clearTimeout(this.#soon);
    this.#periodic = this.#soon = undefined;
    this.#soonAt = Infinity;
  }

  /** Asks for a round with `peer` in about `delayMs` (the earliest request wins). */
  requestRound(peer: string, delayMs = SOON_MS): void {
    const at = this.#o.clock.now() + delayMs;
    const prior = this.#due.get(peer);
    if (prior === undefined || at < prior) this.#due.set(peer, at);
    this.#wake(delayMs);
  }

  /** A peer became live: an initial copy waiting for one can begin. */
  peerUp(): void {
    if (this.#stats.initialSync.state === "waiting") this.#wake(0);
  }

  /** Runs one anti-entropy round with `peer` now (waits for a running one first). */
  async roundWith(peer: PeerAddress): Promise<SyncOutcome> {
    while (this.#idle) await this.#idle;
    const done = Promise.withResolvers<void>();
    this.#idle = done.promise;
    try {
      return await this.#round(peer);
    } finally {
      this.#idle = undefined;
      done.resolve();
      this.#rearm();
    }
  }

  #armPeriodic(): void {
    if (this.#stopped) return;
    const jitter = 0.9 + 0.2 * this.#o.random.next();
    this.#periodic = this.#o.clock.setTimeout(() => {
      const peers = this.#o.livePeers();
      if (peers.length > 0 && this.synced) {
        const p = peers[Math.floor(this.#o.random.next() * peers.length)];
        this.requestRound(p.name, 0);
      }
      this.#armPeriodic();
    }, this.#o.intervalMs * jitter);
  }

  #wake(delayMs: number): void {
    if (this.#stopped) return;
    const at = this.#o.clock.now() + Math.max(0, delayMs);
    if (at >= this.#soonAt) return;
    if (this.#soon !== undefined) this.#o.clock.clearTimeout(this.#soon);
    this.#soonAt = at;
    this.#soon = this.#o.clock.setTimeout(() => {
      this.#soon = undefined;
      this.#soonAt = Infinity;
      void this.#run();
    }, Math.max(0, delayMs));
  }

  async #run(): Promise<void> {
    if (this.#idle || this.#stopped) return;
    const done = Promise.withResolvers<void>();
    this.#idle = done.promise;
    try {
      if (this.#stats.initialSync.state === "waiting") await this.#initialCopy();
      if (!this.synced) return;
      for (let next = this.#nextDue(); next && !this.#stopped; next = this.#nextDue()) {
        await this.#round(next).catch(() => {});
      }
    } finally {
      this.#idle = undefined;
      done.resolve();
      this.#rearm();
    }
  }

  #rearm(): void {
    if (this.#stats.initialSync.state === "waiting" && this.#o.livePeers().length > 0) {
      this.#wake(RETRY_MS);
    }
    let earliest = Infinity;
    for (const at of this.#due.values()) earliest = Math.min(earliest, at);
    if (earliest < Infinity) this.#wake(earliest - this.#o.clock.now());
  }

  // The due peer with the earliest time, if it is still live; forgets peers that are gone.
  #nextDue(): PeerAddress | undefined {
    const now = this.#o.clock.now();
    const live = new Map(this.#o.livePeers().map((p) => [p.name, p]));
    let best: PeerAddress | undefined;
    let bestAt = Infinity;
    for (const [name, at] of this.#due) {
      const peer = live.get(name);
      if (!peer) this.#due.delete(name);
      else if (at <= now && at < bestAt) [best, bestAt] = [peer, at];
    }
    if (best) this.#due.delete(best.name);
    return best;
  }

  async #round(peer: PeerAddress): Promise<SyncOutcome> {
    const started = this.#o.clock.now();
    const s = this.#stats;
    const only = this.#o.bucketsWith?.(peer.name);
    if (only && bucketMaskSize(only) === 0) return emptyOutcome(); // nothing shared
    try {
      const out = await syncWithPeer(this.#o.ctx, peer, only ? { only } : {});
      s.rounds++;
      s.buckets += out.buckets;
      s.repairedIn += out.applied;
      s.repairedOut += out.pushed;
      s.lastRoundMs = this.#o.clock.now() - started;
      if (out.applied + out.pushed > 0) {
        this.#o.log.debug("anti-entropy repaired", { member: peer.name, ...out });
      }
      return out;
    } catch (err) {
      if (err instanceof PeerRequestError && err.notReady) {
        s.notReady++;
        this.requestRound(peer.name, RETRY_MS);
      } else {
        s.failures++;
        this.#o.log.debug("anti-entropy round failed", { member: peer.name, err });
      }
      throw err;
    }
  }

  /**
   * Copies the data set: from the first live peer that answers, or, in partitioned mode, the
   * buckets shared with each live peer from every one of them (one pass must reach them all).
   */
  async #initialCopy(): Promise<void> {
    const peers = shuffle(this.#o.random, this.#o.livePeers());
    if (peers.length === 0) return;
    const init = this.#stats.initialSync;
    init.state = "running";
    this.#initialStarted ||= this.#o.clock.now();
    const fromEvery = this.#o.bucketsWith !== undefined;
    let notReady = 0, failed = 0, records = 0;
    for (const peer of peers) {
      const only = this.#o.bucketsWith?.(peer.name);
      if (only && bucketMaskSize(only) === 0) continue;
      init.peer = peer.name;
      try {
        const out = await syncWithPeer(this.#o.ctx, peer, {
          ranges: this.#o.joinRanges ?? 16,
          concurrency: this.#o.joinConcurrency ?? 2,
          ...(only ? { only } : {}),
        });
        records += out.received;
        if (!fromEvery) break;
      } catch (err) {
        if (err instanceof PeerRequestError && err.notReady) notReady++;
        else {
          failed++;
          this.#o.log.warn("cannot copy data set", { member: peer.name, err });
        }
        if (!fromEvery) continue;
      }
    }
    const copied = fromEvery
      ? notReady + failed === 0
      : records > 0 || notReady + failed < peers.length;
    if (copied) {
      init.state = "done";
      init.records = records;
      init.ms = this.#o.clock.now() - this.#initialStarted;
      this.#o.log.info("data set copied", { member: init.peer, records, ms: init.ms });
      return;
    }
    this.#coldPasses = failed === 0 && notReady > 0 ? this.#coldPasses + 1 : 0;
    if (this.#coldPasses >= COLD_START_PASSES) {
      init.state = "done";
      init.ms = this.#o.clock.now() - this.#initialStarted;
      this.#o.log.info("every peer is still starting: serving without a copy", {
        peers: peers.length,
      });
      return;
    }
    init.state = "waiting";
  }
}
