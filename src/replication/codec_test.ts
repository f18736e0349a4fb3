import assert from "node:assert/strict";
import { encode } from "npm:@msgpack/msgpack@3.1.3";
import type { KeyedRecord } from "../store/mod.ts";
import { ReplicationCodec } from "./codec.ts";
import { decodeReadAnswer, encodeReadAnswer } from "./remote_read.ts";
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
    [encode([3, "a", 0, [], []]), /format must be 1..2/],
    [encode([0, "a", 0, [], []]), /format must be 1..2/],
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

const tagged: KeyedRecord[] = [
  {
    key: "meta",
    value: "v",
    expiresAt: 9,
    version: { hlc: HLC + 3, node: "a" },
    metadata: { owner: "ü", n: [1, { deep: true }] },
    tags: ["t1", "é"],
  },
  { key: "tags", value: "w", expiresAt: 0, version: { hlc: HLC + 4, node: "b" }, tags: [] },
  { key: "md", value: "x", expiresAt: 0, version: { hlc: HLC + 5, node: "a" }, metadata: {} },
];

Deno.test("ReplicationCodec carries metadata and tags in format 2, and keeps format 1 bytes without them", () => {
  // Golden: without extras a batch is the format-1 layout, byte for byte.
  const plain = records[0];
  const spliced = codec.encodeBatch("a", ["a"], [codec.encodeRecord(plain, 0)]);
  assert.deepEqual(spliced, encode([1, "a", 0, ["a"], [["text", "héllo", 0, HLC, 0]]]));
  // Golden: with extras, format 2 and two more tuple elements (metadata as JSON text).
  const withExtras = codec.encodeBatch("a", ["a"], [
    codec.encodeRecord(plain, 0),
    codec.encodeRecord(tagged[0], 0),
  ]);
  assert.deepEqual(
    withExtras,
    encode([2, "a", 0, ["a"], [
      ["text", "héllo", 0, HLC, 0],
      ["meta", "v", 9, HLC + 3, 0, '{"owner":"ü","n":[1,{"deep":true}]}', ["t1", "é"]],
    ]]),
  );
  assert.deepEqual(codec.decodeBatch(withExtras).records, [plain, tagged[0]]);
  // Repair batches, sync answers and read answers keep them too.
  const mixed = [...records, ...tagged];
  assert.deepEqual(codec.decodeBatch(codec.encodeRecords("x", "repair", mixed)).records, mixed);
  assert.deepEqual(codec.encodeRecords("x", "repair", records)[1], 1, "format 1 without extras");
  const resp = { next: 12, differing: [10], digests: new Uint32Array([1, 2]), records: mixed };
  assert.deepEqual(decodeSyncResponse(codec, encodeSyncResponse(codec, resp), 10, 12), resp);
  const plainResp = { ...resp, records };
  assert.deepEqual(encodeSyncResponse(codec, plainResp)[1], 1, "format 1 without extras");
  assert.deepEqual(
    decodeReadAnswer(codec, encodeReadAnswer(codec, "a", tagged[0]), "meta"),
    tagged[0],
  );
});

Deno.test("ReplicationCodec refuses malformed metadata and tags with a TypeError naming the field", () => {
  const tuple = (metadata: unknown, tags: unknown) => ["k", "v", 0, HLC, 0, metadata, tags];
  const batch = (format: number, t: unknown[]) => encode([format, "a", 0, ["a"], [t]]);
  const cases: [Uint8Array, RegExp][] = [
    [batch(1, tuple(null, ["t"])), /records\[0\] must be \[key, value, expiresAt, hlc, node\]/],
    [batch(2, ["k", "v", 0, HLC, 0, null]), /records\[0\] must be/],
    [batch(2, tuple(5, null)), /records\[0\]\.metadata must be JSON text/],
    [batch(2, tuple(new Uint8Array(2), null)), /metadata must be JSON text/],
    [batch(2, tuple("{", null)), /metadata must be valid JSON/],
    [batch(2, tuple("[1]", null)), /metadata must be a JSON object/],
    [batch(2, tuple("null", null)), /metadata must be a JSON object/],
    [batch(2, tuple('"x"', null)), /metadata must be a JSON object/],
    [batch(2, tuple(JSON.stringify({ a: "x".repeat(1020) }), null)), /at most 1024 bytes/],
    [batch(2, tuple(JSON.stringify({ a: "é".repeat(510) }), null)), /at most 1024 bytes/],
    [batch(2, tuple(null, "t")), /records\[0\]\.tags must be an array of at most 32/],
    [batch(2, tuple(null, new Array(33).fill("t"))), /tags must be an array of at most 32/],
    [batch(2, tuple(null, ["ok", ""])), /records\[0\]\.tags\[1\] must be text of 1..128/],
    [batch(2, tuple(null, [7])), /tags\[0\] must be text/],
    [batch(2, tuple(null, ["é".repeat(65)])), /tags\[0\] must be text of 1..128 bytes/],
  ];
  for (const [body, pattern] of cases) {
    assert.throws(
      () => codec.decodeBatch(body),
      (e) => e instanceof TypeError && pattern.test(e.message),
      String(pattern),
    );
  }
  // At the limits: accepted.
  const roomy = new ReplicationCodec({ ...codec.limits, maxMessageBytes: 1 << 16 });
  const edge = roomy.decodeBatch(
    batch(2, tuple(JSON.stringify({ a: "x".repeat(1016) }), new Array(32).fill("t".repeat(128)))),
  );
  assert.equal(edge.records[0].tags?.length, 32);

  // The extras list of a sync answer is held to the same rules, and its indices must ascend.
  const blobOf = (n: number) =>
    encodeSyncResponse(codec, {
      next: 11,
      differing: [10],
      digests: new Uint32Array(2),
      records: records.slice(0, n),
    });
  const answer = (extras: unknown) => {
    const m = (codec.decode(blobOf(2), "x") as unknown[]).slice(0, 6);
    return encode([2, ...m.slice(1), extras]);
  };
  const syncCases: [Uint8Array, RegExp][] = [
    [answer("x"), /extras not a list/],
    [answer([[0, null]]), /extras\[0\] must be \[index, metadata, tags\]/],
    [answer([[2, null, ["t"]]]), /extras\[0\] index must ascend in 0..1/],
    [answer([[1, null, ["t"]], [1, null, ["t"]]]), /extras\[1\] index must ascend/],
    [answer([[0, "[]", null]]), /records\[0\]\.metadata must be a JSON object/],
    [
      encode([1, ...(codec.decode(blobOf(1), "x") as unknown[]).slice(1), []]),
      /format must be 2..2/,
    ],
  ];
  for (const [body, pattern] of syncCases) {
    assert.throws(
      () => decodeSyncResponse(codec, body, 10, 12),
      (e) => e instanceof TypeError && pattern.test(e.message),
      String(pattern),
    );
  }
});
