import assert from "node:assert/strict";
import { crc32 } from "./crc32.ts";
import { GOLDEN, unhex, utf8 } from "./test_helpers.ts";

Deno.test("crc32() matches the CRC-32/IEEE check values", () => {
  assert.equal(crc32(utf8("123456789")), 0xcbf43926);
  assert.equal(crc32(new Uint8Array(0)), 0);
  assert.equal(crc32(utf8("The quick brown fox jumps over the lazy dog")), 0x414fa339);
  assert.equal(crc32(new Uint8Array(32)), 0x190a55ad);
  assert.equal(crc32(new Uint8Array(32).fill(0xff)), 0xff6cab0b);
});

Deno.test("crc32() matches Go's checksum of the golden ping", () => {
  assert.equal(crc32(unhex(GOLDEN.ping)), 0x7553ccdb);
});

Deno.test("crc32() continues a checksum across chunks", () => {
  const data = unhex(GOLDEN.compress);
  for (const cut of [0, 1, 17, data.length]) {
    assert.equal(crc32(data.subarray(cut), crc32(data.subarray(0, cut))), crc32(data));
  }
});
