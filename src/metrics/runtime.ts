/**
 * Process and runtime figures for `/metrics`: memory (`Deno.memoryUsage()`: resident set, V8
 * heap, external), CPU time and start time (`node:process`, `performance.timeOrigin`), and the
 * event-loop lag, measured by {@link EventLoopLagSampler}: a timer that asks to fire every
 * `intervalMs` and records how late it fired (a loop busy with a long task fires it late).
 *
 * Garbage collection is not measured: Deno 2.9's `node:perf_hooks` `PerformanceObserver` accepts
 * the `gc` entry type but never delivers an entry, and the web `PerformanceObserver` lists only
 * `mark` and `measure`. Heap used falling between scrapes is the visible trace of a collection.
 *
 * @module
 */

import process from "node:process";
import { type Clock, systemClock, type TimerId } from "../util/clock.ts";

/** Options of {@link EventLoopLagSampler}. */
export interface EventLoopLagOptions {
  /** Timers and time. @default systemClock */
  clock?: Clock;
  /** Period of the sampler timer, ms. @default 500 */
  intervalMs?: number;
  /** The max covers between one and two windows of this length, ms. @default 30000 */
  windowMs?: number;
}

/**
 * Samples the event-loop lag with one timer: after each tick, how much later than asked it
 * fired. Keeps the last sample and the max over the last one or two windows. Off the request
 * path: one timer callback every `intervalMs`.
 */
export class EventLoopLagSampler {
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #windowMs: number;
  #timer: TimerId | undefined;
  #last = 0;
  #maxNow = 0;
  #maxBefore = 0;
  #windowStart = 0;

  /** A stopped sampler. */
  constructor(options: EventLoopLagOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#intervalMs = options.intervalMs ?? 500;
    this.#windowMs = options.windowMs ?? 30_000;
  }

  /** Starts sampling (again); idempotent. */
  start(): void {
    if (this.#timer !== undefined) return;
    this.#windowStart = this.#clock.now();
    this.#schedule();
  }

  /** Stops the timer; the figures stay. */
  stop(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** How late the last tick fired, ms. */
  get lastMs(): number {
    return this.#last;
  }

  /** The largest lag of the current and the previous window, ms. */
  get maxMs(): number {
    return Math.max(this.#maxNow, this.#maxBefore);
  }

  #schedule(): void {
    const due = this.#clock.now() + this.#intervalMs;
    this.#timer = this.#clock.setTimeout(() => {
      const now = this.#clock.now();
      this.record(Math.max(0, now - due), now);
      this.#schedule();
    }, this.#intervalMs);
  }

  /** Records one lag sample taken at `now` (the timer's work; public for tests). */
  record(lagMs: number, now: number): void {
    if (now - this.#windowStart >= this.#windowMs) {
      this.#maxBefore = this.#maxNow;
      this.#maxNow = 0;
      this.#windowStart = now;
    }
    this.#last = lagMs;
    if (lagMs > this.#maxNow) this.#maxNow = lagMs;
  }
}

/** The process figures read at a scrape. */
export interface ProcessFigures {
  /** Resident set size, bytes. */
  rssBytes: number;
  /** V8 heap used, bytes. */
  heapUsedBytes: number;
  /** V8 heap reserved, bytes. */
  heapTotalBytes: number;
  /** Memory of JavaScript objects outside the heap, bytes. */
  externalBytes: number;
  /** User + system CPU time, seconds. */
  cpuSeconds: number;
  /** Process start, seconds since the epoch. */
  startTimeSeconds: number;
}

/** Reads the process figures now (a few system calls: at scrape only). */
export function processFigures(): ProcessFigures {
  const memory = Deno.memoryUsage();
  const cpu = process.cpuUsage();
  return {
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
    heapTotalBytes: memory.heapTotal,
    externalBytes: memory.external,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    startTimeSeconds: Math.round(performance.timeOrigin) / 1000,
  };
}
