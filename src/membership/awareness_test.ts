import assert from "node:assert/strict";
import { Awareness } from "./awareness.ts";

Deno.test("Awareness starts healthy and clamps the score to [0, max - 1]", () => {
  const a = new Awareness(8);
  assert.equal(a.score, 0);
  assert.equal(a.applyDelta(-1), 0);
  assert.equal(a.applyDelta(3), 3);
  assert.equal(a.applyDelta(10), 7);
  assert.equal(a.applyDelta(1), 7);
  assert.equal(a.applyDelta(-2), 5);
  assert.equal(a.score, 5);
  assert.equal(a.max, 8);
});

Deno.test("Awareness.scaleTimeout() multiplies by score + 1", () => {
  const a = new Awareness(8);
  assert.equal(a.scaleTimeout(1_000), 1_000);
  a.applyDelta(1);
  assert.equal(a.scaleTimeout(1_000), 2_000);
  a.applyDelta(100);
  assert.equal(a.scaleTimeout(1_000), 8_000);
});

Deno.test("Awareness with max 1 never scales", () => {
  const a = new Awareness(1);
  a.applyDelta(5);
  assert.equal(a.score, 0);
  assert.equal(a.scaleTimeout(500), 500);
});

Deno.test("Awareness rejects a bad max", () => {
  assert.throws(() => new Awareness(0), RangeError);
  assert.throws(() => new Awareness(2.5), /max must be an integer >= 1: received 2.5/);
});
