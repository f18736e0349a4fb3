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

import { byteSlab } from "../../util/byte_slab.ts";

const CLEAR = 256;
const EOF = 257;
const MAX_CODE = 4095;
const MAX_WIDTH = 12;
// Open-addressing map (code << 8 | byte) → code for the encoder; 4× the code space keeps it sparse.
const TABLE_SIZE = 1 << 14;
// An input of n bytes adds fewer than n codes, so a small input gets a small table (same codes,
// same output): a ping then does not allocate and zero 64 KiB.
const MIN_TABLE_SIZE = 64;
// The decoder's scratch output is kept between calls up to this size.
const MAX_KEPT_OUTPUT = 256 * 1024;

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

// Scratch state reused by every call (both functions are synchronous, so calls never overlap):
// in Deno each new typed array is costly (see util/byte_slab.ts), and the gossip path
// compresses and decompresses a packet at a time.
const encTable = new Uint32Array(TABLE_SIZE); // entry = key * 4096 + code; 0 means empty
let encOut = new Uint8Array(4096);
const decPrefix = new Uint16Array(MAX_CODE + 1);
const decSuffix = new Uint8Array(MAX_CODE + 1);
// Expansion length of each code, so expansions are written straight into the output. Literal
// codes are always 1; a table code is written before it can be read.
const decLengths = new Uint16Array(MAX_CODE + 1).fill(1, 0, CLEAR);
let decOut = new Uint8Array(4096);

/** Compresses `data` into a stream byte-identical to Go 1.19's `lzw.NewWriter(w, lzw.LSB, 8)`. */
export function lzwCompress(data: Uint8Array): Uint8Array {
  return byteSlab.copy(lzwCompressScratch(data));
}

/**
 * {@link lzwCompress} into a scratch buffer: the result is only valid until the next call, so
 * copy it (or encode it into something else) at once.
 */
export function lzwCompressScratch(data: Uint8Array): Uint8Array {
  if (encOut.length < 64 + (data.length >>> 1)) encOut = new Uint8Array(64 + data.length);
  let out = encOut;
  let o = 0;
  let size = MIN_TABLE_SIZE;
  while (size < TABLE_SIZE && size < data.length * 4) size <<= 1;
  const mask = size - 1;
  const table = encTable;
  table.fill(0, 0, size);
  let bits = 0;
  let nBits = 0;
  let width = 9;
  let hi = EOF;
  let overflow = 512;
  const write = (code: number) => {
    if (o + 3 > out.length) {
      const next = new Uint8Array(out.length * 2);
      next.set(out);
      out = encOut = next;
    }
    bits |= code << nBits;
    nBits += width;
    while (nBits >= 8) {
      out[o++] = bits;
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
    table.fill(0, 0, size);
    return false;
  };

  write(CLEAR);
  if (data.length > 0) {
    let code = data[0];
    next: for (let i = 1; i < data.length; i++) {
      const literal = data[i];
      const key = (code << 8) | literal;
      let h = ((key >>> 12) ^ key) & mask;
      for (let t = table[h]; t !== 0; h = (h + 1) & mask, t = table[h]) {
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
  // write() keeps 3 bytes free and emits at most 2, so the partial byte always fits.
  if (nBits > 0) out[o++] = bits;
  return out.subarray(0, o);
}

/** Thrown by {@link lzwDecompress} when the output would exceed `maxOutput`. */
export class LzwLimitError extends RangeError {
  /** @param maxOutput the limit that was hit */
  constructor(readonly maxOutput: number) {
    super(`Cannot decompress LZW: output exceeds maxOutput: ${maxOutput} bytes`);
    this.name = "LzwLimitError";
  }
}

/**
 * Decompresses a Go `compress/lzw` (LSB, 8) stream, stopping at the EOF code (later bytes are
 * ignored). Throws a `RangeError` for an invalid code or a stream without EOF, and an
 * {@link LzwLimitError} (a `RangeError`) for output beyond `maxOutput`.
 */
export function lzwDecompress(data: Uint8Array, options: LzwDecompressOptions = {}): Uint8Array {
  const max = options.maxOutput ?? Infinity;
  let clears = 0;
  let maxWidth = 9;
  let codes = 0;
  const prefix = decPrefix;
  const suffix = decSuffix;
  const lengths = decLengths;
  let out = decOut;
  let o = 0;
  const reserve = (n: number) => {
    if (o + n > max) throw new LzwLimitError(max);
    if (o + n <= out.length) return;
    const next = new Uint8Array(Math.min(max, Math.max(o + n, out.length * 2)));
    next.set(out.subarray(0, o));
    out = next;
    // Keep a grown buffer for the next call unless it is big (a push/pull of many members).
    if (next.length <= MAX_KEPT_OUTPUT) decOut = next;
  };
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
    codes++;
    if (code === CLEAR) {
      clears++;
      width = 9;
      hi = EOF;
      overflow = 512;
      last = -1;
      continue;
    }
    if (code === EOF) break;
    if (code > hi) throw new RangeError(`Cannot decompress LZW: invalid code: received ${code}`);
    // KwKwK: the code being defined right now is the last expansion plus its own first byte.
    const kwk = code === hi && last >= 0;
    let c = kwk ? last : code;
    const n = lengths[c];
    reserve(kwk ? n + 1 : n);
    let i = o + n - 1;
    while (c > CLEAR) {
      out[i--] = suffix[c];
      c = prefix[c];
    }
    if (i !== o) throw new RangeError("Cannot decompress LZW: inconsistent code table");
    out[i] = c;
    if (kwk) out[o + n] = c;
    o += kwk ? n + 1 : n;
    if (last >= 0) {
      suffix[hi] = c;
      prefix[hi] = last;
      lengths[hi] = lengths[last] + 1;
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
        maxWidth = Math.max(maxWidth, width);
      }
    }
  }
  if (options.stats) Object.assign(options.stats, { clears, maxWidth, codes });
  return byteSlab.copy(out, 0, o);
}
