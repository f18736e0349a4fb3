/**
 * A compact binary layout for the many records of a sync answer (the bulk of a transfer to a
 * joining node), carried as one msgpack `bin` inside the answer. Why not msgpack tuples, as
 * batches use: the joiner's time was dominated by msgpack's string decoding (strings under 200
 * bytes are decoded in JavaScript); here each string is one native `TextDecoder` call and the
 * numbers are read in place. Measured on a 62,500-record answer (16-byte keys, 100-byte
 * values), median of 12: decode + validation 189 → 89 ms, encode 129 → 115 ms.
 *
 * Each record: `u32 keyBytes, u32 valueBytes, u8 kind (0 text, 1 bytes, 2 tombstone),
 * u16 writer index, f64 expiresAt, f64 hlc`, then the key's UTF-8 bytes and the value's bytes,
 * little-endian. Decoding checks every length and number and refuses invalid UTF-8.
 *
 * @module
 */

import type { KeyedRecord } from "../store/mod.ts";

const HEADER = 27;
const TEXT = 0, BYTES = 1, TOMBSTONE = 2;
const utf8 = new TextEncoder();

/** Encodes `records`; `nameIndex` maps each writer name to its index in the message's table. */
export function encodeRecordBlob(
  records: readonly KeyedRecord[],
  nameIndex: ReadonlyMap<string, number>,
): Uint8Array {
  let bound = 0;
  for (const r of records) {
    const v = r.value;
    bound += HEADER + r.key.length * 3 +
      (v === null ? 0 : typeof v === "string" ? v.length * 3 : v.byteLength);
  }
  const out = new Uint8Array(bound);
  const view = new DataView(out.buffer);
  let at = 0;
  for (const r of records) {
    const start = at;
    at += HEADER;
    at += utf8.encodeInto(r.key, out.subarray(at)).written;
    const keyBytes = at - start - HEADER;
    const v = r.value;
    let kind = TOMBSTONE;
    if (typeof v === "string") {
      kind = TEXT;
      at += utf8.encodeInto(v, out.subarray(at)).written;
    } else if (v !== null) {
      kind = BYTES;
      out.set(v, at);
      at += v.byteLength;
    }
    view.setUint32(start, keyBytes, true);
    view.setUint32(start + 4, at - start - HEADER - keyBytes, true);
    view.setUint8(start + 8, kind);
    view.setUint16(start + 9, nameIndex.get(r.version.node)!, true);
    view.setFloat64(start + 11, r.expiresAt, true);
    view.setFloat64(start + 19, r.version.hlc, true);
  }
  return out.subarray(0, at);
}

/** Limits {@link decodeRecordBlob} enforces. */
export interface BlobLimits {
  /** Longest key, UTF-8 bytes. */
  maxKeyBytes: number;
  /** Largest value, bytes. */
  maxValueBytes: number;
}

function fail(what: string, i: number, detail: string): never {
  throw new TypeError(`Cannot decode ${what}: record ${i}: ${detail}`);
}

function uint(n: number, what: string, i: number, field: string): number {
  if (!Number.isSafeInteger(n) || n < 0) fail(what, i, `${field} must be an integer >= 0: ${n}`);
  return n;
}

/** Decodes a blob into records naming `names[i]`; throws a `TypeError` on any malformed field. */
export function decodeRecordBlob(
  blob: Uint8Array,
  names: readonly string[],
  limits: BlobLimits,
  what: string,
): KeyedRecord[] {
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const text = new TextDecoder("utf-8", { fatal: true });
  const out: KeyedRecord[] = [];
  for (let at = 0, i = 0; at < blob.byteLength; i++) {
    if (at + HEADER > blob.byteLength) fail(what, i, "truncated header");
    const keyBytes = view.getUint32(at, true);
    const valueBytes = view.getUint32(at + 4, true);
    const kind = view.getUint8(at + 8);
    const node = view.getUint16(at + 9, true);
    const expiresAt = uint(view.getFloat64(at + 11, true), what, i, "expiresAt");
    const hlc = uint(view.getFloat64(at + 19, true), what, i, "hlc");
    if (keyBytes < 1 || keyBytes > limits.maxKeyBytes) fail(what, i, `key of ${keyBytes} bytes`);
    if (valueBytes > limits.maxValueBytes) fail(what, i, `value of ${valueBytes} bytes`);
    if (kind > TOMBSTONE || (kind === TOMBSTONE && valueBytes !== 0)) fail(what, i, "bad kind");
    if (node >= names.length) fail(what, i, `writer ${node} not in the name table`);
    const keyAt = at + HEADER, valueAt = keyAt + keyBytes, end = valueAt + valueBytes;
    if (end > blob.byteLength) fail(what, i, "truncated body");
    let key: string, value: string | Uint8Array | null = null;
    try {
      key = text.decode(blob.subarray(keyAt, valueAt));
      if (kind === TEXT) value = text.decode(blob.subarray(valueAt, end));
    } catch {
      return fail(what, i, "invalid UTF-8");
    }
    if (kind === BYTES) value = blob.slice(valueAt, end);
    out.push({ key, value, expiresAt, version: { hlc, node: names[node] } });
    at = end;
  }
  return out;
}
