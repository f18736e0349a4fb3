import assert from "node:assert/strict";
import { leastSquares, quantile } from "./trend.ts";

Deno.test("quantile takes the nearest rank", () => {
  const values = Array.from({ length: 100 }, (_, i) => i + 1);
  assert.equal(quantile(values, 0.5), 50);
  assert.equal(quantile(values, 0.99), 99);
  assert.equal(quantile(values, 1), 100);
  assert.equal(quantile([7], 0.99), 7);
  assert.ok(Number.isNaN(quantile([], 0.5)));
});

Deno.test("leastSquares recovers a line and is flat for flat or single points", () => {
  const xs = [0, 1, 2, 3, 4];
  const fit = leastSquares(xs, xs.map((x) => 2.5 * x + 10));
  assert.ok(Math.abs(fit.slope - 2.5) < 1e-12);
  assert.ok(Math.abs(fit.intercept - 10) < 1e-12);
  assert.equal(leastSquares(xs, [3, 3, 3, 3, 3]).slope, 0);
  assert.equal(leastSquares([1], [5]).slope, 0);
  // Noise around a flat line gives a slope near 0.
  assert.ok(Math.abs(leastSquares(xs, [10, 12, 9, 11, 10]).slope) < 0.5);
  assert.throws(() => leastSquares([1, 2], [1]), RangeError);
});
