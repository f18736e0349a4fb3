/**
 * A growable big-endian byte buffer shared by the codec's encoders, so that a message is built in
 * one allocation sequence instead of concatenating many small arrays. Short-lived writers
 * ({@link ByteWriter.pooled}) build in one reused scratch buffer and copy the result into the
 * byte slab: in Deno each new `Uint8Array` is costly (see util/byte_slab.ts), and the gossip
 * path encodes several messages per packet.
 *
 * @module
 */

import { byteSlab } from "../../util/byte_slab.ts";

/** Arrays up to this long are copied byte by byte. */
const SMALL = 16;
/** The pooled scratch buffer is kept while it is at most this big. */
const MAX_SCRATCH = 64 * 1024;
const NO_BYTES = new Uint8Array(0);
const NO_VIEW = new DataView(NO_BYTES.buffer);

/** The scratch buffer and its view while no writer holds them. */
const FIRST_SCRATCH = new Uint8Array(4096);
let scratch: { buf: Uint8Array; view: DataView } | undefined = {
  buf: FIRST_SCRATCH,
  view: new DataView(FIRST_SCRATCH.buffer),
};

/** Appends bytes and big-endian integers to a buffer that doubles as needed. */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #length = 0;
  #pooled = false;

  /** @param capacity initial size in bytes (0: allocate on the first write). @default 64 */
  constructor(capacity = 64) {
    this.#buf = capacity > 0 ? new Uint8Array(capacity) : NO_BYTES;
    this.#view = capacity > 0 ? new DataView(this.#buf.buffer) : NO_VIEW;
  }

  /**
   * A writer on the shared scratch buffer when it is free (else a new one). Call
   * {@link ByteWriter.release} when done (in a `finally`), and take the result with
   * {@link ByteWriter.toBytes} before that.
   */
  static pooled(capacity = 64): ByteWriter {
    const w = new ByteWriter(0);
    if (scratch !== undefined && scratch.buf.length >= capacity) {
      w.#buf = scratch.buf;
      w.#view = scratch.view;
      w.#pooled = true;
      scratch = undefined;
    } else {
      w.#buf = new Uint8Array(Math.max(8, capacity));
      w.#view = new DataView(w.#buf.buffer);
    }
    return w;
  }

  /** Hands a pooled writer's buffer back; the writer is empty and unusable until rewritten. */
  release(): void {
    if (this.#pooled && this.#buf.length <= MAX_SCRATCH) {
      scratch = { buf: this.#buf, view: this.#view };
    }
    this.#pooled = false;
    this.#buf = NO_BYTES;
    this.#view = NO_VIEW;
    this.#length = 0;
  }

  /** Number of bytes written so far. */
  get length(): number {
    return this.#length;
  }

  /** Appends one byte (the low 8 bits of `v`). */
  u8(v: number): void {
    this.#reserve(1);
    this.#buf[this.#length++] = v;
  }

  /** Appends a big-endian u16. */
  u16(v: number): void {
    this.#reserve(2);
    this.#view.setUint16(this.#length, v);
    this.#length += 2;
  }

  /** Appends a big-endian u32. */
  u32(v: number): void {
    this.#reserve(4);
    this.#view.setUint32(this.#length, v);
    this.#length += 4;
  }

  /** Appends a big-endian signed 64-bit integer (`v` must be a safe integer). */
  i64(v: number): void {
    this.#reserve(8);
    this.#view.setBigInt64(this.#length, BigInt(v));
    this.#length += 8;
  }

  /** Appends all of `bytes`. */
  bytes(bytes: Uint8Array): void {
    const n = bytes.length;
    this.#reserve(n);
    if (n > SMALL) {
      this.#buf.set(bytes, this.#length);
      this.#length += n;
      return;
    }
    // A loop beats the call into `set` for the short keys, names and addresses of records.
    const buf = this.#buf;
    let o = this.#length;
    for (let i = 0; i < n; i++) buf[o++] = bytes[i];
    this.#length = o;
  }

  /** Appends `s`, which must be all ASCII (char codes < 0x80), one byte per char. */
  ascii(s: string): void {
    this.#reserve(s.length);
    const buf = this.#buf;
    let o = this.#length;
    for (let i = 0; i < s.length; i++) buf[o++] = s.charCodeAt(i);
    this.#length = o;
  }

  /** Overwrites a big-endian u16 at `offset` (which must already be written). */
  setU16(offset: number, v: number): void {
    this.#view.setUint16(offset, v);
  }

  /** Returns a copy of the bytes written (small ones from the byte slab). */
  toBytes(): Uint8Array {
    return byteSlab.copy(this.#buf, 0, this.#length);
  }

  /**
   * Returns the bytes written as a view of the writer's own buffer, without copying; the writer
   * must not be written to afterwards. Not for pooled writers (their buffer is reused).
   */
  toView(): Uint8Array {
    if (this.#pooled) throw new Error("Cannot view a pooled ByteWriter's bytes: use toBytes");
    return this.#buf.subarray(0, this.#length);
  }

  #reserve(n: number): void {
    const need = this.#length + n;
    if (need <= this.#buf.length) return;
    let size = Math.max(64, this.#buf.length * 2);
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}
