import assert from "node:assert/strict";
import { ByteSlab } from "./byte_slab.ts";

Deno.test("ByteSlab hands out zeroed, private regions", () => {
  const slab = new ByteSlab();
  const a = slab.alloc(10);
  const b = slab.alloc(10);
  assert.deepEqual([...a], new Array(10).fill(0));
  a.fill(7);
  assert.deepEqual([...b], new Array(10).fill(0), "writing one region must not touch the next");
  // Many small regions across chunk boundaries stay distinct.
  const regions = Array.from({ length: 40_000 }, (_, i) => {
    const r = slab.alloc(13);
    r.fill(i & 0xff);
    return r;
  });
  regions.forEach((r, i) => assert.equal(r[12], i & 0xff));
});

Deno.test("ByteSlab.copy copies small and large arrays, ranges included", () => {
  const slab = new ByteSlab();
  const source = Uint8Array.from({ length: 100_000 }, (_, i) => i % 251);
  const small = slab.copy(source, 5, 9);
  assert.deepEqual([...small], [5, 6, 7, 8]);
  const mid = slab.copy(source, 0, 300);
  const large = slab.copy(source);
  source.fill(0);
  assert.equal(small[0], 5, "a copy must not follow its source");
  assert.equal(mid[299], 299 % 251);
  assert.equal(large.length, 100_000);
  assert.equal(large[99_999], 99_999 % 251);
});
