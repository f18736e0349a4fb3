/**
 * The request body deadline (`BODY_TIMEOUT`) for many requests with one timer: a read that has
 * not finished `timeoutMs` after it started fails with 408. Arming a timer per request (a
 * `setTimeout`, a `clearTimeout` and a `Promise.race`) cost a measurable share of a small PUT
 * (see docs/benchmarks.md); here a read costs one entry in a set. Every read has the same
 * timeout, so the set's insertion order is deadline order: the one timer is armed for the
 * oldest pending read, and when it fires it fails the reads that are due and re-arms for the
 * next. It runs only while reads are pending, so an idle node holds no timer.
 *
 * @module
 */

import { HttpError } from "./errors.ts";

interface PendingRead {
  /** When the read is due, on `performance.now()`'s clock. */
  due: number;
  fail: (err: unknown) => void;
}

/** A body deadline shared by the reads of one handler; see the module doc. */
export class BodyDeadline {
  /** The deadline in ms (0: none). */
  readonly timeoutMs: number;
  readonly #pending = new Set<PendingRead>();
  #timer: ReturnType<typeof setTimeout> | undefined;

  /** @param timeoutMs how long a body may take to arrive, in ms (0: no deadline) */
  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  /**
   * `reading`, or a 408 when it has not settled within the deadline. The abandoned read is not
   * cancelled: Deno.serve keeps the connection either way (until the client sends the rest or
   * goes away), and a cancelled body stream would end as if complete.
   */
  within<T>(reading: Promise<T>): Promise<T> {
    if (this.timeoutMs <= 0) return reading;
    return new Promise<T>((resolve, reject) => {
      const entry: PendingRead = { due: performance.now() + this.timeoutMs, fail: reject };
      this.#pending.add(entry);
      if (this.#timer === undefined) this.#arm(entry.due);
      reading.then((value) => {
        this.#settled(entry);
        resolve(value);
      }, (err) => {
        this.#settled(entry);
        reject(err);
      });
    });
  }

  #settled(entry: PendingRead): void {
    this.#pending.delete(entry);
    if (this.#pending.size === 0 && this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  #arm(due: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, due - performance.now()));
  }

  #expire(): void {
    this.#timer = undefined;
    const now = performance.now();
    for (const entry of this.#pending) {
      // Insertion order is deadline order: the first read not yet due ends the sweep.
      if (entry.due > now) return this.#arm(entry.due);
      this.#pending.delete(entry);
      entry.fail(
        new HttpError(408, `Request body not received within ${this.timeoutMs} ms (BODY_TIMEOUT)`),
      );
    }
  }

  /** Reads pending now (for tests). */
  get pending(): number {
    return this.#pending.size;
  }
}
