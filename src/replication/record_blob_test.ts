import assert from "node:assert/strict";
import type { KeyedRecord } from "../store/mod.ts";
import { decodeRecordBlob, encodeRecordBlob } from "./record_blob.ts";

const limits = { maxKeyBytes: 16, maxValueBytes: 64 };
const names = ["a", "ü"];
const index = new Map(names.map((n, i) => [n, i]));
const records: KeyedRecord[] = [
  {
    key: "text",
    value: "héllo 😀",
    expiresAt: 1_700_000_060_000,
    version: { hlc: 2 ** 52, node: "a" },
  },
  { key: "bytes", value: new Uint8Array([0, 255]), expiresAt: 0, version: { hlc: 7, node: "ü" } },
  { key: "ключ", value: null, expiresAt: 0, version: { hlc: 8, node: "a" } },
  { key: "empty", value: "", expiresAt: 5, version: { hlc: 0, node: "a" } },
];

Deno.test("record blobs round-trip text, bytes, tombstones and empty values", () => {
  const blob = encodeRecordBlob(records, index);
  assert.deepEqual(decodeRecordBlob(blob, names, limits, "x"), records);
  assert.deepEqual(decodeRecordBlob(new Uint8Array(), names, limits, "x"), []);
});

Deno.test("record blobs refuse malformed input with a TypeError naming the record", () => {
  const blob = encodeRecordBlob(records.slice(0, 1), index);
  const mutate = (f: (v: DataView) => void) => {
    const copy = blob.slice();
    f(new DataView(copy.buffer));
    return () => decodeRecordBlob(copy, names, limits, "x");
  };
  assert.throws(
    () => decodeRecordBlob(blob.subarray(0, 10), names, limits, "x"),
    /truncated header/,
  );
  assert.throws(
    () => decodeRecordBlob(blob.subarray(0, blob.length - 1), names, limits, "x"),
    /truncated body/,
  );
  assert.throws(mutate((v) => v.setUint32(0, 0, true)), /key of 0 bytes/);
  assert.throws(mutate((v) => v.setUint32(0, 17, true)), /key of 17 bytes/);
  assert.throws(mutate((v) => v.setUint32(4, 65, true)), /value of 65 bytes/);
  assert.throws(mutate((v) => v.setUint8(8, 3)), /bad kind/);
  assert.throws(mutate((v) => v.setUint16(9, 2, true)), /writer 2 not in the name table/);
  assert.throws(mutate((v) => v.setFloat64(11, -1, true)), /expiresAt must be an integer/);
  assert.throws(mutate((v) => v.setFloat64(19, 0.5, true)), /hlc must be an integer/);
  assert.throws(mutate((v) => v.setUint8(27, 0xff)), /record 0: invalid UTF-8/);
});
