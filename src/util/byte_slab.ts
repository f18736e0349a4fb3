/**
 * Small byte arrays carved out of shared chunks. In Deno every `new Uint8Array(n)` or `slice()`
 * allocates its own ArrayBuffer, even for 4 bytes (V8 keeps no typed array on its own heap
 * here), which costs an order of magnitude more than a `subarray` view of an existing buffer
 * (measured: `docs/benchmarks.md`, "Engine changes for scale, and what is left", item 5). The
 * gossip path makes several small arrays per packet and per push/pull record, so it takes them
 * from a slab instead. Each array is a fresh region of a chunk, never handed out twice, so it is
 * as private as a new array; but a long-lived one keeps its whole chunk (64 KiB) alive, so what
 * is kept for long (queued broadcasts, table entries) gets its own buffer.
 *
 * @module
 */

/** Chunk size. */
const CHUNK_BYTES = 64 * 1024;
/** Larger requests get their own buffer (a slab would waste too much of a chunk). */
const MAX_SLAB_REQUEST = CHUNK_BYTES / 16;

/** Hands out zero-filled byte arrays of up to 4 KiB as views into 64 KiB chunks. */
export class ByteSlab {
  #chunk = new Uint8Array(0);
  #offset = 0;

  /** A zero-filled array of `n` bytes. */
  alloc(n: number): Uint8Array {
    if (n > MAX_SLAB_REQUEST) return new Uint8Array(n);
    if (this.#offset + n > this.#chunk.length) {
      this.#chunk = new Uint8Array(CHUNK_BYTES);
      this.#offset = 0;
    }
    const start = this.#offset;
    this.#offset += n;
    return this.#chunk.subarray(start, this.#offset);
  }

  /** A copy of `bytes` (or of `bytes[start, end)`). */
  copy(bytes: Uint8Array, start = 0, end = bytes.length): Uint8Array {
    const n = end - start;
    if (n > MAX_SLAB_REQUEST) return bytes.slice(start, end);
    const out = this.alloc(n);
    if (n <= 16) {
      // A loop beats the call into `set` for the short fields of records.
      for (let i = 0; i < n; i++) out[i] = bytes[start + i];
    } else {
      out.set(bytes.subarray(start, end));
    }
    return out;
  }
}

/** The process-wide slab (JavaScript is single-threaded, so one is enough per isolate). */
export const byteSlab: ByteSlab = new ByteSlab();
