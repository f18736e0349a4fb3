/**
 * `PeerSender`: the fast path to one peer. Writes are queued (already encoded, the same bytes
 * for every peer) and sent in batches: a batch leaves as soon as fewer than `maxInFlight`
 * requests to the peer are open (after `flushDelayMs` if set), and takes everything queued up
 * to `maxBatchRecords`/`maxBatchBytes`, so a quiet node sends each write at once and a busy one
 * sends fewer, larger requests. A failed batch is retried with backoff (50 ms doubling to 1 s)
 * up to `maxAttempts`, then dropped; a 4xx answer (the peer refused the content) drops it at
 * once. The queue is bounded: when `maxBacklogBytes` would be exceeded the whole backlog is
 * dropped and counted, and anti-entropy repairs the peer later, so a slow or dead peer can
 * neither block writes nor grow memory without bound.
 *
 * @module
 */

import type { Clock, TimerId } from "../util/clock.ts";
import { LagWindow } from "./_lag_window.ts";
import type { PeerAddress, ReplicationTransport } from "./transport.ts";
import { PeerRequestError } from "./transport.ts";
import type { AckWaiter, PeerOutcome } from "./write_acks.ts";

/** One encoded write, shared by every peer's queue. */
export interface OutgoingRecord {
  /** The record tuple, msgpack-encoded (writer = name index 0). */
  readonly bytes: Uint8Array;
  /** The write's waiter when the client asked for acknowledgements. */
  readonly waiter?: AckWaiter;
  /** When it was queued (`performance.now()`), for the queue-wait figures. */
  readonly at: number;
}

/** Counters shared by all senders of a node (totals survive senders). */
export interface SenderCounters {
  /** Batches answered 200. */
  batchesSent: number;
  /** Records in those batches. */
  recordsSent: number;
  /** Bytes of those batches. */
  bytesSent: number;
  /** Requests that failed (each attempt). */
  sendFailures: number;
  /** Records dropped: backlog over the limit, attempts exhausted, or refused by the peer. */
  droppedRecords: number;
  /** Times a backlog was dropped for exceeding the limit. */
  backlogDrops: number;
}

/** Settings of a {@link PeerSender}. */
export interface PeerSenderOptions {
  /** The peer. */
  peer: PeerAddress;
  /** How requests reach it. */
  transport: ReplicationTransport;
  /** Timers for flush delay, backoff and deadlines. */
  clock: Clock;
  /** Builds a request body from encoded records. */
  encodeBatch(records: Uint8Array[]): Uint8Array;
  /** Shared counters. */
  counters: SenderCounters;
  /** Called when records for this peer were lost, so anti-entropy can repair it. */
  onLoss(peer: string): void;
  /** Most bytes queued (in flight included) before the backlog is dropped. @default 64 MiB */
  maxBacklogBytes?: number;
  /** Wait before a batch leaves, ms (0 = at once). @default 0 */
  flushDelayMs?: number;
  /** Most records per batch. @default 4096 */
  maxBatchRecords?: number;
  /** Most record bytes per batch (a single larger record goes alone). @default 1 MiB */
  maxBatchBytes?: number;
  /** Requests open at once to this peer. @default 2 */
  maxInFlight?: number;
  /** Attempts per batch before it is dropped. @default 3 */
  maxAttempts?: number;
  /** Deadline of one request, ms. @default 3000 */
  timeoutMs?: number;
}

/** Gauges and counters of one peer's sender. */
export interface PeerSenderStats {
  /** Records waiting (not in flight). */
  queued: number;
  /** Bytes queued, in flight included. */
  backlogBytes: number;
  /** Requests open. */
  inFlight: number;
  /** Batches answered 200. */
  batches: number;
  /** Records in those batches. */
  records: number;
  /** Failed attempts. */
  failures: number;
  /** Records dropped. */
  dropped: number;
  /** Round trip of recent batches (send → answered), ms. */
  rttMs: { p50: number; p99: number; max: number };
  /** Time recent records waited in the queue before their batch left, ms. */
  waitMs: { p50: number; p99: number; max: number };
  /** Last error, if any. */
  lastError?: string;
}

/** The bounded, batching queue and sender loop for one peer. */
export class PeerSender {
  /** The peer this sender serves. */
  peer: PeerAddress;
  readonly #o: Required<Omit<PeerSenderOptions, "peer">>;
  // The records themselves (shared with the other peers' queues): no wrapper per record.
  #queue: OutgoingRecord[] = [];
  // Attempts made so far for records that failed and wait to be sent again (fresh ones: 0).
  readonly #attempts = new Map<OutgoingRecord, number>();
  #head = 0;
  #backlogBytes = 0;
  #inFlight = 0;
  #scheduled = false;
  #backoffUntil = 0;
  #consecutiveFailures = 0;
  #timer: TimerId | undefined;
  #closed = false;
  // Measurements only (performance.now, sub-millisecond); no behaviour depends on them.
  readonly #rtt = new LagWindow(256);
  readonly #wait = new LagWindow(1024);
  #stats = {
    batches: 0,
    records: 0,
    failures: 0,
    dropped: 0,
    lastError: undefined as string | undefined,
  };

  /** Creates an idle sender. */
  constructor(options: PeerSenderOptions) {
    this.peer = options.peer;
    this.#o = {
      maxBacklogBytes: 64 * 1024 * 1024,
      flushDelayMs: 0,
      maxBatchRecords: 4096,
      maxBatchBytes: 1024 * 1024,
      maxInFlight: 2,
      maxAttempts: 3,
      timeoutMs: 3000,
      ...options,
    };
  }

  /** Queues a write; it is sent with the next batch. Returns false if it was refused. */
  enqueue(record: OutgoingRecord): boolean {
    if (this.#closed) {
      record.waiter?.report(this.peer.name, "gone");
      return false;
    }
    const size = record.bytes.byteLength;
    if (this.#backlogBytes + size > this.#o.maxBacklogBytes) this.#dropBacklog();
    this.#queue.push(record);
    this.#backlogBytes += size;
    this.#schedule();
    return true;
  }

  /** Gauges and counters. */
  stats(): PeerSenderStats {
    const { lastError, ...counts } = this.#stats;
    return {
      queued: this.#queue.length - this.#head,
      backlogBytes: this.#backlogBytes,
      inFlight: this.#inFlight,
      ...counts,
      rttMs: summary(this.#rtt),
      waitMs: summary(this.#wait),
      ...(lastError ? { lastError } : {}),
    };
  }

  /** Stops sending; queued writes are abandoned (their waiters hear "gone"). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#o.clock.clearTimeout(this.#timer);
    for (const q of this.#take(Infinity)) q.waiter?.report(this.peer.name, "gone");
    this.#queue = [];
    this.#head = 0;
    this.#attempts.clear();
  }

  #schedule(): void {
    if (this.#scheduled || this.#closed || this.#inFlight >= this.#o.maxInFlight) return;
    if (this.#head >= this.#queue.length) return;
    const wait = Math.max(this.#o.flushDelayMs, this.#backoffUntil - this.#o.clock.now());
    this.#scheduled = true;
    if (wait <= 0) {
      queueMicrotask(() => this.#flush());
    } else {
      this.#timer = this.#o.clock.setTimeout(() => this.#flush(), wait);
    }
  }

  #flush(): void {
    this.#scheduled = false;
    this.#timer = undefined;
    if (this.#closed) return;
    while (this.#inFlight < this.#o.maxInFlight && this.#head < this.#queue.length) {
      if (this.#backoffUntil > this.#o.clock.now()) break;
      this.#inFlight++;
      this.#send(this.#take(this.#o.maxBatchRecords, this.#o.maxBatchBytes));
    }
    this.#schedule();
  }

  // Removes up to `maxRecords`/`maxBytes` (at least one record) from the head of the queue.
  #take(maxRecords: number, maxBytes = Infinity): OutgoingRecord[] {
    const q = this.#queue;
    let end = this.#head;
    let bytes = 0;
    while (end < q.length && end - this.#head < maxRecords) {
      const size = q[end].bytes.byteLength;
      if (end > this.#head && bytes + size > maxBytes) break;
      bytes += size;
      end++;
    }
    const batch = q.slice(this.#head, end);
    this.#head = end;
    if (this.#head === q.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > q.length) {
      this.#queue = q.slice(this.#head);
      this.#head = 0;
    }
    return batch;
  }

  async #send(batch: OutgoingRecord[]): Promise<void> {
    const o = this.#o;
    const name = this.peer.name;
    let bytes = 0;
    const parts: Uint8Array[] = new Array(batch.length);
    for (let i = 0; i < batch.length; i++) {
      parts[i] = batch[i].bytes;
      bytes += parts[i].byteLength;
    }
    try {
      const body = o.encodeBatch(parts);
      const started = performance.now();
      for (const q of batch) this.#wait.add(started - q.at);
      await o.transport.request(this.peer, "replicate", body, o.timeoutMs);
      this.#rtt.add(performance.now() - started);
      this.#consecutiveFailures = 0;
      this.#stats.batches++;
      this.#stats.records += batch.length;
      o.counters.batchesSent++;
      o.counters.recordsSent += batch.length;
      o.counters.bytesSent += body.byteLength;
      this.#backlogBytes -= bytes;
      if (this.#attempts.size > 0) { for (const q of batch) this.#attempts.delete(q); }
      for (const q of batch) q.waiter?.report(name, "ack");
    } catch (err) {
      this.#onFailure(batch, bytes, err);
    } finally {
      this.#inFlight--;
      this.#schedule();
    }
  }

  #onFailure(batch: OutgoingRecord[], bytes: number, err: unknown): void {
    const o = this.#o;
    this.#stats.failures++;
    this.#stats.lastError = (err as Error)?.message ?? String(err);
    o.counters.sendFailures++;
    const retryable = !(err instanceof PeerRequestError) || err.retryable;
    const attempts = (this.#attempts.get(batch[0]) ?? 0) + 1;
    if (this.#closed || !retryable || attempts >= o.maxAttempts) {
      this.#backlogBytes -= bytes;
      this.#lose(batch, this.#closed ? "gone" : "failed");
      return;
    }
    this.#consecutiveFailures++;
    const backoff = Math.min(1000, 50 * 2 ** (this.#consecutiveFailures - 1));
    this.#backoffUntil = o.clock.now() + backoff;
    for (const q of batch) this.#attempts.set(q, attempts);
    // Back at the head: still counted in the backlog, sent again after the backoff.
    this.#queue = [...batch, ...this.#queue.slice(this.#head)];
    this.#head = 0;
  }

  #dropBacklog(): void {
    const dropped = this.#take(Infinity);
    if (dropped.length === 0) return;
    for (const q of dropped) this.#backlogBytes -= q.bytes.byteLength;
    this.#o.counters.backlogDrops++;
    this.#lose(dropped, "dropped");
  }

  #lose(batch: OutgoingRecord[], outcome: PeerOutcome): void {
    if (outcome !== "gone") {
      this.#stats.dropped += batch.length;
      this.#o.counters.droppedRecords += batch.length;
      this.#o.onLoss(this.peer.name);
    }
    if (this.#attempts.size > 0) { for (const q of batch) this.#attempts.delete(q); }
    for (const q of batch) q.waiter?.report(this.peer.name, outcome);
  }
}

function summary(w: LagWindow): { p50: number; p99: number; max: number } {
  const { p50, p99, max } = w.summary();
  const round = (ms: number) => Math.round(ms * 100) / 100;
  return { p50: round(p50), p99: round(p99), max: round(max) };
}
