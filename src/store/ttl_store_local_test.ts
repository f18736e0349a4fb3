import assert from "node:assert/strict";
import { VirtualClock } from "../util/clock.ts";
import { hlcFromParts } from "../util/hlc.ts";
import { TtlStore } from "./ttl_store.ts";

const T0 = 1_700_000_000_000;
const ZERO = "0".repeat(16);
const v = (ms: number, node = "a") => ({ hlc: hlcFromParts(T0 + ms), node });

function store(): TtlStore {
  return new TtlStore({ clock: new VirtualClock(T0), digestBuckets: 16, hashSeed: 1 });
}

Deno.test("TtlStore local records are served but stay out of digests and bucket listings", () => {
  const s = store();
  s.apply("k", { value: "here only", expiresAt: 0, version: v(1), local: true });
  assert.equal(s.get("k")?.value, "here only");
  assert.equal(s.get("k")?.local, true);
  assert.equal(s.digest(), ZERO);
  assert.deepEqual(s.recordsInBucket(s.bucketOf("k")), []);
  assert.deepEqual([...s.entries()].map((r) => [r.key, r.local]), [["k", true]]);
  assert.equal(s.stats().entries, 1);
});

Deno.test("TtlStore local and replicated records of one key replace each other by version", () => {
  const s = store();
  const reference = store();
  s.apply("k", { value: "replicated", expiresAt: 0, version: v(1) });
  reference.apply("k", { value: "replicated", expiresAt: 0, version: v(1) });
  assert.equal(s.digest(), reference.digest());

  // A newer local write takes the key out of the digest.
  s.apply("k", { value: "local", expiresAt: 0, version: v(2), local: true });
  assert.equal(s.digest(), ZERO);
  // An older replicated write does not beat it.
  assert.equal(s.apply("k", { value: "old", expiresAt: 0, version: v(1, "b") }).reason, "stale");
  assert.equal(s.get("k")?.value, "local");

  // A newer replicated write replaces it and is counted again.
  s.apply("k", { value: "newer", expiresAt: 0, version: v(3) });
  reference.apply("k", { value: "newer", expiresAt: 0, version: v(3) });
  assert.equal(s.get("k")?.local, undefined);
  assert.equal(s.digest(), reference.digest());
  assert.deepEqual(s.recordsInBucket(s.bucketOf("k")).map((r) => r.value), ["newer"]);
});

Deno.test("TtlStore local deletes and expiry keep the digest unchanged", () => {
  const clock = new VirtualClock(T0);
  const s = new TtlStore({ clock, digestBuckets: 16, hashSeed: 1 });
  s.apply("a", { value: "x", expiresAt: T0 + 10, version: v(1), local: true });
  s.apply("b", { value: null, expiresAt: 0, version: v(1), local: true });
  assert.equal(s.peek("b")?.local, true);
  assert.equal(s.digest(), ZERO);
  clock.advance(10);
  s.sweep();
  assert.equal(s.get("a"), undefined);
  assert.equal(s.digest(), ZERO);
  // A local tombstone over a replicated entry removes that entry from the digest.
  s.apply("c", { value: "r", expiresAt: 0, version: v(2) });
  assert.notEqual(s.digest(), ZERO);
  s.apply("c", { value: null, expiresAt: 0, version: v(3), local: true });
  assert.equal(s.digest(), ZERO);
  assert.equal(s.get("c"), undefined);
});
