/**
 * The engine's periodic work on the injected clock (§8.1, §10.5): the probe loop (one member per
 * tick of a fixed ticker, as memberlist's; only a failed probe, which waits out its
 * health-scaled interval, delays the next one), the gossip loop, the push/pull loop (period
 * scaled with cluster size), the seed loop (join with backoff, then re-join any seed that is not
 * a live member) and the reconnect loop (retry a recently failed member). Each loop's first tick
 * is randomly staggered; every tick catches its own errors so no loop ever dies. Internal.
 *
 * @module
 */

import type { Address } from "../transport/transport.ts";
import type { EngineContext } from "./_context.ts";
import { addressOf } from "./_packet_io.ts";
import { probeNode } from "./_probe.ts";
import {
  backoffDelay,
  type FailedMembers,
  isSelf,
  missingSeeds,
  type RetryPolicy,
} from "./_seeds.ts";
import { pushPull } from "./_streams.ts";
import { pushPullScale } from "./formulas.ts";

/** What the loops need beyond the engine context. */
export interface LoopOptions {
  /** Seeds to join and keep joined. */
  seeds: readonly Address[];
  /** Backoff of seed joins. */
  seedRetry: RetryPolicy;
  /** Period of reconnect attempts (0 disables). */
  reconnectInterval: number;
  /** How long failed members stay candidates for reconnect. */
  reconnectTimeout: number;
  /** Recently failed members. */
  failed: FailedMembers;
  /** Whether some join succeeded already. */
  joined(): boolean;
  /** Push/pull-joins `seeds`; resolves with how many answered. */
  join(seeds: Address[]): Promise<number>;
}

/** Schedules and runs the engine's loops; stopped by closing the context's timers. */
export class ProtocolLoops {
  readonly #ctx: EngineContext;
  readonly #o: LoopOptions;
  // The probe ticker's phase: its ticks fall at origin + k × probeInterval.
  #probeOrigin: number | undefined;

  /** @param ctx the engine @param options seeds, reconnect settings and the join function */
  constructor(ctx: EngineContext, options: LoopOptions) {
    this.#ctx = ctx;
    this.#o = options;
  }

  /** Schedules the first tick of every enabled loop. */
  start(): void {
    const { config, timers, random } = this.#ctx;
    const stagger = (interval: number) => Math.floor(random.next() * interval);
    timers.after(stagger(config.probeInterval), () => void this.#probe());
    if (config.gossipInterval > 0 && config.gossipNodes > 0) {
      timers.after(stagger(config.gossipInterval), () => void this.#gossip());
    }
    if (config.pushPullInterval > 0) {
      timers.after(stagger(config.pushPullInterval), () => void this.#pushPull());
    }
    if (this.#o.seeds.length > 0) timers.after(0, () => void this.#seed(0));
    if (this.#o.reconnectInterval > 0) {
      timers.after(stagger(this.#o.reconnectInterval), () => void this.#reconnect());
    }
  }

  async #probe(): Promise<void> {
    const ctx = this.#ctx;
    const start = ctx.clock.now();
    this.#probeOrigin ??= start;
    try {
      const target = ctx.table.nextProbeTarget();
      if (target) await probeNode(ctx, target);
    } catch (error) {
      ctx.log.error("Probe failed unexpectedly", { error });
    }
    const next = nextTick(this.#probeOrigin, ctx.config.probeInterval, start);
    ctx.timers.after(next - ctx.clock.now(), () => void this.#probe());
  }

  async #gossip(): Promise<void> {
    const ctx = this.#ctx;
    ctx.timers.after(ctx.config.gossipInterval, () => void this.#gossip());
    for (const target of ctx.table.gossipTargets(ctx.config.gossipNodes)) {
      if (!(await ctx.io.gossip(target))) return;
    }
  }

  async #pushPull(): Promise<void> {
    const ctx = this.#ctx;
    const target = ctx.table.pushPullTarget();
    const address = target && addressOf(target);
    if (address) {
      try {
        await pushPull(ctx, address, false);
      } catch (error) {
        ctx.log.warn("Push/pull failed", { member: target!.name, error });
      }
    }
    const next = pushPullScale(ctx.config.pushPullInterval, ctx.table.numNodes);
    ctx.timers.after(next, () => void this.#pushPull());
  }

  async #seed(attempt: number): Promise<void> {
    const ctx = this.#ctx;
    if (ctx.table.hasLeft || ctx.closed) return;
    const others = this.#o.seeds.filter((s) => !isSelf(s, ctx.self));
    const targets = this.#o.joined() ? missingSeeds(others, ctx.table.all(), ctx.name) : others;
    let next = attempt;
    if (targets.length > 0) {
      const answered = await this.#o.join(targets).catch(() => 0);
      next = answered > 0 ? 0 : attempt + 1;
      if (answered > 0) ctx.log.info("Joined through seeds", { answered });
    }
    // Joined, or nothing to do: look again after the longest backoff delay.
    const delay = backoffDelay(
      this.#o.seedRetry,
      next === 0 ? Number.MAX_SAFE_INTEGER : attempt,
      ctx.random,
    );
    ctx.timers.after(delay, () => void this.#seed(next));
  }

  async #reconnect(): Promise<void> {
    const ctx = this.#ctx;
    const failed = this.#o.failed;
    ctx.timers.after(this.#o.reconnectInterval, () => void this.#reconnect());
    if (ctx.table.hasLeft) return;
    failed.expire(ctx.clock.now() - this.#o.reconnectTimeout);
    const alive = Math.max(1, ctx.table.numMembers() - 1);
    // Serf's rule: try more eagerly the more members failed compared to those alive.
    if (failed.size === 0 || ctx.random.next() > failed.size / alive) return;
    const target = failed.pick(ctx.random)!;
    try {
      await pushPull(ctx, target.address, true);
    } catch (error) {
      ctx.log.debug("Reconnect attempt failed", { error });
    }
  }
}

/**
 * When the probe after one started at `start` runs, as memberlist's probe ticker decides it: the
 * ticker fires every `interval` (unscaled) from `origin`, and a probe that overruns a tick (a
 * failed probe waits out its health-scaled interval) is followed at once by the tick it missed;
 * returns a time ≤ now in that case. The health score therefore stretches the period only
 * through failed probes, never after a successful one.
 */
function nextTick(origin: number, interval: number, start: number): number {
  return origin + (Math.floor((start - origin) / interval) + 1) * interval;
}
