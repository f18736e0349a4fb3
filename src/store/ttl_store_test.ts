import assert from "node:assert/strict";
import { VirtualClock } from "../util/clock.ts";
import { hlcFromParts, type Version } from "../util/hlc.ts";
import { entrySize } from "./entry_size.ts";
import { TtlStore } from "./ttl_store.ts";

const T0 = 1_700_000_000_000;
const TOMBSTONE_TTL = 600_000;

/** A version written `ms` after T0 by `node`. */
function v(ms: number, node = "a", logical = 0): Version {
  return { hlc: hlcFromParts(T0 + ms, logical), node };
}

function setup(options: ConstructorParameters<typeof TtlStore>[0] = {}) {
  const clock = new VirtualClock(T0);
  const store = new TtlStore({ clock, ...options });
  return { clock, store };
}

Deno.test("TtlStore.get() sees an entry until expiresAt - 1 and not at expiresAt", () => {
  const { clock, store } = setup();
  const expiresAt = T0 + 1_000;
  assert.equal(store.apply("k", { value: "v", expiresAt, version: v(0) }).reason, "stored");
  clock.advanceTo(expiresAt - 1);
  assert.deepEqual(store.get("k"), { key: "k", value: "v", expiresAt, version: v(0) });
  clock.advanceTo(expiresAt);
  assert.equal(store.get("k"), undefined);
  assert.equal(store.peek("k")?.value, null, "kept as a tombstone");
  const stats = store.stats();
  assert.deepEqual([stats.hits, stats.misses, stats.expirations], [1, 1, 1]);
  assert.equal(store.size, 0);
  assert.equal(store.bytes, entrySize("k", null));
});

Deno.test("TtlStore.get() keeps an entry with expiresAt 0 forever", () => {
  const { clock, store } = setup();
  store.apply("k", { value: "v", expiresAt: 0, version: v(0) });
  clock.advance(100 * 365 * 86_400_000);
  assert.equal(store.get("k")?.value, "v");
});

Deno.test("TtlStore.apply() keeps the higher version, ties broken by node name", () => {
  const { store } = setup();
  assert.equal(store.apply("k", { value: "1", expiresAt: 0, version: v(10) }).applied, true);
  const older = store.apply("k", { value: "0", expiresAt: 0, version: v(9, "zzz") });
  assert.deepEqual(older, { applied: false, reason: "stale" });
  assert.equal(store.apply("k", { value: "dup", expiresAt: 0, version: v(10) }).reason, "stale");
  const tieHigh = store.apply("k", { value: "b", expiresAt: 0, version: v(10, "b") });
  assert.equal(tieHigh.reason, "stored");
  assert.equal(store.apply("k", { value: "a", expiresAt: 0, version: v(10, "a") }).reason, "stale");
  assert.equal(store.get("k")?.value, "b");
  assert.deepEqual(store.get("k")?.version, v(10, "b"));
});

Deno.test("TtlStore.delete() beats an older write but not a newer one", () => {
  const { store } = setup();
  store.apply("k", { value: "w2", expiresAt: 0, version: v(2) });
  assert.equal(store.delete("k", v(1)).reason, "stale");
  assert.equal(store.get("k")?.value, "w2");
  const del = store.delete("k", v(3));
  assert.deepEqual([del.applied, del.reason], [true, "tombstoned"]);
  assert.equal(store.get("k"), undefined);
  assert.deepEqual(store.peek("k"), { key: "k", value: null, expiresAt: 0, version: v(3) });
  // An older write arriving late loses against the tombstone; a newer one revives the key.
  assert.equal(
    store.apply("k", { value: "late", expiresAt: 0, version: v(2, "z") }).reason,
    "stale",
  );
  assert.equal(store.get("k"), undefined);
  assert.equal(store.apply("k", { value: "w4", expiresAt: 0, version: v(4) }).reason, "stored");
  assert.equal(store.get("k")?.value, "w4");
  assert.deepEqual(
    [store.size, store.stats().tombstones, store.bytes],
    [1, 0, entrySize("k", "w4")],
  );
});

Deno.test("TtlStore.apply() of an already expired write leaves a tombstone that blocks older versions", () => {
  const { clock, store } = setup();
  store.apply("k", { value: "old", expiresAt: T0 + 60_000, version: v(1) });
  clock.advance(10);
  const r = store.apply("k", { value: "new", expiresAt: T0 + 5, version: v(2) });
  assert.deepEqual([r.applied, r.reason], [true, "tombstoned"]);
  assert.equal(store.get("k"), undefined);
  assert.equal(store.apply("k", { value: "old", expiresAt: 0, version: v(1) }).reason, "stale");
  assert.equal(store.get("k"), undefined);
  assert.deepEqual(store.peek("k")?.version, v(2));
});

Deno.test("TtlStore: an expired entry stays a tombstone that blocks older versions", () => {
  // A replica that missed the overwrite (or the coordinator of an older write that answered 504)
  // still holds v1; once v2 expired everywhere, only a remembered v2 keeps anti-entropy from
  // bringing v1 back (found with the chaos model). This store never held v1 for "fresh": it
  // cannot know whether a replica does, so that expiry is remembered too.
  const { clock, store } = setup();
  store.apply("k", { value: "v1", expiresAt: 0, version: v(0) });
  store.apply("k", { value: "v2", expiresAt: T0 + 1_000, version: v(10) });
  store.apply("fresh", { value: "f", expiresAt: T0 + 1_000, version: v(10) });
  store.apply("mine", { value: "m", expiresAt: T0 + 1_000, version: v(10), local: true });
  clock.advanceTo(T0 + 1_000);
  assert.equal(store.get("k"), undefined);
  assert.deepEqual(store.peek("k"), {
    key: "k",
    value: null,
    expiresAt: T0 + 1_000,
    version: v(10),
  });
  for (const key of ["k", "fresh"]) {
    assert.equal(store.apply(key, { value: "v1", expiresAt: 0, version: v(0) }).reason, "stale");
    assert.equal(store.get(key), undefined);
  }
  // It is listed (and so repaired onto replicas that lack it) like a delete.
  const listed = store.recordsInBucket(store.bucketOf("k")).find((r) => r.key === "k");
  assert.equal(listed?.value, null);
  // A node-local entry never travels: it expires outright.
  assert.equal(store.peek("mine"), undefined);
  assert.deepEqual([store.size, store.stats().tombstones, store.stats().expirations], [0, 2, 3]);
  assert.equal(store.bytes, entrySize("k", null) + entrySize("fresh", null));
  // The tombstones go at their version's retention deadline; then v1 is accepted again.
  clock.advanceTo(T0 + 10 + TOMBSTONE_TTL);
  assert.equal(store.sweep(), 2);
  assert.deepEqual([store.stats().tombstones, store.bytes], [0, 0]);
  assert.equal(store.apply("k", { value: "v1", expiresAt: 0, version: v(0) }).reason, "stored");
});

Deno.test("TtlStore: an entry whose TTL outlives the tombstone retention expires outright", () => {
  const { clock, store } = setup();
  store.apply("long", { value: "x", expiresAt: T0 + TOMBSTONE_TTL + 1, version: v(0) });
  clock.advanceTo(T0 + TOMBSTONE_TTL + 1);
  assert.equal(store.get("long"), undefined);
  assert.equal(store.peek("long"), undefined);
  assert.deepEqual([store.stats().tombstones, store.bytes], [0, 0]);
});

Deno.test("TtlStore.apply() discards a delete past its retention deadline but removes what it beats", () => {
  const { clock, store } = setup();
  store.apply("k", { value: "old", expiresAt: 0, version: v(0) });
  clock.advance(TOMBSTONE_TTL + 5);
  const r = store.delete("k", v(1));
  assert.deepEqual([r.applied, r.reason], [true, "discarded"]);
  assert.equal(store.peek("k"), undefined);
  assert.deepEqual([store.size, store.bytes, store.stats().tombstones], [0, 0, 0]);
});

Deno.test("TtlStore collects a tombstone at max(expiresAt, version time + tombstoneTtlMs)", () => {
  const { clock, store } = setup({ tombstoneTtlMs: 1_000 });
  store.delete("a", v(0));
  store.delete("b", v(0), T0 + 5_000); // expiresAt extends the retention
  assert.equal(store.stats().tombstones, 2);
  assert.equal(store.bytes, entrySize("a", null) + entrySize("b", null));
  clock.advanceTo(T0 + 999);
  assert.equal(store.peek("a")?.value, null);
  clock.advanceTo(T0 + 1_000);
  assert.equal(store.peek("a"), undefined);
  // After the deadline an older write is accepted again (the documented limit of tombstones).
  assert.equal(store.apply("a", { value: "x", expiresAt: 0, version: v(-1) }).reason, "stored");
  clock.advanceTo(T0 + 4_999);
  assert.equal(store.peek("b")?.value, null);
  clock.advanceTo(T0 + 5_000);
  assert.equal(store.sweep(), 1);
  assert.deepEqual(
    [store.stats().tombstones, store.stats().tombstonesCollected, store.bytes],
    [0, 2, entrySize("a", "x")],
  );
});

Deno.test("TtlStore sweep reclaims expired entries and tombstones without reads", () => {
  const { clock, store } = setup({ sweepSlotsPerTick: 4096, sweepMaxReclaimsPerTick: 5_000 });
  store.start();
  let peakBytes = 0;
  for (let round = 0; round < 5; round++) {
    for (let i = 0; i < 50_000; i++) {
      const now = clock.now();
      store.apply(`r${round}k${i}`, {
        value: "x".repeat(i % 50),
        expiresAt: now + 1 + (i % 500),
        version: { hlc: hlcFromParts(now), node: "n" },
      });
      if (i % 1000 === 0) store.delete(`d${round}k${i}`, { hlc: hlcFromParts(now), node: "n" });
    }
    peakBytes = Math.max(peakBytes, store.bytes);
    clock.advance(2_000);
  }
  // The tombstones the earlier rounds left lengthen the sweep's lap over the table.
  clock.advance(10_000);
  assert.equal(store.size, 0);
  assert.equal(store.stats().tombstones, 250_250, "an expiry leaves a tombstone, as a delete");
  clock.advance(TOMBSTONE_TTL);
  const stats = store.stats();
  assert.deepEqual([stats.entries, stats.tombstones, stats.bytes], [0, 0, 0]);
  assert.equal(stats.expirations, 250_000);
  assert.equal(stats.tombstonesCollected, 250_250);
  assert.deepEqual([stats.hits, stats.misses], [0, 0]);
  assert.equal(store.digest(), "0".repeat(16));
  store.stop();
  assert.equal(clock.pending, 0);
  // Expired values are reclaimed at once: five rounds held one round's values at most, and
  // the keys of the earlier rounds as tombstones.
  const peak = 50_000 * (entrySize("r0k00000", "") + 50) + 200_250 * entrySize("r0k00000", null);
  assert.ok(peakBytes < peak, `peak ${peakBytes}`);
});

Deno.test("TtlStore.sweep() goes past its slot quota while over 25 % expired, up to its cap", () => {
  const { clock, store } = setup({ sweepSlotsPerTick: 1024, sweepMaxReclaimsPerTick: 1_500 });
  for (let i = 0; i < 3_000; i++) {
    store.apply(`k${i}`, { value: "v", expiresAt: T0 + 10, version: v(0) });
  }
  clock.advance(10);
  assert.equal(store.sweep(), 1_500); // all expired: past the quota, stopped by the cap
  assert.equal(store.sweep(), 1_500);
  assert.equal(store.sweep(), 0);
  assert.equal(store.stats().tombstones, 3_000);
  const fresh = setup({ sweepSlotsPerTick: 1024, sweepMaxReclaimsPerTick: 1_500 });
  for (let i = 0; i < 3_000; i++) {
    const expiresAt = i % 10 === 0 ? T0 + 20 : 0;
    fresh.store.apply(`m${i}`, { value: "v", expiresAt, version: v(0) });
  }
  fresh.clock.advance(20);
  const first = fresh.store.sweep(); // ~10 % expired: the quota only
  assert.ok(first > 0 && first <= 1024 * 0.25, `${first}`);
  assert.equal(first + fresh.store.sweep() + fresh.store.sweep(), 300);
  assert.equal(fresh.store.size, 2_700);
});

Deno.test("TtlStore.entries() lists live entries and tombstones, an expired entry as its tombstone", () => {
  const { clock, store } = setup();
  store.apply("live", { value: "1", expiresAt: 0, version: v(0) });
  store.apply("soon", { value: "2", expiresAt: T0 + 5, version: v(0) });
  store.delete("gone", v(0, "b"));
  const bytes = new Uint8Array([1, 2, 3]);
  store.apply("bin", { value: bytes, expiresAt: T0 + 100, version: v(0) });
  clock.advance(5);
  const listed = [...store.entries()].sort((x, y) => x.key < y.key ? -1 : 1);
  assert.deepEqual(listed, [
    { key: "bin", value: bytes, expiresAt: T0 + 100, version: v(0) },
    { key: "gone", value: null, expiresAt: 0, version: v(0, "b") },
    { key: "live", value: "1", expiresAt: 0, version: v(0) },
    { key: "soon", value: null, expiresAt: T0 + 5, version: v(0) },
  ]);
});

Deno.test("TtlStore.apply() accounts UTF-8 and byte values, copying views of larger buffers", () => {
  const { store } = setup();
  store.apply("ключ", { value: "é😀", expiresAt: 0, version: v(0) });
  assert.equal(store.bytes, entrySize("ключ", "é😀"));
  assert.equal(entrySize("ключ", "é😀") - entrySize("", ""), 8 + 6);
  const buffer = new Uint8Array([9, 8, 7, 6]);
  store.apply("view", { value: buffer.subarray(1, 3), expiresAt: 0, version: v(0) });
  const stored = store.get("view")!.value as Uint8Array;
  assert.deepEqual([...stored], [8, 7]);
  assert.equal(stored.buffer.byteLength, 2);
  buffer[1] = 0;
  assert.equal((store.get("view")!.value as Uint8Array)[0], 8);
});

Deno.test("TtlStore rejects malformed records and options", () => {
  const { store } = setup();
  const bad = (record: unknown) =>
    assert.throws(() => store.apply("k", record as Parameters<TtlStore["apply"]>[1]), TypeError);
  bad({ value: 1, expiresAt: 0, version: v(0) });
  bad({ value: "x", expiresAt: -1, version: v(0) });
  bad({ value: "x", expiresAt: Number.NaN, version: v(0) });
  bad({ value: "x", expiresAt: 0, version: { hlc: 1.5, node: "a" } });
  bad({ value: "x", expiresAt: 0, version: { hlc: 1, node: 7 } });
  bad({ value: "x", expiresAt: 0 });
  assert.throws(() => new TtlStore({ maxBytes: -1 }), RangeError);
  assert.throws(() => new TtlStore({ digestBuckets: 1000 }), RangeError);
  assert.throws(
    () => new TtlStore({ evictionPolicy: "fifo" as "lru" }),
    /evictionPolicy must be "sieve" or "lru"/,
  );
});

Deno.test("TtlStore interns node names without leaking ids as writers change", () => {
  const { store } = setup();
  for (let i = 0; i < 70_000; i++) {
    store.apply("k", { value: "v", expiresAt: 0, version: v(i, `node-${i}`) });
  }
  assert.deepEqual(store.get("k")?.version, v(69_999, "node-69999"));
});

Deno.test("TtlStore.clear() empties the store and start() is idempotent", () => {
  const { clock, store } = setup();
  store.start();
  store.start();
  assert.equal(clock.pending, 1);
  store.apply("k", { value: "v", expiresAt: 0, version: v(0) });
  store.delete("d", v(0));
  store.clear();
  assert.deepEqual([store.size, store.bytes, store.stats().tombstones], [0, 0, 0]);
  assert.equal(store.get("k"), undefined);
  assert.equal(store.digest(), "0".repeat(16));
  store.apply("k", { value: "w", expiresAt: 0, version: v(1) });
  assert.equal(store.get("k")?.value, "w");
  store[Symbol.dispose]();
  assert.equal(clock.pending, 0);
});
