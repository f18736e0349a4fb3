import assert from "node:assert/strict";
import { decodeBase64, decodeUint16Base64, encodeBase64, encodeUint16Base64 } from "./base64.ts";

Deno.test("encodeBase64 round-trips bytes, large arrays included", () => {
  assert.equal(encodeBase64(new Uint8Array([0, 1, 255])), "AAH/");
  const big = Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7) & 0xff);
  assert.deepEqual(decodeBase64(encodeBase64(big)), big);
});

Deno.test("encodeUint16Base64 is little-endian and round-trips; an odd byte count is refused", () => {
  assert.equal(encodeUint16Base64(new Uint16Array([0x0102])), btoa("\x02\x01"));
  const values = Uint16Array.from({ length: 8192 }, (_, i) => (i * 4099) & 0xffff);
  assert.deepEqual(decodeUint16Base64(encodeUint16Base64(values)), values);
  assert.throws(() => decodeUint16Base64("AAAA"), /odd byte count 3/);
});
