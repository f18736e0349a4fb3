/**
 * Many deadlines of one length on one timer. Arming a timer per operation (a `setTimeout` and a
 * `clearTimeout` per replicated write, per batch sent) was a measurable share of a replicated
 * PUT's CPU (docs/benchmarks.md, "HTTP hot path, pinned"); here an operation costs one entry in
 * a set. Every entry has the same timeout, so the set's insertion order is deadline order: the
 * one timer is armed for the oldest entry, and when it fires it expires the entries that are
 * due and re-arms for the next; with nothing pending it is not re-armed, so an idle user holds
 * no timer after one deadline. Time comes from an injected {@link Clock} (virtual time in tests).
 *
 * @module
 */

import type { Clock, TimerId } from "./clock.ts";

/** One pending deadline; pass it back to {@link DeadlineQueue.cancel}. */
export interface Deadline {
  /** When it is due, clock ms. */
  readonly due: number;
  /** What runs when it expires. */
  readonly expire: () => void;
}

/** Deadlines of `timeoutMs` sharing one timer; see the module doc. */
export class DeadlineQueue {
  /** The length of every deadline, ms. */
  readonly timeoutMs: number;
  readonly #clock: Clock;
  readonly #pending = new Set<Deadline>();
  #timer: TimerId | undefined;
  #firing = false;

  /** @param clock time source and timers @param timeoutMs the length of every deadline, ms */
  constructor(clock: Clock, timeoutMs: number) {
    this.#clock = clock;
    this.timeoutMs = timeoutMs;
  }

  /** Runs `expire` in `timeoutMs` unless {@link cancel}led first. */
  add(expire: () => void): Deadline {
    const entry: Deadline = { due: this.#clock.now() + this.timeoutMs, expire };
    this.#pending.add(entry);
    if (this.#timer === undefined && !this.#firing) this.#arm(entry.due);
    return entry;
  }

  /**
   * Forgets `entry` (it will not run); unknown or expired entries are ignored. The timer is left
   * to run out even when nothing is pending any more (it then finds nothing and is not re-armed):
   * clearing and re-arming it whenever the queue empties, between two batches, would cost what
   * the queue saves. {@link close} clears it.
   */
  cancel(entry: Deadline): void {
    this.#pending.delete(entry);
  }

  /** Drops every pending deadline without running it, and the timer. */
  close(): void {
    this.#pending.clear();
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Deadlines pending now. */
  get pending(): number {
    return this.#pending.size;
  }

  #arm(due: number): void {
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, due - this.#clock.now()));
  }

  #fire(): void {
    this.#timer = undefined;
    const now = this.#clock.now();
    // What expires may add or cancel entries: the timer is armed once, after the sweep.
    this.#firing = true;
    try {
      for (const entry of this.#pending) {
        // Insertion order is deadline order: the first entry not yet due ends the sweep.
        if (entry.due > now) break;
        this.#pending.delete(entry);
        entry.expire();
      }
    } finally {
      this.#firing = false;
      const next = this.#pending.values().next();
      if (!next.done && this.#timer === undefined) this.#arm(next.value.due);
    }
  }
}
