/**
 * The chaos run's fault schedule: at random gaps (seeded), one of SIGKILL + restart empty,
 * SIGSTOP + SIGCONT, or a spell of packet loss, each held for a random while. At most
 * `maxDisturbed` nodes are killed or stopped at once and at least one node always runs, so a
 * restarted node always has a live peer to join through.
 *
 * @module
 */

import { type Random, randomInt } from "../../src/util/random.ts";
import type { ChaosCluster, ChaosNode } from "./cluster.ts";
import type { PacketLoss } from "./packet_loss.ts";

/** The kinds of fault. */
export type FaultKind = "kill" | "stop" | "loss";

/** Options of {@link FaultInjector}. */
export interface FaultOptions {
  /** Mean gap between two faults starting, ms. @default 4000 */
  meanGapMs: number;
  /** Most nodes killed or stopped at the same time. @default 2 */
  maxDisturbed: number;
  /** How long a killed node stays down before its restart, ms (uniform). @default [500, 4000] */
  downMs: [number, number];
  /** How long a node stays stopped, ms (uniform). @default [1000, 8000] */
  stopMs: [number, number];
  /** How long a spell of loss lasts, ms (uniform). @default [2000, 8000] */
  lossMs: [number, number];
  /** Highest loss, percent; each spell draws from [half of it, all of it]. @default 20 */
  lossPercent: number;
}

/** One fault as it happened, for the report. */
export interface FaultEvent {
  /** What was done. */
  kind: FaultKind;
  /** Node index (kill and stop). */
  node?: number;
  /** Loss percent (loss). */
  percent?: number;
  /** When it started, ms since the run's start. */
  atMs: number;
  /** How long it was held, ms. */
  heldMs: number;
}

/** Injects random faults into a {@link ChaosCluster} until stopped. */
export class FaultInjector {
  /** Every fault started, in order. */
  readonly events: FaultEvent[] = [];
  /** Restarts that failed (the node stays down; the run reports it). */
  readonly errors: string[] = [];
  readonly #active = new Set<Promise<void>>();
  readonly #kinds: FaultKind[];
  readonly #startedAt = performance.now();
  #running = false;
  #loop: Promise<void> | undefined;
  #lossActive = false;

  /** Faults hit `cluster`; loss spells need `loss` (undefined: no loss faults). */
  constructor(
    /** The cluster the faults hit. */
    readonly cluster: ChaosCluster,
    /** Packet loss control, if available. */
    readonly loss: PacketLoss | undefined,
    /** Draws kinds, victims, gaps and durations. */
    readonly random: Random,
    /** Gaps, durations and limits. */
    readonly options: FaultOptions,
  ) {
    this.#kinds = loss ? ["kill", "stop", "loss"] : ["kill", "stop"];
  }

  /** Starts injecting. */
  start(): void {
    this.#running = true;
    this.#loop = this.#schedule();
  }

  /** Stops injecting and waits until every fault in progress is undone (nodes back, no loss). */
  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
    while (this.#active.size > 0) await Promise.all(this.#active);
  }

  /** Faults started per kind. */
  counts(): Record<FaultKind, number> {
    const counts = { kill: 0, stop: 0, loss: 0 };
    for (const e of this.events) counts[e.kind]++;
    return counts;
  }

  async #schedule(): Promise<void> {
    while (this.#running) {
      // Uniform in [0.5, 1.5] × mean: irregular, but never a long silence.
      await this.#sleep(this.options.meanGapMs * (0.5 + this.random.next()));
      if (!this.#running) break;
      // Try the kinds in a random order; the first one possible now is started.
      const order = [...this.#kinds].sort(() => this.random.next() - 0.5);
      for (const kind of order) {
        const fault = this.#begin(kind);
        if (!fault) continue;
        const tracked = fault.catch((err) => {
          this.errors.push(`${kind}: ${(err as Error).message}`);
        }).finally(() => this.#active.delete(tracked));
        this.#active.add(tracked);
        break;
      }
    }
  }

  #begin(kind: FaultKind): Promise<void> | undefined {
    if (kind === "loss") {
      if (this.#lossActive || !this.loss) return undefined;
      return this.#lossSpell(this.loss);
    }
    const disturbed = this.cluster.nodes.filter((n) => n.condition !== "running").length;
    if (disturbed >= this.options.maxDisturbed) return undefined;
    if (this.cluster.running().length < 2) return undefined;
    const node = this.cluster.pickRunning()!;
    return kind === "kill" ? this.#killAndRestart(node) : this.#stopAndResume(node);
  }

  async #killAndRestart(node: ChaosNode): Promise<void> {
    const held = this.#draw(this.options.downMs);
    this.events.push({ kind: "kill", node: node.index, atMs: this.#now(), heldMs: held });
    await this.cluster.kill(node);
    await this.#sleep(held);
    await this.cluster.restart(node);
  }

  async #stopAndResume(node: ChaosNode): Promise<void> {
    const held = this.#draw(this.options.stopMs);
    this.events.push({ kind: "stop", node: node.index, atMs: this.#now(), heldMs: held });
    this.cluster.pause(node);
    await this.#sleep(held);
    this.cluster.resume(node);
  }

  async #lossSpell(loss: PacketLoss): Promise<void> {
    this.#lossActive = true;
    const held = this.#draw(this.options.lossMs);
    const max = this.options.lossPercent;
    const percent = Math.round(max / 2 + (this.random.next() * max) / 2);
    this.events.push({ kind: "loss", percent, atMs: this.#now(), heldMs: held });
    try {
      await loss.set(percent);
      await this.#sleep(held);
    } finally {
      await loss.set(0);
      this.#lossActive = false;
    }
  }

  #draw([low, high]: [number, number]): number {
    return low + randomInt(this.random, high - low + 1);
  }

  #now(): number {
    return Math.round(performance.now() - this.#startedAt);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((r) => setTimeout(r, ms));
  }
}
