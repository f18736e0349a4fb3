/**
 * `Replicator`: the cache side of a node's replication. It publishes local writes to every live
 * peer through one {@link PeerSender} each, applies batches and sync requests from peers,
 * waits for acknowledgements when a client asks, contributes a digest to memberlist push/pull,
 * and owns the {@link RepairScheduler} (initial copy, anti-entropy). It never sees sockets:
 * requests go through a {@link ReplicationTransport}, membership arrives as peer events.
 *
 * Over 400 lines: the engine's state (senders, counters, distribution, scheduler) in one class;
 * its mechanisms live in their own files (`peer_sender.ts`, `digest_sync.ts`, `partitioning.ts`,
 * `cluster_ops.ts`).
 *
 * @module
 */

import type { StoredEntry, StoreRecord, TtlStore } from "../store/mod.ts";
import { type Clock, systemClock } from "../util/clock.ts";
import { DeadlineQueue } from "../util/deadlines.ts";
import { hlcPhysicalMs, type HybridLogicalClock } from "../util/hlc.ts";
import { type Logger, silentLogger } from "../util/log.ts";
import { systemRandom } from "../util/random.ts";
import { LagWindow } from "./_lag_window.ts";
import {
  DEFAULT_REPLICATION_SETTINGS,
  type ReplicationSettings,
  type ReplicationStats,
  type ReplicatorOptions,
} from "./replicator_options.ts";
import { BASE_WIRE_FORMAT, ReplicationCodec } from "./codec.ts";
import { answerSync, type SyncContext, type SyncOutcome } from "./digest_sync.ts";
import {
  type OutgoingRecord,
  PeerSender,
  type PeerSenderStats,
  type SenderCounters,
} from "./peer_sender.ts";
import { RepairScheduler } from "./repair_scheduler.ts";
import { decodePushPullState, decodeSyncRequest, encodePushPullState } from "./sync_messages.ts";
import type { PeerAddress, ReplicationTransport } from "./transport.ts";
import { type AckCounters, type AckRequirement, AckWaiter } from "./write_acks.ts";
import { type Distribution, distributionFor, type KeyOwners, readRepair } from "./partitioning.ts";
import {
  type ClusterPurgeRequest,
  decodeListRequest,
  decodePurgeRequest,
  encodeListAnswer,
  encodePurgeAnswer,
  type ListAnswer,
  type ListRequest,
  NotServedError,
  requestList,
  requestPurge,
} from "./cluster_ops.ts";
import {
  decodeReadAnswer,
  decodeReadRequest,
  encodeReadAnswer,
  encodeReadRequest,
} from "./remote_read.ts";

/** A sync request arrived before this node holds the data set (HTTP 503). */
export class SyncNotReadyError extends Error {
  /** @param message why */
  constructor(message: string) {
    super(message);
    this.name = "SyncNotReadyError";
  }
}

/** The cache's replication engine; see the module doc. */
export class Replicator {
  readonly #name: string;
  readonly #store: TtlStore;
  readonly #hlc: HybridLogicalClock;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #settings: ReplicationSettings;
  readonly #transport: ReplicationTransport;
  readonly #codec: ReplicationCodec;
  readonly #scheduler: RepairScheduler;
  readonly #ctx: SyncContext;
  readonly #senders = new Map<string, PeerSender>();
  readonly #lag = new LagWindow();
  readonly #names: string[];
  readonly #counters: SenderCounters = {
    batchesSent: 0,
    recordsSent: 0,
    bytesSent: 0,
    sendFailures: 0,
    droppedRecords: 0,
    backlogDrops: 0,
  };
  readonly #received = { batches: 0, records: 0, applied: 0, rejected: 0, malformed: 0 };
  readonly #acks: AckCounters = { waited: 0, confirmed: 0, failed: 0 };
  // The deadlines of every write waiting for acknowledgements, on one timer.
  readonly #ackDeadlines: DeadlineQueue;
  // Who owns which keys: full replication or partitioned mode (`partitioning.ts`).
  readonly #distribution: Distribution;
  readonly #onList: ReplicatorOptions["onList"];
  readonly #onPurge: ReplicatorOptions["onPurge"];
  #closed = false;

  /** Creates a stopped replicator. */
  constructor(options: ReplicatorOptions) {
    this.#name = options.name;
    this.#names = [options.name];
    this.#store = options.store;
    this.#hlc = options.hlc;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? silentLogger).child({ component: "replication" });
    this.#settings = { ...DEFAULT_REPLICATION_SETTINGS, ...options.settings };
    this.#transport = options.transport;
    this.#onList = options.onList;
    this.#onPurge = options.onPurge;
    const s = this.#settings;
    this.#ackDeadlines = new DeadlineQueue(this.#clock, s.writeAckTimeoutMs);
    this.#codec = new ReplicationCodec({
      ...options.limits,
      maxMessageBytes: s.maxBatchBytes + options.limits.maxValueBytes +
        options.limits.maxKeyBytes + 64 * 1024,
    });
    const ctx: SyncContext = this.#ctx = {
      name: this.#name,
      store: this.#store,
      hlc: this.#hlc,
      codec: this.#codec,
      transport: this.#transport,
      timeoutMs: s.requestTimeoutMs,
      chunkBytes: s.syncChunkBytes,
      batchBytes: s.maxBatchBytes,
    };
    const distribution = this.#distribution = distributionFor(options.replicas ?? 0, {
      ctx,
      clock: this.#clock,
      log: this.#log,
      intervalMs: s.antiEntropyIntervalMs,
      peers: this.#senders,
      synced: () => this.#scheduler.synced,
      requestRound: (name, delayMs) => this.#scheduler.requestRound(name, delayMs),
      retryInitialCopy: () => this.#scheduler.peerUp(),
    });
    this.#scheduler = new RepairScheduler({
      ctx,
      clock: this.#clock,
      random: options.random ?? systemRandom,
      log: this.#log,
      livePeers: () => this.livePeers(),
      intervalMs: s.antiEntropyIntervalMs,
      initialSync: options.initialSync,
      joinRanges: s.joinRanges,
      joinConcurrency: s.joinConcurrency,
      ...(distribution.bucketsWith
        ? { bucketsWith: (peer: string) => distribution.bucketsWith!(peer) }
        : {}),
    });
  }

  /** Who owns which keys (full replication, or partitioned mode's placement). */
  get distribution(): Distribution {
    return this.#distribution;
  }

  /**
   * The owners of `key` (and, unless `withFormer` is false, its recent former owners): every
   * live member in full replication.
   */
  ownersOf(key: string, withFormer = true): KeyOwners {
    return this.#distribution.ownersOf(key, withFormer);
  }

  /**
   * The key's primary owner (see `partitioning.ts`), where conditional writes and counters are
   * decided; `undefined` when it is this node.
   */
  primaryOf(key: string): PeerAddress | undefined {
    return this.#distribution.primaryOf(key);
  }

  /** Largest message the internal routes accept, bytes. */
  get maxMessageBytes(): number {
    return this.#codec.limits.maxMessageBytes;
  }

  /**
   * Partitioned mode, before a graceful stop: sends each bucket this node owns to the members
   * that will own it once this node is gone; resolves with the records sent (0 in full
   * replication or alone).
   */
  handOverBeforeLeaving(): Promise<number> {
    return this.#closed ? Promise.resolve(0) : this.#distribution.handOverBeforeLeaving();
  }

  /**
   * Before a graceful stop: the hand-over, bounded in time; resolves with its outcome to log, or
   * `undefined` when there is nothing to hand over (full replication).
   */
  leave(): Promise<string | undefined> {
    return this.#closed ? Promise.resolve(undefined) : this.#distribution.leave();
  }

  /** Starts anti-entropy and, if needed, the initial copy. */
  start(): void {
    this.#scheduler.start();
    this.#distribution.start();
  }

  /** Stops timers, abandons queued writes and aborts requests in flight. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#scheduler.stop();
    this.#distribution.close();
    for (const s of this.#senders.values()) s.close();
    this.#senders.clear();
    this.#ackDeadlines.close();
    this.#transport.close();
  }

  /**
   * Sends a local write to the key's other owners (every live peer in full replication;
   * `knownOwners` when the request already looked them up). Returns a promise when `acks` is given (resolves once
   * that many replicas hold it, rejects with a `WriteAcksError`), else `undefined`.
   */
  publish(
    key: string,
    record: StoreRecord,
    acks?: AckRequirement,
    knownOwners?: KeyOwners,
  ): Promise<void> | undefined {
    if (this.#closed) return undefined;
    // Partitioned mode: this node may not be one of the owners.
    const owners = knownOwners ?? this.#distribution.ownersOf(key, false);
    const targets: PeerSender[] = [];
    for (const peer of owners.peers) {
      // An owner looked up before the body arrived may have gone meanwhile.
      const sender = this.#senders.get(peer.name);
      if (sender) targets.push(sender);
    }
    let waiter: AckWaiter | undefined;
    if (acks !== undefined) {
      const names: string[] = new Array(targets.length);
      for (let i = 0; i < targets.length; i++) names[i] = targets[i].peer.name;
      waiter = new AckWaiter(acks, names, this.#ackDeadlines, owners.self, this.#acks);
    }
    if (targets.length > 0) {
      const outgoing: OutgoingRecord = {
        bytes: this.#codec.encodeWrite(key, record, 0),
        waiter,
        at: performance.now(),
      };
      for (const sender of targets) sender.enqueue(outgoing);
    }
    return waiter?.promise;
  }

  /** A member is alive (or changed address): starts or updates its sender. */
  peerUp(peer: PeerAddress): void {
    if (this.#closed || peer.name === this.#name || !(peer.httpPort > 0)) return;
    const known = this.#senders.get(peer.name);
    if (known) {
      known.peer = peer;
      return;
    }
    const s = this.#settings;
    this.#senders.set(
      peer.name,
      new PeerSender({
        peer,
        transport: this.#transport,
        clock: this.#clock,
        encodeBatch: (records) => this.#codec.encodeBatch(this.#name, this.#names, records),
        counters: this.#counters,
        onLoss: (name) => this.#scheduler.requestRound(name, s.antiEntropyIntervalMs),
        maxBacklogBytes: s.backlogBytes,
        flushDelayMs: s.flushDelayMs,
        maxBatchRecords: s.maxBatchRecords,
        maxBatchBytes: s.maxBatchBytes,
        maxInFlight: s.maxInFlight,
        timeoutMs: s.requestTimeoutMs,
      }),
    );
    this.#log.debug("replicating to peer", { member: peer.name });
    this.#scheduler.peerUp();
    // Writes made elsewhere before that node knew the newcomer are repaired by a round soon.
    if (this.#scheduler.synced) this.#scheduler.requestRound(peer.name, 1000);
    this.#distribution.viewChanged();
  }

  /** A member died or left: its sender stops (waiting writes stop counting on it). */
  peerDown(name: string): void {
    const sender = this.#senders.get(name);
    if (!sender) return;
    this.#senders.delete(name);
    sender.close();
    this.#distribution.viewChanged();
  }

  /** Live peers with a known HTTP port. */
  livePeers(): PeerAddress[] {
    return [...this.#senders.values()].map((s) => s.peer);
  }

  /** Applies a batch from a peer (`POST /internal/replicate`); throws `TypeError` if malformed. */
  receiveBatch(body: Uint8Array): Uint8Array {
    let batch;
    try {
      batch = this.#codec.decodeBatch(body);
    } catch (err) {
      this.#received.malformed++;
      throw err;
    }
    const r = this.#received;
    r.batches++;
    r.records += batch.records.length;
    const fresh = batch.kind === "write";
    const now = this.#clock.now();
    for (const record of batch.records) {
      if (!this.#hlc.observe(record.version.hlc)) {
        r.rejected++;
        continue;
      }
      if (fresh) this.#lag.add(now - hlcPhysicalMs(record.version.hlc));
      if (this.#store.apply(record.key, record).applied) r.applied++;
    }
    return this.#codec.encode([BASE_WIRE_FORMAT, batch.records.length]);
  }

  /**
   * Answers a read of one key (`read` stream frames, `POST /internal/read`); a node-local value
   * reads as a miss.
   */
  read(body: Uint8Array): Uint8Array {
    let key;
    try {
      key = decodeReadRequest(this.#codec, body);
    } catch (err) {
      this.#received.malformed++;
      throw err;
    }
    // A node-local (X-Is-Sync) value is not the cluster's: other nodes never see it.
    const entry = this.#store.get(key);
    return encodeReadAnswer(this.#codec, this.#name, entry?.local ? undefined : entry);
  }

  /**
   * Reads `key` from `peer`'s store: its live record, or `undefined` on a miss. Rejects with a
   * `PeerRequestError` when the peer cannot be reached in time, a `TypeError` on a bad answer.
   */
  async readFrom(peer: PeerAddress, key: string): Promise<StoredEntry | undefined> {
    const body = encodeReadRequest(this.#codec, key);
    const answer = await this.#transport.request(
      peer,
      "read",
      body,
      this.#settings.requestTimeoutMs,
    );
    return decodeReadAnswer(this.#codec, answer, key);
  }

  /**
   * Read repair (partitioned mode): gives `record`, found at another node, to owners of its key
   * that missed it: this node (`self`) and `peers`, in the background, last writer wins.
   */
  readRepair(
    key: string,
    record: Omit<StoredEntry, "key">,
    peers: PeerAddress[],
    self: boolean,
  ): void {
    readRepair(this.#ctx, this.#log, { ...record, key }, peers, self);
  }

  /** Decodes a request with `decode`, counting a malformed one. */
  #decode<T>(decode: () => T): T {
    try {
      return decode();
    } catch (err) {
      this.#received.malformed++;
      throw err;
    }
  }

  /**
   * Answers a peer's `list` (`POST /internal/list`) with the node's `onList`; throws a
   * `TypeError` when malformed, a {@link NotServedError} without `onList`.
   */
  list(body: Uint8Array): Uint8Array {
    const r = this.#decode(() => decodeListRequest(this.#codec, body));
    if (!this.#onList) throw new NotServedError(`Node ${this.#name} does not serve list`);
    return encodeListAnswer(this.#codec, this.#onList(r.prefix, r.after, r.limit));
  }

  /**
   * Carries out a peer's `purge` (`POST /internal/purge`) with the node's `onPurge`; rejects
   * with a `TypeError` when malformed, a {@link NotServedError} without `onPurge`.
   */
  async purge(body: Uint8Array): Promise<Uint8Array> {
    const request = this.#decode(() => decodePurgeRequest(this.#codec, body));
    if (!this.#onPurge) throw new NotServedError(`Node ${this.#name} does not serve purge`);
    return encodePurgeAnswer(this.#codec, await this.#onPurge(request));
  }

  /**
   * A page of `peer`'s live keys (see `cluster_ops.ts`). Rejects with a `PeerRequestError` when
   * the peer cannot be reached in time, a `TypeError` on a bad answer.
   */
  listFrom(peer: PeerAddress, request: ListRequest): Promise<ListAnswer> {
    return requestList(this.#ctx, peer, request);
  }

  /**
   * Has `peer` delete the entries `request` names; resolves with how many live ones it held.
   * Rejects like {@link listFrom}.
   */
  purgeOn(peer: PeerAddress, request: ClusterPurgeRequest): Promise<number> {
    return requestPurge(this.#ctx, peer, request);
  }

  /** Answers a digest exchange (`POST /internal/sync`); see `digest_sync.ts`. */
  answerSync(body: Uint8Array): Uint8Array {
    let request;
    try {
      request = decodeSyncRequest(this.#codec, body);
    } catch (err) {
      this.#received.malformed++;
      throw err;
    }
    if (!this.#scheduler.synced) {
      throw new SyncNotReadyError(`Node ${this.#name} is still copying its data set`);
    }
    return answerSync(this.#ctx, request);
  }

  /** This node's push/pull state: name, store digest, readiness. */
  localState(): Uint8Array {
    return encodePushPullState(this.#codec, {
      name: this.#name,
      digest: this.#store.digest(),
      ready: this.#scheduler.synced,
    });
  }

  /** A peer's push/pull state: a differing digest asks for a round with it soon. */
  mergeRemoteState(state: Uint8Array): void {
    let remote;
    try {
      remote = decodePushPullState(this.#codec, state);
    } catch {
      this.#received.malformed++;
      return;
    }
    if (remote.name === this.#name) return;
    if (!this.#scheduler.synced) return this.#scheduler.peerUp();
    // Partitioned stores differ by design; their periodic rounds compare shared buckets.
    if (!this.#distribution.wholeStore) return;
    if (remote.ready && remote.digest !== this.#store.digest()) {
      this.#scheduler.requestRound(remote.name);
    }
  }

  /** Runs an anti-entropy round with the named live peer now. */
  antiEntropyWith(name: string): Promise<SyncOutcome> {
    const sender = this.#senders.get(name);
    if (!sender) return Promise.reject(new RangeError(`Cannot sync: unknown peer ${name}`));
    return this.#scheduler.roundWith(sender.peer);
  }

  /** Ready once the data set is here (or no copy is needed, or there is nobody to copy from). */
  readiness(): { ready: boolean; reason?: string } {
    if (this.#scheduler.synced || this.#senders.size === 0) return { ready: true };
    const init = this.#scheduler.stats().initialSync;
    return {
      ready: false,
      reason: init.state === "running"
        ? `copying the data set from ${init.peer}`
        : "waiting to copy the data set from a peer",
    };
  }

  /** Counters and gauges. */
  stats(): ReplicationStats {
    const peers: Record<string, PeerSenderStats> = {};
    for (const [name, s] of this.#senders) peers[name] = s.stats();
    const r = this.#received;
    const stats: ReplicationStats = {
      peers,
      ...this.#counters,
      batchesReceived: r.batches,
      recordsReceived: r.records,
      recordsApplied: r.applied,
      recordsRejected: r.rejected,
      malformed: r.malformed,
      acks: { ...this.#acks },
      antiEntropy: this.#scheduler.stats(),
      lagMs: this.#lag.summary(),
    };
    const partitioned = this.#distribution.stats();
    if (partitioned) stats.partitioned = partitioned;
    return stats;
  }
}
