/**
 * The state of the simulated wire: default, per-link and per-node latency and loss, partitions
 * and isolated nodes. Lookups are cheap on the hot path (map lookups only when overrides exist).
 * Internal to the memory network; keys are `formatAddress` strings.
 *
 * @module
 */

import type { Random } from "../util/random.ts";

/** Latency and loss of a path. */
export interface LinkConditions {
  /** Fixed one-way delay, ms. @default {0} */
  latencyMs: number;
  /** Extra one-way delay drawn uniformly from [0, jitterMs), ms. @default {0} */
  jitterMs: number;
  /** Probability that a packet is lost, 0..1 (1 also blackholes streams). @default {0} */
  loss: number;
}

interface Partition {
  a: Set<string>;
  b: Set<string>;
}

/** Checks a partial set of conditions; throws a `RangeError` naming the bad field. */
export function checkConditions(what: string, c: Partial<LinkConditions>): void {
  for (const field of ["latencyMs", "jitterMs"] as const) {
    const v = c[field];
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) {
      throw new RangeError(
        `Cannot set ${what}: ${field} must be a finite number >= 0: received ${v}`,
      );
    }
  }
  if (c.loss !== undefined && !(c.loss >= 0 && c.loss <= 1)) {
    throw new RangeError(`Cannot set ${what}: loss must be in 0..1: received ${c.loss}`);
  }
}

/** Conditions and cuts of the in-memory wire. */
export class NetworkConditions {
  defaults: LinkConditions;
  #links = new Map<string, Map<string, Partial<LinkConditions>>>();
  #nodes = new Map<string, LinkConditions>();
  #partitions = new Set<Partition>();
  #isolated = new Map<string, number>();
  #random: Random;

  constructor(defaults: LinkConditions, random: Random) {
    this.defaults = defaults;
    this.#random = random;
  }

  /** Overrides the conditions from `from` to `to` field by field; `undefined` clears them. */
  setLink(from: string, to: string, c: Partial<LinkConditions> | undefined): void {
    if (c === undefined) {
      this.#links.get(from)?.delete(to);
      if (this.#links.get(from)?.size === 0) this.#links.delete(from);
      return;
    }
    let row = this.#links.get(from);
    if (row === undefined) this.#links.set(from, row = new Map());
    row.set(to, { ...c });
  }

  /** Adds latency, jitter and loss to all traffic in and out of a node; `undefined` clears. */
  setNode(key: string, c: Partial<LinkConditions> | undefined): void {
    if (c === undefined) this.#nodes.delete(key);
    else this.#nodes.set(key, { latencyMs: 0, jitterMs: 0, loss: 0, ...c });
  }

  /** Cuts every path between a member of `a` and a member of `b`; returns its undo. */
  partition(a: Iterable<string>, b: Iterable<string>): () => void {
    const p = { a: new Set(a), b: new Set(b) };
    this.#partitions.add(p);
    return () => this.#partitions.delete(p);
  }

  /** Cuts a node off from every other node; returns its undo. */
  isolate(key: string): () => void {
    this.#isolated.set(key, (this.#isolated.get(key) ?? 0) + 1);
    let undone = false;
    return () => {
      if (undone) return;
      undone = true;
      const n = this.#isolated.get(key)! - 1;
      if (n > 0) this.#isolated.set(key, n);
      else this.#isolated.delete(key);
    };
  }

  /** Removes every partition and isolation. */
  heal(): void {
    this.#partitions.clear();
    this.#isolated.clear();
  }

  /** Whether partitions or isolation cut the path between `a` and `b` (never a node to itself). */
  isCut(a: string, b: string): boolean {
    if (a === b) return false;
    if (this.#isolated.size > 0 && (this.#isolated.has(a) || this.#isolated.has(b))) return true;
    for (const p of this.#partitions) {
      if ((p.a.has(a) && p.b.has(b)) || (p.a.has(b) && p.b.has(a))) return true;
    }
    return false;
  }

  /** Probability that a packet from `from` to `to` arrives (all losses independent). */
  deliveryChance(from: string, to: string): number {
    let chance = 1 - (this.#link(from, to)?.loss ?? this.defaults.loss);
    if (this.#nodes.size > 0) {
      chance *= (1 - (this.#nodes.get(from)?.loss ?? 0)) * (1 - (this.#nodes.get(to)?.loss ?? 0));
    }
    return chance;
  }

  /** Draws the one-way delay of one packet or stream chunk, ms. */
  delay(from: string, to: string): number {
    const link = this.#link(from, to);
    let latency = link?.latencyMs ?? this.defaults.latencyMs;
    let jitter = link?.jitterMs ?? this.defaults.jitterMs;
    if (this.#nodes.size > 0) {
      const src = this.#nodes.get(from), dst = this.#nodes.get(to);
      latency += (src?.latencyMs ?? 0) + (dst?.latencyMs ?? 0);
      jitter += (src?.jitterMs ?? 0) + (dst?.jitterMs ?? 0);
    }
    return jitter > 0 ? latency + this.#random.next() * jitter : latency;
  }

  /** Draws whether one packet is lost. */
  lost(from: string, to: string): boolean {
    const chance = this.deliveryChance(from, to);
    return chance < 1 && this.#random.next() >= chance;
  }

  #link(from: string, to: string): Partial<LinkConditions> | undefined {
    return this.#links.size > 0 ? this.#links.get(from)?.get(to) : undefined;
  }
}
