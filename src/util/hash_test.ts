import assert from "node:assert/strict";
import { fmix32, hashLane1, hashLane2, recordLane1, recordLane2, seededHash } from "./hash.ts";

// Replicas compare digests and place keys with these hashes, so their values are pinned: a change
// here would make nodes of two versions disagree.
Deno.test("hash functions return the pinned values every node agrees on", () => {
  assert.equal(hashLane1(""), 2872998923);
  assert.equal(hashLane1("key"), 3799226271);
  assert.equal(hashLane2("key"), 3399408283);
  assert.equal(seededHash("key", 42), 2068687541);
  assert.equal(fmix32(1), 1364076727);
  assert.equal(recordLane1(1, 2 ** 40 + 5, 3), 3633238966);
  assert.equal(recordLane2(1, 2 ** 40 + 5, 3), 2213824367);
});

Deno.test("seededHash differs between seeds for the same key", () => {
  assert.notEqual(seededHash("key", 1), seededHash("key", 2));
});
