/**
 * Messages of the digest exchange (`POST /internal/sync`) and of the push/pull state blob.
 *
 * A sync request carries the initiator's digests for a range of buckets; the answer carries the
 * responder's records (live entries and tombstones, never expired or node-local ones) of the
 * buckets in that range whose digests differ, up to a byte budget, and the bucket to continue
 * from. The same exchange serves periodic anti-entropy (one range, few differing buckets) and the
 * transfer of the whole data set to a node that joins or restarts empty (every bucket differs).
 * The records travel as a `record_blob.ts` blob; the metadata and tags of those that have some
 * follow it (format 2) as `[[recordIndex, metadataJson | nil, tags | nil], ...]`, by ascending
 * index, so the blob's layout (and its decoding speed) is the same with or without them.
 *
 * @module
 */

import type { KeyedRecord } from "../store/mod.ts";
import {
  BASE_WIRE_FORMAT,
  checkEnvelope,
  checkName,
  checkUint,
  formatFor,
  type ReplicationCodec,
} from "./codec.ts";
import { decodeExtras, encodeExtras } from "./record_extras.ts";
import { decodeRecordBlob, encodeRecordBlob } from "./record_blob.ts";

/** The initiator's side of one sync exchange. */
export interface SyncRequest {
  /** Initiator's node name. */
  from: string;
  /** Number of digest buckets of the initiator's store (must equal the responder's). */
  buckets: number;
  /** First bucket of the range. */
  lo: number;
  /** End of the range (exclusive). */
  hi: number;
  /** The initiator's digests of buckets `lo..hi-1`, two 32-bit lanes each. */
  digests: Uint32Array;
  /** Soft limit on the answer's record bytes (at least one bucket is always sent). */
  maxBytes: number;
  /**
   * Partitioned mode: a bitmap of the buckets to compare (one bit per bucket of the store, LSB
   * first; see `Placement.sharedBuckets`). Buckets outside it are neither answered nor pushed
   * back. @default every bucket
   */
  only?: Uint8Array;
}

/** The responder's answer. */
export interface SyncResponse {
  /** First bucket not covered yet (`hi` when the range is done). */
  next: number;
  /** Buckets whose digests differed and whose records are included, ascending. */
  differing: number[];
  /** The responder's digests of those buckets (two lanes each), as of the records sent. */
  digests: Uint32Array;
  /** The responder's records of those buckets. */
  records: KeyedRecord[];
}

/** A node's state blob in memberlist push/pull: who it is and a digest of its data. */
export interface PushPullState {
  /** Node name. */
  name: string;
  /** Whole-store digest (16 hex digits). */
  digest: string;
  /** Whether the node holds the data set (its initial sync is done). */
  ready: boolean;
}

const MAX_BUCKETS = 65536;

function digestBytes(d: Uint32Array): Uint8Array {
  const out = new Uint8Array(d.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < d.length; i++) view.setUint32(i * 4, d[i], true);
  return out;
}

function digestLanes(b: Uint8Array): Uint32Array {
  const out = new Uint32Array(b.byteLength / 4);
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

/** Encodes a sync request. */
export function encodeSyncRequest(codec: ReplicationCodec, r: SyncRequest): Uint8Array {
  const fields = [
    BASE_WIRE_FORMAT,
    r.from,
    r.buckets,
    r.lo,
    r.hi,
    digestBytes(r.digests),
    r.maxBytes,
  ];
  return codec.encode(r.only ? [...fields, r.only] : fields);
}

/** Decodes and validates a sync request; throws a `TypeError` naming the bad field. */
export function decodeSyncRequest(codec: ReplicationCodec, bytes: Uint8Array): SyncRequest {
  const what = "sync request";
  const decoded = codec.decode(bytes, what);
  const m = checkEnvelope(decoded, Array.isArray(decoded) && decoded.length === 8 ? 8 : 7, what);
  const from = checkName(m[1], "from", what);
  const buckets = checkUint(m[2], "buckets", what, MAX_BUCKETS);
  const lo = checkUint(m[3], "lo", what, buckets);
  const hi = checkUint(m[4], "hi", what, buckets);
  if (lo >= hi) throw new TypeError(`Cannot decode ${what}: lo must be below hi: ${lo} >= ${hi}`);
  const raw = m[5];
  if (!(raw instanceof Uint8Array) || raw.byteLength !== (hi - lo) * 8) {
    throw new TypeError(
      `Cannot decode ${what}: digests must be ${(hi - lo) * 8} bytes for buckets ${lo}..${hi - 1}`,
    );
  }
  const maxBytes = checkUint(m[6], "maxBytes", what);
  const request: SyncRequest = { from, buckets, lo, hi, digests: digestLanes(raw), maxBytes };
  if (m.length === 8) {
    const only = m[7];
    if (!(only instanceof Uint8Array) || only.byteLength !== Math.ceil(buckets / 8)) {
      throw new TypeError(
        `Cannot decode ${what}: bucket mask must be ${
          Math.ceil(buckets / 8)
        } bytes for ${buckets} buckets`,
      );
    }
    request.only = only;
  }
  return request;
}

/** Encodes a sync response (records as a {@link encodeRecordBlob} blob). */
export function encodeSyncResponse(codec: ReplicationCodec, r: SyncResponse): Uint8Array {
  const index = new Map<string, number>();
  for (const rec of r.records) {
    if (!index.has(rec.version.node)) index.set(rec.version.node, index.size);
  }
  const blob = encodeRecordBlob(r.records, index);
  const digests = digestBytes(r.digests);
  const extras: unknown[] = [];
  r.records.forEach((rec, i) => {
    const e = encodeExtras(rec);
    if (e) extras.push([i, ...e]);
  });
  const fields = [formatFor(extras.length > 0), r.next, r.differing, digests, [...index.keys()]];
  return codec.encode(extras.length > 0 ? [...fields, blob, extras] : [...fields, blob]);
}

/** Decodes and validates a sync response for a request covering `lo..hi-1`. */
export function decodeSyncResponse(
  codec: ReplicationCodec,
  bytes: Uint8Array,
  lo: number,
  hi: number,
): SyncResponse {
  const what = "sync response";
  const decoded = codec.decode(bytes, what);
  const withExtras = Array.isArray(decoded) && decoded.length === 7;
  const m = checkEnvelope(decoded, withExtras ? 7 : 6, what, formatFor(withExtras));
  const next = checkUint(m[1], "next", what, hi);
  if (next <= lo) throw new TypeError(`Cannot decode ${what}: next must pass ${lo}: got ${next}`);
  const differing = m[2];
  if (!Array.isArray(differing)) throw new TypeError(`Cannot decode ${what}: differing not a list`);
  let last = lo - 1;
  for (const b of differing) {
    if (!Number.isSafeInteger(b) || b <= last || b >= next) {
      throw new TypeError(`Cannot decode ${what}: differing buckets must ascend in ${lo}..${next}`);
    }
    last = b;
  }
  const raw = m[3];
  if (!(raw instanceof Uint8Array) || raw.byteLength !== differing.length * 8) {
    throw new TypeError(`Cannot decode ${what}: digests must be 8 bytes per differing bucket`);
  }
  const names = m[4];
  if (!Array.isArray(names)) throw new TypeError(`Cannot decode ${what}: names not a list`);
  names.forEach((n, i) => checkName(n, `names[${i}]`, what));
  if (!(m[5] instanceof Uint8Array)) {
    throw new TypeError(`Cannot decode ${what}: records not bytes`);
  }
  const records = decodeRecordBlob(m[5], names, codec.limits, what);
  if (withExtras) decodeExtrasList(m[6], records, what);
  return { next, differing, digests: digestLanes(raw), records };
}

/** Sets the metadata and tags of a sync response's records from its extras list. */
function decodeExtrasList(list: unknown, records: KeyedRecord[], what: string): void {
  if (!Array.isArray(list)) throw new TypeError(`Cannot decode ${what}: extras not a list`);
  let last = -1;
  list.forEach((e, j) => {
    if (!Array.isArray(e) || e.length !== 3) {
      throw new TypeError(`Cannot decode ${what}: extras[${j}] must be [index, metadata, tags]`);
    }
    const i = e[0];
    if (!Number.isSafeInteger(i) || i <= last || i >= records.length) {
      throw new TypeError(
        `Cannot decode ${what}: extras[${j}] index must ascend in 0..${records.length - 1}`,
      );
    }
    last = i;
    decodeExtras(e[1], e[2], `records[${i}]`, what, records[i]);
  });
}

/** Encodes the push/pull state blob. */
export function encodePushPullState(codec: ReplicationCodec, s: PushPullState): Uint8Array {
  return codec.encode([BASE_WIRE_FORMAT, s.name, s.digest, s.ready]);
}

/** Decodes the push/pull state blob; throws a `TypeError` when malformed. */
export function decodePushPullState(codec: ReplicationCodec, bytes: Uint8Array): PushPullState {
  const what = "push/pull state";
  const m = checkEnvelope(codec.decode(bytes, what), 4, what);
  const name = checkName(m[1], "name", what);
  if (typeof m[2] !== "string" || !/^[0-9a-f]{16}$/.test(m[2])) {
    throw new TypeError(`Cannot decode ${what}: digest must be 16 hex digits`);
  }
  if (typeof m[3] !== "boolean") throw new TypeError(`Cannot decode ${what}: ready not a bool`);
  return { name, digest: m[2], ready: m[3] };
}
