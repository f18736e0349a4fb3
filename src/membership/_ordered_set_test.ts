import assert from "node:assert/strict";
import { SeededRandom } from "../util/random.ts";
import { OrderedSet } from "./_ordered_set.ts";

Deno.test("OrderedSet keeps items sorted through random inserts and deletes", () => {
  const random = new SeededRandom(7);
  const set = new OrderedSet<number>((a, b) => a - b);
  const model = new Set<number>();
  for (let i = 0; i < 5_000; i++) {
    const v = Math.floor(random.next() * 1_000);
    if (model.has(v)) {
      assert.equal(set.delete(v), true);
      model.delete(v);
    } else {
      set.insert(v);
      model.add(v);
    }
    if (i % 250 === 0) {
      const sorted = [...model].sort((a, b) => a - b);
      assert.deepEqual([...set], sorted);
      assert.equal(set.min(), sorted[0]);
      assert.equal(set.max(), sorted.at(-1));
    }
  }
  assert.equal(set.size, model.size);
  assert.equal(set.delete(-1), false);
});

Deno.test("OrderedSet.ceiling() finds the smallest item not below the probe", () => {
  const set = new OrderedSet<number>((a, b) => a - b);
  for (const v of [10, 20, 30]) set.insert(v);
  assert.equal(set.ceiling(5), 10);
  assert.equal(set.ceiling(10), 10);
  assert.equal(set.ceiling(11), 20);
  assert.equal(set.ceiling(31), undefined);
  set.clear();
  assert.equal(set.size, 0);
  assert.equal(set.min(), undefined);
  assert.equal(set.ceiling(0), undefined);
});

Deno.test("OrderedSet stays shallow on sorted input", () => {
  const set = new OrderedSet<number>((a, b) => a - b);
  // A plain BST would recurse 100k deep here and overflow the stack.
  for (let i = 0; i < 100_000; i++) set.insert(i);
  for (let i = 0; i < 100_000; i += 2) set.delete(i);
  assert.equal(set.size, 50_000);
  assert.equal(set.min(), 1);
});
