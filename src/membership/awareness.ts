/**
 * Lifeguard's local health multiplier ("awareness"), after memberlist's awareness.go. A node
 * that misses acks, lacks nacks from its helpers, or has to refute accusations about itself is
 * probably the slow one (CPU starved, GC pauses, a lossy link), so it stretches its own probe
 * interval instead of quickly accusing healthy peers. Successful probes bring it back.
 *
 * @module
 */

/**
 * An integer health score in `[0, max − 1]`; 0 is healthy. Timeouts scale by `score + 1`.
 *
 * @example
 * ```ts
 * const awareness = new Awareness(8);
 * awareness.applyDelta(1);           // we had to refute
 * awareness.scaleTimeout(1000);      // 2000
 * ```
 */
export class Awareness {
  readonly #max: number;
  #score = 0;

  /** @param max the multiplier ceiling (`MembershipConfig.awarenessMaxMultiplier`), ≥ 1 */
  constructor(max: number) {
    if (!Number.isInteger(max) || max < 1) {
      throw new RangeError(
        `Cannot create awareness: max must be an integer >= 1: received ${max}`,
      );
    }
    this.#max = max;
  }

  /**
   * Adds `delta` (negative to improve) and clamps to `[0, max − 1]`. Returns the new score.
   * Deltas used by the protocol: −1 per successful probe, +1 per refutation, and on a failed
   * probe +(nacks expected − nacks received), or +1 when no helper could send nacks.
   */
  applyDelta(delta: number): number {
    this.#score = Math.min(this.#max - 1, Math.max(0, this.#score + delta));
    return this.#score;
  }

  /** The current score: 0 healthy … `max − 1` worst. */
  get score(): number {
    return this.#score;
  }

  /** The multiplier ceiling. */
  get max(): number {
    return this.#max;
  }

  /** `timeout × (score + 1)`: the probe interval (and ack-handler lifetime) to use now. */
  scaleTimeout(timeout: number): number {
    return timeout * (this.#score + 1);
  }
}
