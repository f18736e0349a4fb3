/**
 * Lifeguard's "LHA-Suspicion" timer, after memberlist's suspicion.go. When a member is
 * suspected, the timer starts long (`max`) because a lone accuser may itself be the unhealthy
 * one; each independent confirmation (a suspect message from a member not heard from before)
 * is evidence the suspicion is real, so the total timeout shrinks on a log scale towards `min`,
 * reached after `k` confirmations. With `k = 0` (a cluster too small to confirm) the timer
 * simply runs for `min`.
 *
 * @module
 */

import type { Clock, TimerId } from "../util/clock.ts";
import { remainingSuspicionTime } from "./formulas.ts";

/** Parameters of a {@link SuspicionTimer}. */
export interface SuspicionTimerOptions {
  /** Clock the timer runs on. */
  clock: Clock;
  /** The first accuser; its later suspect messages never count as confirmations. */
  from: string;
  /** Expected independent confirmations; `0` (or less) means none are expected. */
  k: number;
  /** Timeout once `k` confirmations have arrived, in ms. */
  min: number;
  /** Timeout with no confirmations, in ms. */
  max: number;
  /** Called once on expiry with the number of confirmations received. */
  onTimeout: (confirmations: number) => void;
}

/**
 * A one-shot suspicion timeout that {@link SuspicionTimer.confirm} accelerates.
 *
 * @example
 * ```ts
 * const timer = new SuspicionTimer({ clock, from: "b", k: 2, min: 4000, max: 24000,
 *   onTimeout: (n) => markDead(n) });
 * timer.confirm("c"); // true: total timeout is now 11,381 ms from the start
 * ```
 */
export class SuspicionTimer {
  readonly #clock: Clock;
  readonly #k: number;
  readonly #min: number;
  readonly #max: number;
  readonly #start: number;
  readonly #onTimeout: (confirmations: number) => void;
  readonly #seen = new Set<string>();
  #confirmations = 0;
  #deadline: number;
  #timer: TimerId | undefined;
  #fired = false;
  #cancelled = false;

  /** Starts the timer at `max`, or at `min` when `k < 1`. */
  constructor(options: SuspicionTimerOptions) {
    this.#clock = options.clock;
    this.#k = options.k;
    this.#min = options.min;
    this.#max = options.max;
    this.#onTimeout = options.onTimeout;
    this.#seen.add(options.from);
    this.#start = this.#clock.now();
    const timeout = this.#k < 1 ? this.#min : this.#max;
    this.#deadline = this.#start + timeout;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), timeout);
  }

  /**
   * Records a suspect message from `from`. Returns `true` when it is a new confirmation (an
   * accuser not seen before, while fewer than `k` have been counted), which the caller should
   * re-gossip; duplicates and the original accuser return `false`. A new confirmation
   * reschedules the timer to `remainingSuspicionTime`; when that is already past, the timer
   * fires on the next clock turn (never inside this call, like memberlist's goroutine).
   * After the timer has fired a new confirmation is still counted, but nothing is rescheduled.
   */
  confirm(from: string): boolean {
    if (this.#confirmations >= this.#k) return false;
    if (this.#seen.has(from)) return false;
    this.#seen.add(from);
    const n = ++this.#confirmations;
    if (this.#fired || this.#cancelled) return true;
    const now = this.#clock.now();
    const remaining = remainingSuspicionTime(n, this.#k, now - this.#start, this.#min, this.#max);
    this.#clock.clearTimeout(this.#timer);
    const delay = Math.max(0, remaining);
    this.#deadline = now + delay;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), delay);
    return true;
  }

  /** Stops the timer; it will not fire. Idempotent. */
  cancel(): void {
    if (this.#cancelled) return;
    this.#cancelled = true;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** Independent confirmations counted so far (the first accuser excluded). */
  get confirmations(): number {
    return this.#confirmations;
  }

  /** Expected confirmations. */
  get k(): number {
    return this.#k;
  }

  /** Shortest total timeout, in ms. */
  get min(): number {
    return this.#min;
  }

  /** Longest total timeout, in ms. */
  get max(): number {
    return this.#max;
  }

  /** Clock time the suspicion started, in epoch ms. */
  get start(): number {
    return this.#start;
  }

  /** Clock time at which the timer is (or was) due to fire, in epoch ms. */
  get deadline(): number {
    return this.#deadline;
  }

  /** Whether the timeout has fired. */
  get fired(): boolean {
    return this.#fired;
  }

  /** Whether {@link SuspicionTimer.cancel} was called. */
  get cancelled(): boolean {
    return this.#cancelled;
  }

  #fire(): void {
    if (this.#fired || this.#cancelled) return;
    this.#fired = true;
    this.#timer = undefined;
    this.#onTimeout(this.#confirmations);
  }
}
