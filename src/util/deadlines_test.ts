import assert from "node:assert/strict";
import { VirtualClock } from "./clock.ts";
import { DeadlineQueue } from "./deadlines.ts";

Deno.test("DeadlineQueue expires entries at their deadlines on one timer", () => {
  const clock = new VirtualClock();
  const q = new DeadlineQueue(clock, 100);
  const fired: string[] = [];
  q.add(() => fired.push("a"));
  clock.advance(30);
  const b = q.add(() => fired.push("b"));
  q.add(() => fired.push("c"));
  assert.equal(clock.pending, 1, "one timer for three deadlines");
  clock.advance(69);
  assert.deepEqual(fired, []);
  clock.advance(1);
  assert.deepEqual(fired, ["a"]);
  q.cancel(b);
  clock.advance(30);
  assert.deepEqual(fired, ["a", "c"], "a cancelled entry does not run");
  assert.equal(clock.pending, 0, "nothing pending: not re-armed");
});

Deno.test("DeadlineQueue lets its timer run out once every entry is cancelled, and re-arms after", () => {
  const clock = new VirtualClock();
  const q = new DeadlineQueue(clock, 50);
  const entries = [q.add(() => assert.fail("cancelled")), q.add(() => assert.fail("cancelled"))];
  for (const e of entries) q.cancel(e);
  assert.equal(q.pending, 0);
  clock.advance(20);
  let fired = 0;
  q.add(() => fired++); // due at 70: the timer armed for 50 finds it not due and re-arms
  clock.advance(30);
  assert.equal(fired, 0);
  assert.equal(clock.pending, 1);
  clock.advance(20);
  assert.equal(fired, 1);
  assert.equal(clock.pending, 0, "nothing pending: not re-armed");
});

Deno.test("DeadlineQueue lets an expiring entry add another, and close drops everything", () => {
  const clock = new VirtualClock();
  const q = new DeadlineQueue(clock, 10);
  const fired: number[] = [];
  q.add(() => {
    fired.push(clock.now());
    q.add(() => fired.push(clock.now()));
  });
  clock.advance(10);
  assert.equal(clock.pending, 1, "re-armed once for the entry added while firing");
  clock.advance(10);
  assert.deepEqual(fired.map((t) => t - fired[0]), [0, 10]);
  q.add(() => assert.fail("closed"));
  q.close();
  assert.equal(q.pending, 0);
  assert.equal(clock.pending, 0);
});
