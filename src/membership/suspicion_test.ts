import assert from "node:assert/strict";
import { VirtualClock } from "../util/clock.ts";
import { lanConfig } from "./config.ts";
import { suspicionBounds } from "./formulas.ts";
import { SuspicionTimer } from "./suspicion.ts";

function setup(k: number, min: number, max: number, from = "accuser") {
  const clock = new VirtualClock(0);
  const fired: { at: number; confirmations: number }[] = [];
  const timer = new SuspicionTimer({
    clock,
    from,
    k,
    min,
    max,
    onTimeout: (confirmations) => fired.push({ at: clock.now(), confirmations }),
  });
  return { clock, fired, timer };
}

Deno.test("SuspicionTimer with k = 0 runs for min and accepts no confirmations", () => {
  const { clock, fired, timer } = setup(0, 4_000, 24_000);
  assert.equal(timer.deadline, 4_000);
  assert.equal(timer.confirm("b"), false);
  assert.equal(timer.confirmations, 0);
  clock.advance(3_999);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, [{ at: 4_000, confirmations: 0 }]);
  assert.equal(timer.fired, true);
});

Deno.test("SuspicionTimer without confirmations fires once at max", () => {
  const { clock, fired } = setup(2, 4_000, 24_000);
  clock.advance(23_999);
  assert.equal(fired.length, 0);
  clock.advance(100_000);
  assert.deepEqual(fired, [{ at: 24_000, confirmations: 0 }]);
});

Deno.test("SuspicionTimer.confirm() counts only new accusers, not the first, up to k", () => {
  const { timer } = setup(2, 4_000, 24_000, "a");
  assert.equal(timer.confirm("a"), false);
  assert.equal(timer.confirm("b"), true);
  assert.equal(timer.confirm("b"), false);
  assert.equal(timer.confirm("c"), true);
  assert.equal(timer.confirm("d"), false);
  assert.equal(timer.confirmations, 2);
});

Deno.test("SuspicionTimer confirmations shrink the timeout as the formula says (n = 10, LAN)", () => {
  const { k, min, max } = suspicionBounds(lanConfig(), 10);
  const { clock, fired, timer } = setup(k, min, max);
  clock.advance(1_000);
  timer.confirm("b");
  // Total 11,381 ms from the start, not from the confirmation.
  assert.equal(timer.deadline, 11_381);
  clock.advance(2_000);
  timer.confirm("c");
  assert.equal(timer.deadline, 4_000);
  clock.advance(999);
  assert.equal(fired.length, 0);
  clock.advance(1);
  assert.deepEqual(fired, [{ at: 4_000, confirmations: 2 }]);
});

Deno.test("SuspicionTimer fires on the next clock turn when a confirmation finds the time already past", () => {
  const { clock, fired, timer } = setup(2, 4_000, 24_000);
  clock.advance(12_000);
  assert.equal(timer.confirm("b"), true); // new total 11,381 < 12,000 elapsed
  assert.equal(fired.length, 0, "never fires inside confirm()");
  assert.equal(timer.deadline, 12_000);
  clock.advance(0);
  assert.deepEqual(fired, [{ at: 12_000, confirmations: 1 }]);
});

Deno.test("SuspicionTimer.cancel() prevents firing and is idempotent", () => {
  const { clock, fired, timer } = setup(2, 4_000, 24_000);
  timer.cancel();
  timer.cancel();
  assert.equal(timer.confirm("b"), true);
  clock.advance(100_000);
  assert.deepEqual(fired, []);
  assert.equal(timer.cancelled, true);
  assert.equal(clock.pending, 0);
});

Deno.test("SuspicionTimer fires only once even if confirmed afterwards", () => {
  const { clock, fired, timer } = setup(2, 4_000, 24_000);
  clock.advance(24_000);
  assert.equal(fired.length, 1);
  // memberlist still counts a late confirmation (so it is re-gossiped) but does not re-arm.
  assert.equal(timer.confirm("b"), true);
  clock.advance(100_000);
  assert.equal(fired.length, 1);
  assert.equal(clock.pending, 0);
});

Deno.test("SuspicionTimer exposes its parameters", () => {
  const clock = new VirtualClock(500);
  const timer = new SuspicionTimer({ clock, from: "a", k: 2, min: 1, max: 6, onTimeout: () => {} });
  assert.deepEqual([timer.k, timer.min, timer.max, timer.start, timer.deadline], [
    2,
    1,
    6,
    500,
    506,
  ]);
});
