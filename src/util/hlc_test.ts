import assert from "node:assert/strict";
import { VirtualClock } from "./clock.ts";
import {
  compareNodeNames,
  compareVersions,
  HLC_LOGICAL_RANGE,
  hlcFromParts,
  hlcLogical,
  hlcPhysicalMs,
  HybridLogicalClock,
} from "./hlc.ts";

const T0 = 1_700_000_000_000;

Deno.test("hlcPhysicalMs and hlcLogical split what hlcFromParts packs", () => {
  const hlc = hlcFromParts(T0, 37);
  assert.equal(hlcPhysicalMs(hlc), T0);
  assert.equal(hlcLogical(hlc), 37);
  // Year ~2248 still fits in a safe integer.
  assert.ok(Number.isSafeInteger(hlcFromParts(8_796_093_022_207, 1023)));
});

Deno.test("HybridLogicalClock.now() follows the wall clock and is strictly monotonic", () => {
  const clock = new VirtualClock(T0);
  const hlc = new HybridLogicalClock(clock);
  const a = hlc.now();
  assert.equal(a, hlcFromParts(T0));
  const b = hlc.now();
  assert.equal(b, a + 1);
  clock.advance(5);
  assert.equal(hlc.now(), hlcFromParts(T0 + 5));
});

Deno.test("HybridLogicalClock.now() stays monotonic when the wall clock steps back", () => {
  const clock = new VirtualClock(T0);
  const hlc = new HybridLogicalClock(clock);
  let prev = hlc.now();
  clock.set(T0 - 10_000);
  for (let i = 0; i < 5000; i++) {
    const t = hlc.now();
    assert.ok(t > prev, `step ${i}: ${t} <= ${prev}`);
    prev = t;
  }
  // 5000 events in one stalled millisecond carried the logical part into the physical part.
  assert.equal(hlcPhysicalMs(prev), T0 + Math.floor(5000 / HLC_LOGICAL_RANGE));
  assert.ok(hlcLogical(prev) < HLC_LOGICAL_RANGE);
  // Once the wall clock overtakes the HLC again, timestamps follow the wall clock.
  clock.set(T0 + 100);
  assert.equal(hlc.now(), hlcFromParts(T0 + 100));
});

Deno.test("HybridLogicalClock.observe() makes later timestamps exceed a remote one", () => {
  const clock = new VirtualClock(T0);
  const hlc = new HybridLogicalClock(clock);
  const remote = hlcFromParts(T0 + 2_000, 5);
  assert.equal(hlc.observe(remote), true);
  assert.equal(hlc.last, remote);
  assert.ok(hlc.now() > remote);
  // An older remote timestamp changes nothing.
  const before = hlc.last;
  assert.equal(hlc.observe(hlcFromParts(T0 - 1)), true);
  assert.equal(hlc.last, before);
});

Deno.test("HybridLogicalClock.observe() rejects timestamps beyond maxDriftMs and junk", () => {
  const clock = new VirtualClock(T0);
  const hlc = new HybridLogicalClock(clock, { maxDriftMs: 1_000 });
  assert.equal(hlc.observe(hlcFromParts(T0 + 1_000, 1023)), true);
  assert.equal(hlc.observe(hlcFromParts(T0 + 1_001)), false);
  assert.equal(hlc.observe(-1), false);
  assert.equal(hlc.observe(1.5), false);
  assert.equal(hlc.observe(Number.NaN), false);
  assert.equal(hlc.rejected, 4);
  assert.equal(hlc.last, hlcFromParts(T0 + 1_000, 1023));
  assert.throws(() => new HybridLogicalClock(clock, { maxDriftMs: -1 }), RangeError);
});

Deno.test("HybridLogicalClock.version() stamps the node name", () => {
  const hlc = new HybridLogicalClock(new VirtualClock(T0));
  assert.deepEqual(hlc.version("a"), { hlc: hlcFromParts(T0), node: "a" });
});

Deno.test("compareVersions orders by hlc, then node name bytewise", () => {
  assert.equal(compareVersions({ hlc: 1, node: "z" }, { hlc: 2, node: "a" }), -1);
  assert.equal(compareVersions({ hlc: 2, node: "a" }, { hlc: 1, node: "z" }), 1);
  assert.equal(compareVersions({ hlc: 2, node: "a" }, { hlc: 2, node: "b" }), -1);
  assert.equal(compareVersions({ hlc: 2, node: "b" }, { hlc: 2, node: "a" }), 1);
  assert.equal(compareVersions({ hlc: 2, node: "a" }, { hlc: 2, node: "a" }), 0);
  assert.equal(compareNodeNames("a", "ab"), -1);
});

Deno.test("compareNodeNames matches UTF-8 byte order", () => {
  const names = ["a", "ab", "\uff61", "\u{1f600}", "\ue000", "Z", "é", "", "\u{10000}"];
  const utf8 = new TextEncoder();
  const byBytes = (x: string, y: string) => {
    const a = utf8.encode(x), b = utf8.encode(y);
    for (let i = 0; i < Math.min(a.length, b.length); i++) {
      if (a[i] !== b[i]) return a[i] - b[i];
    }
    return a.length - b.length;
  };
  assert.deepEqual([...names].sort(compareNodeNames), [...names].sort(byBytes));
});
