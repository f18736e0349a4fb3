/**
 * Builds the simulated cluster a run spec describes — LAN config with the chosen Lifeguard
 * features, warm members, network loss — and keeps the false-positive tally that every run
 * reports.
 *
 * @module
 */

import { lanConfig, type MembershipConfig } from "../../src/membership/config.ts";
import { suspicionBounds } from "../../src/membership/formulas.ts";
import { NodeState } from "../../src/membership/node_types.ts";
import { SimCluster, type SimNode } from "../../src/membership/testing/sim_cluster.ts";
import type { CommonSpec, FalsePositiveCount, LifeguardVariant } from "./spec.ts";

/** The LAN preset with the features of `variant` and the TCP fallback as asked. */
export function variantConfig(variant: LifeguardVariant, tcpPings: boolean): MembershipConfig {
  const noHealth = variant === "swim" || variant === "suspicion-only";
  const noAcceleration = variant === "swim" || variant === "lhm-only";
  return lanConfig({
    ...(noHealth ? { awarenessMaxMultiplier: 1 } : {}),
    ...(noAcceleration ? { suspicionMaxTimeoutMult: 1 } : {}),
    disableTcpPings: !tcpPings,
    // The member cap protects real nodes; left at its default (10,000), a 10,000-member cluster
    // would refuse the joiners the simulation measures. It changes nothing below the cap.
    maxMembers: 1_000_000,
  });
}

/** A warm cluster built for a spec, and the wall time the warm start took. */
export interface BuiltCluster {
  /** The cluster, started. */
  cluster: SimCluster;
  /** Its warm members. */
  warm: SimNode[];
  /** Wall time of creating and warm-starting the members, ms. */
  warmWallMs: number;
  /** Suspicion bounds at this size. */
  suspicion: { min: number; max: number; k: number };
}

/** Creates `spec.n` members, warm-starts and starts them. */
export function buildCluster(spec: CommonSpec): BuiltCluster {
  const config = variantConfig(spec.variant, spec.tcpPings);
  const t0 = performance.now();
  const cluster = new SimCluster({
    config,
    seed: spec.seed,
    loss: spec.loss,
    latencyMs: spec.latencyMs,
    jitterMs: spec.jitterMs,
    pushPullPhase: "steady",
  });
  const warm = cluster.addMany(spec.n);
  cluster.warmStart(warm);
  const warmWallMs = performance.now() - t0;
  cluster.startAll(warm);
  return { cluster, warm, warmWallMs, suspicion: suspicionBounds(config, spec.n) };
}

/**
 * Counts false suspicions and false deaths (of members not crashed) as they happen, split by
 * whether the accused member is one of `slow`.
 */
export class FalsePositiveTally {
  readonly #count: Omit<FalsePositiveCount, "nodeHours"> = {
    falseSuspicions: 0,
    fpHealthy: 0,
    fpSlow: 0,
    declaredHealthy: 0,
    declaredSlow: 0,
    refutations: 0,
  };

  /** Starts counting on `cluster`; `slow` names the slow members. */
  constructor(cluster: SimCluster, slow: ReadonlySet<string> = new Set()) {
    const crashed = (name: string) => cluster.node(name).crashed;
    cluster.onEffect((_, __, effect) => {
      const c = this.#count;
      if (effect.type === "suspicion-started" && !crashed(effect.node)) c.falseSuspicions++;
      else if (effect.type === "refute") c.refutations++;
      else if (effect.type === "suspicion-expired" && !crashed(effect.node)) {
        if (slow.has(effect.node)) c.declaredSlow++;
        else c.declaredHealthy++;
      } else if (
        effect.type === "leave" && effect.member.state === NodeState.Dead &&
        !crashed(effect.member.name)
      ) {
        if (slow.has(effect.member.name)) c.fpSlow++;
        else c.fpHealthy++;
      }
    });
  }

  /** The tally for `members` members over `virtualMs`. */
  result(members: number, virtualMs: number): FalsePositiveCount {
    return { nodeHours: (members * virtualMs) / 3_600_000, ...this.#count };
  }
}
