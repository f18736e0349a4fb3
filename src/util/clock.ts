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

/** A pending timer; `fn` is cleared when it fires or is cancelled. Its own {@link TimerId}. */
interface VirtualTimer {
  fn: (() => void) | undefined;
}

/**
 * A clock whose time moves only when told to. Timers fire in time order (ties in scheduling
 * order) during {@link VirtualClock.advance}; a timer scheduled while advancing fires in the same
 * call if it falls due before the target time.
 */
export class VirtualClock implements Clock {
  #now: number;
  #seq = 0;
  #pending = 0;
  // Binary min-heap ordered by (due time, scheduling order). The keys live in typed arrays
  // beside the timers, cheaper to compare than objects in a simulation with 10^5 timers;
  // cancelled timers are skipped lazily when they reach the top.
  #ats = new Float64Array(64);
  #seqs = new Float64Array(64);
  #items: (VirtualTimer | undefined)[] = [];
  #size = 0;

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
    const timer: VirtualTimer = { fn };
    this.#push(this.#now + Math.max(0, ms), this.#seq++, timer);
    this.#pending++;
    return timer;
  }

  /** Cancels a pending timer. */
  clearTimeout(id: TimerId): void {
    const timer = id as VirtualTimer | null | undefined;
    if (typeof timer === "object" && timer !== null && timer.fn !== undefined) {
      timer.fn = undefined;
      this.#pending--;
    }
  }

  /** Number of timers still pending. */
  get pending(): number {
    return this.#pending;
  }

  /** Due time of the earliest pending timer, or `undefined` when none is pending. */
  nextDueAt(): number | undefined {
    while (this.#size > 0 && this.#items[0]!.fn === undefined) this.#pop();
    return this.#size > 0 ? this.#ats[0] : undefined;
  }

  /** Moves time forward by `ms`, firing every timer that falls due, in order. */
  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  /** Moves time forward to `target` (never backwards), firing due timers in order. */
  advanceTo(target: number): void {
    while (this.#size > 0) {
      const top = this.#items[0]!;
      const fn = top.fn;
      if (fn === undefined) {
        this.#pop();
        continue;
      }
      const at = this.#ats[0];
      if (at > target) break;
      this.#pop();
      top.fn = undefined;
      this.#pending--;
      if (at > this.#now) this.#now = at;
      fn();
    }
    if (target > this.#now) this.#now = target;
  }

  /** Sets the time without firing timers (to model a wall clock that steps). */
  set(time: number): void {
    this.#now = time;
  }

  #push(at: number, seq: number, item: VirtualTimer): void {
    if (this.#size === this.#ats.length) {
      const ats = new Float64Array(this.#size * 2);
      ats.set(this.#ats);
      this.#ats = ats;
      const seqs = new Float64Array(this.#size * 2);
      seqs.set(this.#seqs);
      this.#seqs = seqs;
    }
    const ats = this.#ats, seqs = this.#seqs, items = this.#items;
    // Sift the hole up from the end, then drop the new timer into it.
    let i = this.#size++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pa = ats[p];
      if (pa < at || (pa === at && seqs[p] < seq)) break;
      ats[i] = pa;
      seqs[i] = seqs[p];
      items[i] = items[p];
      i = p;
    }
    ats[i] = at;
    seqs[i] = seq;
    items[i] = item;
  }

  #pop(): void {
    const n = --this.#size;
    const ats = this.#ats, seqs = this.#seqs, items = this.#items;
    const at = ats[n], seq = seqs[n], item = items[n];
    items[n] = undefined;
    if (n === 0) return;
    // Sift the hole down from the top, then drop the last timer into it.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const m = r < n && (ats[r] < ats[l] || (ats[r] === ats[l] && seqs[r] < seqs[l])) ? r : l;
      if (at < ats[m] || (at === ats[m] && seq < seqs[m])) break;
      ats[i] = ats[m];
      seqs[i] = seqs[m];
      items[i] = items[m];
      i = m;
    }
    ats[i] = at;
    seqs[i] = seq;
    items[i] = item;
  }
}
