import assert from "node:assert/strict";
import { randomInt, SeededRandom } from "../util/random.ts";
import { KeyIndex } from "./_key_index.ts";
import { NIL, SlotTable } from "./_slot_table.ts";

// Few distinct hashes, a fifth of them landing on the last cell, so probe runs collide and wrap.
function hashOf(key: string): number {
  const n = Number(key.slice(1));
  return n % 5 === 0 ? 0xffffffff : n % 7;
}

Deno.test("KeyIndex agrees with a Map under inserts and deletes with heavy collisions", () => {
  const table = new SlotTable(16);
  const index = new KeyIndex(table, 4);
  const model = new Map<string, number>();
  const random = new SeededRandom(3);
  for (let step = 0; step < 50_000; step++) {
    const key = `k${randomInt(random, 600)}`;
    const slot = model.get(key);
    assert.equal(index.find(key, hashOf(key)), slot ?? NIL);
    if (slot === undefined) {
      const s = table.alloc();
      table.keys[s] = key;
      table.hash[s] = hashOf(key);
      index.insert(s);
      model.set(key, s);
    } else if (randomInt(random, 2) === 0) {
      index.remove(slot);
      table.release(slot);
      model.delete(key);
    }
    assert.equal(index.count, model.size);
  }
  for (const [key, slot] of model) assert.equal(index.find(key, hashOf(key)), slot);
});
