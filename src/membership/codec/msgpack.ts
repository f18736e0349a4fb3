/**
 * Schema-driven msgpack for memberlist's Go dialect (go-msgpack `MsgpackHandle{}` defaults).
 *
 * Structs travel as maps keyed by the Go field names. On encode this module mirrors go-msgpack
 * v2 byte for byte: keys in byte-wise sorted order, strings and byte slices both in the old "raw"
 * str family (fixstr/str16/str32, never str8 or bin), nil byte slices as nil, unsigned fields in
 * their smallest unsigned form, Go `int` fields as v2 writes them (signed forms above 127). On
 * decode it accepts everything Go accepts: str8 and bin for strings and bytes, any integer width
 * that fits the field, bool from 0/1, nil as the zero value, unknown keys (skipped), and structs
 * sent as arrays in Go field order.
 *
 * Written by hand rather than on top of `@msgpack/msgpack` because every str value must stay raw
 * bytes until the schema says "string" (Go puts IP addresses inside str headers), the encoder
 * must reproduce Go's non-standard width choices, and the decoder must tell "need more bytes"
 * apart from "malformed" and report the bytes consumed for incremental TCP decoding.
 *
 * Over 400 lines: the encoder and decoder of one format stay together so each width rule is
 * stated once for both directions.
 *
 * @module
 */

import { byteSlab } from "../../util/byte_slab.ts";
import { ByteWriter } from "./_byte_writer.ts";
import { type Head, MsgpackReader, NeedMoreData } from "./_msgpack_reader.ts";

/** How a field is represented in Go, which decides its msgpack form. */
export type FieldKind = "string" | "bytes" | "bool" | "u8" | "u16" | "u32" | "int";

/** One struct field: its TypeScript property, its Go name (the map key) and its kind. */
export interface FieldSchema<T> {
  /** Property name on the TypeScript object (camelCase). */
  readonly prop: keyof T & string;
  /** Go field name, used verbatim as the msgpack map key (e.g. `"SeqNo"`). */
  readonly goName: string;
  /** Wire representation. */
  readonly kind: FieldKind;
  /** Go `codec:",omitempty"`: left out when zero; absent from decoded objects when zero. */
  readonly omitEmpty?: boolean;
}

/** A struct's fields in Go source order (the order of the array form), plus derived lookups. */
export interface StructSchema<T> {
  /** Name used in error messages (the Go struct name, e.g. `"ping"`). */
  readonly name: string;
  /** Fields in Go source order. */
  readonly fields: readonly FieldSchema<T>[];
  /** Fields in byte-wise order of `goName`, as Go writes them. */
  readonly encodeOrder: readonly FieldSchema<T>[];
  /** Field by Go name, for decoding map keys. */
  readonly byGoName: ReadonlyMap<string, FieldSchema<T>>;
  /** The encoded map key (raw header and name) of each field of `encodeOrder`. */
  readonly encodedKeys: readonly Uint8Array[];
  /** The UTF-8 bytes of each field's Go name, in `fields` order (map keys matched on bytes). */
  readonly keyBytes: readonly Uint8Array[];
}

/** Outcome of decoding one value: done, need more input, or malformed. */
export type DecodeResult<T> =
  | {
    status: "ok";
    value: T;
    /** Bytes consumed from `offset`. */
    bytesRead: number;
  }
  | {
    status: "incomplete";
    /** Lower bound on the bytes needed from `offset`; retry once that many are available. */
    needed: number;
  }
  | { status: "malformed"; error: RangeError | TypeError };

const UINT_MAX = { u8: 0xff, u16: 0xffff, u32: 0xffff_ffff } as const;
const encoder = new TextEncoder();
export { encoder as utf8Encoder };
const decoder = new TextDecoder();

// Strings of at most this many bytes that are all ASCII skip TextDecoder (names, keys, IPs).
const SHORT_STRING = 64;

/** Whether every char code of `s` is below 0x80 (so it encodes as one byte per char). */
export function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

/** UTF-8 decoding (invalid sequences become U+FFFD), without TextDecoder for short ASCII. */
function decodeString(bytes: Uint8Array): string {
  return decodeStringAt(bytes, 0, bytes.length);
}

// Short ASCII strings decoded lately, by a hash of their bytes: the same names, addresses and
// keys arrive again and again (every push/pull carries every member's name), and handing back
// the string decoded before saves building it and lets lookups find its hash already computed.
const STRING_CACHE_SIZE = 1 << 14;
const stringCache: string[] = new Array<string>(STRING_CACHE_SIZE).fill("");
const charCodes: number[][] = Array.from({ length: SHORT_STRING + 1 }, (_, n) => new Array(n));

/** {@link decodeString} of `bytes[start, end)`, without a view for short ASCII. */
function decodeStringAt(bytes: Uint8Array, start: number, end: number): string {
  const n = end - start;
  if (n > SHORT_STRING) return decoder.decode(bytes.subarray(start, end));
  let hash = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b > 0x7f) return decoder.decode(bytes.subarray(start, end));
    hash = Math.imul(hash ^ b, 0x01000193);
  }
  const slot = (hash >>> 0) & (STRING_CACHE_SIZE - 1);
  const cached = stringCache[slot];
  if (cached.length === n) {
    let i = 0;
    while (i < n && cached.charCodeAt(i) === bytes[start + i]) i++;
    if (i === n) return cached;
  }
  const codes = charCodes[n];
  for (let i = 0; i < n; i++) codes[i] = bytes[start + i];
  const s = String.fromCharCode.apply(null, codes);
  stringCache[slot] = s;
  return s;
}

function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

/** Builds a {@link StructSchema} from fields given in Go source order. */
export function defineStruct<T>(name: string, fields: readonly FieldSchema<T>[]): StructSchema<T> {
  const encodeOrder = [...fields].sort((a, b) =>
    compareBytes(encoder.encode(a.goName), encoder.encode(b.goName))
  );
  const byGoName = new Map(fields.map((f) => [f.goName, f]));
  const encodedKeys = encodeOrder.map((f) => {
    const w = new ByteWriter(8);
    const key = encoder.encode(f.goName);
    writeRawHeader(w, key.length);
    w.bytes(key);
    return w.toBytes();
  });
  return Object.freeze({
    name,
    fields: Object.freeze([...fields]),
    encodeOrder: Object.freeze(encodeOrder),
    byGoName,
    encodedKeys: Object.freeze(encodedKeys),
    keyBytes: Object.freeze(fields.map((f) => encoder.encode(f.goName))),
  });
}

// ---------------------------------------------------------------------------------------------
// Encoding

/** Writes a raw (str family) header as Go's old-spec encoder does: fixstr, str16 or str32. */
export function writeRawHeader(w: ByteWriter, length: number): void {
  if (length < 32) w.u8(0xa0 | length);
  else if (length <= 0xffff) {
    w.u8(0xda);
    w.u16(length);
  } else {
    w.u8(0xdb);
    w.u32(length);
  }
}

/** Writes an unsigned integer in the smallest form Go's encoder uses (fixint, uint8..uint32). */
export function writeUint(w: ByteWriter, v: number): void {
  if (v <= 0x7f) w.u8(v);
  else if (v <= 0xff) {
    w.u8(0xcc);
    w.u8(v);
  } else if (v <= 0xffff) {
    w.u8(0xcd);
    w.u16(v);
  } else {
    w.u8(0xce);
    w.u32(v);
  }
}

/**
 * Writes a signed integer as go-msgpack v2's EncodeInt: fixint only for -32..127; otherwise the
 * smallest signed form that fits, except that positive values skip int8 (128..32767 is int16).
 */
export function writeInt(w: ByteWriter, v: number): void {
  if (v >= -32 && v <= 0x7f) w.u8(v & 0xff);
  else if (v >= -128 && v < 0) {
    w.u8(0xd0);
    w.u8(v & 0xff);
  } else if (v >= -32768 && v <= 32767) {
    w.u8(0xd1);
    w.u16(v & 0xffff);
  } else if (v >= -2147483648 && v <= 2147483647) {
    w.u8(0xd2);
    w.u32(v >>> 0);
  } else {
    w.u8(0xd3);
    w.i64(v);
  }
}

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || v === "" || v === 0 || v === false ||
    (v instanceof Uint8Array && v.length === 0);
}

function describe(v: unknown): string {
  if (v instanceof Uint8Array) return `Uint8Array(${v.length})`;
  return typeof v === "string" ? JSON.stringify(v) : String(v);
}

function encodeError<T>(schema: StructSchema<T>, f: FieldSchema<T>, what: string, v: unknown) {
  return new TypeError(
    `Cannot encode ${schema.name}: ${f.goName} must be ${what}: received ${describe(v)}`,
  );
}

// Errors are built only when thrown: this runs once per field of every record encoded.
function writeField<T>(
  w: ByteWriter,
  schema: StructSchema<T>,
  f: FieldSchema<T>,
  v: unknown,
) {
  switch (f.kind) {
    case "string": {
      if (typeof v !== "string") throw encodeError(schema, f, "a string", v);
      if (isAscii(v)) {
        writeRawHeader(w, v.length);
        w.ascii(v);
        return;
      }
      const bytes = encoder.encode(v);
      writeRawHeader(w, bytes.length);
      w.bytes(bytes);
      return;
    }
    case "bytes":
      if (v === null) w.u8(0xc0);
      else if (v instanceof Uint8Array) {
        writeRawHeader(w, v.length);
        w.bytes(v);
      } else throw encodeError(schema, f, "a Uint8Array or null", v);
      return;
    case "bool":
      if (typeof v !== "boolean") throw encodeError(schema, f, "a boolean", v);
      w.u8(v ? 0xc3 : 0xc2);
      return;
    case "int":
      if (!Number.isSafeInteger(v)) throw encodeError(schema, f, "a safe integer", v);
      writeInt(w, v as number);
      return;
    default: {
      const max = UINT_MAX[f.kind];
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > max) {
        throw new RangeError(
          `Cannot encode ${schema.name}: ${f.goName} must be a ${f.kind}: received ${describe(v)}`,
        );
      }
      writeUint(w, v as number);
    }
  }
}

/** Appends the msgpack map of `value` to `w` (keys sorted, omitempty fields dropped when zero). */
export function writeStruct<T>(w: ByteWriter, schema: StructSchema<T>, value: T): void {
  const record = value as Record<string, unknown>;
  const order = schema.encodeOrder;
  let count = 0;
  for (const f of order) if (!(f.omitEmpty && isEmpty(record[f.prop]))) count++;
  if (count < 16) w.u8(0x80 | count);
  else {
    w.u8(0xde);
    w.u16(count);
  }
  for (let i = 0; i < order.length; i++) {
    const f = order[i];
    const v = record[f.prop];
    if (f.omitEmpty && isEmpty(v)) continue;
    w.bytes(schema.encodedKeys[i]);
    writeField(w, schema, f, v);
  }
}

/**
 * Encodes `value` as Go would. Throws a `TypeError`/`RangeError` naming the struct and field when
 * a value does not fit its kind (e.g. `Cannot encode ping: SeqNo must be a u32: received -1`).
 */
export function encodeStruct<T>(schema: StructSchema<T>, value: T): Uint8Array {
  const w = ByteWriter.pooled(128);
  try {
    writeStruct(w, schema, value);
    return w.toBytes();
  } finally {
    w.release();
  }
}

// ---------------------------------------------------------------------------------------------
// Decoding

function zeroValue(kind: FieldKind): unknown {
  switch (kind) {
    case "string":
      return "";
    case "bytes":
      return null;
    case "bool":
      return false;
    default:
      return 0;
  }
}

function readBytesFromArray(r: MsgpackReader, length: number, fail: (w: string) => Error) {
  r.need(length); // every element takes at least one byte: never allocate for a lying count
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const h = r.head();
    if (h.kind !== "int" || typeof h.value !== "number" || h.value < 0 || h.value > 0xff) {
      throw fail("bytes (array elements must be u8)");
    }
    out[i] = h.value;
  }
  return out;
}

function decodeError<T>(schema: StructSchema<T>, f: FieldSchema<T>, what: string, got: unknown) {
  return new (f.kind === "string" || f.kind === "bytes" || f.kind === "bool"
    ? TypeError
    : RangeError)(
    `Cannot decode ${schema.name}: ${f.goName} must be ${what}: received ${String(got)}`,
  );
}

function headName(h: Head): string {
  return h.kind === "raw" ? "str/bin" : h.kind;
}

// Errors are built only when thrown: this runs once per field of every record decoded. The
// forms Go writes for small values (positive fixint, fixstr) are read without a Head object.
function readField<T>(r: MsgpackReader, schema: StructSchema<T>, f: FieldSchema<T>): unknown {
  r.need(1);
  const b = r.bytes[r.pos];
  if (b <= 0x7f && f.kind !== "string" && f.kind !== "bytes" && f.kind !== "bool") {
    r.pos++;
    return b;
  }
  if (b >= 0xa0 && b <= 0xbf) {
    const length = b & 0x1f;
    if (f.kind === "bytes") {
      r.pos++;
      return r.copy(length);
    }
    if (f.kind === "string") {
      r.pos++;
      r.need(length);
      const start = r.pos;
      r.pos += length;
      return decodeStringAt(r.bytes, start, r.pos);
    }
  }
  const h: Head = r.head();
  if (h.kind === "nil") return zeroValue(f.kind);
  switch (f.kind) {
    case "string":
      if (h.kind !== "raw") throw decodeError(schema, f, "a string", headName(h));
      return decodeString(r.view(h.length));
    case "bytes":
      if (h.kind === "raw") return byteSlab.copy(r.view(h.length));
      if (h.kind === "array") {
        return readBytesFromArray(
          r,
          h.length,
          (what) => decodeError(schema, f, what, headName(h)),
        );
      }
      throw decodeError(schema, f, "bytes", headName(h));
    case "bool":
      if (h.kind === "bool") return h.value;
      if (h.kind === "int" && (h.value === 0 || h.value === 1)) return h.value === 1;
      throw decodeError(schema, f, "a bool", h.kind === "int" ? h.value : h.kind);
    case "int":
      if (h.kind !== "int") throw decodeError(schema, f, "an int", headName(h));
      if (typeof h.value !== "number") {
        throw decodeError(schema, f, "an int within ±2^53", h.value);
      }
      return h.value;
    default: {
      if (h.kind !== "int") throw decodeError(schema, f, `a ${f.kind}`, headName(h));
      const v = h.value;
      if (typeof v !== "number" || v < 0 || v > UINT_MAX[f.kind]) {
        throw decodeError(schema, f, `a ${f.kind}`, v);
      }
      return v;
    }
  }
}

/**
 * The field a map key names, `undefined` for an unknown or nil key. Keys are matched on their
 * bytes (Go names are ASCII, so equal bytes mean an equal decoded string) before falling back
 * to decoding the key.
 */
function readKey<T>(r: MsgpackReader, schema: StructSchema<T>): FieldSchema<T> | undefined {
  r.need(1);
  const b = r.bytes[r.pos];
  if (b >= 0xa0 && b <= 0xbf) {
    const length = b & 0x1f;
    r.need(1 + length);
    const f = fieldAt(schema, r.bytes, r.pos + 1, length);
    if (f) {
      r.pos += 1 + length;
      return f;
    }
  }
  const h = r.head();
  if (h.kind === "raw") {
    const key = r.view(h.length);
    const { fields, keyBytes } = schema;
    for (let i = 0; i < fields.length; i++) {
      if (bytesEqual(keyBytes[i], key)) return fields[i];
    }
    return schema.byGoName.get(decodeString(key));
  }
  if (h.kind === "nil") return undefined;
  throw new TypeError(`Cannot decode ${schema.name}: map keys must be strings: received ${h.kind}`);
}

/** The field whose Go name is `bytes[start, start + length)`, if any. */
function fieldAt<T>(
  schema: StructSchema<T>,
  bytes: Uint8Array,
  start: number,
  length: number,
): FieldSchema<T> | undefined {
  const { fields, keyBytes } = schema;
  next: for (let i = 0; i < fields.length; i++) {
    const key = keyBytes[i];
    if (key.length !== length) continue;
    for (let j = 0; j < length; j++) if (key[j] !== bytes[start + j]) continue next;
    return fields[i];
  }
  return undefined;
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function setField<T>(out: Record<string, unknown>, f: FieldSchema<T>, v: unknown): void {
  if (!f.omitEmpty) out[f.prop] = v;
  else if (isEmpty(v)) delete out[f.prop];
  else out[f.prop] = v;
}

/** Reads one struct at the reader's position; throws NeedMoreData or a TypeError/RangeError. */
export function readStruct<T>(r: MsgpackReader, schema: StructSchema<T>): T {
  const out: Record<string, unknown> = {};
  for (const f of schema.fields) if (!f.omitEmpty) out[f.prop] = zeroValue(f.kind);
  const h = r.head();
  if (h.kind === "map") {
    for (let i = 0; i < h.length; i++) {
      const f = readKey(r, schema);
      if (f) setField(out, f, readField(r, schema, f));
      else r.skip();
    }
  } else if (h.kind === "array") {
    for (let i = 0; i < h.length; i++) {
      const f = schema.fields[i];
      if (f) setField(out, f, readField(r, schema, f));
      else r.skip();
    }
  } else if (h.kind !== "nil") {
    throw new TypeError(`Cannot decode ${schema.name}: expected a map: received ${h.kind}`);
  }
  return out as T;
}

/**
 * Decodes one struct from `bytes` at `offset`. Never throws: reports the bytes consumed, or that
 * the input ended early (with a lower bound on what is needed), or why the input is malformed.
 * Bytes fields are copies, never views of `bytes`.
 */
export function decodeStruct<T>(
  schema: StructSchema<T>,
  bytes: Uint8Array,
  offset = 0,
): DecodeResult<T> {
  const r = new MsgpackReader(bytes, offset);
  try {
    const value = readStruct(r, schema);
    return { status: "ok", value, bytesRead: r.pos - offset };
  } catch (e) {
    if (e instanceof NeedMoreData) return { status: "incomplete", needed: e.needed - offset };
    if (e instanceof RangeError || e instanceof TypeError) return { status: "malformed", error: e };
    throw e;
  }
}
