/**
 * Injectable randomness: protocol code draws from a {@link Random} so that tests and the
 * simulator are reproducible from a seed.
 *
 * @module
 */

/** A source of uniform floats in [0, 1). */
export interface Random {
  /** Next uniform float in [0, 1). */
  next(): number;
}

/** `Math.random` as a {@link Random}. */
export const systemRandom: Random = { next: () => Math.random() };

/** A small, fast seeded generator (mulberry32) for deterministic tests and simulations. */
export class SeededRandom implements Random {
  #state: number;
  /** @param seed any 32-bit integer */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  /** Next uniform float in [0, 1). */
  next(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
}

/** A uniform integer in [0, n). */
export function randomInt(random: Random, n: number): number {
  return Math.floor(random.next() * n);
}

/** Fisher–Yates shuffle in place; returns the same array. */
export function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomInt(random, i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
  return items;
}
