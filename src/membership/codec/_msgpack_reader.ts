/**
 * Low-level msgpack reading: one value "head" at a time, iterative skipping, and a distinct signal
 * for "the input ended early" so that callers on a TCP stream can fetch more bytes and retry.
 *
 * @module
 */

import { byteSlab } from "../../util/byte_slab.ts";

/**
 * Thrown (internally) when the input ends before the value does. `needed` is a lower bound on the
 * total input length required, so a stream reader can wait for that many bytes before retrying.
 */
export class NeedMoreData {
  /** @param needed minimum total input length (from index 0 of the input) to make progress */
  constructor(readonly needed: number) {}
}

/** The type and size information of one msgpack value, payload not yet consumed for raw/ext. */
export type Head =
  | { kind: "nil" }
  | { kind: "bool"; value: boolean }
  /** Integers outside the safe range arrive as bigint. */
  | { kind: "int"; value: number | bigint }
  | { kind: "float"; value: number }
  /** str and bin families; `length` payload bytes follow. */
  | { kind: "raw"; bin: boolean; length: number }
  | { kind: "array"; length: number }
  | { kind: "map"; length: number }
  /** ext family; `length` counts the ext type byte plus data. */
  | { kind: "ext"; length: number };

/** A cursor over a byte array that throws {@link NeedMoreData} instead of reading past the end. */
export class MsgpackReader {
  /** Offset of the next unread byte. */
  pos: number;
  readonly #bytes: Uint8Array;
  readonly #view: DataView;

  /** Reads `bytes` from `start`. */
  constructor(bytes: Uint8Array, start = 0) {
    this.#bytes = bytes;
    this.#view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.pos = start;
  }

  /** The whole input (for decoders' fast paths, which call {@link need} before reading it). */
  get bytes(): Uint8Array {
    return this.#bytes;
  }

  /** Throws {@link NeedMoreData} unless `n` more bytes are available. */
  need(n: number): void {
    if (this.pos + n > this.#bytes.length) throw new NeedMoreData(this.pos + n);
  }

  /** Reads one byte. */
  u8(): number {
    this.need(1);
    return this.#bytes[this.pos++];
  }

  /** Reads a big-endian u16. */
  u16(): number {
    this.need(2);
    const v = this.#view.getUint16(this.pos);
    this.pos += 2;
    return v;
  }

  /** Reads a big-endian u32. */
  u32(): number {
    this.need(4);
    const v = this.#view.getUint32(this.pos);
    this.pos += 4;
    return v;
  }

  /** Returns a view (not a copy) of the next `n` bytes and advances past them. */
  view(n: number): Uint8Array {
    this.need(n);
    const v = this.#bytes.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Returns a copy of the next `n` bytes (from the byte slab) and advances past them. */
  copy(n: number): Uint8Array {
    this.need(n);
    const v = byteSlab.copy(this.#bytes, this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  /** Reads a big-endian number of `size` bytes, signed or not; unsafe 64-bit values are bigint. */
  int(size: 1 | 2 | 4 | 8, signed: boolean): number | bigint {
    this.need(size);
    const p = this.pos;
    this.pos += size;
    const dv = this.#view;
    switch (size) {
      case 1:
        return signed ? dv.getInt8(p) : dv.getUint8(p);
      case 2:
        return signed ? dv.getInt16(p) : dv.getUint16(p);
      case 4:
        return signed ? dv.getInt32(p) : dv.getUint32(p);
      default: {
        const big = signed ? dv.getBigInt64(p) : dv.getBigUint64(p);
        const n = Number(big);
        return Number.isSafeInteger(n) ? n : big;
      }
    }
  }

  /** Reads the head of the next value (its payload is left unread for raw and ext). */
  head(): Head {
    const at = this.pos;
    const b = this.u8();
    if (b <= 0x7f) return { kind: "int", value: b };
    if (b >= 0xe0) return { kind: "int", value: b - 256 };
    if (b <= 0x8f) return { kind: "map", length: b & 0x0f };
    if (b <= 0x9f) return { kind: "array", length: b & 0x0f };
    if (b <= 0xbf) return { kind: "raw", bin: false, length: b & 0x1f };
    switch (b) {
      case 0xc0:
        return { kind: "nil" };
      case 0xc2:
        return { kind: "bool", value: false };
      case 0xc3:
        return { kind: "bool", value: true };
      case 0xc4:
        return { kind: "raw", bin: true, length: this.u8() };
      case 0xc5:
        return { kind: "raw", bin: true, length: this.u16() };
      case 0xc6:
        return { kind: "raw", bin: true, length: this.u32() };
      case 0xc7:
        return { kind: "ext", length: this.u8() + 1 };
      case 0xc8:
        return { kind: "ext", length: this.u16() + 1 };
      case 0xc9:
        return { kind: "ext", length: this.u32() + 1 };
      case 0xca:
        this.need(4);
        this.pos += 4;
        return { kind: "float", value: this.#view.getFloat32(this.pos - 4) };
      case 0xcb:
        this.need(8);
        this.pos += 8;
        return { kind: "float", value: this.#view.getFloat64(this.pos - 8) };
      case 0xcc:
      case 0xcd:
      case 0xce:
      case 0xcf:
        return { kind: "int", value: this.int((1 << (b - 0xcc)) as 1 | 2 | 4 | 8, false) };
      case 0xd0:
      case 0xd1:
      case 0xd2:
      case 0xd3:
        return { kind: "int", value: this.int((1 << (b - 0xd0)) as 1 | 2 | 4 | 8, true) };
      case 0xd4:
      case 0xd5:
      case 0xd6:
      case 0xd7:
      case 0xd8:
        return { kind: "ext", length: (1 << (b - 0xd4)) + 1 };
      case 0xd9:
        return { kind: "raw", bin: false, length: this.u8() };
      case 0xda:
        return { kind: "raw", bin: false, length: this.u16() };
      case 0xdb:
        return { kind: "raw", bin: false, length: this.u32() };
      case 0xdc:
        return { kind: "array", length: this.u16() };
      case 0xdd:
        return { kind: "array", length: this.u32() };
      case 0xde:
        return { kind: "map", length: this.u16() };
      case 0xdf:
        return { kind: "map", length: this.u32() };
      default:
        throw new RangeError(`invalid msgpack byte 0x${b.toString(16)} at offset ${at}`);
    }
  }

  /**
   * Skips one complete value of any type. Iterative (a count of values still to skip) so that
   * hostile nesting cannot exhaust the call stack; every step consumes at least one byte.
   */
  skip(): void {
    let pending = 1;
    while (pending > 0) {
      pending--;
      const h = this.head();
      if (h.kind === "raw" || h.kind === "ext") this.view(h.length);
      else if (h.kind === "array") pending += h.length;
      else if (h.kind === "map") pending += 2 * h.length;
    }
  }
}
