/**
 * The replication wire format: msgpack messages between nodes (`application/msgpack` bodies of
 * the internal HTTP routes). Every message is a msgpack array whose first element is
 * its format; records travel as `[key, value, expiresAt, hlc, nameIndex]` tuples with the
 * writers' node names in a per-message table, so a batch of one node's writes names that node
 * once. A fast-path record is encoded once ({@link ReplicationCodec.encodeRecord}) and the same
 * bytes are spliced into every peer's batch.
 *
 * Formats: 1 is the original layout; 2 adds a record's metadata and tags as two more tuple
 * elements, `[key, value, expiresAt, hlc, nameIndex, metadataJson | nil, tags | nil]` (see
 * `record_extras.ts`), and the cluster-wide `list` and `purge` requests (`cluster_ops.ts`). A
 * message is sent in the lowest format that can hold it ({@link BASE_WIRE_FORMAT} unless a
 * record carries extras), and both formats are accepted: during a rolling upgrade the nodes of
 * the previous release keep understanding everything except records with metadata or tags,
 * which they refuse (400) until they are upgraded too, and anti-entropy then brings them over.
 *
 * Decoding is defensive (the routes are reachable by anything that reaches the HTTP port):
 * every field is checked before anything is applied, sizes are capped by {@link CodecLimits},
 * and any malformed input throws a `TypeError` naming what was wrong.
 *
 * @module
 */

import { Decoder, Encoder } from "npm:@msgpack/msgpack@3.1.3";
import type { KeyedRecord, StoreRecord, Version } from "../store/mod.ts";
import { decodePlainBatch, encodePlainTuple } from "./_plain_tuples.ts";
import { decodeExtras, encodeExtras, extrasWireSize, hasExtras } from "./record_extras.ts";

/** Newest message layout (records with metadata and tags; list and purge requests). */
export const WIRE_FORMAT = 2;
/** The layout of every message that needs nothing newer (understood by every release). */
export const BASE_WIRE_FORMAT = 1;
/** Content type of replication bodies. */
export const MSGPACK_CONTENT_TYPE = "application/msgpack";

/** Size limits a receiver enforces. */
export interface CodecLimits {
  /** Longest key in UTF-8 bytes. */
  maxKeyBytes: number;
  /** Largest value in bytes (UTF-8 for text). */
  maxValueBytes: number;
  /** Largest message accepted, bytes. */
  maxMessageBytes: number;
}

/** Why a batch was sent: fresh writes (fast path) or anti-entropy repairs. */
export type BatchKind = "write" | "repair";

const BATCH_KINDS: readonly BatchKind[] = ["write", "repair"];

/** A decoded batch of writes (`POST /internal/replicate`). */
export interface ReplicateBatch {
  /** Name of the sending node. */
  from: string;
  /** Fresh writes or repairs (only fresh writes say anything about replication lag). */
  kind: BatchKind;
  /** The records, in the order sent. */
  records: KeyedRecord[];
}

const MAX_NAME_LENGTH = 256;
const utf8 = new TextEncoder();

function fail(what: string, detail: string): never {
  throw new TypeError(`Cannot decode ${what}: ${detail}`);
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  if (Array.isArray(v)) return `an array of ${v.length}`;
  return typeof v === "string" ? JSON.stringify(v.slice(0, 64)) : `${typeof v} ${String(v)}`;
}

/**
 * Checks that `v` is an array of `length` starting with a format from `minFormat` to
 * {@link WIRE_FORMAT}.
 */
export function checkEnvelope(
  v: unknown,
  length: number,
  what: string,
  minFormat = BASE_WIRE_FORMAT,
): unknown[] {
  if (!Array.isArray(v) || v.length !== length) {
    fail(what, `expected an array of ${length}: received ${describe(v)}`);
  }
  const format = v[0];
  if (typeof format !== "number" || !(format >= minFormat && format <= WIRE_FORMAT)) {
    fail(what, `format must be ${minFormat}..${WIRE_FORMAT}: received ${describe(format)}`);
  }
  return v;
}

/** The format of a message holding records: 2 when one carries metadata or tags, else 1. */
export function formatFor(extras: boolean): number {
  return extras ? WIRE_FORMAT : BASE_WIRE_FORMAT;
}

/** Checks a non-negative safe integer field. */
export function checkUint(v: unknown, field: string, what: string, max = Number.MAX_SAFE_INTEGER) {
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < 0 || v > max) {
    fail(what, `${field} must be an integer in 0..${max}: received ${describe(v)}`);
  }
  return v;
}

/** Checks a node name. */
export function checkName(v: unknown, field: string, what: string): string {
  if (typeof v !== "string" || v === "" || v.length > MAX_NAME_LENGTH) {
    fail(what, `${field} must be a node name: received ${describe(v)}`);
  }
  return v;
}

/** Encoding and validating decoding of replication messages, with one node's limits. */
export class ReplicationCodec {
  /** The limits decoded messages are held to. */
  readonly limits: Readonly<CodecLimits>;
  readonly #encoder = new Encoder();
  readonly #decoder: Decoder;
  // The encoded start of a batch (without, with extras), for the node name and table it was
  // made for.
  readonly #batchHeads:
    ({ from: string; names: readonly string[]; bytes: Uint8Array } | undefined)[] = [
      undefined,
      undefined,
    ];

  /** Creates a codec enforcing `limits` on everything it decodes. */
  constructor(limits: CodecLimits) {
    this.limits = { ...limits };
    const max = limits.maxMessageBytes;
    this.#decoder = new Decoder({
      maxStrLength: max,
      maxBinLength: max,
      maxArrayLength: max,
      maxMapLength: 0,
      maxExtLength: 0,
    });
  }

  /** Encodes any msgpack value (used by the message helpers). */
  encode(value: unknown): Uint8Array {
    return this.#encoder.encode(value);
  }

  /** Decodes one msgpack value, refusing bodies over the message limit. */
  decode(bytes: Uint8Array, what: string): unknown {
    if (bytes.byteLength > this.limits.maxMessageBytes) {
      throw new RangeError(
        `Cannot decode ${what}: message must be at most ${this.limits.maxMessageBytes} bytes: received ${bytes.byteLength}`,
      );
    }
    try {
      return this.#decoder.decode(bytes);
    } catch (err) {
      return fail(what, `malformed msgpack: ${(err as Error).message}`);
    }
  }

  /** One record as a tuple whose writer is `nameIndex` in the message's name table. */
  encodeRecord(record: KeyedRecord, nameIndex: number): Uint8Array {
    return this.encodeWrite(record.key, record, nameIndex);
  }

  /** {@link encodeRecord} of `key` and `record` (no object built to join them). */
  encodeWrite(key: string, record: StoreRecord, nameIndex: number): Uint8Array {
    return encodePlainTuple(key, record, nameIndex) ??
      this.#encoder.encode(recordTuple({ ...record, key }, nameIndex));
  }

  /**
   * A batch of fresh writes from `from`, spliced from pre-encoded record tuples whose writer
   * indices point into `names` (one encoding per write, whatever the number of peers). The
   * envelope is encoded once per `from` and `names` array (compared by identity: pass a new
   * array when the table changes, never a mutated one).
   */
  encodeBatch(from: string, names: readonly string[], records: readonly Uint8Array[]): Uint8Array {
    // A tuple without extras is a fixarray of 5 (0x95); one with them, of 7.
    let extras = false;
    for (const r of records) {
      if (r[0] !== 0x95) {
        extras = true;
        break;
      }
    }
    // The envelope before the records is the same for every batch of a node: encoded once.
    let head = this.#batchHeads[extras ? 1 : 0];
    if (head === undefined || head.from !== from || head.names !== names) {
      head = { from, names, bytes: this.#batchHead(from, names, extras) };
      this.#batchHeads[extras ? 1 : 0] = head;
    }
    const n = records.length;
    const arrayHeader = n < 16
      ? [0x90 | n]
      : n < 0x10000
      ? [0xdc, n >> 8, n & 0xff]
      : [0xdd, n >>> 24, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
    let size = head.bytes.byteLength + arrayHeader.length;
    for (const r of records) size += r.byteLength;
    const out = new Uint8Array(size);
    out.set(head.bytes);
    let at = head.bytes.byteLength;
    out.set(arrayHeader, at);
    at += arrayHeader.length;
    for (const r of records) {
      out.set(r, at);
      at += r.byteLength;
    }
    return out;
  }

  #batchHead(from: string, names: readonly string[], extras: boolean): Uint8Array {
    // The whole envelope with no records, less its empty records array (one 0x90 byte).
    const kind = BATCH_KINDS.indexOf("write");
    return this.#encoder.encode([formatFor(extras), from, kind, names, []]).slice(0, -1);
  }

  /** A batch of arbitrary records (any writers), e.g. anti-entropy repairs. */
  encodeRecords(from: string, kind: BatchKind, records: readonly KeyedRecord[]): Uint8Array {
    const { names, tuples } = tupleTable(records);
    const format = formatFor(records.some(hasExtras));
    return this.#encoder.encode([format, from, BATCH_KINDS.indexOf(kind), names, tuples]);
  }

  /** Decodes and validates a batch; throws a `TypeError` (or `RangeError` for size). */
  decodeBatch(bytes: Uint8Array): ReplicateBatch {
    if (bytes.byteLength <= this.limits.maxMessageBytes) {
      const plain = decodePlainBatch(bytes, this.limits);
      if (plain) return { from: plain.from, kind: "write", records: plain.records };
    }
    const what = "replicate batch";
    const m = checkEnvelope(this.decode(bytes, what), 5, what);
    const from = checkName(m[1], "from", what);
    const kind = BATCH_KINDS[checkUint(m[2], "kind", what, BATCH_KINDS.length - 1)];
    return { from, kind, records: this.decodeRecords(m[3], m[4], what, m[0] as number) };
  }

  /**
   * Validates a name table and record tuples into records (with metadata and tags only in
   * `format` 2 and later).
   */
  decodeRecords(
    names: unknown,
    tuples: unknown,
    what: string,
    format = WIRE_FORMAT,
  ): KeyedRecord[] {
    if (!Array.isArray(names)) fail(what, `names must be an array: received ${describe(names)}`);
    names.forEach((n, i) => checkName(n, `names[${i}]`, what));
    if (!Array.isArray(tuples)) {
      fail(what, `records must be an array: received ${describe(tuples)}`);
    }
    const out: KeyedRecord[] = new Array(tuples.length);
    for (let i = 0; i < tuples.length; i++) {
      out[i] = this.#record(tuples[i], names as string[], i, what, format);
    }
    return out;
  }

  #record(t: unknown, names: string[], i: number, what: string, format: number): KeyedRecord {
    if (!Array.isArray(t) || !(t.length === 5 || (t.length === 7 && format >= 2))) {
      fail(
        what,
        `records[${i}] must be [key, value, expiresAt, hlc, node${
          format >= 2 ? ", metadata?, tags?" : ""
        }]: received ${describe(t)}`,
      );
    }
    const [key, value, expiresAt, hlc, node, metadata, tags] = t;
    const { maxKeyBytes, maxValueBytes } = this.limits;
    if (typeof key !== "string" || key === "" || byteLength(key, maxKeyBytes) > maxKeyBytes) {
      fail(what, `records[${i}].key must be a key of 1..${maxKeyBytes} bytes: ${describe(key)}`);
    }
    if (value !== null && typeof value !== "string" && !(value instanceof Uint8Array)) {
      fail(what, `records[${i}].value must be text, bytes or nil: received ${describe(value)}`);
    }
    if (value !== null && byteLength(value, maxValueBytes) > maxValueBytes) {
      fail(what, `records[${i}].value must be at most ${maxValueBytes} bytes`);
    }
    checkUint(expiresAt, `records[${i}].expiresAt`, what);
    checkUint(hlc, `records[${i}].hlc`, what);
    checkUint(node, `records[${i}].node`, what, names.length - 1);
    const version: Version = { hlc: hlc as number, node: names[node as number] };
    const record: KeyedRecord = { key, value, expiresAt: expiresAt as number, version };
    if (t.length === 7) decodeExtras(metadata, tags, `records[${i}]`, what, record);
    return record;
  }
}

/** The wire tuple of `record` (with its metadata and tags when it has some). */
export function recordTuple(record: KeyedRecord, nameIndex: number): unknown[] {
  const tuple = [record.key, record.value, record.expiresAt, record.version.hlc, nameIndex];
  const extras = encodeExtras(record);
  return extras ? [...tuple, ...extras] : tuple;
}

/** A name table and tuples for `records`. */
export function tupleTable(
  records: readonly KeyedRecord[],
): { names: string[]; tuples: unknown[] } {
  const names: string[] = [];
  const index = new Map<string, number>();
  const tuples = new Array(records.length);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    let n = index.get(r.version.node);
    if (n === undefined) {
      n = names.push(r.version.node) - 1;
      index.set(r.version.node, n);
    }
    tuples[i] = recordTuple(r, n);
  }
  return { names, tuples };
}

/** Byte length of text (UTF-8) or bytes; skips encoding when `length` alone proves it fits. */
function byteLength(v: string | Uint8Array, limit: number): number {
  if (typeof v !== "string") return v.byteLength;
  return v.length * 3 <= limit ? v.length : utf8.encode(v).byteLength;
}

/** Approximate wire size of a record (exact for ASCII text), for size-bounded responses. */
export function recordWireSize(record: KeyedRecord): number {
  const v = record.value;
  const valueBytes = v === null ? 1 : typeof v === "string" ? v.length : v.byteLength;
  return record.key.length + valueBytes + 24 + extrasWireSize(record);
}
