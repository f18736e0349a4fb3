/**
 * The engine's timers on the injected clock, owned in one place so that `shutdown` cancels every
 * one of them (a real clock's pending timers would otherwise keep the process, and Deno's test
 * sanitizer, busy). Also the small promise helpers the probe and stream code race against.
 *
 * @module
 */

import type { Clock, TimerId } from "../util/clock.ts";

/** A set of one-shot timers on a {@link Clock}, all cancelled by {@link TimerSet.close}. */
export class TimerSet {
  readonly #clock: Clock;
  readonly #ids = new Set<TimerId>();
  // Waits that must end (early) when the set closes, so no caller hangs after shutdown.
  readonly #waits = new Set<() => void>();
  #closed = false;

  /** @param clock the clock every timer runs on */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Whether {@link TimerSet.close} was called. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Runs `fn` after `ms`; nothing (and `undefined`) once closed. */
  after(ms: number, fn: () => void): TimerId | undefined {
    if (this.#closed) return undefined;
    const id: TimerId = this.#clock.setTimeout(() => {
      this.#ids.delete(id);
      fn();
    }, Math.max(0, ms));
    this.#ids.add(id);
    return id;
  }

  /** Cancels one timer; unknown ids are ignored. */
  cancel(id: TimerId | undefined): void {
    if (id === undefined) return;
    this.#clock.clearTimeout(id);
    this.#ids.delete(id);
  }

  /** Resolves after `ms`, or at once when the set is (or gets) closed: check `closed` after. */
  sleep(ms: number): Promise<void> {
    return this.race(new Promise<void>(() => {}), ms, undefined);
  }

  /**
   * Resolves with `promise`'s value, or with `timedOut` after `ms` (or on close), whichever
   * comes first. The timer is cancelled when the promise settles first.
   */
  race<T, U>(promise: Promise<T>, ms: number, timedOut: U): Promise<T | U> {
    if (this.#closed) return Promise.resolve(timedOut);
    return new Promise<T | U>((resolve, reject) => {
      const expire = () => {
        this.#waits.delete(expire);
        resolve(timedOut);
      };
      const id = this.after(ms, expire);
      this.#waits.add(expire);
      const settle = () => {
        this.cancel(id);
        this.#waits.delete(expire);
      };
      promise.then((v) => (settle(), resolve(v)), (e) => (settle(), reject(e)));
    });
  }

  /** An abort signal that fires after `ms` (a stream deadline); `dispose` cancels the timer. */
  deadline(ms: number): { signal: AbortSignal; dispose(): void } {
    const controller = new AbortController();
    const id = this.after(ms, () => controller.abort());
    if (this.#closed) controller.abort();
    return { signal: controller.signal, dispose: () => this.cancel(id) };
  }

  /** Cancels every pending timer and ends pending waits; later `after` calls do nothing. */
  close(): void {
    this.#closed = true;
    for (const id of this.#ids) this.#clock.clearTimeout(id);
    this.#ids.clear();
    for (const expire of [...this.#waits]) expire();
  }
}

/** A promise with its resolve function exposed. */
export interface Deferred<T> {
  /** Settles when `resolve` is first called. */
  promise: Promise<T>;
  /** Resolves the promise; later calls do nothing. */
  resolve(value: T): void;
}

/** Creates a {@link Deferred}. */
export function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/**
 * Resolves or rejects with `promise`, or rejects with a `Deno.errors.TimedOut` once `signal`
 * aborts (for writes, which have no deadline of their own).
 */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal,
  what: string,
): Promise<T> {
  if (signal.aborted) {
    // The work's own failure no longer matters, but must not surface as an unhandled rejection.
    promise.catch(() => {});
    return Promise.reject(new Deno.errors.TimedOut(`${what}: deadline passed`));
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new Deno.errors.TimedOut(`${what}: deadline passed`));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
