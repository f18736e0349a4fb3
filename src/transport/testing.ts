/**
 * Helpers for tests on virtual time. Stream reads and most protocol code are promise chains:
 * firing a timer only queues microtasks, so a test must let them run before moving time again.
 * {@link settle} does that; {@link runFor} moves a {@link VirtualClock} forward in small steps
 * and settles after each, so a request, its delivery and its answer all happen within the
 * simulated span.
 *
 * ```ts
 * const net = new MemoryNetwork({ latencyMs: 5 });
 * // ... attach nodes, start work ...
 * await runFor(net.clock as VirtualClock, 1000); // one simulated second
 * ```
 *
 * @module
 */

import { setImmediate } from "node:timers";
import type { VirtualClock } from "../util/clock.ts";

/**
 * Resolves once every pending microtask has run, including those queued by them (it waits
 * for one macrotask turn, which drains the whole microtask queue). Costs a few µs.
 */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Advances `clock` by `ms` in steps of `stepMs`, settling microtasks before the first step and
 * after each one. Smaller steps keep promise-driven code closer to the timers it races with;
 * idle time is skipped: the clock jumps to the next due timer (or the end) when that is further
 * than one step away, since nothing can happen in between once microtasks have settled.
 *
 * @param clock the virtual clock to drive.
 * @param ms how long to run, ms (>= 0).
 * @param stepMs the step, ms (> 0). @default {1}
 */
export async function runFor(clock: VirtualClock, ms: number, stepMs = 1): Promise<void> {
  if (!(ms >= 0) || !(stepMs > 0)) {
    throw new RangeError(
      `Cannot run the clock: ms must be >= 0 and stepMs > 0: received ms=${ms}, stepMs=${stepMs}`,
    );
  }
  const end = clock.now() + ms;
  await settle();
  while (clock.now() < end) {
    const next = clock.nextDueAt() ?? end;
    clock.advanceTo(Math.min(end, Math.max(next, clock.now() + stepMs)));
    await settle();
  }
}
