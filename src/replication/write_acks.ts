/**
 * Waiting for a write's replicas (`X-Write-Acks`). The local replica counts as the first
 * confirmation (the write is applied before anything is sent); each peer that answers the batch
 * holding the write adds one. `all` means every member that was live when the write was made,
 * minus those that leave or die meanwhile (a dead member is no longer a live replica).
 *
 * @module
 */

import type { Deadline, DeadlineQueue } from "../util/deadlines.ts";

/** How many replicas must hold a write: a count (the local one included) or `"all"`. */
export type AckRequirement = number | "all";

/** What became of a write at one peer. */
export type PeerOutcome = "ack" | "gone" | "dropped" | "failed";

/** A write was not confirmed by enough replicas in time (HTTP 504). */
export class WriteAcksError extends Error {
  /** @param confirmed replicas holding the write @param required replicas asked for */
  constructor(message: string, readonly confirmed: number, readonly required: number) {
    super(message);
    this.name = "WriteAcksError";
  }
}

/**
 * Parses an `X-Write-Acks` header value: `all` or an integer ≥ 1. Returns `undefined` for a
 * missing header; throws a `TypeError` for anything else.
 */
export function parseAckRequirement(header: string | null): AckRequirement | undefined {
  if (header === null) return undefined;
  const t = header.trim().toLowerCase();
  if (t === "all") return "all";
  if (/^\d{1,6}$/.test(t) && Number(t) >= 1) return Number(t);
  throw new TypeError(
    `Invalid X-Write-Acks ${JSON.stringify(header)}: expected "all" or a replica count >= 1`,
  );
}

const FAILURES: Record<PeerOutcome, string> = {
  ack: "",
  gone: ": a replica left",
  dropped: ": a replica's backlog was dropped",
  failed: ": a replica could not be reached",
};

/** Counters of the waits of one node (`/stats`). */
export interface AckCounters {
  /** Writes that waited for acknowledgements. */
  waited: number;
  /** Waits that were confirmed by enough replicas. */
  confirmed: number;
  /** Waits that failed (timeout, lost copies, too few live). */
  failed: number;
}

/**
 * Tracks one write's confirmations; settles {@link AckWaiter.promise} once. Its deadline is an
 * entry in a {@link DeadlineQueue} shared by the node's waits (no timer of its own), and the
 * peers it waits for are a small array (a write has a handful of owners).
 */
export class AckWaiter {
  /** Resolves when enough replicas hold the write; rejects with {@link WriteAcksError}. */
  readonly promise: Promise<void>;
  readonly #all: boolean;
  readonly #pending: string[];
  readonly #deadlines: DeadlineQueue;
  readonly #counters: AckCounters | undefined;
  #need: number;
  #confirmed: number;
  #settled = false;
  #deadline: Deadline | undefined;
  #resolve!: () => void;
  #reject!: (e: WriteAcksError) => void;

  /**
   * Waits for `required` replicas among this node and `peers` (the array is the waiter's from
   * then on), for at most the `deadlines`' timeout. With `localReplica` false (partitioned mode,
   * a node that is not one of the key's owners) the local copy does not count. `counters`, when
   * given, count the wait and its outcome.
   */
  constructor(
    required: AckRequirement,
    peers: string[],
    deadlines: DeadlineQueue,
    localReplica = true,
    counters?: AckCounters,
  ) {
    const local = localReplica ? 1 : 0;
    this.#all = required === "all";
    this.#pending = peers;
    this.#confirmed = local;
    this.#need = required === "all" ? local + peers.length : required;
    this.#deadlines = deadlines;
    this.#counters = counters;
    if (counters) counters.waited++;
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (this.#need > local + peers.length) {
      this.#fail(`: only ${local + peers.length} live`);
    } else if (!this.#check()) {
      this.#deadline = deadlines.add(() => this.#fail(` within ${deadlines.timeoutMs} ms`));
    }
  }

  /** Replicas confirmed so far, the local one included. */
  get confirmed(): number {
    return this.#confirmed;
  }

  /** Records what happened at `peer` (later reports for the same peer are ignored). */
  report(peer: string, outcome: PeerOutcome): void {
    if (this.#settled) return;
    const pending = this.#pending;
    const at = pending.indexOf(peer);
    if (at < 0) return;
    pending[at] = pending[pending.length - 1];
    pending.pop();
    if (outcome === "ack") this.#confirmed++;
    else if (outcome === "gone" && this.#all) this.#need--;
    if (this.#check()) return;
    if (this.#confirmed + pending.length < this.#need) {
      this.#fail(FAILURES[outcome]);
    }
  }

  #check(): boolean {
    if (this.#confirmed < this.#need) return false;
    this.#settle();
    if (this.#counters) this.#counters.confirmed++;
    this.#resolve();
    return true;
  }

  #fail(why: string): void {
    if (this.#settled) return;
    this.#settle();
    if (this.#counters) this.#counters.failed++;
    // A failure nobody awaits (the client went away) must not end the process as an unhandled
    // rejection; only this path pays for the extra handler.
    this.promise.catch(() => {});
    this.#reject(
      new WriteAcksError(
        `Write confirmed by ${this.#confirmed} of ${this.#need} replicas${why}`,
        this.#confirmed,
        this.#need,
      ),
    );
  }

  #settle(): void {
    this.#settled = true;
    if (this.#deadline !== undefined) this.#deadlines.cancel(this.#deadline);
  }
}
