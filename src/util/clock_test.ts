import assert from "node:assert/strict";
import { VirtualClock } from "./clock.ts";
import { SeededRandom } from "./random.ts";

Deno.test("VirtualClock fires in (due time, scheduling order), with cancels and nested timers", () => {
  for (let seed = 1; seed <= 20; seed++) {
    const random = new SeededRandom(seed);
    const clock = new VirtualClock(0);
    const fired: string[] = [];
    // The reference: every timer with its due time and scheduling number, sorted when checked.
    const expected: { at: number; seq: number; name: string }[] = [];
    const cancelled = new Set<string>();
    const ids: { id: unknown; name: string }[] = [];
    let seq = 0;
    const schedule = (name: string, ms: number, depth: number) => {
      const at = clock.now() + Math.max(0, ms);
      const entry = { at, seq: seq++, name };
      expected.push(entry);
      const id = clock.setTimeout(() => {
        fired.push(name);
        // Some timers schedule more, some of them due at once (fire in this same advance).
        if (depth < 2 && random.next() < 0.3) {
          schedule(`${name}.${depth}`, random.next() < 0.5 ? 0 : random.next() * 50, depth + 1);
        }
      }, ms);
      ids.push({ id, name });
    };
    for (let i = 0; i < 300; i++) {
      // Fractional and equal due times both occur (ties keep scheduling order).
      schedule(
        `t${i}`,
        random.next() < 0.3 ? 10 * Math.floor(random.next() * 5) : random.next() * 100,
        0,
      );
      if (random.next() < 0.2) {
        const victim = ids[Math.floor(random.next() * ids.length)];
        clock.clearTimeout(victim.id);
        if (!fired.includes(victim.name)) cancelled.add(victim.name);
      }
      if (random.next() < 0.1) clock.advance(random.next() * 20);
    }
    clock.advance(10_000);
    const order = expected.filter((e) => !cancelled.has(e.name))
      .sort((a, b) => a.at - b.at || a.seq - b.seq).map((e) => e.name);
    // Nested timers join the reference as they are scheduled; sorting all of them is the order
    // in which a correct clock fires them (each is due no earlier than the time it was set).
    assert.deepEqual(fired, order, `seed ${seed}`);
    assert.equal(clock.pending, 0);
    assert.equal(clock.nextDueAt(), undefined);
  }
});

Deno.test("VirtualClock counts pending timers and ignores stale or foreign handles", () => {
  const clock = new VirtualClock(0);
  const a = clock.setTimeout(() => {}, 10);
  clock.setTimeout(() => {}, 5);
  assert.equal(clock.pending, 2);
  assert.equal(clock.nextDueAt(), 5);
  clock.clearTimeout(a);
  clock.clearTimeout(a);
  clock.clearTimeout(42);
  clock.clearTimeout(undefined);
  assert.equal(clock.pending, 1);
  clock.advance(5);
  assert.equal(clock.pending, 0);
  clock.clearTimeout(a);
  assert.equal(clock.pending, 0);
  assert.equal(clock.now(), 5);
});
