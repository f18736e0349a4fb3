import assert from "node:assert/strict";
import { Decoder, encode } from "npm:@msgpack/msgpack@3.1.3";
import type { KeyedRecord } from "../store/mod.ts";
import { decodePlainBatch, encodePlainTuple } from "./_plain_tuples.ts";
import { ReplicationCodec } from "./codec.ts";

const HLC = 1_700_000_000_000 * 1024 + 7;
const limits = { maxKeyBytes: 300, maxValueBytes: 100_000, maxMessageBytes: 1 << 20 };
const codec = new ReplicationCodec(limits);

// Every length class of str and bin headers, ASCII and not, and each unsigned integer width.
const texts = ["", "k", "é", "x".repeat(31), "x".repeat(32), "ü".repeat(20), "y".repeat(255)]
  .concat(["z".repeat(256), "€".repeat(30_000), "a".repeat(70_000)]);
const numbers = [0, 1, 127, 128, 255, 256, 65_535, 65_536, 2 ** 32 - 1, 2 ** 32, HLC, 2 ** 53 - 1];

function plain(key: string, value: KeyedRecord["value"], n: number): KeyedRecord {
  return { key, value, expiresAt: n, version: { hlc: n, node: "a" } };
}

Deno.test("encodePlainTuple writes exactly the bytes @msgpack/msgpack writes", () => {
  const cases: KeyedRecord[] = [];
  for (const t of texts) cases.push(plain(t === "" ? "key" : t.slice(0, 100), t, 5));
  for (const n of numbers) cases.push(plain("k", "v", n));
  for (const size of [0, 1, 255, 256, 65_535, 65_536]) {
    cases.push(plain("b", new Uint8Array(size).fill(7), 1));
  }
  cases.push(plain("gone", null, HLC));
  for (const r of cases) {
    const expected = encode([r.key, r.value, r.expiresAt, r.version.hlc, 3]);
    assert.deepEqual(encodePlainTuple(r.key, r, 3), expected, `${r.key.slice(0, 8)}`);
  }
  // Records the generic encoder must write: extras, and numbers that are not unsigned integers.
  assert.equal(encodePlainTuple("k", { ...plain("k", "v", 1), tags: ["t"] }, 0), undefined);
  assert.equal(encodePlainTuple("k", { ...plain("k", "v", 1), metadata: { a: 1 } }, 0), undefined);
  assert.equal(encodePlainTuple("k", plain("k", "v", 1.5), 0), undefined);
});

Deno.test("decodePlainBatch reads what the generic decoder reads, and nothing else", () => {
  const records = [
    ...texts.slice(0, 7).map((t, i) => plain(`k${i}`, t, numbers[i])),
    plain("bytes", new Uint8Array([0, 1, 255]), HLC),
    plain("gone", null, 2 ** 53 - 1),
  ];
  const body = codec.encodeBatch("a", ["a"], records.map((r) => codec.encodeRecord(r, 0)));
  const generic = new Decoder().decode(body) as unknown[];
  assert.deepEqual(decodePlainBatch(body, limits), { from: "a", records });
  assert.deepEqual(
    codec.decodeRecords(generic[3], generic[4], "batch", 1),
    records,
    "the generic decoder agrees",
  );
  // Left to the generic decoder (which accepts or refuses with its own message): repairs,
  // records with extras, limits exceeded, bad indices, truncated or trailing bytes.
  const tagged = codec.encodeRecord({ ...records[0], tags: ["t"] }, 0);
  const refusals: [string, Uint8Array, typeof limits?][] = [
    ["repair batch", codec.encodeRecords("a", "repair", records)],
    ["extras", codec.encodeBatch("a", ["a"], [tagged])],
    ["key too long", body, { ...limits, maxKeyBytes: 1 }],
    ["value too long", body, { ...limits, maxValueBytes: 10 }],
    ["node index", encode([1, "a", 0, ["a"], [["k", "v", 0, HLC, 1]]])],
    ["empty key", encode([1, "a", 0, ["a"], [["", "v", 0, HLC, 0]]])],
    ["negative", encode([1, "a", 0, ["a"], [["k", "v", -1, HLC, 0]]])],
    ["float", encode([1, "a", 0, ["a"], [["k", "v", 0.5, HLC, 0]]])],
    ["unsafe", encode([1, "a", 0, ["a"], [["k", "v", 0, 2 ** 60, 0]]])],
    ["format 3", encode([3, "a", 0, ["a"], []])],
    ["no name", encode([1, "", 0, ["a"], []])],
    ["truncated", body.subarray(0, body.byteLength - 1)],
    ["trailing", new Uint8Array([...body, 0])],
  ];
  for (const [what, bytes, l] of refusals) {
    assert.equal(decodePlainBatch(bytes, l ?? limits), undefined, what);
  }
  assert.throws(() => codec.decodeBatch(encode([1, "a", 0, ["a"], [["k", "v", 0, HLC, 1]]])), {
    name: "TypeError",
    message: /records\[0\]\.node must be an integer in 0..0/,
  });
});
