/**
 * Measurement helpers of the simulator: how a piece of news (a join, a death) spreads over a
 * set of observers, percentiles, and the process's own wall time and peak memory.
 *
 * @module
 */

/**
 * Records when each observer first learnt something, from a start time; answers "how long
 * until p % of the observers knew".
 */
export class SpreadTracker {
  /** Virtual time the news started (a join call, a kill). */
  readonly start: number;
  /** How many observers count (the denominator). */
  readonly total: number;
  readonly #seen = new Set<string>();
  readonly #times: number[] = [];
  readonly #counts: (name: string) => boolean;

  /**
   * @param start virtual time of the event, ms
   * @param total number of observers that should learn it
   * @param counts whether an observer belongs to the denominator
   */
  constructor(start: number, total: number, counts: (name: string) => boolean) {
    this.start = start;
    this.total = total;
    this.#counts = counts;
  }

  /** Notes that `observer` knows at virtual time `at`; repeats are ignored. */
  see(observer: string, at: number): void {
    if (this.#seen.has(observer) || !this.#counts(observer)) return;
    this.#seen.add(observer);
    this.#times.push(at - this.start);
  }

  /** Observers that know. */
  get known(): number {
    return this.#times.length;
  }

  /** Whether every observer knows. */
  get complete(): boolean {
    return this.#times.length >= this.total;
  }

  /** Time (ms after start) until a fraction `p` (0..1] of the observers knew, if reached. */
  timeTo(p: number): number | undefined {
    const need = Math.max(1, Math.ceil(p * this.total - 1e-9));
    return need <= this.#times.length ? this.#times[need - 1] : undefined;
  }

  /** Time of the first observer, if any. */
  get first(): number | undefined {
    return this.#times[0];
  }
}

/** The `p`-quantile (0..1) of `values` by nearest rank; `undefined` for an empty list. */
export function quantile(values: readonly number[], p: number): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(p * sorted.length)));
  return sorted[rank - 1];
}

/** Arithmetic mean; `undefined` for an empty list. */
export function mean(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  return values.reduce((a, b) => a + b, 0) / values.length;
}

/** Peak resident set size of this process so far, MiB (Linux `VmHWM`; 0 elsewhere). */
export async function peakRssMib(): Promise<number> {
  const status = await Deno.readTextFile("/proc/self/status").catch(() => "");
  const kb = Number(status.match(/VmHWM:\s*(\d+)\s*kB/)?.[1] ?? 0);
  return Math.round(kb / 1024);
}

/** CPU time (user + system) of this process so far, ms (Linux `/proc/self/stat`; 0 elsewhere). */
export async function cpuMs(): Promise<number> {
  const stat = await Deno.readTextFile("/proc/self/stat").catch(() => "");
  // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  return Number.isFinite(ticks) ? ticks * 10 : 0;
}

/** Rounds to `digits` decimals (for compact JSON). */
export function round(value: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/** The cost fields of a run's result: wall time since `t0`, the warm start's, peak RSS, CPU. */
export async function runCost(
  t0: number,
  warmWallMs: number,
): Promise<{ wallMs: number; warmWallMs: number; peakRssMib: number; cpuMs: number }> {
  return {
    wallMs: Math.round(performance.now() - t0),
    warmWallMs: Math.round(warmWallMs),
    peakRssMib: await peakRssMib(),
    cpuMs: await cpuMs(),
  };
}
