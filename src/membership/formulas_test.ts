import assert from "node:assert/strict";
import { lanConfig, localConfig, wanConfig } from "./config.ts";
import {
  pushPullScale,
  remainingSuspicionTime,
  retransmitLimit,
  suspicionBounds,
  suspicionTimeout,
} from "./formulas.ts";

/** Total suspicion timeout after `c` confirmations (remaining time at elapsed 0). */
function total(n: number, c: number, config = lanConfig()): number {
  const { k, min, max } = suspicionBounds(config, n);
  return remainingSuspicionTime(c, k, 0, min, max);
}

Deno.test("suspicionBounds() matches the LAN table of §9", () => {
  assert.deepEqual(suspicionBounds(lanConfig(), 3), { k: 0, min: 4_000, max: 24_000 });
  const rows: [number, number, number, number][] = [
    // n, min, max, after one confirmation (floored to ms)
    [10, 4_000, 24_000, 11_381],
    [100, 8_000, 48_000, 22_762],
    [1_000, 12_000, 72_000, 34_144],
    [10_000, 16_000, 96_000, 45_525],
  ];
  for (const [n, min, max, one] of rows) {
    assert.deepEqual(suspicionBounds(lanConfig(), n), { k: 2, min, max }, `n=${n}`);
    assert.equal(total(n, 1), one, `n=${n} after 1`);
    assert.equal(total(n, 2), min, `n=${n} after k`);
    assert.equal(total(n, 0), max, `n=${n} after 0`);
  }
});

Deno.test("suspicionBounds() sets k = 0 when n - 2 < suspicionMult - 2", () => {
  assert.equal(suspicionBounds(lanConfig(), 3).k, 0);
  assert.equal(suspicionBounds(lanConfig(), 4).k, 2);
  assert.equal(suspicionBounds(wanConfig(), 5).k, 0);
  assert.equal(suspicionBounds(wanConfig(), 6).k, 4);
  assert.equal(suspicionBounds(localConfig(), 2).k, 0);
  assert.equal(suspicionBounds(localConfig(), 3).k, 1);
  // suspicionMult 1 gives memberlist k = -1, which behaves as 0.
  assert.equal(suspicionBounds(lanConfig({ suspicionMult: 1 }), 50).k, 0);
});

Deno.test("suspicionTimeout() matches the WAN and local examples of §9", () => {
  assert.equal(suspicionTimeout(6, 100, 5_000), 60_000);
  assert.equal(suspicionBounds(wanConfig(), 100).max, 360_000);
  assert.equal(suspicionTimeout(6, 1_000, 5_000), 90_000);
  assert.equal(suspicionBounds(wanConfig(), 1_000).max, 540_000);
  assert.equal(suspicionTimeout(3, 100, 1_000), 6_000);
  assert.equal(suspicionBounds(localConfig(), 100).max, 36_000);
});

Deno.test("suspicionTimeout() floors the log factor at 1 and truncates it to 3 decimals", () => {
  for (const n of [0, 1, 2, 5, 10]) assert.equal(suspicionTimeout(4, n, 1_000), 4_000);
  // log10(30) = 1.4771… → 1.477
  assert.equal(suspicionTimeout(4, 30, 1_000), 5_908);
  // log10(11) = 1.04139… → 1.041; 4 × 1.041 × 250 ms
  assert.equal(suspicionTimeout(4, 11, 250), 1_041);
});

Deno.test("remainingSuspicionTime() subtracts elapsed and never goes below min", () => {
  assert.equal(remainingSuspicionTime(1, 2, 5_000, 4_000, 24_000), 11_381 - 5_000);
  assert.equal(remainingSuspicionTime(1, 2, 20_000, 4_000, 24_000), 11_381 - 20_000);
  assert.equal(remainingSuspicionTime(2, 2, 0, 4_000, 24_000), 4_000);
  // With more confirmations than expected the raw value would undershoot; it is clamped.
  assert.equal(remainingSuspicionTime(5, 2, 1_000, 4_000, 24_000), 3_000);
  // k = 4 (WAN): the log scale gives ln(c+1)/ln 5 of the way.
  const { min, max } = suspicionBounds(wanConfig(), 100);
  assert.equal(
    remainingSuspicionTime(1, 4, 0, min, max),
    Math.floor(1000 * (360 - Math.log(2) / Math.log(5) * 300)),
  );
  assert.equal(remainingSuspicionTime(4, 4, 0, min, max), 60_000);
});

Deno.test("retransmitLimit() matches the table of §10.1", () => {
  const rows: [number, number, number][] = [
    [1, 4, 2],
    [9, 4, 2],
    [10, 8, 4],
    [99, 8, 4],
    [100, 12, 6],
    [999, 12, 6],
    [1_000, 16, 8],
    [9_999, 16, 8],
    [10_000, 20, 10],
    [99_999, 20, 10],
  ];
  for (const [n, lan, local] of rows) {
    assert.equal(retransmitLimit(4, n), lan, `n=${n}`);
    assert.equal(retransmitLimit(2, n), local, `n=${n}`);
  }
  assert.equal(retransmitLimit(4, 0), 0);
});

Deno.test("pushPullScale() matches §10.5", () => {
  const rows: [number, number][] = [
    [1, 1],
    [32, 1],
    [33, 2],
    [64, 2],
    [65, 3],
    [100, 3],
    [128, 3],
    [129, 4],
    [256, 4],
    [257, 5],
    [1_000, 6],
    [10_000, 10],
  ];
  for (const [n, mult] of rows) assert.equal(pushPullScale(30_000, n), mult * 30_000, `n=${n}`);
  assert.equal(pushPullScale(30_000, 100), 90_000);
  assert.equal(pushPullScale(30_000, 1_000), 180_000);
  assert.equal(pushPullScale(30_000, 10_000), 300_000);
});
