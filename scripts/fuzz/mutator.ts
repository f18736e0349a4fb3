/**
 * Input generation for the fuzzers: seeded, so a failing input can be reproduced from the seed
 * and its index. {@link Mutator.next} picks a corpus entry and applies one to four mutations —
 * bit flips, "interesting" bytes (0, 0x7f, 0x80, 0xff, msgpack markers), big-endian length fields
 * set to edge values, inserted, deleted, duplicated or truncated runs, splices of two entries —
 * or, now and then, returns random bytes. Structure-aware wrappers put a mutated body behind the
 * outer layers a decoder peels first (label header, CRC with a correct checksum, compound,
 * compress), so the deep paths are reached and not only the first check.
 *
 * @module
 */

import { crc32 } from "../../src/membership/codec/crc32.ts";
import { type Random, randomInt, SeededRandom } from "../../src/util/random.ts";

const INTERESTING = [
  0x00,
  0x01,
  0x7f,
  0x80,
  0xff,
  0xc0,
  0xc1,
  0xcc,
  0xcd,
  0xce,
  0xcf,
  0xd9,
  0xda,
  0xdb,
  0xdc,
  0xdd,
  0xde,
  0xdf,
  0x90,
  0x9f,
  0x80,
  0x8f,
  0xa0,
  0xbf,
];
const EDGE_U32 = [0, 1, 0x7f, 0x80, 0xff, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff];

/** Options of {@link Mutator}. */
export interface MutatorOptions {
  /** Seed of every random draw. */
  seed: number;
  /** Largest input produced, bytes. @default 65_000 (fits a UDP datagram) */
  maxBytes?: number;
  /** Share of inputs that are random bytes instead of mutations, 0..1. @default 0.05 */
  randomShare?: number;
}

/** Seeded generator of mutated inputs from a corpus. */
export class Mutator {
  readonly #random: Random;
  readonly #maxBytes: number;
  readonly #randomShare: number;

  /** Creates a generator; the same seed and corpus give the same inputs. */
  constructor(options: MutatorOptions) {
    this.#random = new SeededRandom(options.seed);
    this.#maxBytes = options.maxBytes ?? 65_000;
    this.#randomShare = options.randomShare ?? 0.05;
  }

  /** A uniform integer in [0, n). */
  int(n: number): number {
    return randomInt(this.#random, n);
  }

  /** `true` with probability `p`. */
  chance(p: number): boolean {
    return this.#random.next() < p;
  }

  /** Random bytes, length uniform in [0, maxLength]. */
  randomBytes(maxLength: number): Uint8Array {
    const out = new Uint8Array(this.int(maxLength + 1));
    for (let i = 0; i < out.length; i++) out[i] = this.int(256);
    return out;
  }

  /**
   * The next input: a mutated corpus entry, or random bytes. Never a replay: an input equal to
   * a corpus entry (a splice can rebuild one), or with `noPrefixes` starting with one (a stream
   * reader stops after a genuine message and ignores the rest), is drawn again — replayed
   * genuine traffic is accepted by design and is not what the fuzzers look for.
   */
  next(corpus: readonly Uint8Array[], noPrefixes = false): Uint8Array {
    if (corpus.length === 0 || this.chance(this.#randomShare)) return this.randomBytes(512);
    const seed = corpus[this.int(corpus.length)];
    for (let attempt = 0; attempt < 16; attempt++) {
      let out = seed;
      const rounds = 1 + this.int(4);
      for (let r = 0; r < rounds; r++) out = this.mutate(out, corpus);
      if (out.length > this.#maxBytes) out = out.subarray(0, this.#maxBytes);
      const replay = corpus.some((p) =>
        noPrefixes ? startsWith(out, p) : p.length === out.length && equal(p, out)
      );
      if (!replay) return out;
    }
    return this.randomBytes(64);
  }

  /** One mutation of `input` (a new array; `input` is not changed). */
  mutate(input: Uint8Array, corpus: readonly Uint8Array[]): Uint8Array {
    const b = input.slice();
    const at = () => this.int(Math.max(1, b.length));
    switch (this.int(10)) {
      case 0: // flip one bit
        if (b.length > 0) b[at()] ^= 1 << this.int(8);
        return b;
      case 1: // set an interesting byte
        if (b.length > 0) b[at()] = INTERESTING[this.int(INTERESTING.length)];
        return b;
      case 2: { // a random byte
        if (b.length > 0) b[at()] = this.int(256);
        return b;
      }
      case 3: { // an edge value in a big-endian u32 (lengths, seq numbers, CRCs)
        if (b.length < 4) return b;
        const i = this.int(b.length - 3);
        new DataView(b.buffer).setUint32(i, EDGE_U32[this.int(EDGE_U32.length)]);
        return b;
      }
      case 4: // truncate
        return b.subarray(0, this.int(b.length + 1));
      case 5: { // delete a run
        const i = at();
        const n = 1 + this.int(Math.min(16, Math.max(1, b.length - i)));
        return concat(b.subarray(0, i), b.subarray(i + n));
      }
      case 6: { // insert random bytes
        const i = this.int(b.length + 1);
        return concat(b.subarray(0, i), this.randomBytes(16), b.subarray(i));
      }
      case 7: { // duplicate a run (repeated fields, inflated counts)
        const i = at();
        const run = b.subarray(i, i + 1 + this.int(32));
        return concat(b.subarray(0, i), run, run, b.subarray(i));
      }
      case 8: { // splice with another entry
        const other = corpus[this.int(corpus.length)];
        return concat(
          b.subarray(0, this.int(b.length + 1)),
          other.subarray(this.int(other.length + 1)),
        );
      }
      default: { // overwrite a run with one repeated byte
        const i = at();
        b.fill(INTERESTING[this.int(INTERESTING.length)], i, i + 1 + this.int(64));
        return b;
      }
    }
  }
}

/** Wraps `body` in a CRC layer with a correct checksum (`[0x0C][crc u32][body]`). */
export function withCrc(body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out[0] = 0x0c;
  new DataView(out.buffer).setUint32(1, crc32(body));
  out.set(body, 5);
  return out;
}

/** Prefixes a label header (`[0xF4][len][label]`). */
export function withLabel(label: Uint8Array, body: Uint8Array): Uint8Array {
  return concat(Uint8Array.of(0xf4, label.length), label, body);
}

/** A compound message of `parts` (`[0x07][count][len u16...][parts]`), lengths as given. */
export function compoundOf(parts: readonly Uint8Array[]): Uint8Array {
  const head = new Uint8Array(2 + 2 * parts.length);
  head[0] = 0x07;
  head[1] = parts.length & 0xff;
  parts.forEach((p, i) => new DataView(head.buffer).setUint16(2 + 2 * i, p.length & 0xffff));
  return concat(head, ...parts);
}

/** Byte-wise equality. */
export function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether `bytes` begins with all of `prefix`. */
export function startsWith(bytes: Uint8Array, prefix: Uint8Array): boolean {
  if (prefix.length > bytes.length) return false;
  for (let i = 0; i < prefix.length; i++) if (bytes[i] !== prefix[i]) return false;
  return true;
}

/** Concatenation of `parts`. */
export function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Hex of the first `max` bytes, for reports. */
export function hexOf(bytes: Uint8Array, max = 96): string {
  const shown = Array.from(bytes.subarray(0, max), (x) => x.toString(16).padStart(2, "0")).join("");
  return bytes.length > max ? `${shown}…(${bytes.length} bytes)` : shown;
}
