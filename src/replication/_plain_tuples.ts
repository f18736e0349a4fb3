/**
 * Hand-written msgpack for the common case of the fast path, private to the codec: a record
 * without metadata or tags (`[key, value, expiresAt, hlc, nameIndex]`) and a batch of fresh
 * writes made of such records. The bytes are exactly those `@msgpack/msgpack` writes for the
 * same values (tested), so nothing on the wire changes; what changes is the cost per record:
 * the library's generic encoder and decoder (type dispatch, a JS UTF-8 loop for short strings,
 * an array per tuple) were a visible share of a replicated PUT's CPU on the writer and on each
 * replica (docs/benchmarks.md, "HTTP hot path, pinned").
 *
 * The decoder only accepts what it fully checks (the same limits as `codec.ts`) and returns
 * `undefined` for anything else (extras, unusual encodings, any malformation), so the caller
 * falls back to the generic decoder, which gives the error its precise message.
 *
 * @module
 */

import type { KeyedRecord, StoreRecord, Version } from "../store/mod.ts";

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder();
// Encoded tuples are views into shared chunks: one allocation per 64 KiB of writes, instead of a
// backing store per write (a typed array over 64 bytes gets its own, allocated outside the heap).
const CHUNK_BYTES = 64 * 1024;
let chunk = new Uint8Array(CHUNK_BYTES);
let used = 0;

/**
 * Writes a type byte (`t8`, `t16` or `t32`, by the size `n` needs) and `n` big-endian in 1, 2 or
 * 4 bytes; returns the new offset.
 */
function putSized(out: Uint8Array, at: number, n: number, t8: number, t16: number, t32: number) {
  if (n < 0x100) {
    out[at] = t8;
    out[at + 1] = n;
    return at + 2;
  }
  if (n < 0x10000) {
    out[at] = t16;
    out[at + 1] = n >>> 8;
    out[at + 2] = n & 0xff;
    return at + 3;
  }
  out[at] = t32;
  putU32(out, at + 1, n);
  return at + 5;
}

function putU32(out: Uint8Array, at: number, n: number): void {
  out[at] = n >>> 24;
  out[at + 1] = (n >>> 16) & 0xff;
  out[at + 2] = (n >>> 8) & 0xff;
  out[at + 3] = n & 0xff;
}

/** Writes `n` as msgpack does for a non-negative safe integer; returns the new offset. */
function putUint(out: Uint8Array, at: number, n: number): number {
  if (n < 0x80) {
    out[at] = n;
    return at + 1;
  }
  if (n < 0x100000000) return putSized(out, at, n, 0xcc, 0xcd, 0xce);
  out[at] = 0xcf;
  putU32(out, at + 1, Math.floor(n / 0x100000000));
  putU32(out, at + 5, n >>> 0);
  return at + 9;
}

/** Writes a str (`fixstr`/`str8`/`str16`/`str32`, the shortest, as msgpack does). */
function putStr(out: Uint8Array, at: number, s: string): number {
  const n = s.length;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    if (s.charCodeAt(i) >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (ascii) {
    at = putStrHeader(out, at, n);
    for (let i = 0; i < n; i++) out[at + i] = s.charCodeAt(i);
    return at + n;
  }
  // Encoded after the longest header, then moved back behind the header it needs.
  const body = at + 5;
  const written = utf8Encoder.encodeInto(s, out.subarray(body)).written;
  const start = putStrHeader(out, at, written);
  if (start !== body) out.copyWithin(start, body, body + written);
  return start + written;
}

function putStrHeader(out: Uint8Array, at: number, n: number): number {
  if (n >= 32) return putSized(out, at, n, 0xd9, 0xda, 0xdb);
  out[at] = 0xa0 | n;
  return at + 1;
}

function putBin(out: Uint8Array, at: number, b: Uint8Array): number {
  at = putSized(out, at, b.byteLength, 0xc4, 0xc5, 0xc6);
  out.set(b, at);
  return at + b.byteLength;
}

/**
 * The msgpack tuple `[key, value, expiresAt, hlc, nameIndex]` of a record without metadata or
 * tags; `undefined` when the record has extras (or numbers msgpack would not write as unsigned
 * integers), for the generic encoder.
 */
export function encodePlainTuple(
  key: string,
  record: StoreRecord,
  nameIndex: number,
): Uint8Array | undefined {
  if (record.metadata !== undefined || record.tags !== undefined) return undefined;
  const { value, expiresAt } = record;
  const hlc = record.version.hlc;
  if (!isUint(expiresAt) || !isUint(hlc) || !isUint(nameIndex)) return undefined;
  const valueBytes = value === null ? 1 : typeof value === "string" ? value.length * 3 : 0;
  const need = 1 + 5 + key.length * 3 + 5 + valueBytes + 27 +
    (value instanceof Uint8Array ? value.byteLength : 0);
  let out: Uint8Array;
  let start: number;
  if (need > CHUNK_BYTES / 4) {
    out = new Uint8Array(need); // a large record gets its own buffer
    start = 0;
  } else {
    if (used + need > CHUNK_BYTES) {
      chunk = new Uint8Array(CHUNK_BYTES);
      used = 0;
    }
    out = chunk;
    start = used;
  }
  out[start] = 0x95;
  let at = putStr(out, start + 1, key);
  if (value === null) out[at++] = 0xc0;
  else if (typeof value === "string") at = putStr(out, at, value);
  else at = putBin(out, at, value);
  at = putUint(out, at, expiresAt);
  at = putUint(out, at, hlc);
  at = putUint(out, at, nameIndex);
  if (out === chunk) used = at;
  return out.subarray(start, at);
}

function isUint(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/** Limits the fast decoder holds records to (those of the codec). */
export interface PlainLimits {
  /** Longest key in UTF-8 bytes. */
  maxKeyBytes: number;
  /** Largest value in bytes. */
  maxValueBytes: number;
}

/** A cursor over a message; every read returns -1 (or `undefined`) on anything unexpected. */
class Reader {
  at = 0;
  constructor(readonly b: Uint8Array) {}

  /** A non-negative safe integer, or -1. */
  uint(): number {
    const b = this.b;
    const at = this.at;
    if (at >= b.byteLength) return -1;
    const t = b[at];
    if (t < 0x80) {
      this.at = at + 1;
      return t;
    }
    let size;
    if (t === 0xcc) size = 1;
    else if (t === 0xcd) size = 2;
    else if (t === 0xce) size = 4;
    else if (t === 0xcf) size = 8;
    else return -1;
    if (at + 1 + size > b.byteLength) return -1;
    let n = 0;
    for (let i = 1; i <= size; i++) n = n * 256 + b[at + i];
    if (!Number.isSafeInteger(n)) return -1;
    this.at = at + 1 + size;
    return n;
  }

  /** The length of a str whose header is at the cursor (cursor moved past it), or -1. */
  strLength(): number {
    const b = this.b;
    const at = this.at;
    if (at >= b.byteLength) return -1;
    const t = b[at];
    let n, head;
    if ((t & 0xe0) === 0xa0) {
      n = t & 0x1f;
      head = 1;
    } else if (t === 0xd9 && at + 1 < b.byteLength) {
      n = b[at + 1];
      head = 2;
    } else if (t === 0xda && at + 2 < b.byteLength) {
      n = (b[at + 1] << 8) | b[at + 2];
      head = 3;
    } else if (t === 0xdb && at + 4 < b.byteLength) {
      n = ((b[at + 1] << 24) >>> 0) + ((b[at + 2] << 16) | (b[at + 3] << 8) | b[at + 4]);
      head = 5;
    } else return -1;
    if (at + head + n > b.byteLength) return -1;
    this.at = at + head;
    return n;
  }

  /** `n` bytes at the cursor as UTF-8 text. */
  text(n: number): string {
    const b = this.b;
    const start = this.at;
    this.at = start + n;
    if (n <= 16) {
      let s = "";
      for (let i = start; i < start + n; i++) {
        const c = b[i];
        if (c >= 0x80) return utf8Decoder.decode(b.subarray(start, start + n));
        s += String.fromCharCode(c);
      }
      return s;
    }
    return utf8Decoder.decode(b.subarray(start, start + n));
  }

  /** An array header's length, or -1. */
  arrayLength(): number {
    const b = this.b;
    const at = this.at;
    if (at >= b.byteLength) return -1;
    const t = b[at];
    if ((t & 0xf0) === 0x90) {
      this.at = at + 1;
      return t & 0x0f;
    }
    if (t === 0xdc && at + 2 < b.byteLength) {
      this.at = at + 3;
      return (b[at + 1] << 8) | b[at + 2];
    }
    if (t === 0xdd && at + 4 < b.byteLength) {
      this.at = at + 5;
      return ((b[at + 1] << 24) >>> 0) + ((b[at + 2] << 16) | (b[at + 3] << 8) | b[at + 4]);
    }
    return -1;
  }

  /** A node name (1..256 characters), or `undefined`. */
  name(): string | undefined {
    const n = this.strLength();
    if (n <= 0) return undefined;
    const s = this.text(n);
    return s.length <= 256 ? s : undefined;
  }
}

/**
 * Decodes a batch of fresh writes whose records all lack extras, checking every field as the
 * codec does; `undefined` for anything else (the generic decoder then decides).
 */
export function decodePlainBatch(
  bytes: Uint8Array,
  limits: PlainLimits,
): { from: string; records: KeyedRecord[] } | undefined {
  const r = new Reader(bytes);
  if (bytes[0] !== 0x95) return undefined;
  r.at = 1;
  const format = r.uint();
  if (format !== 1 && format !== 2) return undefined;
  const from = r.name();
  if (from === undefined || r.uint() !== 0) return undefined; // kind 0: fresh writes
  const nameCount = r.arrayLength();
  if (nameCount < 0) return undefined;
  const names: string[] = new Array(nameCount);
  for (let i = 0; i < nameCount; i++) {
    const name = r.name();
    if (name === undefined) return undefined;
    names[i] = name;
  }
  const count = r.arrayLength();
  if (count < 0 || count > bytes.byteLength) return undefined;
  const records: KeyedRecord[] = new Array(count);
  const { maxKeyBytes, maxValueBytes } = limits;
  for (let i = 0; i < count; i++) {
    if (bytes[r.at] !== 0x95) return undefined;
    r.at++;
    const keyBytes = r.strLength();
    if (keyBytes <= 0 || keyBytes > maxKeyBytes) return undefined;
    const key = r.text(keyBytes);
    let value: string | Uint8Array | null;
    const t = bytes[r.at];
    if (t === 0xc0) {
      value = null;
      r.at++;
    } else if (t === 0xc4 || t === 0xc5 || t === 0xc6) {
      const head = t === 0xc4 ? 2 : t === 0xc5 ? 3 : 5;
      const at = r.at;
      if (at + head > bytes.byteLength) return undefined;
      let n = 0;
      for (let j = 1; j < head; j++) n = n * 256 + bytes[at + j];
      if (n > maxValueBytes || at + head + n > bytes.byteLength) return undefined;
      value = bytes.slice(at + head, at + head + n);
      r.at = at + head + n;
    } else {
      const n = r.strLength();
      if (n < 0 || n > maxValueBytes) return undefined;
      value = r.text(n);
    }
    const expiresAt = r.uint();
    const hlc = r.uint();
    const node = r.uint();
    if (expiresAt < 0 || hlc < 0 || node < 0 || node >= nameCount) return undefined;
    const version: Version = { hlc, node: names[node] };
    records[i] = { key, value, expiresAt, version };
  }
  return r.at === bytes.byteLength ? { from, records } : undefined;
}
