import assert from "node:assert/strict";
import { crc32 } from "../../src/membership/codec/crc32.ts";
import { compoundOf, equal, Mutator, startsWith, withCrc, withLabel } from "./mutator.ts";

const corpus = [
  Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8),
  Uint8Array.of(9, 9, 9),
  new Uint8Array(40).fill(4),
];

Deno.test("Mutator is reproducible from its seed and never replays a corpus entry", () => {
  const a = new Mutator({ seed: 42 });
  const b = new Mutator({ seed: 42 });
  for (let i = 0; i < 2000; i++) {
    const x = a.next(corpus);
    assert.ok(equal(x, b.next(corpus)), `input ${i} differs`);
    assert.ok(!corpus.some((c) => equal(c, x)), `input ${i} replays the corpus`);
  }
  const streams = new Mutator({ seed: 1 });
  for (let i = 0; i < 2000; i++) {
    const x = streams.next(corpus, true);
    assert.ok(!corpus.some((c) => startsWith(x, c)), `input ${i} starts with a corpus entry`);
  }
});

Deno.test("Mutator keeps inputs under maxBytes", () => {
  const m = new Mutator({ seed: 3, maxBytes: 50, randomShare: 0 });
  for (let i = 0; i < 1000; i++) assert.ok(m.next([new Uint8Array(49).fill(1)]).length <= 50);
});

Deno.test("withCrc, withLabel and compoundOf build the layers decoders peel", () => {
  const body = Uint8Array.of(0, 1, 2);
  const crc = withCrc(body);
  assert.equal(crc[0], 0x0c);
  assert.equal(new DataView(crc.buffer).getUint32(1), crc32(body));
  assert.deepEqual([...withLabel(Uint8Array.of(0x61), body)], [0xf4, 1, 0x61, 0, 1, 2]);
  assert.deepEqual([...compoundOf([body, Uint8Array.of(9)])], [7, 2, 0, 3, 0, 1, 0, 1, 2, 9]);
});
