/**
 * Reads of one key from a peer's store (partitioned mode: a node that does not own a key asks
 * an owner). The request is `[format, key]`; the answer is a replicate batch holding the live
 * record, or no record on a miss, so it is validated by the same decoder as every batch. It
 * travels on the per-peer replication stream (`read` frames, see `stream_frames.ts`), or as
 * `POST /internal/read` with `REPLICATION_CHANNEL=http`: cheaper than passing the HTTP request
 * on with `fetch` (docs/benchmarks.md, "Partitioned mode").
 *
 * @module
 */

import type { KeyedRecord, StoredEntry } from "../store/mod.ts";
import { BASE_WIRE_FORMAT, checkEnvelope, type ReplicationCodec } from "./codec.ts";

/** Encodes a read request for `key`. */
export function encodeReadRequest(codec: ReplicationCodec, key: string): Uint8Array {
  return codec.encode([BASE_WIRE_FORMAT, key]);
}

/** Decodes a read request; throws a `TypeError` naming the bad field. */
export function decodeReadRequest(codec: ReplicationCodec, bytes: Uint8Array): string {
  const what = "read request";
  const m = checkEnvelope(codec.decode(bytes, what), 2, what);
  const key = m[1];
  const max = codec.limits.maxKeyBytes;
  if (typeof key !== "string" || key === "" || new TextEncoder().encode(key).byteLength > max) {
    throw new TypeError(`Cannot decode ${what}: key must be text of 1..${max} bytes`);
  }
  return key;
}

/** Encodes the answer: `record` (a hit) or nothing (a miss), from node `from`. */
export function encodeReadAnswer(
  codec: ReplicationCodec,
  from: string,
  record: KeyedRecord | undefined,
): Uint8Array {
  return codec.encodeRecords(from, "repair", record ? [record] : []);
}

/** Decodes an answer to a read of `key`; throws a `TypeError` when it is not one. */
export function decodeReadAnswer(
  codec: ReplicationCodec,
  bytes: Uint8Array,
  key: string,
): StoredEntry | undefined {
  const { records } = codec.decodeBatch(bytes);
  const r = records[0];
  if (records.length > 1 || (r !== undefined && (r.key !== key || r.value === null))) {
    throw new TypeError(`Cannot decode read answer: expected at most the live record of ${key}`);
  }
  return r as StoredEntry | undefined;
}
