/**
 * Injectable time. Everything that reads the time or schedules work (TTLs, sweeps, probe
 * schedules, suspicion timers) takes a {@link Clock}, so tests and the simulator can run on
 * virtual time ({@link VirtualClock}) with no sleeps, and production uses {@link systemClock}.
 *
 * @module
 */

/** An opaque handle returned by {@link Clock.setTimeout}. */
export type TimerId = unknown;

/** Wall-clock time in epoch milliseconds plus one-shot timers. */
export interface Clock {
  /** Current time in milliseconds since the Unix epoch. */
  now(): number;
  /** Runs `fn` once after `ms` milliseconds; returns a handle for {@link Clock.clearTimeout}. */
  setTimeout(fn: () => void, ms: number): TimerId;
  /** Cancels a timer; unknown or already-fired handles are ignored. */
  clearTimeout(id: TimerId): void;
}

/** The real clock: `Date.now()` and the runtime's timers. */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id as number),
};

interface VirtualTimer {
  id: number;
  at: number;
  seq: number;
  fn: () => void;
}

/**
 * A clock whose time moves only when told to. Timers fire in time order (ties in scheduling
 * order) during {@link VirtualClock.advance}; a timer scheduled while advancing fires in the same
 * call if it falls due before the target time.
 */
export class VirtualClock implements Clock {
  #now: number;
  #nextId = 1;
  #seq = 0;
  #timers = new Map<number, VirtualTimer>();
  // Binary min-heap of timers ordered by (at, seq); cancelled timers are skipped lazily.
  #heap: VirtualTimer[] = [];

  /** @param start initial time in epoch ms. @default 1_700_000_000_000 */
  constructor(start = 1_700_000_000_000) {
    this.#now = start;
  }

  /** Current virtual time in epoch ms. */
  now(): number {
    return this.#now;
  }

  /** Schedules `fn` at `now + max(0, ms)`. */
  setTimeout(fn: () => void, ms: number): TimerId {
    const timer = { id: this.#nextId++, at: this.#now + Math.max(0, ms), seq: this.#seq++, fn };
    this.#timers.set(timer.id, timer);
    this.#push(timer);
    return timer.id;
  }

  /** Cancels a pending timer. */
  clearTimeout(id: TimerId): void {
    this.#timers.delete(id as number);
  }

  /** Number of timers still pending. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Due time of the earliest pending timer, or `undefined` when none is pending. */
  nextDueAt(): number | undefined {
    while (this.#heap.length > 0 && !this.#timers.has(this.#heap[0].id)) this.#pop();
    return this.#heap[0]?.at;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  /** Moves time forward to `target` (never backwards), firing due timers in order. */
  advanceTo(target: number): void {
    while (this.#heap.length > 0) {
      const top = this.#heap[0];
      if (!this.#timers.has(top.id)) {
        this.#pop();
        continue;
      }
      if (top.at > target) break;
      this.#pop();
      this.#timers.delete(top.id);
      if (top.at > this.#now) this.#now = top.at;
      top.fn();
    }
    if (target > this.#now) this.#now = target;
  }

  /** Sets the time without firing timers (to model a wall clock that steps). */
  set(time: number): void {
    this.#now = time;
  }

  #less(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }

  #push(t: VirtualTimer): void {
    const h = this.#heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }

  #pop(): void {
    const h = this.#heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1, r = l + 1;
      let m = i;
      if (l < h.length && this.#less(h[l], h[m])) m = l;
      if (r < h.length && this.#less(h[r], h[m])) m = r;
      if (m === i) break;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
