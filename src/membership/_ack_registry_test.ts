import assert from "node:assert/strict";
import { VirtualClock } from "../util/clock.ts";
import { AckRegistry } from "./_ack_registry.ts";
import { TimerSet } from "./_timers.ts";

Deno.test("AckRegistry runs an ack once, passes nacks, and expires silent handlers", () => {
  const clock = new VirtualClock(0);
  const timers = new TimerSet(clock);
  const acks = new AckRegistry(timers);
  const log: string[] = [];
  const handler = (id: string) => ({
    onAck: (p: Uint8Array) => void log.push(`${id}:ack:${p.length}`),
    onNack: () => void log.push(`${id}:nack`),
    onTimeout: () => void log.push(`${id}:timeout`),
  });
  acks.register(1, handler("one"), 100);
  acks.register(2, handler("two"), 100);
  assert.equal(acks.nack(1), true);
  assert.equal(acks.ack(1, Uint8Array.of(7), 5), true);
  assert.equal(acks.ack(1, Uint8Array.of(), 6), false);
  clock.advance(100);
  assert.equal(acks.ack(2, Uint8Array.of(), 101), false);
  assert.deepEqual(log, ["one:nack", "one:ack:1", "two:timeout"]);
  assert.equal(acks.size, 0);
  acks.register(3, handler("three"), 100);
  timers.close();
  acks.clear();
  clock.advance(1_000);
  assert.deepEqual(log.slice(3), ["three:timeout"]);
});

Deno.test("TimerSet races, sleeps and cancels everything on close", async () => {
  const clock = new VirtualClock(0);
  const timers = new TimerSet(clock);
  const slow = timers.race(new Promise<string>(() => {}), 50, "late");
  clock.advance(50);
  assert.equal(await slow, "late");
  const fast = timers.race(Promise.resolve("now"), 50, "late");
  assert.equal(await fast, "now");
  const deadline = timers.deadline(10);
  clock.advance(10);
  assert.ok(deadline.signal.aborted);
  let fired = false;
  timers.after(5, () => (fired = true));
  const waiting = timers.sleep(60_000);
  timers.close();
  await waiting; // ends at close instead of hanging
  clock.advance(10);
  assert.equal(fired, false);
  assert.equal(clock.pending, 0);
  assert.equal(await timers.race(new Promise(() => {}), 5, "closed"), "closed");
});
