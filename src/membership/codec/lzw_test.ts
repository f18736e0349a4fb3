import assert from "node:assert/strict";
import { SeededRandom } from "../../util/random.ts";
import { lzwCompress, lzwDecompress, LzwLimitError, type LzwStats } from "./lzw.ts";
import { GOLDEN, hex, unhex, utf8 } from "./test_helpers.ts";

/** Removes the first 9-bit code (Go's leading clear) from an LSB-packed stream. */
function dropLeadingClear(stream: Uint8Array): Uint8Array {
  assert.equal(stream[0] | ((stream[1] & 1) << 8), 256, "stream must start with a clear code");
  const out = new Uint8Array(stream.length - 1);
  for (let i = 0; i < out.length; i++) {
    out[i] = ((stream[i + 1] >> 1) | ((stream[i + 2] ?? 0) << 7)) & 0xff;
  }
  return out;
}

/** Packs codes LSB-first, each at the width `widthOf(index)` gives. */
function packCodes(codes: number[], widthOf: (i: number) => number): Uint8Array {
  const out: number[] = [];
  let bits = 0;
  let nBits = 0;
  codes.forEach((code, i) => {
    bits |= code << nBits;
    nBits += widthOf(i);
    for (; nBits >= 8; nBits -= 8, bits >>>= 8) out.push(bits & 0xff);
  });
  if (nBits > 0) out.push(bits & 0xff);
  return new Uint8Array(out);
}

function randomBytes(seed: number, n: number): Uint8Array {
  const random = new SeededRandom(seed);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(random.next() * 256);
  return out;
}

/** Text from a small vocabulary in random order: compressible but never settling. */
function wordSoup(seed: number, n: number): Uint8Array {
  const random = new SeededRandom(seed);
  const words = [
    "node",
    "alive",
    "suspect",
    "dead",
    "gossip",
    "probe",
    "ack",
    "nack",
    "push",
    "pull",
    "incarnation",
    "memberlist",
    "cache",
    "ttl",
    "key",
    "value",
    "0",
    "1",
    "2",
    "\n",
  ];
  let text = "";
  while (text.length < n) text += words[Math.floor(random.next() * words.length)] + " ";
  return utf8(text.slice(0, n));
}

function roundTrip(data: Uint8Array): LzwStats {
  const stats: LzwStats = { clears: 0, maxWidth: 0, codes: 0 };
  const compressed = lzwCompress(data);
  assert.deepEqual(lzwDecompress(compressed, { stats }), data);
  assert.deepEqual(lzwDecompress(dropLeadingClear(compressed)), data);
  return stats;
}

Deno.test("lzwCompress() reproduces Go 1.19 on TOBEORNOTTOBEORTOBEORNOT", () => {
  const data = utf8("TOBEORNOTTOBEORTOBEORNOT");
  assert.equal(hex(lzwCompress(data)), GOLDEN.lzwToBeOrNot);
  assert.deepEqual(lzwDecompress(unhex(GOLDEN.lzwToBeOrNot)), data);
});

Deno.test("lzwCompress() reproduces Go 1.19 on the golden compound message", () => {
  const payload = unhex(GOLDEN.compress).subarray(15); // after 0x09, the map and the str16 header
  assert.equal(payload.length, 107);
  assert.equal(hex(lzwCompress(unhex(GOLDEN.compound))), hex(payload));
});

Deno.test("lzwDecompress() reads Go's streams with and without the leading clear code", () => {
  const payload = unhex(GOLDEN.compress).subarray(15);
  for (const stream of [payload, dropLeadingClear(payload)]) {
    assert.equal(hex(lzwDecompress(stream)), GOLDEN.compound);
  }
  const tobe = dropLeadingClear(unhex(GOLDEN.lzwToBeOrNot));
  assert.deepEqual(lzwDecompress(tobe), utf8("TOBEORNOTTOBEORTOBEORNOT"));
});

Deno.test("lzwCompress() round-trips 64 KiB of random bytes across widths and resets", () => {
  const stats = roundTrip(randomBytes(1, 65536));
  assert.equal(stats.maxWidth, 12);
  assert.ok(stats.clears >= 10, `clears ${stats.clears}`);
});

Deno.test("lzwCompress() round-trips 256 KiB of repetitive text across widths and resets", () => {
  const data = wordSoup(2, 262144);
  const stats = roundTrip(data);
  assert.equal(stats.maxWidth, 12);
  assert.ok(stats.clears >= 4, `clears ${stats.clears}`);
  assert.ok(lzwCompress(data).length < data.length / 2);
});

Deno.test("lzwCompress() round-trips runs (KwKwK codes) and edge sizes", () => {
  for (const n of [0, 1, 2, 3, 255, 256, 257, 4096]) roundTrip(randomBytes(n, n));
  const stats = roundTrip(new Uint8Array(1 << 20).fill(0x61));
  assert.ok(stats.codes < 2000, `codes ${stats.codes}`);
  roundTrip(utf8("abababababababababababab"));
  assert.equal(hex(lzwCompress(new Uint8Array(0))), "000302"); // clear, EOF
});

Deno.test("lzwDecompress() keeps decoding once the table is full without a clear", () => {
  // An encoder that never resets: 6000 literal codes; the decoder freezes its table at 4095.
  const literals = Array.from({ length: 6000 }, (_, i) => (i * 7) & 0xff);
  const widthOf = (i: number) => (i < 255 ? 9 : i < 767 ? 10 : i < 1791 ? 11 : 12);
  const stream = packCodes([...literals, 257], widthOf);
  assert.deepEqual(lzwDecompress(stream), new Uint8Array(literals));
});

Deno.test("lzwDecompress() enforces maxOutput", () => {
  const bomb = lzwCompress(new Uint8Array(1 << 20));
  assert.ok(bomb.length < 3000);
  assert.throws(() => lzwDecompress(bomb, { maxOutput: 65536 }), LzwLimitError);
  assert.equal(lzwDecompress(bomb, { maxOutput: 1 << 20 }).length, 1 << 20);
});

Deno.test("lzwDecompress() rejects missing EOF, invalid codes and garbage with a RangeError", () => {
  const good = lzwCompress(wordSoup(3, 5000));
  assert.throws(() => lzwDecompress(good.subarray(0, good.length - 3)), /before the EOF code/);
  assert.throws(() => lzwDecompress(new Uint8Array(0)), RangeError);
  assert.throws(() => lzwDecompress(packCodes([256, 300], () => 9)), /invalid code: received 300/);
  const random = new SeededRandom(9);
  for (let i = 0; i < 3000; i++) {
    const bytes = randomBytes(i, 1 + Math.floor(random.next() * 200));
    if (i % 2) bytes.set(good.subarray(0, Math.floor(random.next() * bytes.length)));
    try {
      lzwDecompress(bytes, { maxOutput: 1 << 16 });
    } catch (e) {
      assert.ok(e instanceof RangeError, String(e));
    }
  }
});

Deno.test("lzwCompress() round-trips inputs of every small size (table sized to the input)", () => {
  const random = new SeededRandom(5);
  for (let n = 0; n <= 1100; n += n < 300 ? 1 : 97) {
    const repetitive = Uint8Array.from({ length: n }, (_, i) => (i * 7) % 5);
    const noisy = Uint8Array.from({ length: n }, () => Math.floor(random.next() * 256));
    for (const data of [repetitive, noisy]) {
      assert.deepEqual(lzwDecompress(lzwCompress(data)), data, `size ${n}`);
    }
  }
});
