/**
 * The published figures the simulation is compared with (the project's protocol notes,
 * Appendix A), and the models behind them, computed for any cluster size:
 *
 * - SWIM (Das et al. 2002): expected time from a crash to its first detection is
 *   `1 / (1 − e^−1) ≈ 1.58` protocol periods, whatever N (each member is probed by someone in a
 *   period with probability `1 − (1 − 1/N)^(N−1) ≈ 1 − e^−1`; detection ends that period).
 * - Serf's convergence simulator: logistic epidemic, fraction infected after r gossip rounds
 *   `1 / (1 + (n + 1) e^(−c n r))` with `c = fanout / n × (1 − loss) × (1 − failed) × 0.5`,
 *   counted in whole rounds (that reproduces its published 1.0 / 1.6 / 2.2 / 2.6 s figures).
 * - Lifeguard (Dadgar et al. 2018): more than 50× fewer false positives with slow members.
 * - memberlist's suspicion timeout bounds (via the engine's own formulas).
 *
 * @module
 */

/** SWIM's expected first-detection time, in protocol periods. */
export const SWIM_FIRST_DETECTION_PERIODS = 1 / (1 - Math.exp(-1));

/** Lifeguard's reported reduction of false positives (a lower bound). */
export const LIFEGUARD_FP_REDUCTION = 50;

/** Serf's estimated gossip bandwidth bound per member: 1400 B × fanout 3 × 2 / 0.2 s. */
export const SERF_MAX_GOSSIP_BYTES_PER_SEC = (1400 * 3 * 2) / 0.2;

/** Settings of the Serf convergence model. */
export interface SerfModel {
  /** Gossip interval, ms. @default 200 */
  intervalMs?: number;
  /** Members gossiped to per round. @default 3 */
  fanout?: number;
  /** Packet loss, 0..1. @default 0 */
  loss?: number;
  /** Fraction of failed members. @default 0 */
  failed?: number;
}

/**
 * Time (ms) until a fraction `p` (< 1) of `n` members has heard an update in Serf's model,
 * rounded up to whole gossip rounds as its simulator reports it.
 */
export function serfConvergenceMs(n: number, p: number, model: SerfModel = {}): number {
  const interval = model.intervalMs ?? 200;
  const cn = (model.fanout ?? 3) * (1 - (model.loss ?? 0)) * (1 - (model.failed ?? 0)) * 0.5;
  const rounds = Math.log(((n + 1) * p) / (1 - p)) / cn;
  return Math.ceil(Math.max(0, rounds)) * interval;
}

/**
 * What SWIM's argument gives for this engine, in probe periods: the members' probes are
 * staggered and continuous rather than in lock-step rounds, so the first probe of a crashed
 * member starts after about one period on average (N − 1 probers each reaching it once per
 * round at a random phase) and fails one period later (probe timeout, then indirect probes
 * until the end of the period): about 2 periods, against SWIM's 1.58 for synchronous rounds.
 */
export const ENGINE_FIRST_DETECTION_PERIODS = 2;
