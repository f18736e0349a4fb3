/**
 * A growable big-endian byte buffer shared by the codec's encoders, so that a message is built in
 * one allocation sequence instead of concatenating many small arrays.
 *
 * @module
 */

/** Arrays up to this long are copied byte by byte. */
const SMALL = 16;

/** Appends bytes and big-endian integers to a buffer that doubles as needed. */
export class ByteWriter {
  #buf: Uint8Array;
  #view: DataView;
  #length = 0;

  /** @param capacity initial size in bytes. @default 64 */
  constructor(capacity = 64) {
    this.#buf = new Uint8Array(Math.max(8, capacity));
    this.#view = new DataView(this.#buf.buffer);
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

  /** Returns a copy of the bytes written. */
  toBytes(): Uint8Array {
    return this.#buf.slice(0, this.#length);
  }

  #reserve(n: number): void {
    const need = this.#length + n;
    if (need <= this.#buf.length) return;
    let size = this.#buf.length * 2;
    while (size < need) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#length));
    this.#buf = next;
    this.#view = new DataView(next.buffer);
  }
}
