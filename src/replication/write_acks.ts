/**
 * Waiting for a write's replicas (`X-Write-Acks`). The local replica counts as the first
 * confirmation (the write is applied before anything is sent); each peer that answers the batch
 * holding the write adds one. `all` means every member that was live when the write was made,
 * minus those that leave or die meanwhile (a dead member is no longer a live replica).
 *
 * @module
 */

import type { Clock, TimerId } from "../util/clock.ts";

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

/** Tracks one write's confirmations; settles {@link AckWaiter.promise} once. */
export class AckWaiter {
  /** Resolves when enough replicas hold the write; rejects with {@link WriteAcksError}. */
  readonly promise: Promise<void>;
  readonly #all: boolean;
  readonly #pending: Set<string>;
  readonly #clock: Clock;
  #need: number;
  #confirmed: number;
  #settled = false;
  #timer: TimerId | undefined;
  #resolve!: () => void;
  #reject!: (e: WriteAcksError) => void;

  /**
   * Waits for `required` replicas among this node and `peers`, for at most `timeoutMs`. With
   * `localReplica` false (partitioned mode, a node that is not one of the key's owners) the
   * local copy does not count.
   */
  constructor(
    required: AckRequirement,
    peers: readonly string[],
    clock: Clock,
    timeoutMs: number,
    localReplica = true,
  ) {
    const local = localReplica ? 1 : 0;
    this.#all = required === "all";
    this.#pending = new Set(peers);
    this.#confirmed = local;
    this.#need = required === "all" ? local + peers.length : required;
    this.#clock = clock;
    this.promise = new Promise<void>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    if (this.#need > local + peers.length) {
      this.#fail(`: only ${local + peers.length} live`);
    } else if (!this.#check()) {
      this.#timer = clock.setTimeout(() => this.#fail(` within ${timeoutMs} ms`), timeoutMs);
    }
  }

  /** Replicas confirmed so far, the local one included. */
  get confirmed(): number {
    return this.#confirmed;
  }

  /** Records what happened at `peer` (later reports for the same peer are ignored). */
  report(peer: string, outcome: PeerOutcome): void {
    if (this.#settled || !this.#pending.delete(peer)) return;
    if (outcome === "ack") this.#confirmed++;
    else if (outcome === "gone" && this.#all) this.#need--;
    if (this.#check()) return;
    if (this.#confirmed + this.#pending.size < this.#need) {
      this.#fail(FAILURES[outcome]);
    }
  }

  #check(): boolean {
    if (this.#confirmed < this.#need) return false;
    this.#settle();
    this.#resolve();
    return true;
  }

  #fail(why: string): void {
    if (this.#settled) return;
    this.#settle();
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
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
  }
}
