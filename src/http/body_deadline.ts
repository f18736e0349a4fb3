/**
 * The request body deadline (`BODY_TIMEOUT`) for many requests with one timer: a read that has
 * not finished `timeoutMs` after it started fails with 408. Arming a timer per request (a
 * `setTimeout`, a `clearTimeout` and a `Promise.race`) cost a measurable share of a small PUT
 * (see docs/benchmarks.md); here a read costs one entry in a set and one promise. Every read has the same
 * timeout, so the set's insertion order is deadline order: the one timer is armed for the
 * oldest pending read, and when it fires it fails the reads that are due and re-arms for the
 * next. Idle (no read pending), the timer is unref'd and not re-armed when it fires, so an
 * idle node holds no timer after one deadline, and none that keeps it alive.
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
  #refed = false;

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
      else if (!this.#refed) {
        // A pending read keeps the process alive until its deadline, as its own timer did.
        Deno.refTimer(this.#timer);
        this.#refed = true;
      }
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
    // Idle: the timer is left to run out, unref'd, rather than cleared: clearing and re-arming
    // it per request would cost what this class saves, an unref and a ref cost next to nothing
    // (see docs/benchmarks.md). Unref'd, it keeps no process alive.
    if (this.#pending.size === 0 && this.#timer !== undefined && this.#refed) {
      Deno.unrefTimer(this.#timer);
      this.#refed = false;
    }
  }

  #arm(due: number): void {
    this.#timer = setTimeout(() => this.#expire(), Math.max(0, due - performance.now()));
    this.#refed = true;
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
