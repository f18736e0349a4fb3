import assert from "node:assert/strict";
import { VirtualClock } from "../util/clock.ts";
import { hlcFromParts } from "../util/hlc.ts";
import { SeededRandom, shuffle } from "../util/random.ts";
import { differingBuckets } from "./differing_buckets.ts";
import { TtlStore } from "./ttl_store.ts";
import type { StoreRecord } from "./types.ts";

const T0 = 1_700_000_000_000;
const ZERO = "0".repeat(16);

type Keyed = [string, StoreRecord];

/** Writes (several versions per key, some deletes) whose LWW outcome is order-independent. */
function workload(): Keyed[] {
  const out: Keyed[] = [];
  for (let i = 0; i < 3_000; i++) {
    const key = `key-${i % 1_000}`;
    const version = { hlc: hlcFromParts(T0 + (i % 7), i % 5), node: `n${i % 3}` };
    const value = i % 11 === 0 ? null : `value ${i}`;
    out.push([key, { value, expiresAt: i % 13 === 0 ? T0 + 50 : 0, version }]);
  }
  return out;
}

function feed(records: Keyed[], hashSeed = 1): TtlStore {
  const store = new TtlStore({ clock: new VirtualClock(T0), digestBuckets: 64, hashSeed });
  for (const [key, record] of records) store.apply(key, record);
  return store;
}

Deno.test("TtlStore digests are equal for the same records applied in different orders", () => {
  const records = workload();
  const a = feed(records);
  // Different orders, and different key-index seeds: digests do not depend on either.
  const b = feed(shuffle(new SeededRandom(7), [...records]), 2);
  const c = feed([...records].reverse(), 3);
  assert.notEqual(a.digest(), ZERO);
  assert.equal(a.digest(), b.digest());
  assert.equal(a.digest(), c.digest());
  assert.deepEqual(a.bucketDigests(), b.bucketDigests());
  assert.deepEqual(differingBuckets(a.bucketDigests(), c.bucketDigests()), []);
});

Deno.test("TtlStore digests differ exactly in the bucket of a differing record", () => {
  const records = workload();
  const a = feed(records);
  const b = feed(records);
  b.apply("key-17", {
    value: "newer",
    expiresAt: 0,
    version: { hlc: hlcFromParts(T0 + 9), node: "x" },
  });
  assert.notEqual(a.digest(), b.digest());
  const diff = differingBuckets(a.bucketDigests(), b.bucketDigests());
  assert.deepEqual(diff, [a.bucketOf("key-17")]);
  const listed = b.recordsInBucket(diff[0]);
  assert.ok(listed.some((r) => r.key === "key-17" && r.value === "newer"));
  assert.ok(listed.every((r) => b.bucketOf(r.key) === diff[0]));
  // Repair: apply the other side's records of that bucket and the digests meet.
  for (const r of listed) a.apply(r.key, r);
  assert.equal(a.digest(), b.digest());
});

Deno.test("TtlStore digest depends on the version, not on the value or tombstone state", () => {
  const clock = new VirtualClock(T0);
  const a = new TtlStore({ clock });
  const b = new TtlStore({ clock });
  const version = { hlc: hlcFromParts(T0), node: "n" };
  a.apply("k", { value: "x", expiresAt: 0, version });
  b.apply("k", { value: "x", expiresAt: 0, version: { ...version, node: "m" } });
  assert.notEqual(a.digest(), b.digest());
  b.apply("k", { value: "x", expiresAt: 0, version: { ...version, node: "o" } });
  b.delete("k", { hlc: version.hlc + 1, node: "n" });
  a.delete("k", { hlc: version.hlc + 1, node: "n" });
  assert.equal(a.digest(), b.digest());
});

Deno.test("TtlStore digest keeps an expired record's version until its tombstone is collected", () => {
  const clock = new VirtualClock(T0);
  const tombstoneTtlMs = 60_000;
  const a = new TtlStore({ clock, digestBuckets: 16, tombstoneTtlMs });
  const b = new TtlStore({ clock, digestBuckets: 16, tombstoneTtlMs });
  const only = new TtlStore({ clock, digestBuckets: 16, tombstoneTtlMs });
  const version = { hlc: hlcFromParts(T0), node: "n" };
  for (const s of [a, b, only]) s.apply("keep", { value: "1", expiresAt: 0, version });
  for (const s of [a, b]) s.apply("short", { value: "2", expiresAt: T0 + 10, version });
  clock.advance(10);
  // Listing its bucket turns the expired entry into its tombstone on a, not yet on b: replicas
  // that reclaim at different moments still agree (the version counts, not the value).
  const listed = a.recordsInBucket(a.bucketOf("short")).find((r) => r.key === "short");
  assert.equal(listed?.value, null);
  assert.equal(a.digest(), b.digest());
  assert.equal(b.sweep(), 1);
  assert.equal(a.digest(), b.digest());
  assert.notEqual(a.digest(), only.digest());
  // At the version's retention deadline the tombstones go on both, and so do the differences.
  clock.advanceTo(T0 + tombstoneTtlMs);
  assert.deepEqual([a.sweep(), b.sweep()], [1, 1]);
  assert.deepEqual([a.digest(), b.digest()], [only.digest(), only.digest()]);
});

Deno.test("TtlStore.recordsInBucket() rejects an index out of range", () => {
  const store = new TtlStore({ clock: new VirtualClock(T0), digestBuckets: 8 });
  assert.equal(store.bucketCount, 8);
  assert.throws(() => store.recordsInBucket(8), RangeError);
  assert.throws(() => store.recordsInBucket(-1), RangeError);
  assert.deepEqual(store.recordsInBucket(3), []);
  assert.throws(() => differingBuckets(new Uint32Array(2), new Uint32Array(4)), RangeError);
});
