/**
 * Hybrid logical clock (HLC) and write versions.
 *
 * A timestamp packs wall-clock milliseconds and a 10-bit logical counter into one JS number:
 * `hlc = physicalMs * 1024 + logical`. It stays a safe integer until about year 2248, compares
 * with `<`, and survives JSON and msgpack as a plain number. When the logical part would pass
 * 1023 it carries into the physical part (the timestamp runs up to 1 ms ahead of the wall clock
 * per 1024 events in one millisecond, and falls back in step once the wall clock passes it).
 *
 * A write's {@link Version} is `(hlc, node name)`; {@link compareVersions} orders versions
 * totally and deterministically, so every replica picks the same winner (last writer wins).
 *
 * Drift guard: {@link HybridLogicalClock.observe} **rejects** (ignores) a remote timestamp whose
 * physical part is more than `maxDriftMs` ahead of the local wall clock, so one peer with a bad
 * clock cannot drag every clock in the cluster into the future. It does not clamp: clamping would
 * still move the clock forward by the whole allowance on every bad message. The caller learns of
 * the rejection from the `false` result and should drop the record that carried it.
 *
 * @module
 */

import type { Clock } from "./clock.ts";

/** Number of bits of the logical counter inside an HLC timestamp. */
export const HLC_LOGICAL_BITS = 10;
/** `2 ** HLC_LOGICAL_BITS`: the multiplier of the physical part. */
export const HLC_LOGICAL_RANGE = 1024;

/** Version of a write: hybrid logical clock timestamp plus the writer's node name. */
export interface Version {
  /** `physicalMs * 1024 + logical`, a non-negative safe integer. */
  hlc: number;
  /** Name of the node that made the write (tie-break). */
  node: string;
}

/** Builds an HLC timestamp from its parts (`logical` in 0..1023). */
export function hlcFromParts(physicalMs: number, logical = 0): number {
  return physicalMs * HLC_LOGICAL_RANGE + logical;
}

/** The physical part of an HLC timestamp, in epoch milliseconds. */
export function hlcPhysicalMs(hlc: number): number {
  return Math.floor(hlc / HLC_LOGICAL_RANGE);
}

/** The logical part of an HLC timestamp, 0..1023. */
export function hlcLogical(hlc: number): number {
  return hlc % HLC_LOGICAL_RANGE;
}

/**
 * Compares node names in Unicode code point order, which is the bytewise order of their UTF-8
 * encodings (plain `<` on JS strings compares UTF-16 code units, which differs for characters
 * above U+FFFF against U+E000..U+FFFF).
 */
export function compareNodeNames(a: string, b: string): number {
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    // Move surrogates (code points >= 0x10000) above the rest of the BMP.
    if (x >= 0xd800 && y >= 0xd800) {
      x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
      y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    }
    return x < y ? -1 : 1;
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

/** Orders versions by `hlc`, then by node name (bytewise); returns -1, 0 or 1. */
export function compareVersions(a: Version, b: Version): number {
  if (a.hlc !== b.hlc) return a.hlc < b.hlc ? -1 : 1;
  return compareNodeNames(a.node, b.node);
}

/** Options of {@link HybridLogicalClock}. */
export interface HybridLogicalClockOptions {
  /**
   * How far (ms) a remote timestamp's physical part may run ahead of the local wall clock before
   * {@link HybridLogicalClock.observe} rejects it.
   * @default 60_000
   */
  maxDriftMs?: number;
}

/** A hybrid logical clock on an injected {@link Clock}; one per node. */
export class HybridLogicalClock {
  readonly #clock: Clock;
  readonly #maxDriftMs: number;
  #last = 0;
  #rejected = 0;

  /** Creates a clock reading wall time from `clock`. */
  constructor(clock: Clock, options: HybridLogicalClockOptions = {}) {
    const maxDriftMs = options.maxDriftMs ?? 60_000;
    if (!(maxDriftMs >= 0)) {
      throw new RangeError(
        `Cannot create HybridLogicalClock: maxDriftMs must be >= 0: received ${maxDriftMs}`,
      );
    }
    this.#clock = clock;
    this.#maxDriftMs = maxDriftMs;
  }

  /**
   * A new timestamp, strictly greater than every one this instance returned or observed before,
   * even if the wall clock stepped back.
   */
  now(): number {
    const wall = Math.floor(this.#clock.now()) * HLC_LOGICAL_RANGE;
    this.#last = wall > this.#last ? wall : this.#last + 1;
    return this.#last;
  }

  /** A new version for a write made by `node` (`{ hlc: this.now(), node }`). */
  version(node: string): Version {
    return { hlc: this.now(), node };
  }

  /**
   * Merges a timestamp received from a peer, so that later {@link now} results exceed it.
   * Returns `false`, leaving the clock untouched, when `remoteHlc` is not a non-negative safe
   * integer or lies more than `maxDriftMs` ahead of the local wall clock.
   */
  observe(remoteHlc: number): boolean {
    if (!Number.isSafeInteger(remoteHlc) || remoteHlc < 0) {
      this.#rejected++;
      return false;
    }
    if (hlcPhysicalMs(remoteHlc) > Math.floor(this.#clock.now()) + this.#maxDriftMs) {
      this.#rejected++;
      return false;
    }
    if (remoteHlc > this.#last) this.#last = remoteHlc;
    return true;
  }

  /** The latest timestamp issued or observed (0 before the first). */
  get last(): number {
    return this.#last;
  }

  /** How many remote timestamps {@link observe} rejected. */
  get rejected(): number {
    return this.#rejected;
  }
}
