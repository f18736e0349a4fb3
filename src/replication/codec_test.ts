import assert from "node:assert/strict";
import { encode } from "npm:@msgpack/msgpack@3.1.3";
import type { KeyedRecord } from "../store/mod.ts";
import { ReplicationCodec } from "./codec.ts";
import {
  decodePushPullState,
  decodeSyncRequest,
  decodeSyncResponse,
  encodePushPullState,
  encodeSyncRequest,
  encodeSyncResponse,
} from "./sync_messages.ts";

const codec = new ReplicationCodec({ maxKeyBytes: 16, maxValueBytes: 64, maxMessageBytes: 4096 });
const HLC = 1_700_000_000_000 * 1024 + 7;

const records: KeyedRecord[] = [
  { key: "text", value: "héllo", expiresAt: 0, version: { hlc: HLC, node: "a" } },
  {
    key: "bytes",
    value: new Uint8Array([0, 1, 255]),
    expiresAt: 1_700_000_060_000,
    version: { hlc: HLC + 1, node: "b" },
  },
  { key: "gone", value: null, expiresAt: 0, version: { hlc: HLC + 2, node: "a" } },
  { key: "empty", value: "", expiresAt: 5, version: { hlc: 0, node: "ü-node" } },
];

Deno.test("ReplicationCodec round-trips batches spliced from pre-encoded records", () => {
  const ownRecords = records.filter((r) => r.version.node === "a");
  const body = codec.encodeBatch("a", ["a"], ownRecords.map((r) => codec.encodeRecord(r, 0)));
  assert.deepEqual(codec.decodeBatch(body), { from: "a", kind: "write", records: ownRecords });
  // Array headers past 15 and 65535 elements.
  for (const n of [16, 70_000]) {
    const one = codec.encodeRecord(records[0], 0);
    const big = new ReplicationCodec({ ...codec.limits, maxMessageBytes: 1 << 24 });
    const decoded = big.decodeBatch(big.encodeBatch("a", ["a"], new Array(n).fill(one)));
    assert.equal(decoded.records.length, n);
    assert.deepEqual(decoded.records[n - 1], records[0]);
  }
});

Deno.test("ReplicationCodec round-trips repair batches of many writers", () => {
  const body = codec.encodeRecords("x", "repair", records);
  assert.deepEqual(codec.decodeBatch(body), { from: "x", kind: "repair", records });
});

Deno.test("ReplicationCodec refuses malformed batches with a TypeError naming the field", () => {
  const ok = (tuple: unknown[]) => encode([1, "a", 0, ["a"], [tuple]]);
  const cases: [Uint8Array, RegExp][] = [
    [new Uint8Array([0xc1]), /malformed msgpack/],
    [encode({ a: 1 }), /malformed msgpack: .*map/],
    [encode("x"), /expected an array of 5/],
    [encode([2, "a", 0, [], []]), /format must be 1/],
    [encode([1, "", 0, [], []]), /from must be a node name/],
    [encode([1, "a", 9, [], []]), /kind must be an integer in 0..1/],
    [encode([1, "a", 0, [7], []]), /names\[0\] must be a node name/],
    [ok(["k", "v", 0, HLC]), /records\[0\] must be \[key/],
    [ok(["", "v", 0, HLC, 0]), /key must be a key of 1..16 bytes/],
    [ok(["k".repeat(17), "v", 0, HLC, 0]), /key must be a key/],
    [ok(["k", 5, 0, HLC, 0]), /value must be text, bytes or nil/],
    [ok(["k", "v".repeat(65), 0, HLC, 0]), /value must be at most 64 bytes/],
    [ok(["k", "é".repeat(33), 0, HLC, 0]), /value must be at most 64 bytes/],
    [ok(["k", "v", -1, HLC, 0]), /expiresAt must be an integer/],
    [ok(["k", "v", 0, 1.5, 0]), /hlc must be an integer/],
    [ok(["k", "v", 0, 2 ** 60, 0]), /hlc must be an integer/],
    [ok(["k", "v", 0, HLC, 1]), /node must be an integer in 0..0/],
  ];
  for (const [body, pattern] of cases) {
    assert.throws(
      () => codec.decodeBatch(body),
      (e) => e instanceof TypeError && pattern.test(e.message),
      String(pattern),
    );
  }
  assert.throws(() => codec.decodeBatch(new Uint8Array(4097)), RangeError);
});

Deno.test("sync messages round-trip and are validated", () => {
  const digests = new Uint32Array([1, 0xffffffff, 3, 4]);
  const req = { from: "a", buckets: 1024, lo: 10, hi: 12, digests, maxBytes: 1 << 20 };
  assert.deepEqual(decodeSyncRequest(codec, encodeSyncRequest(codec, req)), req);
  assert.throws(
    () =>
      decodeSyncRequest(
        codec,
        encodeSyncRequest(codec, { ...req, hi: 10, digests: new Uint32Array() }),
      ),
    /lo must be below hi/,
  );
  assert.throws(
    () => decodeSyncRequest(codec, encode([1, "a", 1024, 0, 2, new Uint8Array(8), 1])),
    /digests must be 16 bytes/,
  );
  assert.throws(
    () => decodeSyncRequest(codec, encode([1, "a", 1024, 0, 2000, new Uint8Array(8), 1])),
    /hi must be an integer in 0..1024/,
  );

  const resp = { next: 12, differing: [10, 11], digests: new Uint32Array([1, 2, 3, 4]), records };
  assert.deepEqual(decodeSyncResponse(codec, encodeSyncResponse(codec, resp), 10, 12), resp);
  const bad = (next: number, differing: number[]) =>
    decodeSyncResponse(
      codec,
      encodeSyncResponse(codec, {
        next,
        differing,
        digests: new Uint32Array(differing.length * 2),
        records: [],
      }),
      10,
      12,
    );
  assert.throws(() => bad(10, []), /next must pass 10/);
  assert.throws(() => bad(12, [11, 10]), /must ascend/);
  assert.throws(() => bad(11, [11]), /must ascend/);

  const state = { name: "a", digest: "0123456789abcdef", ready: true };
  assert.deepEqual(decodePushPullState(codec, encodePushPullState(codec, state)), state);
  assert.throws(() => decodePushPullState(codec, encode([1, "a", "xyz", true])), /16 hex digits/);
});
