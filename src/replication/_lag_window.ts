/**
 * The most recent replication lags (write time at the origin → applied here, ms), for
 * percentiles in `/stats`. Internal.
 *
 * @module
 */

/** A ring of the last `size` samples. */
export class LagWindow {
  readonly #samples: Float64Array;
  #count = 0;

  /** Keeps the last `size` samples. */
  constructor(size = 4096) {
    this.#samples = new Float64Array(size);
  }

  /** Adds one sample. */
  add(ms: number): void {
    this.#samples[this.#count++ % this.#samples.length] = ms;
  }

  /** p50, p99 and max of the window, and the number of samples ever added. */
  summary(): { p50: number; p99: number; max: number; samples: number } {
    const n = Math.min(this.#count, this.#samples.length);
    if (n === 0) return { p50: 0, p99: 0, max: 0, samples: 0 };
    const sorted = this.#samples.slice(0, n).sort();
    const at = (q: number) => sorted[Math.min(n - 1, Math.floor(q * n))];
    return { p50: at(0.5), p99: at(0.99), max: sorted[n - 1], samples: this.#count };
  }
}
