/**
 * The cluster-size scaling formulas of memberlist (util.go, suspicion.go), as pure functions of
 * milliseconds and node counts. `n` is always memberlist's estimate of the cluster size: the
 * member table's length, self and not-yet-reaped dead members included.
 *
 * `Math.log10`/`Math.log2` agree with Go's `math.Log10`/`math.Log2` on every `ceil`/`floor`
 * boundary these formulas take for n up to 200,000 (checked against Go's algorithm), so the
 * integer results match memberlist exactly.
 *
 * @module
 */

/** Push/pull is not scaled until the cluster grows beyond this many members. */
export const PUSH_PULL_SCALE_THRESHOLD = 32;

/**
 * Minimum suspicion timeout in ms: `suspicionMult × max(1, log10(max(1, n))) × probeInterval`,
 * with the log factor truncated to 3 decimals as memberlist does (it scales by 1000 to keep
 * precision in an integer `Duration`). Note: log10 of n, not ln(n + 1) as memberlist's config
 * comment claims.
 */
export function suspicionTimeout(suspicionMult: number, n: number, probeInterval: number): number {
  const nodeScale = Math.max(1, Math.log10(Math.max(1, n)));
  return (suspicionMult * Math.trunc(nodeScale * 1000) * probeInterval) / 1000;
}

/** The three parameters of a Lifeguard suspicion timer. */
export interface SuspicionBounds {
  /** Expected independent confirmations (0 when the cluster is too small to provide them). */
  k: number;
  /** Timeout reached once `k` confirmations have arrived, in ms. */
  min: number;
  /** Timeout with no confirmations, in ms. */
  max: number;
}

/** Timing fields that {@link suspicionBounds} reads. */
export interface SuspicionSettings {
  /** See `MembershipConfig.suspicionMult`. */
  suspicionMult: number;
  /** See `MembershipConfig.suspicionMaxTimeoutMult`. */
  suspicionMaxTimeoutMult: number;
  /** See `MembershipConfig.probeInterval`. */
  probeInterval: number;
}

/**
 * The suspicion timer's `k`, `min` and `max` for a cluster of `n`, as memberlist's suspectNode
 * computes them: `k = suspicionMult − 2` (so the nominal timeout is reached two probe intervals
 * early), or 0 when `n − 2 < k` (not enough other members to confirm; the 2 are self and the
 * suspect). A negative k (suspicionMult 1) behaves exactly like 0 and is reported as 0.
 */
export function suspicionBounds(config: SuspicionSettings, n: number): SuspicionBounds {
  let k = config.suspicionMult - 2;
  if (n - 2 < k) k = 0;
  const min = suspicionTimeout(config.suspicionMult, n, config.probeInterval);
  return { k: Math.max(0, k), min, max: config.suspicionMaxTimeoutMult * min };
}

/**
 * Time left (ms, may be ≤ 0) on a suspicion timer after `confirmations` of `k` expected ones,
 * `elapsed` ms after it started. The total timeout shrinks on a log scale from `max` to `min`:
 * `floor_ms(max − ln(c + 1)/ln(k + 1) × (max − min))`, never below `min`.
 */
export function remainingSuspicionTime(
  confirmations: number,
  k: number,
  elapsed: number,
  min: number,
  max: number,
): number {
  const frac = Math.log(confirmations + 1) / Math.log(k + 1);
  const raw = seconds(max) - frac * (seconds(max) - seconds(min));
  // memberlist rounds the total down to whole milliseconds before clamping.
  const timeout = Math.max(min, Math.floor(1000 * raw));
  return timeout - elapsed;
}

/**
 * How many times each broadcast is transmitted: `retransmitMult × ceil(log10(n + 1))`.
 * Note n = 0 gives 0, which the queue treats as "send once".
 */
export function retransmitLimit(retransmitMult: number, n: number): number {
  return retransmitMult * Math.ceil(Math.log10(n + 1));
}

/**
 * The push/pull period for a cluster of `n`: `interval` up to 32 members, then
 * `interval × (ceil(log2 n − log2 32) + 1)` — ×2 for 33–64, ×3 for 65–128, … so that the
 * O(n)-sized full-state exchanges cost each member roughly the same bandwidth as the cluster
 * grows.
 */
export function pushPullScale(interval: number, n: number): number {
  if (n <= PUSH_PULL_SCALE_THRESHOLD) return interval;
  const multiplier = Math.ceil(Math.log2(n) - Math.log2(PUSH_PULL_SCALE_THRESHOLD)) + 1;
  return multiplier * interval;
}

/** Go's `Duration.Seconds()` for a duration in ms: whole seconds plus the nanosecond remainder. */
function seconds(ms: number): number {
  const ns = Math.round(ms * 1e6);
  const whole = Math.trunc(ns / 1e9);
  return whole + (ns - whole * 1e9) / 1e9;
}
