import assert from "node:assert/strict";
import { BodyDeadline } from "./body_deadline.ts";
import { HttpError } from "./errors.ts";

Deno.test("BodyDeadline fails only the reads still pending at their deadline, with 408", async () => {
  const deadline = new BodyDeadline(40);
  const stalled = Promise.withResolvers<string>();
  const quick = deadline.within(Promise.resolve("done"));
  const slow = deadline.within(stalled.promise);
  assert.equal(await quick, "done");
  assert.equal(deadline.pending, 1);
  const started = performance.now();
  await assert.rejects(
    slow,
    (e) => e instanceof HttpError && e.status === 408 && /within 40 ms/.test(e.message),
  );
  assert.ok(performance.now() - started < 2_000);
  assert.equal(deadline.pending, 0);
  // The abandoned read may still settle, or fail, without effect.
  stalled.reject(new Error("late"));
});

Deno.test("BodyDeadline passes a read's failure on and holds no timer once idle", async () => {
  const deadline = new BodyDeadline(10_000);
  await assert.rejects(deadline.within(Promise.reject(new RangeError("x"))), RangeError);
  assert.equal(deadline.pending, 0);
  // The timer is unref'd: left to run out, it neither leaks (sanitizer) nor holds the process.
  assert.equal(await deadline.within(Promise.resolve(1)), 1);
});

Deno.test("BodyDeadline of 0 never expires a read", async () => {
  const deadline = new BodyDeadline(0);
  const reading = Promise.resolve(7);
  assert.equal(deadline.within(reading), reading);
  assert.equal(await reading, 7);
});
