import assert from "node:assert/strict";
import { VirtualClock } from "../util/clock.ts";
import { hlcFromParts, type Version } from "../util/hlc.ts";
import { randomInt, SeededRandom } from "../util/random.ts";
import type { EvictionPolicy } from "./types.ts";
import { entrySize } from "./entry_size.ts";
import { TtlStore } from "./ttl_store.ts";

const T0 = 1_700_000_000_000;

function v(ms: number, node = "a"): Version {
  return { hlc: hlcFromParts(T0 + ms), node };
}

/** A store whose budget holds exactly `n` one-character keys with one-character values. */
function storeFor(n: number, evictionPolicy: EvictionPolicy) {
  const clock = new VirtualClock(T0);
  return new TtlStore({ clock, evictionPolicy, maxBytes: n * entrySize("a", "x") });
}

function put(store: TtlStore, key: string, ms = 0): void {
  assert.equal(store.apply(key, { value: "x", expiresAt: 0, version: v(ms) }).reason, "stored");
}

function keys(store: TtlStore): string[] {
  return [...store.entries()].map((r) => r.key).sort();
}

for (const policy of ["sieve", "lru"] as const) {
  Deno.test(`TtlStore budget holds under a flood of random sizes (${policy})`, () => {
    const clock = new VirtualClock(T0);
    const maxBytes = 64 * 1024;
    const store = new TtlStore({ clock, maxBytes, evictionPolicy: policy });
    const random = new SeededRandom(policy === "sieve" ? 1 : 2);
    for (let i = 0; i < 20_000; i++) {
      const key = `k${randomInt(random, 2_000)}`;
      const op = randomInt(random, 10);
      const version = { hlc: hlcFromParts(clock.now(), 0) + i, node: "n" };
      if (op < 5) {
        const size = Math.floor(random.next() ** 4 * 8_000);
        const expiresAt = op === 0 ? clock.now() + randomInt(random, 50) : 0;
        store.apply(key, { value: "é".repeat(size), expiresAt, version });
      } else if (op < 7) {
        store.delete(key, version);
      } else if (op < 9) {
        store.get(key);
      } else {
        clock.advance(randomInt(random, 20));
      }
      assert.ok(store.bytes <= maxBytes, `op ${i}: ${store.bytes} > ${maxBytes}`);
    }
    // Accounting is exact: once expired records are swept, bytes is the sum over all records.
    store.sweep();
    let sum = 0;
    for (const r of store.entries()) sum += entrySize(r.key, r.value);
    assert.equal(sum, store.bytes);
    assert.equal([...store.entries()].filter((r) => r.value !== null).length, store.size);
    assert.ok(store.stats().evictions > 0);
  });

  Deno.test(`TtlStore.apply() rejects an entry larger than the budget, unchanged (${policy})`, () => {
    const store = storeFor(4, policy);
    put(store, "a");
    const r = store.apply("a", { value: "x".repeat(1_000), expiresAt: 0, version: v(1) });
    assert.equal(r.applied, false);
    assert.equal(r.reason, "too-large");
    assert.ok(r.error instanceof RangeError);
    assert.equal(store.get("a")?.value, "x");
    assert.equal(store.fits("a", "x".repeat(1_000)), false);
    assert.equal(store.fits("a", "y"), true);
  });

  Deno.test(`TtlStore evicts live entries before tombstones (${policy})`, () => {
    const store = storeFor(4, policy);
    put(store, "a");
    store.delete("t", v(1)); // a tombstone costs less than an entry
    put(store, "b");
    put(store, "c");
    put(store, "d"); // over budget: a live entry goes, the tombstone stays
    assert.equal(store.peek("t")?.value, null);
    assert.equal(store.size, 3);
    assert.equal(store.stats().evictions, 1);
  });

  Deno.test(`TtlStore evicts an expiry's tombstones before live entries (${policy})`, () => {
    const clock = new VirtualClock(T0);
    const maxBytes = 3 * entrySize("a", "x") + entrySize("t", null) + 2 * entrySize("e", null);
    const store = new TtlStore({ clock, evictionPolicy: policy, maxBytes });
    store.delete("t", v(0));
    store.apply("e", { value: "x", expiresAt: T0 + 1, version: v(0) });
    // An expiry's tombstone as a peer sends it (anti-entropy): no value, the entry's expiry.
    store.apply("p", { value: null, expiresAt: T0 + 1, version: v(0) });
    put(store, "a");
    put(store, "b");
    clock.advance(1);
    assert.equal(store.peek("e")?.value, null, "the expired entry is a tombstone");
    put(store, "c");
    put(store, "d"); // over budget: the expiries' tombstones make room, no live entry goes
    assert.equal(store.peek("e"), undefined);
    assert.equal(store.peek("p"), undefined);
    assert.equal(store.peek("t")?.value, null, "a delete's tombstone stays");
    // (evicting a tombstone counts as an eviction)
    assert.deepEqual([store.size, store.stats().tombstones, store.stats().evictions], [4, 1, 2]);
    put(store, "f"); // still over: now a live entry goes, and the delete's tombstone stays
    assert.deepEqual([store.size, store.stats().tombstones, store.stats().evictions], [4, 1, 3]);
    assert.equal(store.peek("t")?.value, null);
  });
}

Deno.test("TtlStore with SIEVE evicts the first unvisited entry from the tail and keeps the hand", () => {
  const store = storeFor(3, "sieve");
  put(store, "a");
  put(store, "b");
  put(store, "c");
  store.get("c");
  store.get("b");
  store.get("a");
  put(store, "d"); // all visited: the hand clears a, b, c and wraps to the tail: a goes
  assert.deepEqual(keys(store), ["b", "c", "d"]);
  store.get("d");
  put(store, "e"); // the hand resumes at b (unvisited now)
  assert.deepEqual(keys(store), ["c", "d", "e"]);
  put(store, "f"); // then c
  assert.deepEqual(keys(store), ["d", "e", "f"]);
  put(store, "g"); // d was visited: cleared, e goes
  assert.deepEqual(keys(store), ["d", "f", "g"]);
});

Deno.test("TtlStore with LRU evicts the least recently used entry", () => {
  const store = storeFor(3, "lru");
  put(store, "a");
  put(store, "b");
  put(store, "c");
  store.get("c");
  store.get("b");
  store.get("a");
  put(store, "d"); // c is least recently used
  assert.deepEqual(keys(store), ["a", "b", "d"]);
  store.get("b");
  put(store, "e");
  assert.deepEqual(keys(store), ["b", "d", "e"]);
});

Deno.test("TtlStore with SIEVE resists a scan: visited entries survive one-time keys", () => {
  const store = storeFor(10, "sieve");
  for (let i = 0; i < 5; i++) put(store, `hot${i}`);
  for (let i = 0; i < 5; i++) store.get(`hot${i}`);
  for (let i = 0; i < 100; i++) {
    put(store, `scan${i}`);
    if (i % 10 === 0) { for (let j = 0; j < 5; j++) store.get(`hot${j}`); }
  }
  for (let i = 0; i < 5; i++) assert.ok(store.peek(`hot${i}`), `hot${i} evicted`);
});

Deno.test("TtlStore growing an entry in place never evicts that entry", () => {
  for (const policy of ["sieve", "lru"] as const) {
    const store = storeFor(4, policy);
    for (const k of ["a", "b", "c", "d"]) put(store, k);
    for (const k of ["a", "b", "c", "d"]) store.get(k);
    const big = "x".repeat(2 * entrySize("a", "x"));
    assert.equal(store.apply("b", { value: big, expiresAt: 0, version: v(1) }).reason, "stored");
    assert.equal(store.get("b")?.value, big);
    assert.ok(store.bytes <= store.maxBytes);
  }
});
