/**
 * LZW exactly as Go's `compress/lzw` with LSB bit order and 8-bit literals — the only compression
 * memberlist knows (§4.3). GIF-style, "no early change": codes are 9..12 bits wide, 256 clears
 * the table, 257 ends the stream, the first table code is 258, and bits are packed low bit first.
 * The encoder emits a leading clear code (as Go ≥ 1.17 does) and the mandatory EOF code; the
 * decoder accepts streams with or without the leading clear. Common npm "lzw" packages use other
 * variants, hence this implementation.
 *
 * @module
 */

import { ByteWriter } from "./_byte_writer.ts";

const CLEAR = 256;
const EOF = 257;
const MAX_CODE = 4095;
const MAX_WIDTH = 12;
// Open-addressing map (code << 8 | byte) → code for the encoder; 4× the code space keeps it sparse.
const TABLE_SIZE = 1 << 14;
const TABLE_MASK = TABLE_SIZE - 1;

/** Counters filled in by {@link lzwDecompress}, for diagnostics and tests. */
export interface LzwStats {
  /** Clear codes seen (including a leading one). */
  clears: number;
  /** Widest code width reached, 9..12. */
  maxWidth: number;
  /** Codes read, including clear and EOF. */
  codes: number;
}

/** Options of {@link lzwDecompress}. */
export interface LzwDecompressOptions {
  /** Output size above which decoding fails with a `RangeError`. @default Infinity */
  maxOutput?: number;
  /** When given, its counters are overwritten with figures about the stream. */
  stats?: LzwStats;
}

/** Compresses `data` into a stream byte-identical to Go 1.19's `lzw.NewWriter(w, lzw.LSB, 8)`. */
export function lzwCompress(data: Uint8Array): Uint8Array {
  const out = new ByteWriter(16 + (data.length >>> 1));
  const table = new Uint32Array(TABLE_SIZE); // entry = key * 4096 + code; 0 means empty
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 512;
  const write = (code: number) => {
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out.u8(bits & 0xff);
      bits >>>= 8;
      nBits -= 8;
    }
  };
  // Advances the next implied code; at 4095 emits a clear and resets (returns false then).
  const incHi = (): boolean => {
    hi++;
    if (hi === overflow) {
      width++;
      overflow <<= 1;
    }
    if (hi !== MAX_CODE) return true;
    write(CLEAR);
    width = 9;
    hi = EOF;
    overflow = 512;
    table.fill(0);
    return false;
  };

  write(CLEAR);
  if (data.length > 0) {
    let code = data[0];
    next: for (let i = 1; i < data.length; i++) {
      const literal = data[i];
      const key = (code << 8) | literal;
      let h = ((key >>> 12) ^ key) & TABLE_MASK;
      for (let t = table[h]; t !== 0; h = (h + 1) & TABLE_MASK, t = table[h]) {
        if (t >>> 12 === key) {
          code = t & 0xfff;
          continue next;
        }
      }
      write(code);
      code = literal;
      if (incHi()) table[h] = key * 4096 + hi; // h is the empty slot the probe stopped at
    }
    write(code);
    incHi();
  }
  write(EOF);
  if (nBits > 0) out.u8(bits & 0xff);
  return out.toBytes();
}

/** Thrown by {@link lzwDecompress} when the output would exceed `maxOutput`. */
export class LzwLimitError extends RangeError {
  /** @param maxOutput the limit that was hit */
  constructor(readonly maxOutput: number) {
    super(`Cannot decompress LZW: output exceeds maxOutput: ${maxOutput} bytes`);
    this.name = "LzwLimitError";
  }
}

/** Growable output that refuses to pass `max` bytes. */
class Output {
  buf: Uint8Array;
  length = 0;
  constructor(initial: number, readonly max: number) {
    this.buf = new Uint8Array(Math.max(64, Math.min(initial, max)));
  }
  push(bytes: Uint8Array): void {
    const need = this.length + bytes.length;
    if (need > this.max) throw new LzwLimitError(this.max);
    if (need > this.buf.length) {
      const next = new Uint8Array(Math.min(this.max, Math.max(need, this.buf.length * 2)));
      next.set(this.buf.subarray(0, this.length));
      this.buf = next;
    }
    this.buf.set(bytes, this.length);
    this.length = need;
  }
}

/**
 * Decompresses a Go `compress/lzw` (LSB, 8) stream, stopping at the EOF code (later bytes are
 * ignored). Throws a `RangeError` for an invalid code or a stream without EOF, and an
 * {@link LzwLimitError} (a `RangeError`) for output beyond `maxOutput`.
 */
export function lzwDecompress(data: Uint8Array, options: LzwDecompressOptions = {}): Uint8Array {
  const out = new Output(data.length * 3, options.maxOutput ?? Infinity);
  const stats: LzwStats = options.stats ?? { clears: 0, maxWidth: 9, codes: 0 };
  Object.assign(stats, { clears: 0, maxWidth: 9, codes: 0 });
  const prefix = new Uint16Array(MAX_CODE + 1);
  const suffix = new Uint8Array(MAX_CODE + 1);
  // A chain is at most 4096 codes long, plus one byte for the KwKwK case.
  const scratch = new Uint8Array(2 * (MAX_CODE + 1));
  let bits = 0;
  let nBits = 0;
  let pos = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 512;
  let last = -1;
  for (;;) {
    while (nBits < width) {
      if (pos >= data.length) {
        throw new RangeError("Cannot decompress LZW: input ended before the EOF code");
      }
      bits |= data[pos++] << nBits;
      nBits += 8;
    }
    const code = bits & ((1 << width) - 1);
    bits >>>= width;
    nBits -= width;
    stats.codes++;
    if (code === CLEAR) {
      stats.clears++;
      width = 9;
      hi = EOF;
      overflow = 512;
      last = -1;
      continue;
    }
    if (code === EOF) break;
    if (code > hi) throw new RangeError(`Cannot decompress LZW: invalid code: received ${code}`);
    let i = scratch.length - 1;
    let c = code;
    if (code === hi && last >= 0) {
      // KwKwK: the code being defined right now is the last expansion plus its own first byte.
      c = last;
      while (c > CLEAR) c = prefix[c];
      scratch[i--] = c;
      c = last;
    }
    while (c > CLEAR) {
      scratch[i--] = suffix[c];
      c = prefix[c];
    }
    scratch[i] = c;
    out.push(scratch.subarray(i));
    if (last >= 0) {
      suffix[hi] = c;
      prefix[hi] = last;
    }
    last = code;
    hi++;
    if (hi >= overflow) {
      if (width === MAX_WIDTH) {
        // Table full and no clear yet: keep decoding with the table frozen.
        last = -1;
        hi--;
      } else {
        width++;
        overflow = 1 << width;
        stats.maxWidth = Math.max(stats.maxWidth, width);
      }
    }
  }
  return out.buf.slice(0, out.length);
}
