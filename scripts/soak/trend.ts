/**
 * The soak run's arithmetic: quantiles of latency samples and the least-squares slope of a
 * series (how fast RSS or latency grows per minute).
 *
 * @module
 */

/** The `q` quantile (0..1) of `sorted` (ascending), nearest rank; NaN when empty. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

/**
 * Least-squares fit `y = slope × x + intercept` over points; slope 0 for fewer than two
 * distinct x. Throws a `RangeError` when the arrays differ in length.
 */
export function leastSquares(
  xs: readonly number[],
  ys: readonly number[],
): { slope: number; intercept: number } {
  if (xs.length !== ys.length) {
    throw new RangeError(
      `Cannot fit a line: as many x as y needed: received ${xs.length} and ${ys.length}`,
    );
  }
  const n = xs.length;
  if (n === 0) return { slope: 0, intercept: 0 };
  const mx = xs.reduce((a, b) => a + b, 0) / n;
  const my = ys.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
  }
  const slope = sxx === 0 ? 0 : sxy / sxx;
  return { slope, intercept: my - slope * mx };
}
