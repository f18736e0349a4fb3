import assert from "node:assert/strict";
import { SeededRandom } from "../util/random.ts";
import { ProbeList } from "./probe_list.ts";

function list(items: string[], seed = 1): ProbeList<string> {
  const l = new ProbeList<string>(new SeededRandom(seed));
  for (const item of items) l.insert(item);
  return l;
}

Deno.test("ProbeList.insert() places newcomers at random positions", () => {
  const firstPositions = new Set<number>();
  for (let seed = 1; seed <= 50; seed++) {
    const l = list(["a", "b", "c", "d"], seed);
    l.insert("new");
    firstPositions.add(l.items().indexOf("new"));
    assert.deepEqual([...l.items()].sort(), ["a", "b", "c", "d", "new"]);
  }
  assert.ok(firstPositions.size >= 4, "newcomer lands at several positions");
});

Deno.test("ProbeList.next() visits every item once per round and calls onWrap between rounds", () => {
  const l = list(["a", "b", "c", "d"]);
  let wraps = 0;
  const onWrap = () => {
    wraps++;
    l.reset(() => false);
  };
  const round1 = [0, 1, 2, 3].map(() => l.next(() => false, onWrap));
  assert.deepEqual([...round1].sort(), ["a", "b", "c", "d"]);
  assert.equal(wraps, 0);
  const round2 = [0, 1, 2, 3].map(() => l.next(() => false, onWrap));
  assert.deepEqual([...round2].sort(), ["a", "b", "c", "d"]);
  assert.equal(wraps, 1);
});

Deno.test("ProbeList.next() skips and gives up when nothing qualifies", () => {
  const l = list(["self", "x", "y"]);
  const skip = (s: string) => s !== "x";
  // Like memberlist's probe loop, a tick gives up after considering n positions (a wrap counts
  // as one), so it can come back empty-handed even though "x" is probeable.
  const got = Array.from({ length: 12 }, () => l.next(skip, () => l.reset(() => false)));
  assert.ok(got.every((g) => g === "x" || g === undefined));
  assert.ok(got.filter((g) => g === "x").length >= 6);
  assert.equal(l.next(() => true, () => l.reset(() => false)), undefined);
  assert.equal(list([]).next(() => false, () => {}), undefined);
});

Deno.test("ProbeList.reset() removes reaped items and keeps the rest", () => {
  const l = list(["a", "dead1", "b", "dead2"]);
  const removed = l.reset((s) => s.startsWith("dead"));
  assert.deepEqual(removed.sort(), ["dead1", "dead2"]);
  assert.deepEqual([...l.items()].sort(), ["a", "b"]);
  assert.equal(l.length, 2);
});

Deno.test("ProbeList.pick() returns distinct non-excluded items", () => {
  const small = list(["a", "b", "c", "d", "e"]);
  // Small list (n < 3k): exhaustive, so it always finds the only eligible ones.
  assert.deepEqual(small.pick(3, (s) => s !== "c" && s !== "e").sort(), ["c", "e"]);
  assert.deepEqual(small.pick(0, () => false), []);
  const names = Array.from({ length: 100 }, (_, i) => `n${i}`);
  const big = list(names);
  for (let i = 0; i < 20; i++) {
    const picked = big.pick(3, (s) => s === "n0");
    assert.equal(picked.length, 3);
    assert.equal(new Set(picked).size, 3);
    assert.ok(!picked.includes("n0"));
  }
});
